"""Which availability zones a stack uses: pinned in its config, or chosen once from the region.

A stack's zones must not depend on their current state. `DescribeAvailabilityZones` reports a
zone's `State` (`available | information | impaired | unavailable | constrained`, botocore
`ec2/2016-11-15` shape `AvailabilityZoneState`); a choice filtered on `available` would, during an
AZ event, stop prod's `up` or move subnets, NAT gateways, hosts and the database subnet group of a
stack with fewer zones. So zones come from every zone of the region whatever its state, and a stack
pins them in `network.zones` (CDK caches its lookups in `cdk.context.json` for the same reason).

Pins may be zone IDs (`use2-az1`) or names (`us-east-2a`). IDs are the recommended form: "use the
AZ IDs, which are unique and consistent identifiers for Availability Zones ... the same physical
location in every AWS account", while names were mapped independently per account in the oldest
regions (https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html). Either is
resolved to the zone's NAME in this account, which the stack's subnets are keyed by, so pinning the
zones a stack already uses changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import Problem, SettingsError
from .model import Settings

ZONES_KEY = "network.zones"


def _region_listing(names: Sequence[str], zone_ids: Sequence[str]) -> str:
    return ", ".join(
        f"{name} ({zone_id})" for name, zone_id in sorted(zip(names, zone_ids, strict=True))
    )


def choose_zones(
    settings: Settings,
    names: Sequence[str],
    zone_ids: Sequence[str],
    project: str = "steadystate",
) -> list[str]:
    """Zone NAMES for the network, from the region's zones in every state (`names[i]` has ID
    `zone_ids[i]`): the pinned `network.zones` resolved to names, or else the first
    `network.availabilityZones` names in name order. SettingsError names the key otherwise."""
    by_id = dict(zip(zone_ids, names, strict=True))
    pinned = settings.network.zones
    if pinned is not None:
        problems = []
        resolved = []
        for index, zone in enumerate(pinned):
            name = zone if zone in names else by_id.get(zone)
            if name is None:
                problems.append(
                    Problem(
                        f"{project}:{ZONES_KEY}",
                        pinned,
                        f"item {index} ({zone!r}) is not a zone of this region; its zones "
                        f"(name (ID)): {_region_listing(names, zone_ids)}",
                    )
                )
            resolved.append(name)
        if len(set(resolved)) != len(resolved) and not problems:
            problems.append(
                Problem(
                    f"{project}:{ZONES_KEY}",
                    pinned,
                    "names the same zone twice (by name and by ID); zones (name (ID)): "
                    f"{_region_listing(names, zone_ids)}",
                )
            )
        if problems:
            raise SettingsError(problems)
        return [name for name in resolved if name is not None]
    wanted = settings.network.availability_zones
    if wanted > len(names):
        raise SettingsError(
            [
                Problem(
                    f"{project}:network.availabilityZones",
                    wanted,
                    f"the region has only {len(names)} zones ({', '.join(sorted(names))})",
                )
            ]
        )
    return sorted(names)[:wanted]


def pin_zones_advice(
    settings: Settings,
    zones: Sequence[str],
    names: Sequence[str],
    zone_ids: Sequence[str],
    stack: str,
    project: str = "steadystate",
) -> str | None:
    """The warning an unpinned stack gets, with the command that pins the zones it uses now (by
    ID); None when `network.zones` is set."""
    if settings.network.zones is not None:
        return None
    id_of = dict(zip(names, zone_ids, strict=True))
    pairs = " ".join(
        f"--plaintext '{project}:{ZONES_KEY}[{index}]'={id_of[zone]}"
        for index, zone in enumerate(zones)
    )
    return (
        f"{project}:{ZONES_KEY} is not set: this stack uses the zones {', '.join(zones)}, chosen "
        "from the region's zones by name. Pin them so that a change in the region never moves "
        f"a subnet: pulumi config set-all --stack {stack} --path {pairs}"
    )


AZ_EXPERIMENT_ZONE_KEY = "chaos.azExperimentZone"


def az_experiment_zone(
    settings: Settings,
    zones: Sequence[str],
    names: Sequence[str],
    zone_ids: Sequence[str],
    project: str = "steadystate",
) -> str:
    """The NAME of the zone the AZ experiment takes down: `chaos.azExperimentZone` (a name or
    ID) resolved in this region, which must be one of the stack's `zones`; else the first zone,
    or the last when the stack has one NAT gateway (`network.natStrategy: single`): that gateway
    sits in the first zone, and cutting its zone cuts every zone's egress, the trade-off a single
    gateway is chosen with, not the zone loss the experiment is there to try (set the key to the
    first zone to see it). SettingsError names the key and the stack's zones otherwise."""
    wanted = settings.chaos.az_experiment_zone
    if wanted is None:
        single_nat = settings.network.nat_strategy == "single" and len(zones) > 1
        return zones[-1] if single_nat else zones[0]
    name = wanted if wanted in names else dict(zip(zone_ids, names, strict=True)).get(wanted)
    if name is None or name not in zones:
        by_name = dict(zip(names, zone_ids, strict=True))
        listing = ", ".join(f"{zone} ({by_name.get(zone, '?')})" for zone in zones)
        raise SettingsError(
            [
                Problem(
                    f"{project}:{AZ_EXPERIMENT_ZONE_KEY}",
                    wanted,
                    f"is not one of the stack's zones; they are (name (ID)): {listing}",
                )
            ]
        )
    return name
