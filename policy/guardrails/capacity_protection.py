"""Capacity-provider protection: managed termination protection keeps ECS from terminating hosts
that still run tasks, and only works when the Auto Scaling group protects new instances from
scale-in; and a service on such capacity packs its tasks, so emptied hosts can be released."""

from __future__ import annotations

from . import limits
from .aws_types import AUTOSCALING_GROUP, ECS_CAPACITY_PROVIDER, ECS_SERVICE
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import as_list, fmt, get, is_set, is_unknown


@resource_rule(
    "ecs-capacity-provider-termination-protection",
    types=ECS_CAPACITY_PROVIDER,
    level=MANDATORY,
    prod_only=True,
    description=(
        "Capacity providers backed by an Auto Scaling group enable managed termination "
        "protection (FSBP ECS.19). Prod-only (config environment=prod): mandatory, because a "
        "scale-in would otherwise terminate hosts with running tasks; not applicable in dev, "
        "which turns it off so `pulumi destroy` never waits on tasks."
    ),
)
def ecs_capacity_provider_termination_protection(check: ResourceCheck) -> None:
    if not is_set(check.get("autoScalingGroupProvider")):
        return
    value = check.known("autoScalingGroupProvider.managedTerminationProtection")
    # limits.termination_protection_problem is also the settings' rule for
    # cluster.managedTerminationProtection in prod.
    if problem := limits.termination_protection_problem(value):
        check.violation(
            f"managedTerminationProtection {problem}",
            'set autoScalingGroupProvider.managedTerminationProtection="ENABLED" (and '
            "protectFromScaleIn=true on its Auto Scaling group)",
        )


@stack_rule(
    "capacity-provider-asg-scale-in-protection",
    level=MANDATORY,
    description=(
        "A capacity provider with managed termination protection points at an Auto Scaling "
        "group of this stack that has protectFromScaleIn=true. Mandatory: ECS rejects the "
        "capacity provider otherwise, so the deploy fails (and a group created unprotected "
        "cannot protect its existing instances)."
    ),
)
def capacity_provider_asg_scale_in_protection(check: StackCheck) -> None:
    groups = check.of_type(AUTOSCALING_GROUP)
    for provider in check.of_type(ECS_CAPACITY_PROVIDER):
        protection = get(provider.props, "autoScalingGroupProvider.managedTerminationProtection")
        if is_unknown(protection):
            check.note(
                f"the termination protection of {provider.label()} is unknown during preview"
            )
            continue
        if protection != "ENABLED":
            continue
        arn = get(provider.props, "autoScalingGroupProvider.autoScalingGroupArn")
        linked = [g for g in groups if g.urn in provider.depends_on("autoScalingGroupProvider")]
        if not linked and isinstance(arn, str):
            linked = [g for g in groups if g.get("arn") == arn]
        if not linked:
            what = "unknown during preview" if is_unknown(arn) else "not defined in this stack"
            check.note(f"the Auto Scaling group of {provider.label()} is {what}")
            continue
        for group in linked:
            protected = group.get("protectFromScaleIn")
            if is_unknown(protected):
                check.note(f"protectFromScaleIn of {group.label()} is unknown during preview")
            elif protected is not True:
                check.violation(
                    provider,
                    "managedTerminationProtection is ENABLED but its Auto Scaling group "
                    f'"{group.name}" has protectFromScaleIn={fmt(protected or False)}',
                    f'set protectFromScaleIn=true on the aws:autoscaling/group "{group.name}" '
                    '(or managedTerminationProtection="DISABLED")',
                )


#: `spread` fields that put each task on its own host (API_PlacementStrategy: "instanceId (or host,
#: which has the same effect)").
PER_HOST_FIELDS = ("instanceId", "host")


def _protected_providers(check: StackCheck, service: StackResource) -> list[StackResource]:
    """Capacity providers with managed termination protection that ``service`` places tasks on."""
    named = as_list(service.get("capacityProviderStrategies"))
    names = (
        set()
        if is_unknown(named)
        else {get(item, "capacityProvider") for item in named if isinstance(item, dict)}
    )
    linked = []
    for provider in check.of_type(ECS_CAPACITY_PROVIDER):
        if (
            get(provider.props, "autoScalingGroupProvider.managedTerminationProtection")
            != "ENABLED"
        ):
            continue
        if provider.urn in service.depends_on("capacityProviderStrategies") or (
            provider.get("name") in names
        ):
            linked.append(provider)
    return linked


@stack_rule(
    "ecs-service-placement-allows-scale-in",
    level=MANDATORY,
    description=(
        "A service on a capacity provider with managed termination protection bin-packs its "
        "tasks (binpack on memory or cpu, after any spread by zone) and never spreads them by "
        "instanceId/host. ECS releases only hosts that run no task (ECS developer guide, "
        '"Control the instances Amazon ECS terminates"), and spreading without binpack ends with '
        "one task per host: after a spike the cluster never scales back in. Mandatory: the cost "
        "stays until someone notices the bill, and the fix is one line."
    ),
)
def ecs_service_placement_allows_scale_in(check: StackCheck) -> None:
    for service in check.of_type(ECS_SERVICE):
        providers = _protected_providers(check, service)
        if not providers:
            continue
        strategies = as_list(service.get("orderedPlacementStrategies"))
        if is_unknown(strategies):
            check.note(f"the placement strategies of {service.label()} are unknown during preview")
            continue
        pairs = [(get(s, "type"), get(s, "field")) for s in strategies if isinstance(s, dict)]
        where = providers[0].label()
        per_host = [f for t, f in pairs if t == "spread" and f in PER_HOST_FIELDS]
        if per_host:
            check.violation(
                service,
                f"spreads tasks by {per_host[0]} on {where}, which has managed termination "
                "protection: each task keeps a host of its own, so the cluster never scales in",
                'replace the spread on instanceId with {type: "binpack", field: "memory"} after '
                'the spread on "attribute:ecs.availability-zone"',
            )
        elif not any(t == "binpack" for t, _ in pairs):
            check.violation(
                service,
                f"has no binpack placement strategy on {where}, which has managed termination "
                "protection: spreading alone ends with one task per host",
                'add {type: "binpack", field: "memory"} after the spread on '
                '"attribute:ecs.availability-zone"',
            )


POLICIES = [
    ecs_capacity_provider_termination_protection,
    capacity_provider_asg_scale_in_protection,
    ecs_service_placement_allows_scale_in,
]
