"""Behaviour at the edges of individual rules: what they deliberately leave alone, what config
changes, and what their messages must never contain."""

from __future__ import annotations

import json

import pytest
from policy_cases import GOOD_ALB, GOOD_CONTAINER, GOOD_RDS, GOOD_SERVICE, container, task
from policy_harness import UNKNOWN_STRING, run_resource

from policy.guardrails import aws_types as t


def world(protocol: str, low: int, high: int) -> dict:
    return {
        "description": "sg",
        "ingress": [
            {
                "protocol": protocol,
                "fromPort": low,
                "toPort": high,
                "cidrBlocks": ["0.0.0.0/0"],
                "description": "rule",
            }
        ],
    }


@pytest.mark.parametrize(
    ("protocol", "low", "high", "exposed"),
    [
        ("tcp", 443, 443, None),
        ("icmp", -1, -1, None),
        ("tcp", 0, 65535, "all ports"),
        ("6", 20, 25, "port 22"),
        ("udp", 3389, 3389, "port 3389"),
        ("all", 0, 0, "all ports"),
    ],
)
def test_world_ingress_is_judged_by_protocol_and_port_range(
    protocol: str, low: int, high: int, exposed: str | None
) -> None:
    outcome = run_resource(
        "security-group-no-world-admin-ingress", t.SECURITY_GROUP, world(protocol, low, high)
    )
    if exposed is None:
        assert outcome.messages == []
    else:
        assert f"admits 0.0.0.0/0 to {exposed}" in outcome.text


def test_forbidden_ports_come_from_config() -> None:
    outcome = run_resource(
        "security-group-no-world-admin-ingress",
        t.SECURITY_GROUP,
        world("tcp", 5432, 5432),
        config={"forbiddenPorts": [22, 3389, 5432]},
    )
    assert "port 5432" in outcome.text


def test_prod_only_rule_is_strict_without_config_and_not_applicable_in_dev() -> None:
    rds = {**GOOD_RDS, "deletionProtection": False}

    assert run_resource("rds-deletion-protection", t.RDS_INSTANCE, rds).messages
    dev = run_resource(
        "rds-deletion-protection", t.RDS_INSTANCE, rds, config={"environment": "dev"}
    )
    assert dev.messages == []
    assert dev.not_applicable == (
        "rds-deletion-protection is a prod-only guardrail and this stack's environment is 'dev'"
    )


def test_http_listener_may_forward_where_https_is_not_required() -> None:
    listener = {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward"}]}
    outcome = run_resource(
        "lb-http-redirects-to-https", t.LISTENERS[0], listener, config={"requireHttps": False}
    )
    assert outcome.messages == []
    assert "requireHttps is false" in outcome.not_applicable


def test_redirect_to_plain_http_is_reported() -> None:
    listener = {
        "protocol": "HTTP",
        "defaultActions": [
            {"type": "redirect", "redirect": {"protocol": "HTTP", "host": "example.com"}}
        ],
    }
    outcome = run_resource("lb-http-redirects-to-https", t.LISTENERS[0], listener)
    assert "redirects to HTTP, not HTTPS" in outcome.text


def test_listener_rules_only_judge_their_own_protocol() -> None:
    https = {
        "port": 443,
        "protocol": "HTTPS",
        "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}],
    }
    http = {
        "port": 80,
        "protocol": "HTTP",
        "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS"}}],
    }
    assert run_resource("lb-http-redirects-to-https", t.LISTENERS[0], https).messages == []
    assert run_resource("lb-tls-policy-modern", t.LISTENERS[0], http).messages == []
    no_policy = {**https, "sslPolicy": None}
    assert (
        "sslPolicy is unset" in run_resource("lb-tls-policy-modern", t.LISTENERS[0], no_policy).text
    )


def test_network_load_balancers_are_not_judged_on_http_only_settings() -> None:
    nlb = {
        **GOOD_ALB,
        "loadBalancerType": "network",
        "dropInvalidHeaderFields": False,
        "desyncMitigationMode": "monitor",
    }
    for policy in ("lb-drop-invalid-headers", "lb-desync-mitigation-defensive"):
        assert run_resource(policy, t.LOAD_BALANCERS[0], nlb).messages == []


def test_bridge_mode_service_without_network_configuration_is_not_concerned() -> None:
    bridge = {k: v for k, v in GOOD_SERVICE.items() if k != "networkConfiguration"}
    assert run_resource("ecs-service-no-public-ip", t.ECS_SERVICE, bridge).messages == []


def test_service_without_load_balancer_needs_no_grace_period() -> None:
    worker = {"name": "worker", "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    outcome = run_resource("ecs-service-health-check-grace-period", t.ECS_SERVICE, worker)
    assert outcome.messages == []


def test_grace_period_below_minimum_is_reported() -> None:
    service = {**GOOD_SERVICE, "healthCheckGracePeriodSeconds": 10}
    outcome = run_resource("ecs-service-health-check-grace-period", t.ECS_SERVICE, service)
    assert "must be at least 30 seconds (got 10)" in outcome.text


def test_deployment_safety_rules_leave_external_deployment_controllers_alone() -> None:
    service = {"name": "web", "deploymentController": {"type": "CODE_DEPLOY"}}
    for policy in ("ecs-service-circuit-breaker", "ecs-service-deployment-alarms"):
        assert run_resource(policy, t.ECS_SERVICE, service).messages == []


def test_deployment_alarms_name_what_is_missing() -> None:
    service = {**GOOD_SERVICE, "alarms": {"alarmNames": [], "enable": True, "rollback": False}}
    outcome = run_resource("ecs-service-deployment-alarms", t.ECS_SERVICE, service)
    assert "alarms.rollback is not true; alarms.alarmNames is empty" in outcome.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_TOKEN", "abc123"),
        ("AWS_ACCESS_KEY_ID", "AKIAABCDEFGHIJKLMNOP"),
        ("UPSTREAM", "AKIAABCDEFGHIJKLMNOP"),
        ("DATABASE_URL", "postgres://app:s3cr3t-value@db:5432/app"),
        ("TLS_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
    ],
)
def test_credentials_in_environment_are_reported_without_echoing_them(
    name: str, value: str
) -> None:
    props = task(container(environment=[{"name": name, "value": value}]))
    outcome = run_resource("containers-no-plaintext-secrets", t.ECS_TASK_DEFINITION, props)
    assert f"passes {name} as plain environment" in outcome.text
    assert value not in outcome.text


@pytest.mark.parametrize("name", ["DB_SECRET_ARN", "DB_SECRET_ID", "TOKEN_URL", "SECRET_NAME"])
def test_references_to_secrets_are_not_secrets(name: str) -> None:
    props = task(container(environment=[{"name": name, "value": "arn:aws:secretsmanager:x"}]))
    outcome = run_resource("containers-no-plaintext-secrets", t.ECS_TASK_DEFINITION, props)
    assert outcome.messages == []


def test_every_offending_container_is_named() -> None:
    props = task(container(name="web", privileged=True), container(name="proxy", privileged=True))
    outcome = run_resource("containers-not-privileged", t.ECS_TASK_DEFINITION, props)
    assert [m.split(": ")[1].split(" is")[0] for m in outcome.messages] == [
        'container "web"',
        'container "proxy"',
    ]


def test_malformed_container_definitions_skip_with_reason() -> None:
    props = {"containerDefinitions": json.dumps({"name": "web"})}
    outcome = run_resource("containers-not-privileged", t.ECS_TASK_DEFINITION, props)
    assert outcome.messages == []
    assert "JSON array of objects" in outcome.not_applicable


def test_generated_password_unknown_during_preview_is_still_a_literal_password() -> None:
    rds = {**GOOD_RDS, "manageMasterUserPassword": None, "password": UNKNOWN_STRING}
    outcome = run_resource("rds-managed-master-password", t.RDS_INSTANCE, rds)
    assert "password is set, so the program chooses and knows" in outcome.text


def test_replica_inherits_credentials_and_backups() -> None:
    replica = {"replicateSourceDb": "arn:aws:rds:x:1:db:main", "storageEncrypted": True}
    for policy in ("rds-managed-master-password", "rds-backup-retention"):
        assert run_resource(policy, t.RDS_INSTANCE, replica).messages == []


def test_request_count_target_tracking_is_not_a_percentage() -> None:
    policy = {
        "policyType": "TargetTrackingScaling",
        "targetTrackingScalingPolicyConfiguration": {
            "targetValue": 1000,
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ALBRequestCountPerTarget",
                "resourceLabel": "app/x",
            },
        },
    }
    outcome = run_resource("autoscaling-target-value-range", t.SCALING_POLICY, policy)
    assert outcome.messages == []
    assert '"ALBRequestCountPerTarget" is not a utilisation percentage' in outcome.not_applicable


def test_target_value_range_comes_from_config() -> None:
    policy = {
        "targetTrackingScalingPolicyConfiguration": {
            "targetValue": 85,
            "customizedMetricSpecification": {"metricName": "MemoryUtilization"},
        }
    }
    outcome = run_resource(
        "autoscaling-target-value-range",
        t.SCALING_POLICY,
        policy,
        config={"targetValueLow": 20, "targetValueHigh": 80},
    )
    assert "must be between 20 and 80 (got 85)" in outcome.text


def test_capacity_rules_leave_other_namespaces_alone() -> None:
    dynamo = {"serviceNamespace": "dynamodb", "minCapacity": 1, "maxCapacity": 500}
    for policy in ("autoscaling-capacity-bounds", "autoscaling-prod-min-capacity"):
        assert run_resource(policy, t.SCALABLE_TARGET, dynamo).messages == []


def test_capacity_cap_comes_from_config() -> None:
    target = {"serviceNamespace": "ecs", "minCapacity": 2, "maxCapacity": 40}
    assert run_resource("autoscaling-capacity-bounds", t.SCALABLE_TARGET, target).messages
    relaxed = run_resource(
        "autoscaling-capacity-bounds", t.SCALABLE_TARGET, target, config={"maxCapacityCap": 50}
    )
    assert relaxed.messages == []


@pytest.mark.parametrize(
    "record",
    [
        {"name": "api", "type": "A", "ttl": 3600, "records": ["1.2.3.4"]},
        {
            "name": "api",
            "type": "A",
            "failoverRoutingPolicies": [{"type": "PRIMARY"}],
            "aliases": [{"name": "lb", "zoneId": "Z", "evaluateTargetHealth": True}],
        },
    ],
    ids=["simple-record", "alias"],
)
def test_ttl_ceiling_leaves_simple_and_alias_records_alone(record: dict) -> None:
    assert run_resource("dns-routing-ttl-ceiling", t.DNS_RECORD, record).messages == []


def test_ttl_ceiling_comes_from_config_and_covers_weighted_records() -> None:
    record = {
        "name": "api",
        "type": "CNAME",
        "ttl": 120,
        "weightedRoutingPolicies": [{"weight": 5}],
    }
    assert "got 120" in run_resource("dns-routing-ttl-ceiling", t.DNS_RECORD, record).text
    relaxed = run_resource(
        "dns-routing-ttl-ceiling", t.DNS_RECORD, record, config={"ttlCeilingSeconds": 300}
    )
    assert relaxed.messages == []


def test_metric_math_connectivity_alarm_is_recognised() -> None:
    alarm = {
        "treatMissingData": "missing",
        "metricQueries": [
            {"id": "m1", "metric": {"metricName": "cdn-connectivity", "namespace": "steadystate"}},
            {"id": "e1", "expression": "MIN(m1)", "returnData": True},
        ],
    }
    outcome = run_resource("connectivity-alarms-missing-data-breaching", t.METRIC_ALARM, alarm)
    assert 'cdn-connectivity has treatMissingData="missing"' in outcome.text


def test_other_alarms_may_treat_missing_data_as_they_like() -> None:
    alarm = {"metricName": "TargetResponseTime", "treatMissingData": "notBreaching"}
    outcome = run_resource("connectivity-alarms-missing-data-breaching", t.METRIC_ALARM, alarm)
    assert outcome.messages == []


@pytest.mark.parametrize(("days", "fix"), [(45, "retentionInDays=30"), (7, "retentionInDays=30")])
def test_log_retention_suggests_an_allowed_value(days: int, fix: str) -> None:
    outcome = run_resource("log-group-retention", t.LOG_GROUP, {"retentionInDays": days})
    assert fix in outcome.text


def test_delivery_log_groups_have_no_retention_to_set() -> None:
    props = {"logGroupClass": "DELIVERY"}
    assert run_resource("log-group-retention", t.LOG_GROUP, props).messages == []


def test_iam_statement_scoped_by_resource_or_denying_passes() -> None:
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"},
            {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
        ]
    }
    outcome = run_resource("iam-no-admin-wildcard", t.IAM_POLICY, {"policy": json.dumps(doc)})
    assert outcome.messages == []


def test_capacity_provider_without_auto_scaling_group_is_not_concerned() -> None:
    props = {"managedInstancesProvider": {"infrastructureRoleArn": "arn"}}
    outcome = run_resource("ecs-capacity-provider-managed-scaling", t.ECS_CAPACITY_PROVIDER, props)
    assert outcome.messages == []


def test_lambda_target_groups_need_no_health_check() -> None:
    outcome = run_resource(
        "lb-target-group-health-check", t.TARGET_GROUPS[0], {"targetType": "lambda"}
    )
    assert outcome.messages == []


def test_http_health_check_without_path_is_reported() -> None:
    tg = {"protocol": "HTTP", "healthCheck": {"enabled": True, "matcher": "200"}}
    outcome = run_resource("lb-target-group-health-check", t.TARGET_GROUPS[0], tg)
    assert "the HTTP health check has no path" in outcome.text


def test_distinct_roles_allow_a_task_without_task_role() -> None:
    props = task(GOOD_CONTAINER, executionRoleArn="arn:role/exec")
    assert run_resource("ecs-task-distinct-roles", t.ECS_TASK_DEFINITION, props).messages == []


ARMED = {"tags": {"Teardown": "armed"}}


@pytest.mark.parametrize(
    ("policy", "type_token", "props"),
    [
        ("lb-deletion-protection", t.LOAD_BALANCERS[0], {"enableDeletionProtection": False}),
        ("rds-deletion-protection", t.RDS_INSTANCE, {**GOOD_RDS, "deletionProtection": False}),
    ],
)
def test_deletion_protection_may_be_off_only_on_a_resource_armed_for_teardown(
    policy: str, type_token: str, props: dict
) -> None:
    refused = run_resource(policy, type_token, props)
    assert "steadystate:teardown.allowDataLoss" in refused.text
    for tags in ({"Teardown": "yes"}, {"teardown": "armed"}):
        assert run_resource(policy, type_token, {**props, "tags": tags}).messages
    armed = run_resource(policy, type_token, {**props, **ARMED})
    assert armed.messages == []
    assert "armed for teardown (Teardown=armed)" in (armed.not_applicable or "")


def test_teardown_armed_reports_armed_resources_and_only_them_and_only_in_prod() -> None:
    for type_token in (t.LOAD_BALANCERS[0], t.LOAD_BALANCERS[1], t.RDS_INSTANCE):
        outcome = run_resource("teardown-armed", type_token, ARMED)
        assert "armed for teardown" in outcome.text
        assert "teardown.allowDataLoss to false" in outcome.text
        assert run_resource("teardown-armed", type_token, {"tags": {"Name": "x"}}).messages == []
        assert run_resource("teardown-armed", type_token, {}).messages == []
    dev = run_resource("teardown-armed", t.RDS_INSTANCE, ARMED, config={"environment": "dev"})
    assert dev.messages == []
