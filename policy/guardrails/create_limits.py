"""What AWS rejects at create time, refused before the deploy.

The single-value limits (lengths, ranges, patterns, enums, documented value lists) come from
botocore's service models through the generated table ``api_limits.json`` (built by
``python -m ops.docs.api_limits``; a test keeps it equal to the installed botocore). Each entry
names the API member it comes from. The cross-field rules AWS enforces but no model states are
written out below, each with its source.
"""

from __future__ import annotations

from typing import Any

from .create_time import number, show, table, value_problem
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import find_unknown, get

ALIASES = {
    "aws:alb/targetGroup:TargetGroup": "aws:lb/targetGroup:TargetGroup",
    "aws:alb/loadBalancer:LoadBalancer": "aws:lb/loadBalancer:LoadBalancer",
}
"""pulumi-aws's `aws:alb/*` spelling of the same resources (see `aws_types`)."""


def _values(props: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(concrete path, value) for `path`; ``name[]`` fans out over a list's items."""
    head, sep, rest = path.partition("[].")
    if not sep:
        value = get(props, path)
        return [] if value is None else [(path, value)]
    items = get(props, head)
    if not isinstance(items, list):
        return []
    found = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            found.extend((f"{head}[{index}].{p}", v) for p, v in _values(item, rest))
    return found


def _cross_field_problems(resource_type: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    """(property, problem) for the rules AWS enforces across two properties."""
    problems: list[tuple[str, str]] = []
    if resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm":
        # "M out of N": DatapointsToAlarm is the M of EvaluationPeriods' N, so M <= N.
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html
        # (botocore cloudwatch PutMetricAlarm DatapointsToAlarm: "this value is the M").
        m, n = number(get(props, "datapointsToAlarm")), number(get(props, "evaluationPeriods"))
        if m is not None and n is not None and m > n:
            problems.append(
                (
                    "datapointsToAlarm",
                    f"({show(m)}) must be at most evaluationPeriods ({show(n)}): it is the M of an "
                    "M-out-of-N alarm",
                )
            )
    if ALIASES.get(resource_type, resource_type) == "aws:lb/targetGroup:TargetGroup":
        # CreateTargetGroup answers "ValidationError: Health check interval must be greater than
        # the timeout." (quoted in hashicorp/terraform-provider-aws#48071, aws/aws-cdk#3703).
        timeout = number(get(props, "healthCheck.timeout"))
        interval = number(get(props, "healthCheck.interval"))
        if timeout is not None and interval is not None and timeout >= interval:
            problems.append(
                (
                    "healthCheck.timeout",
                    f"({show(timeout)}) must be less than healthCheck.interval ({show(interval)})",
                )
            )
    return problems


@resource_rule(
    "aws-create-time-limits",
    types=[*sorted({*table(), *ALIASES})],
    level=MANDATORY,
    description=(
        "Every property AWS validates at create time holds a value AWS accepts: lengths, ranges, "
        "patterns and enums from botocore's service models (api_limits.json names the API member "
        "of each), the value lists AWS documents (log retention days, alarm periods 10/20/30 or "
        "a multiple of 60), and cross-field rules (datapointsToAlarm <= evaluationPeriods, a "
        "target group's health check timeout < interval). Mandatory: AWS would refuse the "
        "resource half way through the deploy."
    ),
)
def aws_create_time_limits(check: ResourceCheck) -> None:
    limits = table()[ALIASES.get(check.type, check.type)]
    for path, entry in limits.items():
        for where, value in _values(check.props, path):
            if find_unknown(value) is not None:
                check.note(f"{where} is unknown during preview")
                continue
            if problem := value_problem(entry, value):
                check.violation(
                    f"{where} {problem}; AWS rejects it ({entry['api']})",
                    f"set {where} to a value the API accepts",
                )
    for where, problem in _cross_field_problems(check.type, check.props):
        check.violation(f"{where} {problem}; AWS rejects it", f"change {where}")


POLICIES = [aws_create_time_limits]
