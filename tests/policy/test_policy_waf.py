"""The AWS WAF policies: lb-internet-facing-waf (FSBP ELB.16, CKV2_AWS_28), waf-web-acl-logging
(FSBP WAF.11, CKV2_AWS_31) and waf-web-acl-managed-rules (FSBP WAF.10/12), each way, at each
exemption (internal and network load balancers, dev) and with preview-time unknowns; and the real
components (WebAcl, PublicLoadBalancer) judged as deployed and as a first preview shows them.

The ``aws-waf-logs-`` prefix is WAF's own rule (WAFV2 API reference, LoggingConfiguration)."""

from __future__ import annotations

import json

import pytest
from policy_harness import UNKNOWN_BOOL, UNKNOWN_STRING, Res, run_resource, run_stack
from test_policy_stack_preview import preview_resources
from test_policy_stack_rules import assert_clean, assert_reported

from components.load_balancer import PublicLoadBalancer, PublicLoadBalancerArgs, WeightedTarget
from components.web_acl import WebAcl, WebAclArgs
from policy.guardrails import aws_types as t

LB_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/blue/1"
ACL_ARN = "arn:aws:wafv2:us-east-2:123456789012:regional/webacl/waf/1234"
GROUP_ARN = "arn:aws:logs:us-east-2:123456789012:log-group:aws-waf-logs-steadystate-prod-waf"
PROD = {"environment": "prod"}


def alb(**props) -> Res:
    return Res(
        t.LOAD_BALANCERS[0],
        "blue-alb",
        {"arn": LB_ARN, "internal": False, "loadBalancerType": "application", **props},
    )


def association(resource_arn=LB_ARN, **deps: list[str]) -> Res:
    return Res(
        t.WAF_ASSOCIATION, "blue-waf", {"resourceArn": resource_arn, "webAclArn": ACL_ARN}, deps
    )


# lb-internet-facing-waf -----------------------------------------------------------------------


def test_a_public_alb_without_an_association_is_reported_in_prod() -> None:
    lb = alb()
    outcome = run_stack("lb-internet-facing-waf", [lb], config=PROD)
    assert_reported(outcome, lb, "not associated with an AWS WAF web ACL", "webAclAssociation")


def test_an_association_with_another_load_balancer_does_not_count() -> None:
    lb = alb()
    other = association(LB_ARN.replace("blue/1", "green/2"))
    assert_reported(run_stack("lb-internet-facing-waf", [lb, other], config=PROD), lb)


def test_a_public_alb_with_its_association_passes() -> None:
    assert_clean(run_stack("lb-internet-facing-waf", [alb(), association()], config=PROD))


@pytest.mark.parametrize(
    "props",
    [{"internal": True}, {"loadBalancerType": "network"}],
    ids=["internal", "network"],
)
def test_internal_and_network_load_balancers_are_exempt(props) -> None:
    assert_clean(run_stack("lb-internet-facing-waf", [alb(**props)], config=PROD))


def test_an_alb_without_the_type_set_is_an_application_load_balancer() -> None:
    lb = alb(loadBalancerType=None)
    assert_reported(run_stack("lb-internet-facing-waf", [lb], config=PROD), lb)


def test_dev_is_not_judged() -> None:
    outcome = run_stack("lb-internet-facing-waf", [alb()], config={"environment": "dev"})
    assert outcome.violations == []
    assert outcome.not_applicable and "prod-only" in outcome.not_applicable


def test_preview_link_through_the_property_dependency_passes() -> None:
    lb = alb(arn=UNKNOWN_STRING)
    linked = association(UNKNOWN_STRING, resourceArn=["blue-alb"])
    assert_clean(run_stack("lb-internet-facing-waf", [lb, linked], config=PROD))


def test_association_preview_unknowns_are_explained_not_reported() -> None:
    outcome = run_stack(
        "lb-internet-facing-waf",
        [alb(arn=UNKNOWN_STRING), association(UNKNOWN_STRING)],
        config=PROD,
    )
    assert outcome.violations == [] and "unknown during preview" in (outcome.not_applicable or "")
    outcome = run_stack("lb-internet-facing-waf", [alb(internal=UNKNOWN_BOOL)], config=PROD)
    assert outcome.violations == [] and "internet-facing" in (outcome.not_applicable or "")


# waf-web-acl-logging --------------------------------------------------------------------------

ACL = Res(t.WAF_WEB_ACL, "waf-acl", {"arn": ACL_ARN, "id": "1234"})


def logging(destination=GROUP_ARN, resource_arn=ACL_ARN, **deps: list[str]) -> Res:
    return Res(
        t.WAF_LOGGING,
        "waf-logging",
        {"resourceArn": resource_arn, "logDestinationConfigs": [destination]},
        deps,
    )


def test_a_web_acl_without_logging_is_reported() -> None:
    outcome = run_stack("waf-web-acl-logging", [ACL])
    assert_reported(outcome, ACL, "logs no requests", "aws-waf-logs-")


def test_logging_for_another_acl_does_not_count() -> None:
    other = logging(resource_arn=ACL_ARN.replace("1234", "9999"))
    assert_reported(run_stack("waf-web-acl-logging", [ACL, other]), ACL)


def test_logging_to_an_aws_waf_logs_group_passes() -> None:
    assert_clean(run_stack("waf-web-acl-logging", [ACL, logging()]))


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:logs:us-east-2:123456789012:log-group:waf-logs",
        "arn:aws:s3:::my-waf-logs",
        "arn:aws:firehose:us-east-2:123456789012:deliverystream/waf",
    ],
    ids=["log-group", "bucket", "firehose"],
)
def test_a_destination_without_the_prefix_is_reported(destination: str) -> None:
    config = logging(destination)
    outcome = run_stack("waf-web-acl-logging", [ACL, config])
    assert_reported(outcome, config, "does not start with aws-waf-logs-", "WAF refuses it")


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:s3:::aws-waf-logs-bucket",
        "arn:aws:firehose:us-east-2:123456789012:deliverystream/aws-waf-logs-stream",
    ],
    ids=["bucket", "firehose"],
)
def test_other_destination_kinds_with_the_prefix_pass(destination: str) -> None:
    assert_clean(run_stack("waf-web-acl-logging", [ACL, logging(destination)]))


def test_at_preview_the_log_group_s_name_is_judged() -> None:
    acl = Res(t.WAF_WEB_ACL, "waf-acl", {"arn": UNKNOWN_STRING})
    good = Res(t.LOG_GROUP, "waf-logs", {"name": "aws-waf-logs-x", "arn": UNKNOWN_STRING})
    bad = Res(t.LOG_GROUP, "waf-logs", {"name": "waf-x", "arn": UNKNOWN_STRING})
    config = logging(
        UNKNOWN_STRING, UNKNOWN_STRING, resourceArn=["waf-acl"], logDestinationConfigs=["waf-logs"]
    )
    assert_clean(run_stack("waf-web-acl-logging", [acl, good, config]))
    assert_reported(run_stack("waf-web-acl-logging", [acl, bad, config]), config, "'waf-x'")


def test_logging_preview_unknowns_are_explained_not_reported() -> None:
    acl = Res(t.WAF_WEB_ACL, "waf-acl", {"arn": UNKNOWN_STRING})
    outcome = run_stack("waf-web-acl-logging", [acl, logging(UNKNOWN_STRING, UNKNOWN_STRING)])
    assert outcome.violations == [] and outcome.not_applicable


# waf-web-acl-managed-rules --------------------------------------------------------------------


def managed(group: str, priority: int, **change) -> dict:
    return {
        "name": group,
        "priority": priority,
        "overrideAction": {"none": {}},
        "statement": {"managedRuleGroupStatement": {"name": group, "vendorName": "AWS"}},
        "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": group},
        **change,
    }


def acl_props(rules: list[dict], metrics: object = True) -> dict:
    return {
        "scope": "REGIONAL",
        "defaultAction": {"allow": {}},
        "rules": rules,
        "visibilityConfig": {"cloudwatchMetricsEnabled": metrics, "metricName": "acl"},
    }


GOOD_RULES = [
    managed("AWSManagedRulesCommonRuleSet", 0),
    managed("AWSManagedRulesKnownBadInputsRuleSet", 1),
]


def test_both_managed_groups_blocking_with_metrics_pass() -> None:
    assert_clean(run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl_props(GOOD_RULES)))


def test_a_missing_group_is_reported() -> None:
    outcome = run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl_props(GOOD_RULES[:1]))
    assert outcome.messages == [
        'aws:wafv2/webAcl "subject": the web ACL does not run the AWS managed rule group '
        "AWSManagedRulesKnownBadInputsRuleSet. Fix: add a rule with "
        "statement.managedRuleGroupStatement {name: AWSManagedRulesKnownBadInputsRuleSet, "
        "vendorName: AWS} and overrideAction {none: {}}."
    ]


def test_a_group_of_another_vendor_does_not_count() -> None:
    rules = [GOOD_RULES[0], managed("AWSManagedRulesKnownBadInputsRuleSet", 1)]
    rules[1]["statement"]["managedRuleGroupStatement"]["vendorName"] = "Marketplace"
    outcome = run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl_props(rules))
    assert "KnownBadInputs" in outcome.text


def test_a_count_override_is_reported() -> None:
    rules = [GOOD_RULES[0] | {"overrideAction": {"count": {}}}, GOOD_RULES[1]]
    outcome = run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl_props(rules))
    assert "overrides AWSManagedRulesCommonRuleSet to count" in outcome.text


def test_metrics_off_on_a_rule_or_the_acl_are_reported() -> None:
    rules = [GOOD_RULES[0] | {"visibilityConfig": {"cloudwatchMetricsEnabled": False}}]
    rules.append(GOOD_RULES[1])
    outcome = run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl_props(rules, False))
    assert len(outcome.violations) == 2
    assert "rule 'AWSManagedRulesCommonRuleSet' publishes no CloudWatch metrics" in outcome.text
    assert "the web ACL publishes no CloudWatch metrics" in outcome.text


def test_the_required_groups_come_from_config() -> None:
    outcome = run_resource(
        "waf-web-acl-managed-rules",
        t.WAF_WEB_ACL,
        acl_props(GOOD_RULES[:1]),
        config={"requiredManagedRuleGroups": ["AWSManagedRulesCommonRuleSet"]},
    )
    assert_clean(outcome)


def test_rules_in_api_shaped_rule_json_are_judged() -> None:
    api_rules = [
        {
            "Name": "crs",
            "Priority": 0,
            "OverrideAction": {"Count": {}},
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "Name": "AWSManagedRulesCommonRuleSet",
                    "VendorName": "AWS",
                }
            },
            "VisibilityConfig": {"CloudWatchMetricsEnabled": True},
        }
    ]
    props = acl_props([]) | {"ruleJson": json.dumps(api_rules)}
    props.pop("rules")
    outcome = run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, props)
    assert "overrides AWSManagedRulesCommonRuleSet to count" in outcome.text
    assert "AWSManagedRulesKnownBadInputsRuleSet" in outcome.text


# the components -------------------------------------------------------------------------------


def protected_program() -> None:
    acl = WebAcl("waf", WebAclArgs(log_retention_days=90))
    PublicLoadBalancer(
        "blue",
        PublicLoadBalancerArgs(
            vpc_id="vpc-1",
            public_subnet_ids=["subnet-a", "subnet-b"],
            targets=[WeightedTarget("arn:aws:elasticloadbalancing:tg/fleet", 1)],
            host_security_group_id="sg-hosts",
            access_logs=False,
            web_acl_arn=acl.arn,
        ),
    )


@pytest.mark.parametrize("unknown", [False, True], ids=["deployed", "first-preview"])
def test_the_components_pass_every_waf_policy(mocked, unknown: bool) -> None:
    resources = preview_resources(mocked(protected_program, stack="prod"), unknown=unknown)
    for policy in ("lb-internet-facing-waf", "waf-web-acl-logging"):
        assert_clean(run_stack(policy, resources, config=PROD))
    (acl,) = [r for r in resources if r.type == t.WAF_WEB_ACL]
    assert_clean(run_resource("waf-web-acl-managed-rules", t.WAF_WEB_ACL, acl.props))


def test_the_component_s_alb_without_its_association_is_reported(mocked) -> None:
    resources = [
        r
        for r in preview_resources(mocked(protected_program), unknown=False)
        if r.type != t.WAF_ASSOCIATION
    ]
    (lb,) = [r for r in resources if r.type in t.LOAD_BALANCERS]
    assert_reported(run_stack("lb-internet-facing-waf", resources, config=PROD), lb)
