"""AWS FIS experiment templates: a fault that stops itself, leaves a record and hurts a bounded
part of the service."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import limits
from .aws_types import FIS_EXPERIMENT_TEMPLATE
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import Unknown, find_unknown, fmt, is_set, is_unknown

ALARM_SOURCE = "aws:cloudwatch:alarm"
_ADD_ALARM = (
    f'add stopConditions [{{source: "{ALARM_SOURCE}", value: <ARN of an alarm on the '
    'service\'s 5xx or latency>}] (a "none" stop condition stops nothing)'
)


@resource_rule(
    "fis-template-alarm-stop-condition",
    types=FIS_EXPERIMENT_TEMPLATE,
    level=MANDATORY,
    description=(
        "Every AWS FIS experiment template has at least one stop condition with source "
        '"aws:cloudwatch:alarm" and an alarm ARN; a "none" stop condition does not count. '
        "Mandatory: without one FIS keeps injecting the fault while the service fails, until "
        "the action's own duration ends."
    ),
)
def fis_template_alarm_stop_condition(check: ResourceCheck) -> None:
    conditions = check.get("stopConditions") or []
    if is_unknown(conditions):
        check.note("stopConditions is unknown during preview")
        return
    sources = []
    for condition in conditions:
        source = condition.get("source") if isinstance(condition, dict) else condition
        if source == ALARM_SOURCE and is_set(condition.get("value")):
            return  # an alarm ARN still unknown during preview is set all the same
        sources.append(source)
    if any(is_unknown(s) for s in sources):
        check.note("a stop condition's source is unknown during preview")
        return
    alarm_without_value = ALARM_SOURCE in sources
    given = ", ".join(fmt(s) for s in sources) or "none at all"
    check.violation(
        "no stop condition names a CloudWatch alarm ("
        + ("an aws:cloudwatch:alarm stop condition has no value" if alarm_without_value else "")
        + ("; " if alarm_without_value else "")
        + f"stopConditions sources: {given})",
        _ADD_ALARM,
    )


@resource_rule(
    "fis-template-logs",
    types=FIS_EXPERIMENT_TEMPLATE,
    level=MANDATORY,
    description=(
        "Every AWS FIS experiment template logs its experiments: logConfiguration with "
        "cloudwatchLogsConfiguration.logGroupArn or s3Configuration.bucketName. Mandatory: "
        "without the experiment log nobody can tell afterwards which resources a scheduled "
        "fault hit, when, and why it stopped."
    ),
)
def fis_template_logs(check: ResourceCheck) -> None:
    config = check.get("logConfiguration")
    if is_unknown(config):
        check.note("logConfiguration is unknown during preview")
        return
    fix = (
        "set logConfiguration {logSchemaVersion: 2, cloudwatchLogsConfiguration: {logGroupArn: "
        '"<log group arn>:*"}} (or s3Configuration {bucketName: <bucket>})'
    )
    if not isinstance(config, dict):
        check.violation("has no logConfiguration: its experiments leave no log", fix)
        return
    destinations = [
        check.get("logConfiguration.cloudwatchLogsConfiguration.logGroupArn"),
        check.get("logConfiguration.s3Configuration.bucketName"),
    ]
    if not any(is_set(d) for d in destinations):
        check.violation("logConfiguration names no log group and no bucket", fix)


_SELECTION = re.compile(r"^(ALL|COUNT\((\d+)\)|PERCENT\((\d+)\))$")


ZONE_FILTER_PATHS = {
    "aws:ec2:instance": "Placement.AvailabilityZone",
    "aws:ec2:subnet": "AvailabilityZone",
    "aws:rds:db": "AvailabilityZone",
}
"""Resource type -> the target filter path that names its zone (the field of the type's Describe
output FIS filters on: DescribeInstances ``Placement.AvailabilityZone``, DescribeSubnets and
DescribeDBInstances ``AvailabilityZone``; FIS user guide, "Targets", resource filters)."""
ZONE_BOUNDED_ACTIONS = {
    "aws:ec2:asg-insufficient-instance-capacity-error": "availabilityZoneIdentifiers",
    "aws:ec2:api-insufficient-instance-capacity-error": "availabilityZoneIdentifiers",
}
"""Action -> its parameter naming the zones it acts in (FIS actions reference)."""


def _bounded_config_check(props: Mapping[str, Any], level: str | None) -> list[str]:
    problems = []
    percent = props.get("percentCeiling")
    if isinstance(percent, int | float) and percent >= 100:
        problems.append(f"percentCeiling {fmt(percent)} must be below 100: PERCENT(100) is ALL")
    for key in ("zoneFilterPaths", "zoneBoundedActions"):
        mapping = props.get(key)
        if isinstance(mapping, dict) and not all(
            isinstance(v, str) and v for v in mapping.values()
        ):
            problems.append(f"{key} must map each name to a non-empty string (got {fmt(mapping)})")
    return problems


def _parameter(action: Mapping[str, Any], key: str) -> object:
    """An action's parameter: Pulumi's [{key, value}] list or the FIS API's {key: value} map."""
    parameters = action.get("parameters")
    if isinstance(parameters, dict):
        return parameters.get(key)
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, dict) and parameter.get("key") == key:
            return parameter.get("value")
    return None


def _one_zone(values: object) -> str | None:
    """The zone a filter's values or an action's comma-separated zone list name, when exactly one."""
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
        return values[0]
    return None


def _target_zone(target: Mapping[str, Any], path: str | None) -> object:
    """The one zone a target's filter on ``path`` names; None when it names none or several;
    an Unknown when its filters are unknown (in part) during preview."""
    if path is None:
        return None
    filters = target.get("filters")
    if find_unknown(filters) is not None:
        return Unknown()
    zones = [
        f.get("values") for f in filters or [] if isinstance(f, dict) and f.get("path") == path
    ]
    return _one_zone(zones[0]) if len(zones) == 1 else None


@resource_rule(
    "fis-template-bounded-targets",
    types=FIS_EXPERIMENT_TEMPLATE,
    level=MANDATORY,
    config={
        "countCeiling": {
            "type": "integer",
            "minimum": 1,
            "default": limits.FIS_TARGET_COUNT_CEILING,
            "description": "Largest n a target may select with COUNT(n).",
        },
        "percentCeiling": {
            "type": "integer",
            "minimum": 1,
            "maximum": 99,
            "default": limits.FIS_TARGET_PERCENT_CEILING,
            "description": "Largest n a target may select with PERCENT(n).",
        },
        "allSelectionTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["aws:ec2:subnet"],
            "description": (
                "Resource types a target may select with ALL, and then only when it names its "
                "resources by resourceArns."
            ),
        },
        "zoneFilterPaths": {
            "type": "object",
            "default": ZONE_FILTER_PATHS,
            "description": (
                "Resource type -> filter path naming its zone: a target of such a type may select "
                "ALL when that filter names exactly one zone."
            ),
        },
        "zoneBoundedActions": {
            "type": "object",
            "default": ZONE_BOUNDED_ACTIONS,
            "description": (
                "Action -> parameter naming its zones: a target only such actions use, each naming "
                "exactly one zone, may select ALL."
            ),
        },
        "allSelectionActions": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["aws:ssm:send-command"],
            "description": (
                "Actions whose own parameters bound the fault, so the targets they alone use may "
                "select ALL (the stack's cdn blackhole sends its command to every host, and the "
                "command touches only one environment's containers)."
            ),
        },
    },
    config_check=_bounded_config_check,
    description=(
        "Every target of an AWS FIS experiment template selects a bounded part of what it "
        "identifies: COUNT(n) with n <= countCeiling (default 1: one less than the prod minimum "
        "capacity) or PERCENT(n) with n <= percentCeiling (default 50). ALL is accepted only "
        "for the allSelectionTypes (default aws:ec2:subnet) with the resources named one by one "
        "in resourceArns: a network fault's unit is the subnet it cuts, and the list is the "
        "bound. A target only allSelectionActions use (default aws:ssm:send-command, whose "
        "command's parameters say what it touches) may select ALL too. Zone-scoped: a target "
        "of a zoneFilterPaths type whose filter names exactly one zone (e.g. "
        "Placement.AvailabilityZone), or a target only zoneBoundedActions use with exactly one "
        "zone in their zone parameter, may select ALL — an AZ impairment's unit is the zone — "
        "provided every zone the template names is the same one. Mandatory: ALL on the "
        "tasks of a service or the instances of a group is an outage, not an experiment; ALL "
        "of two zones' instances is most of the service."
    ),
)
def fis_template_bounded_targets(check: ResourceCheck) -> None:
    targets = check.get("targets") or []
    if is_unknown(targets):
        check.note("targets is unknown during preview")
        return
    count_ceiling = check.config["countCeiling"]
    percent_ceiling = check.config["percentCeiling"]
    all_types = list(check.config["allSelectionTypes"])
    all_actions = set(check.config["allSelectionActions"])
    zone_paths: dict[str, str] = dict(check.config["zoneFilterPaths"])
    zone_actions: dict[str, str] = dict(check.config["zoneBoundedActions"])
    actions = check.get("actions") or []
    users: dict[str, set[str]] = {}
    zone_bounded: dict[str, list[bool]] = {}
    zones: set[str] = set()
    zone_unknown: set[str] = set()
    actions_unknown = is_unknown(actions)
    for action in actions if isinstance(actions, list) else []:
        action_target = action.get("target") if isinstance(action, dict) else None
        if is_unknown(action) or is_unknown(action_target):
            actions_unknown = True
        elif isinstance(action_target, dict):
            value, action_id = action_target.get("value"), action.get("actionId")
            if is_unknown(value) or is_unknown(action_id):
                actions_unknown = True
            elif isinstance(value, str):
                users.setdefault(value, set()).add(str(action_id))
                zone = None
                if action_id in zone_actions:
                    if find_unknown(action.get("parameters")) is not None:
                        zone_unknown.add(value)
                    zone = _one_zone(_parameter(action, zone_actions[str(action_id)]))
                zone_bounded.setdefault(value, []).append(zone is not None)
                if zone is not None:
                    zones.add(zone)
    bounded = f"set selectionMode to COUNT(1) (at most COUNT({count_ceiling}) or PERCENT({percent_ceiling}))"
    for index, target in enumerate(targets):
        if is_unknown(target):
            check.note(f"targets[{index}] is unknown during preview")
        if not isinstance(target, dict):
            continue
        name = target.get("name")
        where = f"targets[{index}]" + (f" {fmt(name)}" if isinstance(name, str) else "")
        mode, kind = target.get("selectionMode"), target.get("resourceType")
        if is_unknown(mode) or is_unknown(kind):
            check.note(f"{where}: selectionMode or resourceType is unknown during preview")
            continue
        match = _SELECTION.match(str(mode))
        if match is None:
            check.violation(
                f"{where} has selectionMode {fmt(mode)}, which is not ALL, COUNT(n) or PERCENT(n)",
                bounded,
            )
        elif match.group(2) is not None and int(match.group(2)) > count_ceiling:
            check.violation(
                f"{where} selects {mode} of its {kind} resources, more than COUNT({count_ceiling})",
                f"set selectionMode=COUNT({count_ceiling}) or less",
            )
        elif match.group(3) is not None and int(match.group(3)) > percent_ceiling:
            check.violation(
                f"{where} selects {mode} of its {kind} resources, more than "
                f"PERCENT({percent_ceiling})",
                f"set selectionMode=PERCENT({percent_ceiling}) or less",
            )
        elif mode == "ALL":
            arns = target.get("resourceArns")
            used_by = users.get(name) if isinstance(name, str) else None
            if used_by and used_by <= all_actions:
                continue
            zone = _target_zone(target, zone_paths.get(str(kind)))
            if is_unknown(zone):
                check.note(f"{where} selects ALL; its zone filter is unknown during preview")
                continue
            if isinstance(zone, str):
                zones.add(zone)
                continue
            bounded_by = zone_bounded.get(name) if isinstance(name, str) else None
            if bounded_by and all(bounded_by):
                continue
            if name in zone_unknown:
                check.note(f"{where} selects ALL; its actions' zones are unknown during preview")
                continue
            if (actions_unknown or is_unknown(name)) and kind not in all_types:
                check.note(f"{where} selects ALL; which actions use it is unknown during preview")
                continue
            if kind not in all_types:
                check.violation(
                    f"{where} selects ALL of its {kind} resources (every task or instance it "
                    "finds)",
                    bounded,
                )
            elif not is_set(arns) or is_set(target.get("resourceTags")):
                check.violation(
                    f"{where} selects ALL {kind} resources found by tags, however many match",
                    f"name the {kind} resources one by one in resourceArns (no resourceTags), "
                    f"or {bounded}",
                )
    if len(zones) > 1:
        check.violation(
            f"its zone-scoped targets and actions name {len(zones)} zones ({', '.join(sorted(zones))}): "
            "an AZ experiment takes down one zone, and the service rides out the loss of one",
            "name the same single zone in every zone filter (Placement.AvailabilityZone, "
            "AvailabilityZone) and availabilityZoneIdentifiers of the template, by name "
            "(a zone's ID and its name count as two zones here)",
        )


POLICIES = [fis_template_alarm_stop_condition, fis_template_logs, fis_template_bounded_targets]
