"""DNS query logging for a public hosted zone the stack creates (FSBP Route53.2).

What Route 53 requires (CreateQueryLoggingConfig):

* the log group is in **us-east-1**, in the zone's account, whatever region the stack runs in;
  AWS recommends naming it ``/aws/route53/<zone name>``;
* a CloudWatch Logs resource policy, also in us-east-1, lets ``route53.amazonaws.com`` call
  ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on it, and exists before the query logging
  configuration is created (Route 53 checks it then, hence the explicit ``depends_on``);
* against the confused deputy, the policy admits Route 53 only on behalf of this zone
  (``aws:SourceArn`` = the zone's ARN) and this account (``aws:SourceAccount``).

The log group and the policy are put in us-east-1 with pulumi-aws 7's per-resource ``region``
argument, so they go through the stack's own provider: its credentials, profile and
``aws:defaultTags`` apply unchanged (an explicit provider would need each of those copied).
The log group is encrypted at rest with CloudWatch Logs' service key, as every log group of the
stack is (docs/reference/controls.md: "CloudWatch (KMS)"), and keeps its logs for a set retention.

An account holds at most 10 CloudWatch Logs resource policies per region; each zone created with
this component uses one, named after the zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import document, statement

QUERY_LOG_REGION = "us-east-1"
"""The only region Route 53 delivers public DNS query logs to."""

LOG_GROUP_PREFIX = "/aws/route53/"
"""Prefix of query log groups (AWS's recommendation; the resource policy covers exactly it)."""

QUERY_LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
"""What Route 53 needs on the log group to deliver query logs."""

ROUTE53_SERVICE = "route53.amazonaws.com"


def query_log_group_name(zone_name: str) -> str:
    """``/aws/route53/<zone name>`` (without the trailing dot)."""
    return f"{LOG_GROUP_PREFIX}{zone_name.rstrip('.')}"


def resource_policy_name(zone_name: str) -> str:
    """Account-wide name of the zone's CloudWatch Logs resource policy in us-east-1."""
    return f"route53-query-logging-{zone_name.rstrip('.')}"


def query_logging_statement(
    partition: pulumi.Input[str], account_id: pulumi.Input[str], zone_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """The resource-policy statement letting Route 53 write this zone's query logs to
    ``/aws/route53/*`` log groups in us-east-1 of ``account_id``."""
    log_groups = pulumi.Output.concat(
        "arn:",
        partition,
        f":logs:{QUERY_LOG_REGION}:",
        account_id,
        f":log-group:{LOG_GROUP_PREFIX}*",
    )
    return statement(
        list(QUERY_LOG_ACTIONS),
        [log_groups],
        sid="Route53QueryLogs",
        principals={"Service": ROUTE53_SERVICE},
        conditions={
            "ArnLike": {"aws:SourceArn": zone_arn},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    )


@dataclass(frozen=True)
class DnsQueryLogging:
    """The resources that make Route 53 log a zone's DNS queries."""

    log_group: aws.cloudwatch.LogGroup
    resource_policy: aws.cloudwatch.LogResourcePolicy
    query_log: aws.route53.QueryLog


def create_query_logging(
    parent: pulumi.Resource,
    name: str,
    *,
    zone: aws.route53.Zone,
    zone_name: str,
    retention_days: int,
    tags: Mapping[str, str],
) -> DnsQueryLogging:
    """Log group, resource policy (both in us-east-1) and query logging config for ``zone``,
    all children of ``parent``."""
    child = pulumi.ResourceOptions(parent=parent)
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    partition = aws.get_partition_output(opts=invoke).partition
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-query-logs",
        aws.cloudwatch.LogGroupArgs(
            name=query_log_group_name(zone_name),
            retention_in_days=retention_days,
            region=QUERY_LOG_REGION,
            tags=dict(tags),
        ),
        opts=child,
    )
    resource_policy = aws.cloudwatch.LogResourcePolicy(
        f"{name}-query-logging",
        aws.cloudwatch.LogResourcePolicyArgs(
            policy_name=resource_policy_name(zone_name),
            policy_document=document(query_logging_statement(partition, account, zone.arn)),
            region=QUERY_LOG_REGION,
        ),
        opts=child,
    )
    query_log = aws.route53.QueryLog(
        f"{name}-query-log",
        aws.route53.QueryLogArgs(zone_id=zone.zone_id, cloudwatch_log_group_arn=log_group.arn),
        # Route 53 checks the resource policy when the configuration is created.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[resource_policy]),
    )
    return DnsQueryLogging(log_group, resource_policy, query_log)
