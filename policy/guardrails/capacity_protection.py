"""Capacity-provider protection: managed termination protection keeps ECS from terminating hosts
that still run tasks, and only works when the Auto Scaling group protects new instances from
scale-in."""

from __future__ import annotations

from .aws_types import AUTOSCALING_GROUP, ECS_CAPACITY_PROVIDER
from .framework import MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
from .properties import fmt, get, is_set, is_unknown


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
    if value != "ENABLED":
        check.violation(
            f"managedTerminationProtection is {fmt(value) if value else 'unset (DISABLED)'}",
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


POLICIES = [
    ecs_capacity_provider_termination_protection,
    capacity_provider_asg_scale_in_protection,
]
