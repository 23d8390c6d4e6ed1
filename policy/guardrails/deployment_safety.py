"""Deployment and scaling safety: what makes an ECS service fail to deploy, drop capacity while it
deploys, ignore its deployment alarms, or scale out too slowly."""

from __future__ import annotations

from typing import Any

from . import limits
from .aws_types import COMPOSITE_ALARM, ECS_SERVICE, METRIC_ALARM, SCALING_POLICY
from .ecs import _ecs_controlled
from .framework import MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
from .properties import fmt, get, is_set, is_unknown

ECS_DEFAULT_MINIMUM_HEALTHY = 100
ECS_DEFAULT_MAXIMUM = 200
ECS_TARGET_TRACKING_DEFAULT_COOLDOWN = 300
"""Application Auto Scaling's default target-tracking cooldown for ECS services, in seconds."""


def _percent(check: ResourceCheck, prop: str, default: int) -> Any:
    value = check.known(prop)
    return default if value is None else value


@resource_rule(
    "ecs-service-prod-minimum-healthy-percent",
    types=ECS_SERVICE,
    level=MANDATORY,
    prod_only=True,
    config={
        "minimumHealthyPercent": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "default": limits.PROD_MINIMUM_HEALTHY_PERCENT,
            "description": "Lowest deploymentMinimumHealthyPercent for a prod service.",
        }
    },
    description=(
        "Prod ECS services keep deploymentMinimumHealthyPercent at 100 (the configured minimum) "
        "so a deployment starts new tasks before stopping old ones. Prod-only (config "
        "environment=prod): mandatory, because below 100 % every release removes serving "
        "capacity, and a bad release removes it for good until rollback; not applicable in dev."
    ),
)
def ecs_service_prod_minimum_healthy(check: ResourceCheck) -> None:
    if not _ecs_controlled(check):
        return
    minimum = check.config["minimumHealthyPercent"]
    value = _percent(check, "deploymentMinimumHealthyPercent", ECS_DEFAULT_MINIMUM_HEALTHY)
    # limits.prod_minimum_healthy_problem is also the settings' rule for
    # service.minimumHealthyPercent in prod.
    if problem := limits.prod_minimum_healthy_problem(value, minimum):
        check.violation(
            f"deploymentMinimumHealthyPercent {problem}",
            f"set deploymentMinimumHealthyPercent={minimum} and deploymentMaximumPercent=200 "
            "(the cluster needs room for the extra tasks: managed scaling adds it)",
        )


@resource_rule(
    "ecs-service-deployment-headroom",
    types=ECS_SERVICE,
    level=MANDATORY,
    description=(
        "ECS services leave room to deploy: deploymentMaximumPercent is above "
        "deploymentMinimumHealthyPercent (defaults 200 and 100). Mandatory: with maximum <= "
        "minimum ECS may neither start a new task nor stop an old one, and every deployment "
        "hangs until the circuit breaker gives up."
    ),
)
def ecs_service_deployment_headroom(check: ResourceCheck) -> None:
    if not _ecs_controlled(check) or check.known("schedulingStrategy", "REPLICA") == "DAEMON":
        return
    minimum = _percent(check, "deploymentMinimumHealthyPercent", ECS_DEFAULT_MINIMUM_HEALTHY)
    maximum = _percent(check, "deploymentMaximumPercent", ECS_DEFAULT_MAXIMUM)
    # limits.deployment_headroom_problem is also the settings' rule for service.maximumPercent.
    numbers = isinstance(minimum, int | float) and isinstance(maximum, int | float)
    if numbers and limits.deployment_headroom_problem(minimum, maximum):
        check.violation(
            f"deploymentMaximumPercent {fmt(maximum)} is not above "
            f"deploymentMinimumHealthyPercent {fmt(minimum)}",
            "set deploymentMaximumPercent=200 with deploymentMinimumHealthyPercent=100",
        )


@resource_rule(
    "ecs-service-deployment-alarms-roll-back",
    types=ECS_SERVICE,
    level=MANDATORY,
    description=(
        "Wherever an ECS service watches deployment alarms (alarms.enable=true), it also rolls "
        "back when one fires (alarms.rollback=true), in every environment. Mandatory: an alarm "
        "that only marks the deployment failed leaves the bad release running."
    ),
)
def ecs_service_deployment_alarms_roll_back(check: ResourceCheck) -> None:
    if not is_set(check.get("alarms")) or check.known("alarms.enable") is not True:
        return
    if check.known("alarms.rollback") is not True:
        check.violation(
            "alarms.enable is true but alarms.rollback is not",
            "set alarms.rollback=true",
        )


def _alarm_names(check: StackCheck) -> tuple[set[str], dict[str, str], bool]:
    """(known alarm names, URN -> name, whether some name is unknown)."""
    names: set[str] = set()
    by_urn: dict[str, str] = {}
    unknown = False
    for alarm in check.of_type(METRIC_ALARM, COMPOSITE_ALARM):
        name = alarm.get("name") or alarm.get("alarmName")
        if isinstance(name, str):
            names.add(name)
            by_urn[alarm.urn] = name
        else:
            unknown = True
    return names, by_urn, unknown


@stack_rule(
    "ecs-deployment-alarms-exist",
    level=MANDATORY,
    description=(
        "Every alarm an ECS service watches during deployments (alarms.alarmNames) is a "
        "CloudWatch alarm of this stack. Mandatory: a misspelt or deleted alarm name never "
        "fires, so the deployment never rolls back on it."
    ),
)
def ecs_deployment_alarms_exist(check: StackCheck) -> None:
    names, by_urn, some_unknown = _alarm_names(check)
    alarm_urns = {a.urn for a in check.of_type(METRIC_ALARM, COMPOSITE_ALARM)}
    for service in check.of_type(ECS_SERVICE):
        watched = get(service.props, "alarms.alarmNames")
        if not watched:
            continue
        if is_unknown(watched):
            if not service.depends_on("alarms"):
                check.note(f"the deployment alarms of {service.label()} are unknown during preview")
            continue
        from_deps = {by_urn[u] for u in service.depends_on("alarms") if u in by_urn}
        missing = [
            n for n in watched if isinstance(n, str) and n not in names and n not in from_deps
        ]
        deps = service.depends_on("alarms")
        # An unknown name still comes from an alarm of the stack when every resource the
        # property depends on is one (how the link shows during preview).
        unknown_from_alarms = bool(deps) and all(u in alarm_urns for u in deps)
        unresolved = any(is_unknown(n) for n in watched) and not unknown_from_alarms
        if unresolved or (missing and some_unknown):
            check.note(
                f"the deployment alarm names of {service.label()} are unknown during preview"
            )
            continue
        if missing:
            check.violation(
                service,
                f"alarms.alarmNames names {', '.join(map(fmt, missing))}, which no "
                "aws:cloudwatch/metricAlarm of this stack is called",
                "set alarms.alarmNames to the name outputs of the service's latency and 5xx "
                "alarms (e.g. [latency_alarm.name, errors_alarm.name])",
            )


_TRACKING = "targetTrackingScalingPolicyConfiguration"
_STEP = "stepScalingPolicyConfiguration"


@resource_rule(
    "autoscaling-scale-out-cooldown",
    types=SCALING_POLICY,
    level=MANDATORY,
    config={
        "scaleOutCooldownCeilingSeconds": {
            "type": "integer",
            "minimum": 0,
            "maximum": 3600,
            "default": limits.SCALE_OUT_COOLDOWN_CEILING_SECONDS,
            "description": "Longest scale-out cooldown accepted, in seconds.",
        }
    },
    description=(
        "Scaling policies that add capacity wait at most the ceiling (default 120 s) between "
        "scale-outs: targetTrackingScalingPolicyConfiguration.scaleOutCooldown (unset means "
        "300 s for ECS) or a scale-out step policy's cooldown. Mandatory: during a spike a long "
        "cooldown holds the second scale-out back while the first new tasks are not enough."
    ),
)
def autoscaling_scale_out_cooldown(check: ResourceCheck) -> None:
    ceiling = check.config["scaleOutCooldownCeilingSeconds"]
    if is_set(check.get(_TRACKING)):
        cooldown = check.known(f"{_TRACKING}.scaleOutCooldown")
        where = f"{_TRACKING}.scaleOutCooldown"
        shown = cooldown
        if cooldown is None:
            cooldown = ECS_TARGET_TRACKING_DEFAULT_COOLDOWN
            shown = f"unset ({cooldown} s by default)"
    elif is_set(check.get(_STEP)):
        steps = check.known(f"{_STEP}.stepAdjustments", []) or []
        adds = any(
            isinstance(s.get("scalingAdjustment"), int | float) and s["scalingAdjustment"] > 0
            for s in steps
        )
        if not adds:
            return
        cooldown = check.known(f"{_STEP}.cooldown")
        where = f"{_STEP}.cooldown"
        shown = cooldown
        if cooldown is None:
            return  # step policies without a cooldown apply every alarm evaluation
    else:
        return
    # limits.scale_out_cooldown_problem is also the settings' rule for the cooldown settings.
    if isinstance(cooldown, int | float) and limits.scale_out_cooldown_problem(cooldown, ceiling):
        check.violation(
            f"{where} is {shown if isinstance(shown, str) else f'{fmt(shown)} s'}, "
            f"more than {ceiling} s",
            f"set {where}={min(60, ceiling)} (scale in slowly instead: scaleInCooldown 300)",
            prop=where,
        )


POLICIES = [
    ecs_service_prod_minimum_healthy,
    ecs_service_deployment_headroom,
    ecs_service_deployment_alarms_roll_back,
    ecs_deployment_alarms_exist,
    autoscaling_scale_out_cooldown,
]
