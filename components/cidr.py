"""Pure IPv4 subnet planning for the VPC: which CIDR every tier gets in every availability zone.

Layout (default tiers, `max_zones=6`, VPC `/p`):

* The VPC is cut into blocks per tier in proportion to the tier's *share* (a power of two):
  private 2, public 1, isolated 1. Larger shares are placed first so that every block is aligned:
  private = first half of the VPC, public = third quarter, isolated = last quarter.
* Each tier block is cut into a fixed number of *zone slots*: the next power of two >= `max_zones`
  (8 for 6). Zone `i` always gets slot `i`, whatever the zone count, so adding an availability
  zone later never moves an existing subnet (no subnet replacement, no task/instance churn).

For a `/16` VPC that gives private `/20` (4,096 addresses) and public/isolated `/21` (2,048) per
zone. The smallest subnet must stay at `/27` or larger (an ALB needs a `/27` with 8 free
addresses; AWS's own floor is `/28`), so the default layout supports VPC prefixes `/16` to `/22`;
AWS does not allow a VPC larger than `/16`. `largest_vpc_prefix()` says the limit for other tiers.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType

#: Relative size of each tier (powers of two). Tasks and instances live in the private tier.
DEFAULT_TIER_SHARES: Mapping[str, int] = MappingProxyType(
    {"public": 1, "private": 2, "isolated": 1}
)

#: Zones a plan leaves room for; us-east-1 has 6, most regions 3-4.
DEFAULT_MAX_ZONES = 6

#: AWS accepts VPC CIDR blocks from /16 to /28.
AWS_LARGEST_VPC_PREFIX = 16

#: Smallest subnet the planner hands out: an ALB needs a /27 subnet (AWS's floor is /28).
MIN_SUBNET_PREFIX = 27


def zone_slots(max_zones: int) -> int:
    """Number of equal slots each tier is cut into: the next power of two >= `max_zones`."""
    if max_zones < 1:
        raise ValueError(f"max_zones must be at least 1, got {max_zones}")
    return 1 << (max_zones - 1).bit_length()


def _check_shares(tiers: Mapping[str, int]) -> None:
    if not tiers:
        raise ValueError("at least one tier is required")
    for tier, share in tiers.items():
        if not isinstance(share, int) or share < 1 or share & (share - 1):
            raise ValueError(f"tier {tier!r}: share must be a positive power of two, got {share!r}")


def _units(tiers: Mapping[str, int]) -> int:
    """How many equal units the VPC is cut into: total share rounded up to a power of two."""
    total = sum(tiers.values())
    return 1 << (total - 1).bit_length()


def subnet_prefix(
    vpc_prefix: int,
    share: int,
    tiers: Mapping[str, int] = DEFAULT_TIER_SHARES,
    max_zones: int = DEFAULT_MAX_ZONES,
) -> int:
    """Prefix length of one zone's subnet in a tier with `share`, for a VPC of `/vpc_prefix`."""
    _check_shares(tiers)
    depth = int(math.log2(_units(tiers) // share)) + int(math.log2(zone_slots(max_zones)))
    return vpc_prefix + depth


def largest_vpc_prefix(
    tiers: Mapping[str, int] = DEFAULT_TIER_SHARES, max_zones: int = DEFAULT_MAX_ZONES
) -> int:
    """The longest VPC prefix (smallest VPC) this layout supports; `/22` for the defaults."""
    _check_shares(tiers)
    smallest_share = min(tiers.values())
    return MIN_SUBNET_PREFIX - (subnet_prefix(0, smallest_share, tiers, max_zones))


def parse_vpc_cidr(vpc_cidr: str) -> ipaddress.IPv4Network:
    """`vpc_cidr` as a network; ValueError if malformed, IPv6, or with host bits set."""
    try:
        network = ipaddress.ip_network(vpc_cidr, strict=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid VPC CIDR {vpc_cidr!r}: {exc}") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"invalid VPC CIDR {vpc_cidr!r}: the VPC's primary block must be IPv4")
    return network


def tier_blocks(
    vpc_cidr: str,
    tiers: Mapping[str, int] = DEFAULT_TIER_SHARES,
    max_zones: int = DEFAULT_MAX_ZONES,
) -> dict[str, str]:
    """The block of the VPC reserved for each tier (before it is cut into zone slots).

    Raises ValueError naming the CIDR and the prefix needed if the VPC is outside what AWS accepts
    or too small for `MIN_SUBNET_PREFIX` subnets in every slot.
    """
    vpc = parse_vpc_cidr(vpc_cidr)
    _check_shares(tiers)
    limit = largest_vpc_prefix(tiers, max_zones)
    if vpc.prefixlen < AWS_LARGEST_VPC_PREFIX:
        raise ValueError(
            f"VPC CIDR {vpc_cidr} is larger than AWS allows: use a prefix between "
            f"/{AWS_LARGEST_VPC_PREFIX} and /{limit}"
        )
    if vpc.prefixlen > limit:
        smallest = subnet_prefix(vpc.prefixlen, min(tiers.values()), tiers, max_zones)
        raise ValueError(
            f"VPC CIDR {vpc_cidr} is too small for {len(tiers)} tiers x "
            f"{zone_slots(max_zones)} zone slots: its smallest subnet would be /{smallest}, "
            f"below the /{MIN_SUBNET_PREFIX} minimum; use a /{limit} or larger "
            f"(a prefix between /{AWS_LARGEST_VPC_PREFIX} and /{limit})"
        )
    units = _units(tiers)
    unit_size = vpc.num_addresses // units
    # Largest shares first keeps every block aligned on its own size. `sorted` is stable, so tiers
    # with equal shares keep the order the caller gave.
    ordered = sorted(tiers.items(), key=lambda item: -item[1])
    blocks: dict[str, str] = {}
    offset = 0
    for tier, share in ordered:
        prefix = vpc.prefixlen + int(math.log2(units // share))
        blocks[tier] = str(ipaddress.IPv4Network((int(vpc.network_address) + offset, prefix)))
        offset += share * unit_size
    return {tier: blocks[tier] for tier in tiers}


def plan_subnets(
    vpc_cidr: str,
    zone_count: int,
    tiers: Mapping[str, int] = DEFAULT_TIER_SHARES,
    max_zones: int = DEFAULT_MAX_ZONES,
) -> dict[str, list[str]]:
    """CIDR of each zone's subnet per tier: `{"public": [zone0, zone1, ...], "private": [...]}`.

    Zone `i` of a tier always gets slot `i` of that tier's block, so the result for `n` zones is a
    prefix of the result for `n + 1` zones. `tiers` maps tier name to share (power of two).
    """
    if not 1 <= zone_count <= max_zones:
        raise ValueError(
            f"zone_count must be between 1 and max_zones={max_zones}, got {zone_count}"
        )
    blocks = tier_blocks(vpc_cidr, tiers, max_zones)
    slots = zone_slots(max_zones)
    plan: dict[str, list[str]] = {}
    for tier, block in blocks.items():
        network = ipaddress.IPv4Network(block)
        new_prefix = network.prefixlen + int(math.log2(slots))
        subnets = network.subnets(new_prefix=new_prefix)
        plan[tier] = [str(next(subnets)) for _ in range(zone_count)]
    return plan


def overlapping(cidrs: Iterable[str]) -> list[tuple[str, str]]:
    """Every pair of CIDRs (in input order) whose address ranges overlap; [] when disjoint.

    Accepts IPv4 and IPv6 blocks (an IPv4 and an IPv6 block never overlap). A block listed twice
    overlaps itself. Raises ValueError naming a CIDR that does not parse or has host bits set.
    """
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for cidr in cidrs:
        try:
            networks.append((cidr, ipaddress.ip_network(cidr, strict=True)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid CIDR {cidr!r}: {exc}") from None
    pairs: list[tuple[str, str]] = []
    for i, (left, a) in enumerate(networks):
        for right, b in networks[i + 1 :]:
            if a.version == b.version and a.overlaps(b):  # type: ignore[arg-type]
                pairs.append((left, right))
    return pairs
