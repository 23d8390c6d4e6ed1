"""Every stack policy has a failing case: the real prod stack (compliant, see
``test_policy_stack_preview``) with the one thing the policy guards taken away.

Together with ``test_policy_resource_rules`` (one violating and one compliant input per resource
policy) this makes every registered policy fail at least once and pass at least once; a new stack
policy without a breaking change here fails ``test_every_stack_policy_has_a_failing_case``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable

import pytest
from policy_harness import POLICIES, Res, run_stack
from test_policy_stack_preview import PROD_CONFIG, preview_resources

from ops.synth.runner import Synthesis, synthesize
from policy.guardrails.framework import StackGuardrail

Break = Callable[[list[Res]], list[Res]]


def drop(type_: str) -> Break:
    """Remove every resource of ``type_`` (and the property dependencies on them)."""

    def apply(resources: list[Res]) -> list[Res]:
        gone = {r.name for r in resources if r.type == type_}
        kept = [r for r in resources if r.type != type_]
        for r in kept:
            r.deps = {k: [n for n in v if n not in gone] for k, v in r.deps.items()}
        return kept

    return apply


def change(type_: str, where: Callable[[Res], bool], edit: Callable[[dict], None]) -> Break:
    """Edit the props of the first resource of ``type_`` that ``where`` selects."""

    def apply(resources: list[Res]) -> list[Res]:
        target = next(r for r in resources if r.type == type_ and where(r))
        edit(target.props)
        return resources

    return apply


def every(_: Res) -> bool:
    return True


def _one_zone(resources: list[Res]) -> list[Res]:
    subnets = [r for r in resources if r.type == "aws:ec2/subnet:Subnet"]
    zone = subnets[0].props["availabilityZone"]
    same = [s.props["id"] for s in subnets if s.props["availabilityZone"] == zone][:2]
    balancer = next(r for r in resources if r.type == "aws:lb/loadBalancer:LoadBalancer")
    balancer.props["subnets"] = same
    balancer.deps.pop("subnets", None)
    return resources


def _database_in_public_subnets(resources: list[Res]) -> list[Res]:
    public = [
        r.props["id"]
        for r in resources
        if r.type == "aws:ec2/subnet:Subnet" and r.props["tags"]["Tier"] == "public"
    ]
    group = next(r for r in resources if r.type == "aws:rds/subnetGroup:SubnetGroup")
    group.props["subnetIds"] = public
    group.deps.pop("subnetIds", None)
    return resources


def _onebox_half(props: dict) -> None:
    groups = props["defaultActions"][0]["forward"]["targetGroups"]
    for group in groups:
        group["weight"] = 50


def _add_public_zone(resources: list[Res]) -> list[Res]:
    zone = {"name": "example.org", "id": "Z0EXAMPLE", "arn": "arn:aws:route53:::hostedzone/Z0"}
    return [*resources, Res("aws:route53/zone:Zone", "extra-zone", zone)]


def _world_ingress(props: dict) -> None:
    props["ingress"] = [
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"], "self": False}
    ]


def _is_fast_alarm(r: Res) -> bool:
    return r.name.split("~")[0].endswith("-fast-scale-out")


def _is_weighted_listener(r: Res) -> bool:
    actions = r.props.get("defaultActions") or []
    return bool(actions) and "forward" in actions[0] and actions[0]["forward"] is not None


def _green_on_blues_hosts(resources: list[Res]) -> list[Res]:
    """Green's services placed on blue's capacity provider (shared capacity)."""
    blue = next(
        r
        for r in resources
        if r.type == "aws:ecs/capacityProvider:CapacityProvider" and "-blue-" in r.name
    )
    for r in resources:
        if r.type == "aws:ecs/service:Service" and r.name.startswith("green-"):
            r.deps["capacityProviderStrategies"] = [blue.name]
            for strategy in r.props["capacityProviderStrategies"]:
                strategy["capacityProvider"] = blue.props["name"]
    return resources


def _is_capacity_provider(r: Res) -> bool:
    return r.type == "aws:ecs/capacityProvider:CapacityProvider"


BREAKS: dict[str, Break] = {
    "vpc-flow-logs-enabled": drop("aws:ec2/flowLog:FlowLog"),
    "lb-subnets-distinct-azs": _one_zone,
    "onebox-traffic-share": change("aws:lb/listener:Listener", _is_weighted_listener, _onebox_half),
    "ecr-repository-has-lifecycle-policy": drop("aws:ecr/lifecyclePolicy:LifecyclePolicy"),
    "ecs-service-autoscaling-attached": drop("aws:appautoscaling/target:Target"),
    "step-scaling-alarm-sustained": change(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        _is_fast_alarm,
        lambda p: p.update(datapointsToAlarm=1, evaluationPeriods=1),
    ),
    "dns-failover-primary-health-checked": change(
        "aws:route53/record:Record",
        lambda r: r.props["failoverRoutingPolicies"][0]["type"] == "PRIMARY",
        lambda p: p.pop("healthCheckId"),
    ),
    "alarms-notify-topic-in-stack": change(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        lambda r: str(r.props.get("metricName", "")).endswith("-connectivity"),
        lambda p: p.update(alarmActions=[], okActions=[]),
    ),
    "vpc-endpoint-policy-scoped": drop("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"),
    "s3-bucket-server-access-logging": drop("aws:s3/bucketLogging:BucketLogging"),
    "vpc-default-security-group-closed": change(
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", every, _world_ingress
    ),
    "s3-bucket-public-access-blocked": drop(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    ),
    "s3-bucket-tls-only": drop("aws:s3/bucketPolicy:BucketPolicy"),
    "s3-bucket-acls-disabled": drop("aws:s3/bucketOwnershipControls:BucketOwnershipControls"),
    "s3-bucket-lifecycle": drop("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
    "rds-force-tls": change(
        "aws:rds/parameterGroup:ParameterGroup", every, lambda p: p.update(parameters=[])
    ),
    "rds-isolated-subnets": _database_in_public_subnets,
    "rds-instance-event-subscription": drop("aws:rds/eventSubscription:EventSubscription"),
    "rds-parameter-group-event-subscription": drop("aws:rds/eventSubscription:EventSubscription"),
    "capacity-provider-asg-scale-in-protection": change(
        "aws:autoscaling/group:Group", every, lambda p: p.update(protectFromScaleIn=False)
    ),
    "ecs-deployment-alarms-exist": drop("aws:cloudwatch/metricAlarm:MetricAlarm"),
    "alarm-topics-have-subscriber": drop("aws:sns/topicSubscription:TopicSubscription"),
    "dns-public-zone-query-logging": _add_public_zone,
    "fis-templates-scheduled-in-prod": drop("aws:scheduler/schedule:Schedule"),
    # issue 19: a first `pulumi up` that works
    "db-app-secret-rotation": drop("aws:scheduler/schedule:Schedule"),
    "ecs-exec-encrypted": change(
        "aws:ecs/cluster:Cluster",
        every,
        lambda p: p["configuration"]["executeCommandConfiguration"].pop("kmsKeyId"),
    ),
    "ecs-service-placement-allows-scale-in": change(
        "aws:ecs/service:Service",
        every,
        lambda p: p.update(
            orderedPlacementStrategies=[
                {"type": "spread", "field": "attribute:ecs.availability-zone"},
                {"type": "spread", "field": "instanceId"},
            ]
        ),
    ),
    "lambda-async-failures-kept": drop(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
    ),
    "lb-internet-facing-waf": drop("aws:wafv2/webAclAssociation:WebAclAssociation"),
    "s3-bucket-aborts-incomplete-uploads": change(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        every,
        lambda p: [rule.pop("abortIncompleteMultipartUpload", None) for rule in p["rules"]],
    ),
    "waf-web-acl-logging": drop("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"),
    # issue 21: failure domains
    "lb-zonal-autoshift-practised": drop(
        "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration"
    ),
    "ecs-environments-own-capacity": _green_on_blues_hosts,
    "zone-loss-static-stability": change(
        "aws:ecs/capacityProvider:CapacityProvider",
        _is_capacity_provider,
        lambda p: p["autoScalingGroupProvider"]["managedScaling"].update(targetCapacity=100),
    ),
}

STACK_POLICIES = sorted(n for n, p in POLICIES.items() if isinstance(p, StackGuardrail))


@pytest.fixture(scope="module")
def prod_resources() -> list[Res]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        synthesis: Synthesis = synthesize("prod")
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return preview_resources(synthesis, unknown=False)


def test_every_stack_policy_has_a_failing_case() -> None:
    assert sorted(BREAKS) == STACK_POLICIES


@pytest.mark.parametrize("name", STACK_POLICIES)
def test_breaking_what_the_stack_policy_guards_is_reported(prod_resources, name) -> None:
    config = (
        PROD_CONFIG
        if POLICIES[name].config_schema
        and "environment"
        in (
            POLICIES[name].config_schema.properties  # type: ignore[union-attr]
        )
        else None
    )
    assert run_stack(name, prod_resources, config=config).violations == []
    broken = BREAKS[name](copy.deepcopy(prod_resources))
    outcome = run_stack(name, broken, config=config)
    assert outcome.violations, f"{name} passed prod with what it guards taken away"
