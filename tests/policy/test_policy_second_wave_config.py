"""Second-wave thresholds: schema defaults are the shared limits, cross-property config checks
reject impossible budgets, and the pure timing check reads as the messages quote it."""

from __future__ import annotations

import pytest
from policy_harness import run_resource

from policy.guardrails import aws_types as t
from policy.guardrails import limits
from policy.guardrails.config_file import PolicyConfigError, parse_config
from policy.guardrails.registry import all_policies, config_schemas

POLICIES = all_policies()


def _default(policy: str, key: str) -> object:
    return config_schemas()[policy]["properties"][key]["default"]


def test_threshold_defaults_are_the_limits_defaults() -> None:
    dns = "dns-health-check-detection-within-target"
    assert _default(dns, "failoverTargetSeconds") == limits.FAILOVER_TARGET_SECONDS == 90
    assert _default(dns, "ttlSeconds") == limits.FAILOVER_TTL_SECONDS == 60
    assert (
        _default("connectivity-alarm-detection-within-target", "detectionCeilingSeconds")
        == limits.CONNECTIVITY_DETECTION_CEILING_SECONDS
    )
    assert (
        _default("autoscaling-scale-out-cooldown", "scaleOutCooldownCeilingSeconds")
        == limits.SCALE_OUT_COOLDOWN_CEILING_SECONDS
    )
    assert (
        _default("ecs-service-prod-minimum-healthy-percent", "minimumHealthyPercent")
        == limits.PROD_MINIMUM_HEALTHY_PERCENT
    )
    assert _default("security-group-world-ingress-authorized-ports", "authorizedPorts") == [80, 443]
    assert 5432 in _default("security-group-no-world-high-risk-ports", "highRiskPorts")  # type: ignore[operator]


def test_a_ttl_that_eats_the_whole_failover_target_is_rejected() -> None:
    config = {
        "dns-health-check-detection-within-target": {"failoverTargetSeconds": 60, "ttlSeconds": 60}
    }
    with pytest.raises(PolicyConfigError) as raised:
        parse_config(config, POLICIES, "stack.json")
    assert any(
        "ttlSeconds 60 must be below failoverTargetSeconds 60" in p for p in raised.value.problems
    )


def test_detection_seconds_problem() -> None:
    assert limits.detection_seconds_problem(10, 3, 30, "a × b") is None
    assert (
        limits.detection_seconds_problem(30, 3, 30, "a × b")
        == "a × b is 30 × 3 = 90 s, more than the 30 s budget"
    )
    assert "must be numbers" in (limits.detection_seconds_problem("x", 3, 30, "a × b") or "")


def test_configured_budgets_change_the_verdict() -> None:
    check = {"type": "HTTPS", "fqdn": "a", "requestInterval": 10, "failureThreshold": 3}
    policy = "dns-health-check-detection-within-target"
    assert run_resource(policy, t.DNS_HEALTH_CHECK, check).messages == []
    tight = run_resource(policy, t.DNS_HEALTH_CHECK, check, config={"failoverTargetSeconds": 80})
    assert "more than the 20 s budget" in tight.text
    assert "failureThreshold=2 or less" in tight.text


def test_authorized_ports_are_configurable() -> None:
    rule = {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrIpv4": "0.0.0.0/0"}
    policy = "security-group-world-ingress-authorized-ports"
    assert run_resource(policy, t.SG_INGRESS_RULE, rule).messages
    allowed = run_resource(policy, t.SG_INGRESS_RULE, rule, config={"authorizedPorts": [443, 8443]})
    assert allowed.messages == []


def test_high_risk_ports_win_over_authorized_ports() -> None:
    rule = {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "0.0.0.0/0"}
    outcome = run_resource("security-group-no-world-high-risk-ports", t.SG_INGRESS_RULE, rule)
    assert "admits 0.0.0.0/0 to port 5432" in outcome.text
