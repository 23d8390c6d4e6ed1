"""AWS WAF guardrails: internet-facing ALBs behind a web ACL (prod), web ACLs that log every
request to an ``aws-waf-logs-`` destination, and web ACLs that run AWS's managed rule groups.

Sources: FSBP ELB.16 / Checkov CKV2_AWS_28 (public ALBs protected by WAF); FSBP WAF.11 /
CKV2_AWS_31 (web ACL logging); FSBP WAF.10 and WAF.12 (a web ACL has rules; rules publish
CloudWatch metrics); the WAFV2 API reference, ``LoggingConfiguration``: "The name that you give
the destination must start with ``aws-waf-logs-``".
"""

from __future__ import annotations

import json
from typing import Any

from .aws_types import LOAD_BALANCERS, LOG_GROUP, WAF_ASSOCIATION, WAF_LOGGING, WAF_WEB_ACL
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import Unknown, find_unknown, is_unknown

WAF_LOG_PREFIX = "aws-waf-logs-"
REQUIRED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _internet_facing_alb(lb: StackResource) -> bool | None:
    """True for an internet-facing Application Load Balancer; None while unknown."""
    internal, kind = lb.get("internal"), lb.get("loadBalancerType")
    if is_unknown(internal) or is_unknown(kind):
        return None
    return internal is not True and (kind or "application") == "application"


@stack_rule(
    "lb-internet-facing-waf",
    level=MANDATORY,
    prod_only=True,
    description=(
        "Every internet-facing Application Load Balancer has an aws:wafv2/webAclAssociation "
        "whose resourceArn is its ARN (FSBP ELB.16, CKV2_AWS_28). Prod only: dev may run without "
        "a web ACL (loadBalancer.waf). Mandatory in prod: without it every request reaches the "
        "service uninspected by AWS's managed rules."
    ),
)
def lb_internet_facing_waf(check: StackCheck) -> None:
    associations = check.of_type(WAF_ASSOCIATION)
    for lb in check.of_type(LOAD_BALANCERS):
        facing = _internet_facing_alb(lb)
        if facing is None:
            check.note(f"whether {lb.label()} is an internet-facing ALB is unknown during preview")
            continue
        if not facing:
            continue
        links = [check.refers_to(a, "resourceArn", lb, "arn", "id") for a in associations]
        if True in links:
            continue
        if None in links:
            check.note(
                f"whether a web ACL association names {lb.label()} is unknown during preview"
            )
            continue
        check.violation(
            lb,
            "the internet-facing load balancer is not associated with an AWS WAF web ACL",
            "add an aws:wafv2/webAclAssociation with resourceArn set to this load balancer's arn "
            "and webAclArn set to a REGIONAL web ACL (components.web_acl.WebAcl; "
            "steadystate:loadBalancer.waf true)",
        )


def _destination_name(arn: str) -> str:
    """The name part of a log group, bucket or Firehose stream ARN."""
    if ":log-group:" in arn:
        return arn.split(":log-group:", 1)[1].split(":", 1)[0]
    if arn.startswith("arn:aws") and ":s3:::" in arn:
        return arn.split(":::", 1)[1].split("/", 1)[0]
    return arn.rsplit("/", 1)[-1]


def _destination_problem(check: StackCheck, logging: StackResource, destination: Any) -> str | None:
    """Why a logging destination is not an ``aws-waf-logs-`` one; None when it is (or unknown,
    after a note)."""
    if isinstance(destination, str):
        name = _destination_name(destination)
        if name.startswith(WAF_LOG_PREFIX):
            return None
        return f"destination {name!r} does not start with {WAF_LOG_PREFIX}"
    groups = [check.by_urn[urn] for urn in logging.depends_on("logDestinationConfigs")]
    groups = [g for g in groups if g.type == LOG_GROUP]
    if not groups:
        check.note(f"the destination of {logging.label()} is unknown during preview")
        return None
    for group in groups:
        name, prefix = group.get("name"), group.get("namePrefix")
        given = name if isinstance(name, str) else prefix if isinstance(prefix, str) else None
        if given is None:
            check.note(f"the name of {group.label()} is unknown during preview")
        elif not given.startswith(WAF_LOG_PREFIX):
            return f"log group {given!r} does not start with {WAF_LOG_PREFIX}"
    return None


@stack_rule(
    "waf-web-acl-logging",
    level=MANDATORY,
    description=(
        "Every aws:wafv2/webAcl has an aws:wafv2/webAclLoggingConfiguration whose resourceArn is "
        "its ARN and whose destinations are named aws-waf-logs-… as WAF requires (FSBP WAF.11, "
        "CKV2_AWS_31). Mandatory: a web ACL without logs blocks requests nobody can later "
        "explain, and WAF refuses a destination with another name at deploy time."
    ),
)
def waf_web_acl_logging(check: StackCheck) -> None:
    configs = check.of_type(WAF_LOGGING)
    for acl in check.of_type(WAF_WEB_ACL):
        links = [(c, check.refers_to(c, "resourceArn", acl, "arn", "id")) for c in configs]
        mine = [c for c, link in links if link]
        if not mine:
            if any(link is None for _, link in links):
                check.note(f"whether a logging configuration names {acl.label()} is unknown")
                continue
            check.violation(
                acl,
                "the web ACL logs no requests",
                "add an aws:wafv2/webAclLoggingConfiguration with resourceArn set to this web "
                "ACL's arn and logDestinationConfigs [the arn of a log group named "
                "aws-waf-logs-<name> with a retention] (components.web_acl does both)",
            )
            continue
        for config in mine:
            destinations = config.get("logDestinationConfigs")
            items = destinations if isinstance(destinations, list) else [destinations]
            for destination in items:
                if problem := _destination_problem(check, config, destination):
                    check.violation(
                        config,
                        problem + " (WAF refuses it)",
                        f"name the log group (bucket, Firehose stream) {WAF_LOG_PREFIX}<name>",
                    )


def _rules(check: ResourceCheck) -> list[dict[str, Any]]:
    """The web ACL's rules as ``{name, group, vendor, count, metrics}``, from ``rules`` or the
    API-shaped ``ruleJson``."""
    rule_json = check.get("ruleJson")
    if isinstance(rule_json, str) and rule_json:
        parsed = json.loads(rule_json)
        return [
            {
                "name": rule.get("Name"),
                "group": rule.get("Statement", {}).get("ManagedRuleGroupStatement", {}).get("Name"),
                "vendor": rule.get("Statement", {})
                .get("ManagedRuleGroupStatement", {})
                .get("VendorName"),
                "count": "Count" in (rule.get("OverrideAction") or {}),
                "metrics": rule.get("VisibilityConfig", {}).get("CloudWatchMetricsEnabled"),
            }
            for rule in parsed
        ]
    rules = check.known("rules") or []
    return [
        {
            "name": rule.get("name"),
            "group": (rule.get("statement") or {}).get("managedRuleGroupStatement", {}).get("name"),
            "vendor": (rule.get("statement") or {})
            .get("managedRuleGroupStatement", {})
            .get("vendorName"),
            "count": (rule.get("overrideAction") or {}).get("count") is not None,
            "metrics": (rule.get("visibilityConfig") or {}).get("cloudwatchMetricsEnabled"),
        }
        for rule in rules
    ]


@resource_rule(
    "waf-web-acl-managed-rules",
    types=WAF_WEB_ACL,
    level=MANDATORY,
    config={
        "requiredManagedRuleGroups": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(REQUIRED_RULE_GROUPS),
            "description": "AWS managed rule groups (vendor AWS) every web ACL must run.",
        }
    },
    description=(
        "Every web ACL runs the AWS managed rule groups named in config (default the core rule "
        "set and known bad inputs, CKV_AWS_192) with their own actions (no count override), and "
        "the ACL and every rule publish CloudWatch metrics (FSBP WAF.10, WAF.12). Mandatory: a "
        "web ACL without them, or counting instead of blocking, inspects and stops nothing."
    ),
)
def waf_web_acl_managed_rules(check: ResourceCheck) -> None:
    try:
        rules = _rules(check)
    except (ValueError, AttributeError) as error:
        check.violation(f"ruleJson is not a JSON list of rules ({error})", "fix ruleJson")
        return
    by_group = {r["group"]: r for r in rules if r["vendor"] == "AWS" and r["group"]}
    for group in check.config["requiredManagedRuleGroups"]:
        rule = by_group.get(group)
        if rule is None:
            check.violation(
                f"the web ACL does not run the AWS managed rule group {group}",
                f"add a rule with statement.managedRuleGroupStatement {{name: {group}, "
                "vendorName: AWS} and overrideAction {none: {}}",
            )
        elif rule["count"]:
            check.violation(
                f"rule {rule['name']!r} overrides {group} to count: it blocks nothing",
                "set overrideAction to {none: {}}",
            )
    for rule in rules:
        if rule["metrics"] is not True and not isinstance(rule["metrics"], Unknown):
            check.violation(
                f"rule {rule['name']!r} publishes no CloudWatch metrics",
                "set visibilityConfig.cloudwatchMetricsEnabled true",
            )
    acl_metrics = check.get("visibilityConfig.cloudwatchMetricsEnabled")
    if find_unknown(acl_metrics) is None and acl_metrics is not True:
        check.violation(
            "the web ACL publishes no CloudWatch metrics",
            "set visibilityConfig.cloudwatchMetricsEnabled true",
        )


POLICIES = [lb_internet_facing_waf, waf_web_acl_logging, waf_web_acl_managed_rules]
