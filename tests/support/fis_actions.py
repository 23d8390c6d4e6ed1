"""The FIS actions the stack's templates use, as the FIS actions reference states them, and a
checker of experiment templates against them.

botocore has no FIS action list (the FIS API's ``ListActions`` answers only with an account), so
each row is transcribed from the AWS FIS user guide, "AWS FIS Actions reference"
(https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html), the section named in
its ``source``: the action's resource type (the target it takes, under the target key the
action's ``targets`` uses), its parameters, which are required, and which are ISO 8601 durations.
Target parameters per resource type are from "Targets for AWS FIS", "Resource types"
(https://docs.aws.amazon.com/fis/latest/userguide/targets.html). The AZ scenario's shape (which
action on which target, its parameters) is from "AZ Availability: Power Interruption"
(https://docs.aws.amazon.com/fis/latest/userguide/az-availability-scenario.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REFERENCE = "https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html"


@dataclass(frozen=True)
class FisAction:
    """One row of the actions reference."""

    resource_type: str | None
    """The target's ``resourceType``; None: the action takes no target (``aws:fis:wait``)."""
    target_key: str | None
    """The key of the action's ``targets`` (``Instances``, ``Subnets``, ...)."""
    parameters: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    durations: frozenset[str] = frozenset()
    """Parameters that are ISO 8601 durations (PT1M..PT12H for these actions)."""
    booleans: frozenset[str] = frozenset()
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)
    source: str = ""
    """The section of the reference the row is transcribed from."""


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


ACTIONS: dict[str, FisAction] = {
    "aws:ec2:stop-instances": FisAction(
        "aws:ec2:instance",
        "Instances",
        parameters=_f("startInstancesAfterDuration", "completeIfInstancesTerminated"),
        durations=_f("startInstancesAfterDuration"),
        booleans=_f("completeIfInstancesTerminated"),
        source=f"{REFERENCE}#stop-instances",
    ),
    "aws:ec2:terminate-instances": FisAction(
        "aws:ec2:instance", "Instances", source=f"{REFERENCE}#terminate-instances"
    ),
    "aws:ec2:reboot-instances": FisAction(
        "aws:ec2:instance", "Instances", source=f"{REFERENCE}#reboot-instances"
    ),
    "aws:ec2:asg-insufficient-instance-capacity-error": FisAction(
        "aws:ec2:autoscaling-group",
        "AutoScalingGroups",
        parameters=_f("duration", "availabilityZoneIdentifiers", "percentage"),
        required=_f("duration", "availabilityZoneIdentifiers"),
        durations=_f("duration"),
        source=f"{REFERENCE}#asg-insufficient-instance-capacity-error",
    ),
    "aws:ec2:api-insufficient-instance-capacity-error": FisAction(
        "aws:iam:role",
        "Roles",
        parameters=_f("duration", "availabilityZoneIdentifiers", "percentage"),
        required=_f("duration", "availabilityZoneIdentifiers"),
        durations=_f("duration"),
        source=f"{REFERENCE}#api-insufficient-instance-capacity-error",
    ),
    "aws:network:disrupt-connectivity": FisAction(
        "aws:ec2:subnet",
        "Subnets",
        parameters=_f("duration", "scope", "prefixListIdentifier"),
        required=_f("duration"),
        durations=_f("duration"),
        choices={"scope": _f("all", "availability-zone", "dynamodb", "prefix-list", "s3")},
        source=f"{REFERENCE}#disrupt-connectivity",
    ),
    "aws:ecs:stop-task": FisAction("aws:ecs:task", "Tasks", source=f"{REFERENCE}#stop-task"),
    "aws:ssm:send-command": FisAction(
        "aws:ec2:instance",
        "Instances",
        parameters=_f("documentArn", "documentVersion", "documentParameters", "duration"),
        required=_f("documentArn", "duration"),
        durations=_f("duration"),
        source=f"{REFERENCE}#ssm-send-command",
    ),
    "aws:rds:reboot-db-instances": FisAction(
        "aws:rds:db",
        "DBInstances",
        parameters=_f("forceFailover"),
        booleans=_f("forceFailover"),
        source=f"{REFERENCE}#reboot-db-instances",
    ),
    "aws:rds:failover-db-cluster": FisAction(
        "aws:rds:cluster", "Clusters", source=f"{REFERENCE}#failover-db-cluster"
    ),
    "aws:fis:wait": FisAction(
        None,
        None,
        parameters=_f("duration"),
        required=_f("duration"),
        durations=_f("duration"),
        source=f"{REFERENCE}#wait",
    ),
}
"""Every action either stack uses, and the AZ scenario's siblings of them."""

TARGET_PARAMETERS: dict[str, frozenset[str]] = {"aws:ecs:task": _f("cluster", "service")}
"""Resource type -> the target ``parameters`` it accepts ("Targets for AWS FIS", "Resource
types": ``aws:ecs:task`` by ``cluster`` and ``service``); any other type takes none here."""

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")
MIN_SECONDS, MAX_SECONDS = 60, 12 * 3600
"""The durations these actions take: one minute to 12 hours (the actions reference)."""


def duration_seconds(text: str) -> int | None:
    """Seconds of an ISO 8601 ``PT…H…M…S`` duration; None when it is not one."""
    match = _DURATION.match(text)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _parameters(action: Mapping[str, Any]) -> dict[str, Any]:
    raw = action.get("parameters") or []
    if isinstance(raw, dict):
        return dict(raw)
    return {p["key"]: p.get("value") for p in raw}


def template_problems(where: str, inputs: Mapping[str, Any]) -> list[str]:
    """Each way an experiment template's actions and targets (Pulumi's inputs: actions as
    ``{name, actionId, parameters: [{key, value}], target: {key, value}}``) depart from the
    reference; empty when none does."""
    problems = []
    targets = {t["name"]: t for t in inputs.get("targets") or []}
    for target in targets.values():
        kind = target.get("resourceType")
        unknown = set(target.get("parameters") or {}) - TARGET_PARAMETERS.get(kind, frozenset())
        if unknown:
            problems.append(
                f"{where} target {target['name']!r} ({kind}) has parameters {sorted(unknown)} "
                f"the resource type does not take"
            )
    for action in inputs.get("actions") or []:
        name, action_id = action.get("name"), action.get("actionId")
        at = f"{where} action {name!r} ({action_id})"
        row = ACTIONS.get(action_id)
        if row is None:
            problems.append(f"{at}: no such FIS action in the reference table")
            continue
        target = action.get("target")
        if row.target_key is None:
            if target:
                problems.append(f"{at} takes no target (got {target})")
        elif not target or target.get("key") != row.target_key:
            problems.append(
                f"{at} must name its target under {row.target_key!r} (got {target}; {row.source})"
            )
        elif target.get("value") not in targets:
            problems.append(f"{at} names target {target.get('value')!r}, which is not defined")
        elif targets[target["value"]].get("resourceType") != row.resource_type:
            problems.append(
                f"{at} acts on {row.resource_type}, but target {target['value']!r} is "
                f"{targets[target['value']].get('resourceType')} ({row.source})"
            )
        parameters = _parameters(action)
        for key in sorted(set(parameters) - row.parameters):
            allowed = sorted(row.parameters) or "none"
            problems.append(
                f"{at} has unknown parameter {key!r}; it takes {allowed} ({row.source})"
            )
        for key in sorted(row.required - set(parameters)):
            problems.append(f"{at} lacks the required parameter {key!r} ({row.source})")
        for key in sorted(row.durations & set(parameters)):
            seconds = duration_seconds(str(parameters[key]))
            if seconds is None or not MIN_SECONDS <= seconds <= MAX_SECONDS:
                problems.append(
                    f"{at} parameter {key}={parameters[key]!r} is not an ISO 8601 duration of "
                    f"PT1M to PT12H"
                )
        for key in sorted(row.booleans & set(parameters)):
            if parameters[key] not in ("true", "false"):
                problems.append(f"{at} parameter {key}={parameters[key]!r} is not true or false")
        for key, allowed in row.choices.items():
            if key in parameters and parameters[key] not in allowed:
                problems.append(
                    f"{at} parameter {key}={parameters[key]!r} is not one of {sorted(allowed)}"
                )
    return problems
