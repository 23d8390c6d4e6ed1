"""WebAcl: an AWS WAF web ACL in front of the stack's internet-facing load balancers.

Regional scope (it protects Application Load Balancers); default action allow; AWS managed rule
groups in their own block actions; CloudWatch metrics and sampled requests for the ACL and each
rule; every request logged to a CloudWatch Logs log group with a retention.

Sources:
- Rule groups: AWS WAF developer guide, "AWS Managed Rules rule groups list" → "Baseline rule
  groups" (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html):
  the core rule set ``AWSManagedRulesCommonRuleSet`` (OWASP Top 10 kinds of exploit, bad bots,
  oversized requests) and ``AWSManagedRulesKnownBadInputsRuleSet`` (Log4j/Java deserialization
  exploits, ``Host: localhost``, exploitable paths).
- What the core rule set does to this app: the app serves only GET and HEAD on /api, /health,
  /version and /ready (app/steadystate_app/asgi.py, routes.py) and never reads a body, cookie or
  query string, so ``SizeRestrictions_BODY`` (body over 8 KB), ``SizeRestrictions_QUERYSTRING``
  (over 2,048 bytes), ``SizeRestrictions_Cookie_HEADER`` and the body-inspecting XSS/SQL/LFI rules
  block nothing it would answer with anything but 405/404. ``NoUserAgent_HEADER`` blocks requests
  without a User-Agent: a load test through the ALB must send one (``wrk`` sends none by default;
  ``hey`` and Python's urllib do). Target-group health checks go from the ALB to the targets and
  are not inspected by WAF. Route 53's HTTPS health checks of the environments do pass through it:
  its checkers send ``User-Agent: Amazon-Route53-Health-Check-Service (ref ...)``. The Route 53
  guide does not document that header; access logs and third-party docs (Istio's access-log
  filters, Adobe's traffic classes) show it, so the first real deploy should confirm the checks
  stay healthy behind the web ACL.
- Logging: the WAFV2 API reference, ``LoggingConfiguration``
  (https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html): "The name
  that you give the destination must start with ``aws-waf-logs-``", and on a successful
  PutLoggingConfiguration "For an Amazon CloudWatch Logs log group, AWS WAF creates a resource
  policy on the log group" — the program creates no log resource policy for it (the deploying
  identity needs ``logs:CreateLogDelivery``, ``logs:PutResourcePolicy`` and
  ``logs:DescribeResourcePolicies`` for WAF to write it). The destination is the log group's
  ARN without the ``:*`` suffix, which is what ``LogGroup.arn`` holds (pulumi_aws
  cloudwatch/log_group.py, ``arn``: "Any ``:*`` suffix added by the API ... is removed for greater
  compatibility with other AWS services that do not accept the suffix").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: AWS managed rule groups every web ACL of the stack runs (vendor AWS), in evaluation order.
MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
#: The prefix WAF requires of a logging destination's name (WAFV2 API, LoggingConfiguration).
LOG_GROUP_PREFIX = "aws-waf-logs-"


@dataclass(frozen=True)
class WebAclArgs:
    log_retention_days: int
    """Days the WAF log group keeps request logs."""
    managed_rule_groups: Sequence[str] = MANAGED_RULE_GROUPS
    """AWS managed rule groups (vendor AWS) in priority order, each with its own actions."""


def managed_rule(name: str, priority: int) -> aws.wafv2.WebAclRuleArgs:
    """A rule that runs the AWS managed rule group ``name`` with its rules' own actions (override
    action none: a ``count`` override would only count what the group blocks)."""
    return aws.wafv2.WebAclRuleArgs(
        name=name,
        priority=priority,
        override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
            none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
        ),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                name=name, vendor_name="AWS"
            )
        ),
        visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
    )


class WebAcl(pulumi.ComponentResource):
    """A regional web ACL (default allow, AWS managed rule groups blocking, metrics on) that logs
    every request to an ``aws-waf-logs-`` log group with retention. Load balancers associate
    themselves with ``arn`` (components.load_balancer)."""

    arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:web_acl:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.managed_rule_groups:
            raise ValueError("managed_rule_groups: name at least one AWS managed rule group")
        metric = f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            aws.wafv2.WebAclArgs(
                scope="REGIONAL",
                description=f"{metric}: AWS managed rules in front of the public load balancers",
                default_action=aws.wafv2.WebAclDefaultActionArgs(
                    allow=aws.wafv2.WebAclDefaultActionAllowArgs()
                ),
                rules=[
                    managed_rule(group, priority)
                    for priority, group in enumerate(args.managed_rule_groups)
                ],
                visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=metric,
                    sampled_requests_enabled=True,
                ),
            ),
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"{LOG_GROUP_PREFIX}{metric}", retention_in_days=args.log_retention_days
            ),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            aws.wafv2.WebAclLoggingConfigurationArgs(
                resource_arn=acl.arn, log_destination_configs=[log_group.arn]
            ),
            opts=child,
        )
        self.arn = acl.arn
        self.log_group_name = log_group.name
        self.register_outputs({"arn": self.arn, "log_group_name": self.log_group_name})
