"""Values unknown during preview: a rule skips (says why) or judges what it can; it never crashes
and never prints an unknown marker as if it were a value."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from policy_cases import CASES, GOOD_CONTAINER, GOOD_SERVICE, Case, task
from policy_harness import (
    UNKNOWN_ARRAY,
    UNKNOWN_BOOL,
    UNKNOWN_NUMBER,
    UNKNOWN_OBJECT,
    UNKNOWN_STRING,
    Res,
    run_resource,
    run_stack,
)

from policy.guardrails import aws_types as t

Path = tuple[Any, ...]


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every node below the root of a props tree."""
    if not isinstance(value, dict | list):
        return
    for key, child in value.items() if isinstance(value, dict) else enumerate(value):
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def sentinel_for(value: Any) -> str:
    if isinstance(value, bool):
        return UNKNOWN_BOOL
    if isinstance(value, int | float):
        return UNKNOWN_NUMBER
    if isinstance(value, list):
        return UNKNOWN_ARRAY
    if isinstance(value, dict):
        return UNKNOWN_OBJECT
    return UNKNOWN_STRING


def with_unknown(props: dict[str, Any], path: Path) -> dict[str, Any]:
    changed = copy.deepcopy(props)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = sentinel_for(node[path[-1]])
    return changed


def unknown_variants(case: Case) -> Iterator[tuple[str, dict[str, Any]]]:
    for label, props in (("bad", case.bad), ("good", case.good)):
        for path in paths(props):
            yield f"{label}:{'.'.join(map(str, path))}", with_unknown(props, path)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.policy}[{t.short(c.type)}]")
def test_an_unknown_anywhere_never_crashes_nor_fails_a_compliant_resource(case: Case) -> None:
    for where, props in unknown_variants(case):
        outcome = run_resource(case.policy, case.type, props, config=case.config)

        assert "<unknown" not in outcome.text, where
        if where.startswith("good:"):
            assert outcome.messages == [], f"an unknown made a compliant input fail: {where}"
        if outcome.not_applicable is not None:
            assert "unknown during preview" in outcome.not_applicable, where


@pytest.mark.parametrize(
    ("policy", "type_token", "props", "reason"),
    [
        (
            "containers-readonly-root-filesystem",
            t.ECS_TASK_DEFINITION,
            {"containerDefinitions": UNKNOWN_STRING},
            "containerDefinitions is unknown during preview",
        ),
        (
            "rds-not-publicly-accessible",
            t.RDS_INSTANCE,
            {"publiclyAccessible": UNKNOWN_BOOL},
            "publiclyAccessible is unknown during preview",
        ),
        (
            "subnet-private-no-public-ip",
            t.SUBNET,
            {"mapPublicIpOnLaunch": UNKNOWN_BOOL, "tags": {"Tier": "private"}},
            "mapPublicIpOnLaunch is unknown during preview",
        ),
        (
            "autoscaling-capacity-bounds",
            t.SCALABLE_TARGET,
            {"serviceNamespace": "ecs", "minCapacity": UNKNOWN_NUMBER, "maxCapacity": 4},
            "minCapacity is unknown during preview",
        ),
        (
            "iam-no-admin-wildcard",
            t.IAM_ROLE_POLICY,
            {"role": "app", "policy": UNKNOWN_STRING},
            "policy is unknown during preview",
        ),
        (
            "dns-routing-ttl-ceiling",
            t.DNS_RECORD,
            {"name": "api", "ttl": UNKNOWN_NUMBER, "weightedRoutingPolicies": [{"weight": 1}]},
            "ttl is unknown during preview",
        ),
        (
            "ecs-task-distinct-roles",
            t.ECS_TASK_DEFINITION,
            {"executionRoleArn": UNKNOWN_STRING, "taskRoleArn": UNKNOWN_STRING},
            "executionRoleArn is unknown during preview",
        ),
    ],
)
def test_unknown_value_skips_the_rule_with_its_reason(
    policy: str, type_token: str, props: dict[str, Any], reason: str
) -> None:
    outcome = run_resource(policy, type_token, props)

    assert outcome.violations == []
    assert outcome.not_applicable == f"skipped: {reason}"


def test_unknown_source_cidr_in_one_rule_still_judges_the_others() -> None:
    props = {
        "description": "web",
        "ingress": [
            {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": UNKNOWN_ARRAY},
            {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
        ],
    }
    outcome = run_resource("security-group-no-world-admin-ingress", t.SECURITY_GROUP, props)

    assert len(outcome.messages) == 1
    assert "ingress[1] admits 0.0.0.0/0 to all ports" in outcome.messages[0]


def test_one_unknown_container_field_skips_only_that_container() -> None:
    props = task(GOOD_CONTAINER, {**GOOD_CONTAINER, "name": "sidecar", "privileged": True})
    containers = json.loads(props["containerDefinitions"])
    containers[0]["privileged"] = UNKNOWN_BOOL
    props["containerDefinitions"] = json.dumps(containers)

    outcome = run_resource("containers-not-privileged", t.ECS_TASK_DEFINITION, props)

    assert len(outcome.messages) == 1
    assert 'container "sidecar" is privileged' in outcome.messages[0]


def test_set_but_unknown_values_count_as_set() -> None:
    service = {
        **GOOD_SERVICE,
        "alarms": {"alarmNames": UNKNOWN_ARRAY, "enable": True, "rollback": True},
    }
    outcome = run_resource("ecs-service-deployment-alarms", t.ECS_SERVICE, service)

    assert outcome.violations == []
    assert outcome.not_applicable is None


def test_invalid_json_document_skips_with_reason() -> None:
    outcome = run_resource("iam-no-admin-wildcard", t.IAM_POLICY, {"policy": "{not json"})

    assert outcome.violations == []
    assert "policy is not valid JSON" in outcome.not_applicable


GOOD_STACK = [
    Res(t.VPC, "vpc", {"id": "vpc-1"}),
    Res(t.FLOW_LOG, "flow", {"vpcId": "vpc-1"}),
    Res(t.SUBNET, "a", {"id": "subnet-a", "availabilityZone": "eu-west-1a"}),
    Res(t.SUBNET, "b", {"id": "subnet-b", "availabilityZone": "eu-west-1b"}),
    Res(t.LOAD_BALANCERS[0], "alb", {"subnets": ["subnet-a", "subnet-b"]}),
    Res(t.TARGET_GROUPS[0], "onebox-tg", {"arn": "arn:tg/o", "tags": {"Role": "onebox"}}),
    Res(t.TARGET_GROUPS[0], "fleet-tg", {"arn": "arn:tg/f", "tags": {"Role": "fleet"}}),
    Res(
        t.LISTENERS[0],
        "https",
        {
            "defaultActions": [
                {
                    "type": "forward",
                    "forward": {
                        "targetGroups": [
                            {"arn": "arn:tg/o", "weight": 1},
                            {"arn": "arn:tg/f", "weight": 99},
                        ]
                    },
                }
            ]
        },
    ),
    Res(t.ECR_REPOSITORY, "repo", {"name": "web"}),
    Res(t.ECR_LIFECYCLE_POLICY, "lc", {"repository": "web"}),
    Res(t.ECS_CLUSTER, "cluster", {"name": "main", "arn": "arn:aws:ecs:r:1:cluster/main"}),
    Res(
        t.ECS_SERVICE,
        "svc",
        {
            "name": "web",
            "cluster": "arn:aws:ecs:r:1:cluster/main",
            "loadBalancers": [{"targetGroupArn": "arn:tg/f"}],
        },
    ),
    Res(t.SCALABLE_TARGET, "target", {"serviceNamespace": "ecs", "resourceId": "service/main/web"}),
    Res(t.SCALING_POLICY, "cpu", {"resourceId": "service/main/web"}),
    Res(
        t.DNS_RECORD,
        "primary",
        {
            "zoneId": "Z1",
            "name": "api",
            "type": "A",
            "healthCheckId": "hc",
            "failoverRoutingPolicies": [{"type": "PRIMARY"}],
        },
    ),
    Res(
        t.DNS_RECORD,
        "secondary",
        {
            "zoneId": "Z1",
            "name": "api",
            "type": "A",
            "failoverRoutingPolicies": [{"type": "SECONDARY"}],
        },
    ),
    Res(t.SNS_TOPIC, "topic", {"arn": "arn:aws:sns:r:1:alerts"}),
    Res(
        t.METRIC_ALARM,
        "alarm",
        {"metricName": "db-connectivity", "alarmActions": ["arn:aws:sns:r:1:alerts"]},
    ),
]

STACK_POLICIES = [
    "vpc-flow-logs-enabled",
    "lb-subnets-distinct-azs",
    "onebox-traffic-share",
    "ecr-repository-has-lifecycle-policy",
    "ecs-service-autoscaling-attached",
    "dns-failover-primary-health-checked",
    "alarms-notify-topic-in-stack",
]


@pytest.mark.parametrize("policy", STACK_POLICIES)
def test_an_unknown_anywhere_never_fails_a_compliant_stack(policy: str) -> None:
    assert run_stack(policy, GOOD_STACK).violations == []
    for index, resource in enumerate(GOOD_STACK):
        for path in paths(resource.props):
            stack = list(GOOD_STACK)
            stack[index] = Res(resource.type, resource.name, with_unknown(resource.props, path))

            outcome = run_stack(policy, stack)

            assert outcome.violations == [], (resource.name, path, outcome.text)
