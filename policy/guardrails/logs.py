"""CloudWatch Logs guardrails: retention."""

from __future__ import annotations

from . import limits
from .aws_types import LOG_GROUP
from .framework import MANDATORY, ResourceCheck, resource_rule


@resource_rule(
    "log-group-retention",
    types=LOG_GROUP,
    level=MANDATORY,
    config={
        "minimumRetentionDays": {
            "type": "integer",
            "enum": list(limits.CLOUDWATCH_RETENTION_DAYS),
            "default": limits.LOG_RETENTION_MINIMUM_DAYS,
            "description": "Shortest retention in days (one of CloudWatch's allowed values).",
        }
    },
    description=(
        "Every log group has a finite retention that CloudWatch accepts and that is at least "
        "the configured minimum (default 30 days) (CKV_AWS_66/338). Mandatory: unset retention "
        "keeps logs, and their cost, forever; too short loses the evidence of an incident."
    ),
)
def log_group_retention(check: ResourceCheck) -> None:
    if check.known("logGroupClass") == "DELIVERY":
        return  # CloudWatch forces 2 days on delivery log groups; there is nothing to set.
    minimum = check.config["minimumRetentionDays"]
    problem = limits.log_retention_problem(check.known("retentionInDays"), minimum)
    if problem:
        check.violation(
            f"retentionInDays {problem}",
            f"set retentionInDays={limits.nearest_allowed_retention(minimum)} (or a longer "
            "allowed value)",
        )


POLICIES = [log_group_retention]
