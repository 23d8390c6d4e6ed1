"""Violating and compliant inputs for waf-web-acl-managed-rules (the stack's WAF web ACL)."""

from __future__ import annotations

from policy_cases import Case, with_

from policy.guardrails import aws_types as t


def _managed(group: str, priority: int) -> dict:
    return {
        "name": group,
        "priority": priority,
        "overrideAction": {"none": {}},
        "statement": {"managedRuleGroupStatement": {"name": group, "vendorName": "AWS"}},
        "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": group},
    }


CRS = _managed("AWSManagedRulesCommonRuleSet", 0)
KBI = _managed("AWSManagedRulesKnownBadInputsRuleSet", 1)
ACL = {
    "scope": "REGIONAL",
    "defaultAction": {"allow": {}},
    "rules": [CRS, KBI],
    "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "acl"},
}

WAF_CASES = [
    Case(
        "waf-web-acl-managed-rules",
        t.WAF_WEB_ACL,
        with_(ACL, rules=[CRS]),
        ACL,
        "managedRuleGroupStatement {name: AWSManagedRulesKnownBadInputsRuleSet",
    ),
    Case(
        "waf-web-acl-managed-rules",
        t.WAF_WEB_ACL,
        with_(ACL, rules=[with_(CRS, overrideAction={"count": {}}), KBI]),
        ACL,
        "set overrideAction to {none: {}}",
    ),
    Case(
        "waf-web-acl-managed-rules",
        t.WAF_WEB_ACL,
        with_(ACL, visibilityConfig={"cloudwatchMetricsEnabled": False, "metricName": "acl"}),
        ACL,
        "set visibilityConfig.cloudwatchMetricsEnabled true",
    ),
]
