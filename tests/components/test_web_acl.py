"""WebAcl and the load balancer's association with it, under the SDK mock runtime.

What carries the guarantee: a REGIONAL web ACL (it protects ALBs) that allows by default and runs
AWS's core rule set and known-bad-inputs groups with their own actions (override none: a count
override would block nothing), metrics on the ACL and each rule, and logging to a log group whose
name starts with ``aws-waf-logs-`` (the WAFV2 API reference, LoggingConfiguration: "The name that
you give the destination must start with aws-waf-logs-") with a retention.
"""

from __future__ import annotations

import pytest

from components.load_balancer import PublicLoadBalancer, PublicLoadBalancerArgs, WeightedTarget
from components.web_acl import MANAGED_RULE_GROUPS, WebAcl, WebAclArgs

ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALB = "aws:lb/loadBalancer:LoadBalancer"
ACL_ARN = "arn:aws:wafv2:us-east-2:123456789012:regional/webacl/waf/1234"


@pytest.fixture
def rec(mocked):
    return mocked(lambda: WebAcl("waf", WebAclArgs(log_retention_days=90)), stack="prod")


def only(rec, type_token: str):
    (record,) = rec.of_type(type_token)
    return record


def test_the_acl_is_regional_allows_by_default_and_publishes_metrics(rec) -> None:
    acl = only(rec, ACL).inputs
    assert acl["scope"] == "REGIONAL"
    assert acl["defaultAction"] == {"allow": {}}
    assert acl["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    assert acl["visibilityConfig"]["sampledRequestsEnabled"] is True


def test_the_managed_groups_run_in_order_with_their_own_actions(rec) -> None:
    rules = only(rec, ACL).inputs["rules"]
    assert [r["statement"]["managedRuleGroupStatement"] for r in rules] == [
        {"name": "AWSManagedRulesCommonRuleSet", "vendorName": "AWS"},
        {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendorName": "AWS"},
    ]
    assert [r["priority"] for r in rules] == [0, 1]
    for rule in rules:
        assert rule["overrideAction"] == {"none": {}}
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True


def test_every_request_is_logged_to_an_aws_waf_logs_group_with_retention(rec) -> None:
    group, logging, acl = only(rec, LOG_GROUP), only(rec, LOGGING), only(rec, ACL)
    assert group.inputs["name"] == "aws-waf-logs-steadystate-prod-waf"
    assert group.inputs["retentionInDays"] == 90
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert "logFilter" not in logging.inputs and "loggingFilter" not in logging.inputs


def test_children_are_parented(rec) -> None:
    (component,) = rec.of_type("steadystate:web_acl:WebAcl")
    children = {r.type for r in rec.children_of(component)}
    assert children == {ACL, LOG_GROUP, LOGGING}
    assert len(rec.records) == 4


def test_an_acl_without_rule_groups_is_refused(mocked) -> None:
    with pytest.raises(ValueError, match="managed_rule_groups"):
        mocked(lambda: WebAcl("waf", WebAclArgs(log_retention_days=90, managed_rule_groups=())))


def test_the_default_groups_are_the_two_the_issue_asks_for() -> None:
    assert MANAGED_RULE_GROUPS == (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    )


def balancer(web_acl_arn: str | None) -> PublicLoadBalancer:
    return PublicLoadBalancer(
        "blue",
        PublicLoadBalancerArgs(
            vpc_id="vpc-1",
            public_subnet_ids=["subnet-a", "subnet-b"],
            targets=[WeightedTarget("arn:aws:elasticloadbalancing:tg/fleet", 1)],
            host_security_group_id="sg-hosts",
            access_logs=False,
            web_acl_arn=web_acl_arn,
        ),
    )


def test_the_load_balancer_associates_itself_with_the_web_acl(mocked) -> None:
    rec = mocked(lambda: balancer(ACL_ARN))
    association, alb = only(rec, ASSOCIATION), only(rec, ALB)
    assert association.inputs == {"resourceArn": alb.outputs["arn"], "webAclArn": ACL_ARN}
    (component,) = rec.of_type("steadystate:load_balancer:PublicLoadBalancer")
    assert association.parent == component.urn


def test_without_a_web_acl_there_is_no_association(mocked) -> None:
    assert mocked(lambda: balancer(None)).of_type(ASSOCIATION) == []
