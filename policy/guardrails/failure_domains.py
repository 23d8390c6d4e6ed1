"""Failure domains: environments on capacity of their own, and capacity that rides out the loss
of any one Availability Zone without a new host (the arithmetic is :mod:`.zone_loss`, shared with
the settings)."""

from __future__ import annotations

from collections.abc import Iterable

from .aws_types import (
    AUTOSCALING_GROUP,
    ECS_CAPACITY_PROVIDER,
    ECS_SERVICE,
    ECS_TASK_DEFINITION,
    LAUNCH_TEMPLATE,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SUBNET,
)
from .framework import MANDATORY, StackCheck, StackResource, stack_rule
from .properties import as_list, get, is_unknown, tags_of
from .zone_loss import CapacityGroup, host_size, unknown_instance_type_note, zone_loss_problems

CPU_METRIC = "ECSServiceAverageCPUUtilization"


def _services_on(check: StackCheck, provider: StackResource) -> list[StackResource]:
    """Services whose capacity provider strategy names ``provider`` (by dependency or name)."""
    out = []
    for service in check.of_type(ECS_SERVICE):
        named = as_list(service.get("capacityProviderStrategies"))
        names = (
            set()
            if is_unknown(named)
            else {get(item, "capacityProvider") for item in named if isinstance(item, dict)}
        )
        if provider.urn in service.depends_on("capacityProviderStrategies") or (
            isinstance(provider.get("name"), str) and provider.get("name") in names
        ):
            out.append(service)
    return out


def _environment(service: StackResource) -> str | None:
    tags = tags_of(service.props)
    value = tags.get("Environment") if isinstance(tags, dict) else None
    return value if isinstance(value, str) else None


def _linked(
    check: StackCheck, source: StackResource, prop: str, candidates: Iterable[StackResource]
) -> list[StackResource]:
    """``candidates`` that ``source.prop`` points at (by dependency, ARN, id or name)."""
    return [c for c in candidates if check.refers_to(source, prop, c, "arn", "id", "name")]


@stack_rule(
    "ecs-environments-own-capacity",
    level=MANDATORY,
    prod_only=True,
    description=(
        "Services of different environments (their Environment tag: blue, green) never run on "
        "the same capacity provider, and no launch template serves two Auto Scaling groups. "
        "Prod-only (config environment=prod): mandatory, because an environment is the other's "
        "fallback only when a bad AMI, user data, instance type or host fault cannot reach both "
        "(steadystate:cluster.capacityPerEnvironment); dev may share one group."
    ),
)
def ecs_environments_own_capacity(check: StackCheck) -> None:
    for provider in check.of_type(ECS_CAPACITY_PROVIDER):
        envs = sorted({e for s in _services_on(check, provider) if (e := _environment(s))})
        if len(envs) > 1:
            check.violation(
                provider,
                f"runs the services of {len(envs)} environments ({', '.join(envs)}): one host "
                "fault, AMI or user-data change reaches all of them",
                "give each environment its own capacity provider, Auto Scaling group and launch "
                "template (steadystate:cluster.capacityPerEnvironment: true) and point each "
                "service's capacityProviderStrategies at its own",
            )
    groups = check.of_type(AUTOSCALING_GROUP)
    for template in check.of_type(LAUNCH_TEMPLATE):
        users = [g for g in groups if check.refers_to(g, "launchTemplate", template, "id") is True]
        if len(users) > 1:
            check.violation(
                template,
                f"launches the hosts of {len(users)} Auto Scaling groups "
                f"({', '.join(sorted(g.name for g in users))}): a change to it reaches them all "
                "at once",
                "give each Auto Scaling group its own launch template",
            )


def _zones(check: StackCheck, group: StackResource) -> int | None:
    """Distinct zones of the group's subnets, or None while unknown."""
    subnets = check.of_type(SUBNET)
    linked = [s for s in subnets if s.urn in group.depends_on("vpcZoneIdentifiers")]
    ids = as_list(group.get("vpcZoneIdentifiers"))
    if not linked and not is_unknown(ids):
        linked = [s for s in subnets if s.get("id") in ids]
    zones = {s.get("availabilityZone") or s.get("availabilityZoneId") for s in linked}
    if linked and not any(is_unknown(z) for z in zones):
        return len(zones)
    if is_unknown(ids) or not ids:
        return None
    return len(ids)


def _whole(value: object) -> int | None:
    if isinstance(value, bool) or is_unknown(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]  # task cpu/memory are strings
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _cpu_target(check: StackCheck, target: StackResource) -> int | None:
    for policy in check.of_type(SCALING_POLICY):
        if check.refers_to(policy, "resourceId", target, "resourceId", "id") is not True:
            continue
        config = policy.get("targetTrackingScalingPolicyConfiguration")
        metric = get(config, "predefinedMetricSpecification.predefinedMetricType")
        if metric == CPU_METRIC:
            return _whole(get(config, "targetValue"))
    return None


@stack_rule(
    "zone-loss-static-stability",
    level=MANDATORY,
    prod_only=True,
    description=(
        "Each capacity provider's service rides out the loss of any one Availability Zone "
        "without a new host: at least one task per zone, the CPU target at most the share of "
        "tasks that survive ((zones - 1) / zones), room on the hosts left for every task the "
        "group runs at minimum, and managed scaling keeping a zone's share of hosts empty "
        "(policy/guardrails/zone_loss.py). Prod-only (config environment=prod): mandatory, "
        "because new hosts take minutes to boot and register, and during a zone event they may "
        "not launch at all."
    ),
)
def zone_loss_static_stability(check: StackCheck) -> None:
    groups = check.of_type(AUTOSCALING_GROUP)
    templates = check.of_type(LAUNCH_TEMPLATE)
    targets = check.of_type(SCALABLE_TARGET)
    definitions = check.of_type(ECS_TASK_DEFINITION)
    for provider in check.of_type(ECS_CAPACITY_PROVIDER):
        linked = _linked(check, provider, "autoScalingGroupProvider", groups)
        if not linked:
            arn = get(provider.props, "autoScalingGroupProvider.autoScalingGroupArn")
            linked = [g for g in groups if isinstance(arn, str) and g.get("arn") == arn]
        if not linked:
            continue  # Fargate / Managed Instances, or a group outside the stack
        group = linked[0]
        zones, hosts = _zones(check, group), _whole(group.get("minSize"))
        capacity = _whole(
            get(provider.props, "autoScalingGroupProvider.managedScaling.targetCapacity")
        )
        template = next(iter(_linked(check, group, "launchTemplate", templates)), None)
        instance_type = template.get("instanceType") if template else None
        if zones is None or hosts is None:
            check.note(f"the zones or hosts of {provider.label()} are unknown during preview")
            continue
        if is_unknown(instance_type):
            # The launch template takes its host pin's recorded value: unknown on a first preview.
            check.note(
                f"the instance type of {provider.label()} is unknown during preview: the room on "
                "the hosts left is judged once it is known"
            )
            instance_type = None
        autoscaled: list[tuple[StackResource, int, int]] = []
        fixed = 0
        sizes: list[tuple[int, int]] = []
        for service in _services_on(check, provider):
            definition = next(iter(_linked(check, service, "taskDefinition", definitions)), None)
            cpu = _whole(definition.get("cpu")) if definition else None
            memory = _whole(definition.get("memory")) if definition else None
            if cpu is None or memory is None:
                check.note(f"the task size of {service.label()} is unknown during preview")
                return
            sizes.append((cpu, memory))
            target = next(
                (t for t in targets if check.refers_to(t, "resourceId", service, "id") is True),
                None,
            )
            minimum = _whole(target.get("minCapacity")) if target else None
            maximum = _whole(target.get("maxCapacity")) if target else None
            cpu_target = _cpu_target(check, target) if target else None
            if minimum is not None and cpu_target is not None and maximum != minimum:
                autoscaled.append((service, minimum, cpu_target))
            else:
                # A fixed count (the onebox: min = max) is not what the group is sized for, but
                # its tasks need room on the hosts left.
                fixed += (
                    minimum if minimum is not None else _whole(service.get("desiredCount")) or 0
                )
        if not sizes:
            continue
        task_cpu, task_memory = max(c for c, _ in sizes), max(m for _, m in sizes)
        note = unknown_instance_type_note(instance_type) if instance_type is not None else None
        if note:
            check.note(f"{provider.label()}: {note}")
        for service, minimum, cpu_target in autoscaled:
            others = sum(m for s, m, _ in autoscaled if s is not service)
            case = CapacityGroup(
                zones=zones,
                min_tasks=minimum,
                cpu_target=cpu_target,
                task_cpu=task_cpu,
                task_memory=task_memory,
                hosts=hosts,
                host=host_size(instance_type) if isinstance(instance_type, str) else None,
                target_capacity_percent=capacity if capacity is not None else 100,
                fixed_tasks=fixed + others,
            )
            for _, problem in zone_loss_problems(case):
                check.violation(
                    provider,
                    f"{service.label()} cannot lose one of its {zones} zones: {problem}",
                    "set steadystate:service.minTasks / cpuTarget, cluster.minInstances / "
                    "instanceType or cluster.targetCapacityPercent so that the settings accept "
                    "it (the same rule: policy/guardrails/zone_loss.py)",
                )


POLICIES = [ecs_environments_own_capacity, zone_loss_static_stability]
