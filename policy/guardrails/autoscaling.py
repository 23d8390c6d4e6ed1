"""Application Auto Scaling guardrails: target-tracking targets, capacity bounds, and that every
load-balanced ECS service is actually scaled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import limits
from .aws_types import ECS_CLUSTER, ECS_SERVICE, SCALABLE_TARGET, SCALING_POLICY
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import Unknown, fmt, is_set, is_unknown

_TRACKING = "targetTrackingScalingPolicyConfiguration"


def _target_value_config_check(props: Mapping[str, Any], level: str | None) -> list[str]:
    low, high = props.get("targetValueLow"), props.get("targetValueHigh")
    if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
        return [f"targetValueLow {fmt(low)} must be below targetValueHigh {fmt(high)}"]
    return []


@resource_rule(
    "autoscaling-target-value-range",
    types=SCALING_POLICY,
    level=MANDATORY,
    config={
        "targetValueLow": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "default": limits.TARGET_VALUE_LOW,
            "description": "Lowest utilisation target (percent) a target-tracking policy may use.",
        },
        "targetValueHigh": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "default": limits.TARGET_VALUE_HIGH,
            "description": "Highest utilisation target (percent) a target-tracking policy may use.",
        },
    },
    config_check=_target_value_config_check,
    description=(
        "Target-tracking policies on a utilisation metric (CPU, memory) aim between the "
        "configured bounds (default 10-90 %). Mandatory: below, the service idles at great cost; "
        "above, it has no headroom for a spike while new tasks start."
    ),
)
def autoscaling_target_value_range(check: ResourceCheck) -> None:
    config = check.get(_TRACKING)
    if not is_set(config):
        return
    metric = check.known(f"{_TRACKING}.predefinedMetricSpecification.predefinedMetricType")
    metric = metric or check.known(f"{_TRACKING}.customizedMetricSpecification.metricName")
    if not isinstance(metric, str) or "Utilization" not in metric:
        check.note(f"the tracked metric {fmt(metric)} is not a utilisation percentage")
        return
    low, high = check.config["targetValueLow"], check.config["targetValueHigh"]
    problem = limits.target_value_problem(check.known(f"{_TRACKING}.targetValue"), low, high)
    if problem:
        check.violation(
            f"{_TRACKING}.targetValue {problem} for {metric}",
            f"set {_TRACKING}.targetValue between {fmt(low)} and {fmt(high)} (e.g. 60)",
        )


@resource_rule(
    "autoscaling-capacity-bounds",
    types=SCALABLE_TARGET,
    level=MANDATORY,
    config={
        "maxCapacityCap": {
            "type": "integer",
            "minimum": 1,
            "default": limits.MAX_CAPACITY_CAP,
            "description": "Most tasks any ECS service may scale out to.",
        },
    },
    description=(
        "ECS scalable targets keep 0 <= minCapacity <= maxCapacity <= the cap (default 20) "
        "(limits.capacity_bounds_problem, shared with the program's settings). Mandatory: an "
        "inverted range fails at deploy time and an uncapped maximum is an unbounded bill."
    ),
)
def autoscaling_capacity_bounds(check: ResourceCheck) -> None:
    if check.known("serviceNamespace") != "ecs":
        return
    cap = check.config["maxCapacityCap"]
    problem = limits.capacity_bounds_problem(
        check.known("minCapacity"), check.known("maxCapacity"), cap
    )
    if problem:
        check.violation(problem, f"set 0 <= minCapacity <= maxCapacity <= {cap}")


@resource_rule(
    "autoscaling-prod-min-capacity",
    types=SCALABLE_TARGET,
    level=MANDATORY,
    prod_only=True,
    config={
        "prodMinimumCapacity": {
            "type": "integer",
            "minimum": 1,
            "default": limits.PROD_MINIMUM_CAPACITY,
            "description": "Fewest tasks a prod ECS service may scale in to.",
        },
    },
    description=(
        "Prod ECS scalable targets keep minCapacity >= 2 (limits.prod_minimum_problem, shared "
        "with the program's settings). Prod-only (config environment=prod): mandatory, because "
        "one task is a single point of failure; not applicable in dev."
    ),
)
def autoscaling_prod_min_capacity(check: ResourceCheck) -> None:
    if check.known("serviceNamespace") != "ecs":
        return
    minimum = check.config["prodMinimumCapacity"]
    problem = limits.prod_minimum_problem(check.known("minCapacity"), minimum)
    if problem:
        check.violation(problem, f"set minCapacity={minimum} or more (and maxCapacity >= it)")


def _cluster_name(check: StackCheck, service: StackResource) -> str | None:
    """The name of the service's cluster: from the cluster resource it refers to (by ARN, id or
    name, or by dependency during preview), else parsed from the ARN; None while unknown."""
    cluster = service.get("cluster")
    clusters = check.of_type(ECS_CLUSTER)
    source = check.find_by(clusters, cluster, "arn", "id", "name") or next(
        (c for c in clusters if c.urn in service.depends_on("cluster")), None
    )
    if source is not None and isinstance(source.get("name"), str):
        return source.get("name")
    if isinstance(cluster, str):
        return cluster.split(":cluster/", 1)[1] if ":cluster/" in cluster else cluster
    return None


def _service_resource_id(check: StackCheck, service: StackResource) -> str | None:
    """``service/<cluster name>/<service name>``, or None while either is unknown."""
    cluster, name = _cluster_name(check, service), service.get("name")
    return f"service/{cluster}/{name}" if cluster and isinstance(name, str) else None


def _points_at(
    item: StackResource, resource_id: str | None, *sources: StackResource
) -> bool | None:
    """Does ``item.resourceId`` name ``resource_id`` (or come from one of ``sources``)?"""
    if any(source.urn in item.depends_on("resourceId") for source in sources):
        return True
    value = item.get("resourceId")
    if isinstance(value, Unknown) or resource_id is None:
        return None
    return value == resource_id


@stack_rule(
    "ecs-service-autoscaling-attached",
    level=MANDATORY,
    description=(
        "Every ECS service behind a load balancer has an aws:appautoscaling/target "
        "(resourceId service/<cluster>/<service>) and at least one aws:appautoscaling/policy on "
        "it. Mandatory: a load-balanced service with a fixed task count neither survives a load "
        "spike nor heals capacity after one."
    ),
)
def ecs_service_autoscaling_attached(check: StackCheck) -> None:
    targets = [
        t
        for t in check.of_type(SCALABLE_TARGET)
        if t.get("serviceNamespace") == "ecs" or is_unknown(t.get("serviceNamespace"))
    ]
    policies = check.of_type(SCALING_POLICY)
    for service in check.of_type(ECS_SERVICE):
        balancers = service.get("loadBalancers")
        if not is_set(balancers):
            continue
        resource_id = _service_resource_id(check, service)
        expected = resource_id or "service/<cluster name>/<service name>"
        links = [(t, _points_at(t, resource_id, service)) for t in targets]
        attached = [t for t, linked in links if linked]
        if not attached:
            if any(linked is None for _, linked in links):
                check.note(f"the scalable target of {service.label()} is unknown during preview")
                continue
            check.violation(
                service,
                f'no aws:appautoscaling/target has resourceId "{expected}"',
                'add an aws:appautoscaling/target {serviceNamespace: "ecs", scalableDimension: '
                f'"ecs:service:DesiredCount", resourceId: "{expected}", minCapacity, '
                'maxCapacity} and a "TargetTrackingScaling" aws:appautoscaling/policy on it',
            )
            continue
        target_ids = [t.get("resourceId") for t in attached]
        known_id = next((i for i in target_ids if isinstance(i, str)), resource_id)
        scaled = [_points_at(p, known_id, service, *attached) for p in policies]
        if True in scaled:
            continue
        if None in scaled:
            check.note(f"the scaling policies of {service.label()} are unknown during preview")
            continue
        check.violation(
            service,
            f'its scalable target "{known_id or expected}" has no aws:appautoscaling/policy',
            'add an aws:appautoscaling/policy {policyType: "TargetTrackingScaling", resourceId: '
            f'"{known_id or expected}", serviceNamespace: "ecs", scalableDimension: '
            '"ecs:service:DesiredCount", targetTrackingScalingPolicyConfiguration: {...}}',
        )


POLICIES = [
    autoscaling_target_value_range,
    autoscaling_capacity_bounds,
    autoscaling_prod_min_capacity,
    ecs_service_autoscaling_attached,
]
