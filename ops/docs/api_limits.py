"""Build `policy/guardrails/api_limits.json`: what AWS rejects at create time, from botocore.

Each entry of :data:`FIELDS` maps a pulumi-aws resource property (camelCase, as the analyzer
receives it) to the API member it becomes (service, operation, member path in the input shape;
the member names are those of the service's API reference). From botocore's service model
(`botocore/data/<service>/<version>/service-2.json`) it takes the member's `min`/`max` (a length
for strings, a count for lists, a value for numbers), `pattern` and `enum`; from the member's
documentation, the limits AWS states only in words: "Valid Values: a | b", "Possible values are:
1, 3, ...", "Valid values are 10, 20, 30, and any multiple of 60", "a maximum of 32 characters,
must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen",
and for load balancer and target group attributes, the range the ``Key`` documentation gives
("idle_timeout.timeout_seconds - ... The valid range is 1-4000 seconds").

The policy pack runs in its own virtualenv without botocore, so it reads the generated file;
tests/policy/test_create_limits.py fails when the file differs from what the installed botocore
gives. Regenerate with ``python -m ops.docs.api_limits``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore
import botocore.session

OUTPUT = Path(__file__).resolve().parents[2] / "policy" / "guardrails" / "api_limits.json"


@dataclass(frozen=True)
class Field:
    """A resource property and the API member its value becomes."""

    resource_type: str
    prop: str
    """Dotted path; ``[]`` after a list property applies to each item (``metricQueries[].id``)."""
    service: str
    operation: str
    member: str
    """Dotted path in the operation's input shape, ``[]`` for list items."""
    documented_by: str = ""
    """Another member of the operation whose documented value list also governs this one."""
    attribute: str = ""
    """For ``Attributes[].Key`` members: the attribute whose documented range applies."""


ALARM, LOG_GROUP = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logGroup:LogGroup"
TARGET_GROUP, LOAD_BALANCER = "aws:lb/targetGroup:TargetGroup", "aws:lb/loadBalancer:LoadBalancer"
HEALTH_CHECK, SCHEDULE = "aws:route53/healthCheck:HealthCheck", "aws:scheduler/schedule:Schedule"

FIELDS: tuple[Field, ...] = (
    Field(ALARM, "name", "cloudwatch", "PutMetricAlarm", "AlarmName"),
    Field(ALARM, "alarmDescription", "cloudwatch", "PutMetricAlarm", "AlarmDescription"),
    Field(ALARM, "period", "cloudwatch", "PutMetricAlarm", "Period"),
    Field(ALARM, "evaluationPeriods", "cloudwatch", "PutMetricAlarm", "EvaluationPeriods"),
    Field(ALARM, "datapointsToAlarm", "cloudwatch", "PutMetricAlarm", "DatapointsToAlarm"),
    Field(ALARM, "treatMissingData", "cloudwatch", "PutMetricAlarm", "TreatMissingData"),
    Field(ALARM, "statistic", "cloudwatch", "PutMetricAlarm", "Statistic"),
    Field(ALARM, "comparisonOperator", "cloudwatch", "PutMetricAlarm", "ComparisonOperator"),
    Field(ALARM, "namespace", "cloudwatch", "PutMetricAlarm", "Namespace"),
    Field(ALARM, "metricName", "cloudwatch", "PutMetricAlarm", "MetricName"),
    Field(ALARM, "unit", "cloudwatch", "PutMetricAlarm", "Unit"),
    Field(ALARM, "alarmActions", "cloudwatch", "PutMetricAlarm", "AlarmActions"),
    Field(ALARM, "okActions", "cloudwatch", "PutMetricAlarm", "OKActions"),
    Field(
        ALARM,
        "insufficientDataActions",
        "cloudwatch",
        "PutMetricAlarm",
        "InsufficientDataActions",
    ),
    Field(ALARM, "metricQueries[].id", "cloudwatch", "PutMetricAlarm", "Metrics[].Id"),
    Field(
        ALARM, "metricQueries[].expression", "cloudwatch", "PutMetricAlarm", "Metrics[].Expression"
    ),
    # PutMetricAlarm's Period: "If you are creating an alarm based on a metric math expression,
    # you specify the period for each metric within the objects in the Metrics array", so its
    # "Valid values are 10, 20, 30, and any multiple of 60" governs those periods too.
    Field(
        ALARM,
        "metricQueries[].period",
        "cloudwatch",
        "PutMetricAlarm",
        "Metrics[].Period",
        documented_by="Period",
    ),
    Field(
        ALARM,
        "metricQueries[].metric.period",
        "cloudwatch",
        "PutMetricAlarm",
        "Metrics[].MetricStat.Period",
        documented_by="Period",
    ),
    Field(
        ALARM,
        "metricQueries[].metric.metricName",
        "cloudwatch",
        "PutMetricAlarm",
        "Metrics[].MetricStat.Metric.MetricName",
    ),
    Field(
        ALARM,
        "metricQueries[].metric.namespace",
        "cloudwatch",
        "PutMetricAlarm",
        "Metrics[].MetricStat.Metric.Namespace",
    ),
    Field(LOG_GROUP, "name", "logs", "CreateLogGroup", "logGroupName"),
    Field(LOG_GROUP, "logGroupClass", "logs", "CreateLogGroup", "logGroupClass"),
    Field(LOG_GROUP, "retentionInDays", "logs", "PutRetentionPolicy", "retentionInDays"),
    Field(TARGET_GROUP, "name", "elbv2", "CreateTargetGroup", "Name"),
    Field(TARGET_GROUP, "port", "elbv2", "CreateTargetGroup", "Port"),
    Field(TARGET_GROUP, "protocol", "elbv2", "CreateTargetGroup", "Protocol"),
    Field(TARGET_GROUP, "targetType", "elbv2", "CreateTargetGroup", "TargetType"),
    Field(
        TARGET_GROUP,
        "healthCheck.interval",
        "elbv2",
        "CreateTargetGroup",
        "HealthCheckIntervalSeconds",
    ),
    Field(
        TARGET_GROUP,
        "healthCheck.timeout",
        "elbv2",
        "CreateTargetGroup",
        "HealthCheckTimeoutSeconds",
    ),
    Field(
        TARGET_GROUP,
        "healthCheck.healthyThreshold",
        "elbv2",
        "CreateTargetGroup",
        "HealthyThresholdCount",
    ),
    Field(
        TARGET_GROUP,
        "healthCheck.unhealthyThreshold",
        "elbv2",
        "CreateTargetGroup",
        "UnhealthyThresholdCount",
    ),
    Field(TARGET_GROUP, "healthCheck.path", "elbv2", "CreateTargetGroup", "HealthCheckPath"),
    Field(LOAD_BALANCER, "name", "elbv2", "CreateLoadBalancer", "Name"),
    Field(
        LOAD_BALANCER,
        "idleTimeout",
        "elbv2",
        "ModifyLoadBalancerAttributes",
        "Attributes[].Key",
        attribute="idle_timeout.timeout_seconds",
    ),
    Field(
        LOAD_BALANCER,
        "clientKeepAlive",
        "elbv2",
        "ModifyLoadBalancerAttributes",
        "Attributes[].Key",
        attribute="client_keep_alive.seconds",
    ),
    Field(
        TARGET_GROUP,
        "deregistrationDelay",
        "elbv2",
        "ModifyTargetGroupAttributes",
        "Attributes[].Key",
        attribute="deregistration_delay.timeout_seconds",
    ),
    Field(
        HEALTH_CHECK,
        "requestInterval",
        "route53",
        "CreateHealthCheck",
        "HealthCheckConfig.RequestInterval",
    ),
    Field(
        HEALTH_CHECK,
        "failureThreshold",
        "route53",
        "CreateHealthCheck",
        "HealthCheckConfig.FailureThreshold",
    ),
    Field(
        HEALTH_CHECK,
        "resourcePath",
        "route53",
        "CreateHealthCheck",
        "HealthCheckConfig.ResourcePath",
    ),
    Field(
        "aws:route53/record:Record",
        "ttl",
        "route53",
        "ChangeResourceRecordSets",
        "ChangeBatch.Changes[].ResourceRecordSet.TTL",
    ),
    Field(SCHEDULE, "name", "scheduler", "CreateSchedule", "Name"),
    Field(SCHEDULE, "description", "scheduler", "CreateSchedule", "Description"),
    Field(SCHEDULE, "scheduleExpression", "scheduler", "CreateSchedule", "ScheduleExpression"),
    Field(
        SCHEDULE,
        "flexibleTimeWindow.maximumWindowInMinutes",
        "scheduler",
        "CreateSchedule",
        "FlexibleTimeWindow.MaximumWindowInMinutes",
    ),
    Field(
        SCHEDULE,
        "target.retryPolicy.maximumRetryAttempts",
        "scheduler",
        "CreateSchedule",
        "Target.RetryPolicy.MaximumRetryAttempts",
    ),
    Field(
        SCHEDULE,
        "target.retryPolicy.maximumEventAgeInSeconds",
        "scheduler",
        "CreateSchedule",
        "Target.RetryPolicy.MaximumEventAgeInSeconds",
    ),
    Field("aws:ecr/repository:Repository", "name", "ecr", "CreateRepository", "repositoryName"),
    Field("aws:iam/role:Role", "name", "iam", "CreateRole", "RoleName"),
    Field("aws:iam/role:Role", "description", "iam", "CreateRole", "Description"),
    Field("aws:iam/role:Role", "maxSessionDuration", "iam", "CreateRole", "MaxSessionDuration"),
    Field("aws:iam/rolePolicy:RolePolicy", "name", "iam", "PutRolePolicy", "PolicyName"),
    Field("aws:lambda/function:Function", "timeout", "lambda", "CreateFunction", "Timeout"),
    Field("aws:lambda/function:Function", "memorySize", "lambda", "CreateFunction", "MemorySize"),
    Field("aws:lambda/function:Function", "description", "lambda", "CreateFunction", "Description"),
    Field("aws:cloudwatch/eventRule:EventRule", "name", "events", "PutRule", "Name"),
    Field("aws:cloudwatch/eventRule:EventRule", "description", "events", "PutRule", "Description"),
    Field("aws:ssm/parameter:Parameter", "name", "ssm", "PutParameter", "Name"),
    Field("aws:ssm/parameter:Parameter", "description", "ssm", "PutParameter", "Description"),
    Field("aws:ssm/document:Document", "name", "ssm", "CreateDocument", "Name"),
    Field("aws:kms/key:Key", "description", "kms", "CreateKey", "Description"),
    Field("aws:secretsmanager/secret:Secret", "name", "secretsmanager", "CreateSecret", "Name"),
    Field(
        "aws:fis/experimentTemplate:ExperimentTemplate",
        "description",
        "fis",
        "CreateExperimentTemplate",
        "description",
    ),
    Field(
        "aws:autoscaling/group:Group",
        "name",
        "autoscaling",
        "CreateAutoScalingGroup",
        "AutoScalingGroupName",
    ),
)
"""Resource property → API member, for the resource types the stacks create."""

_TAGS = re.compile(r"<[^>]+>")


def _member(service: str, operation: str, path: str) -> Any:
    session = botocore.session.get_session()
    shape: Any = session.get_service_model(service).operation_model(operation).input_shape
    for part in path.split("."):
        name = part.removesuffix("[]")
        shape = shape.members[name]
        if part.endswith("[]"):
            shape = shape.member
    return shape


def _usable_pattern(pattern: str) -> str | None:
    """botocore patterns are Java regexes; keep those Python reads the same way."""
    if "\\p{" in pattern or "\\uD8" in pattern.upper():
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern


def _documented(doc: str) -> dict[str, Any]:
    """Limits the member's documentation states in words."""
    text = " ".join(_TAGS.sub(" ", doc).split())
    found: dict[str, Any] = {}
    if m := re.search(r"Valid Values: ((?:\w+ \| )+\w+)", text):
        found["enum"] = [v.strip() for v in m.group(1).split("|")]
    if m := re.search(r"Possible values are: ((?:\d+, )+)and (\d+)\.", text):
        found["enum"] = [int(v) for v in m.group(1).split(",") if v.strip()] + [int(m.group(2))]
    if m := re.search(r"Valid values are ((?:\d+, )+)and any multiple of (\d+)", text):
        found["values"] = [int(v) for v in m.group(1).split(",") if v.strip()]
        found["multipleOf"] = int(m.group(2))
    if m := re.search(r"a maximum of (\d+) characters", text):
        found["max"] = int(m.group(1))
    if "must contain only alphanumeric characters or hyphens" in text:
        found["pattern"] = "[A-Za-z0-9-]+"
        if "must not begin or end with a hyphen" in text:
            found["pattern"] = "(?!-)[A-Za-z0-9-]+(?<!-)"
    return found


def _attribute_range(doc: str, attribute: str) -> dict[str, Any]:
    """The documented range of one ``Key`` of an attributes list ("The range is 0-3600")."""
    text = " ".join(_TAGS.sub(" ", doc).split())
    entry = re.search(rf"{re.escape(attribute)} - (.*?)(?= [a-z_.]+ - |$)", text)
    if entry is None:
        raise LookupError(f"{attribute} is not documented")
    bounds = re.search(r"range is (\d+)-(\d+)", entry.group(1))
    if bounds is None:
        raise LookupError(f"{attribute} has no documented range")
    return {"kind": "integer", "min": int(bounds.group(1)), "max": int(bounds.group(2))}


def limits_of(field: Field) -> dict[str, Any]:
    """The limits of one field, with the API member they come from."""
    shape = _member(field.service, field.operation, field.member)
    if field.attribute:
        api = f"{field.service} {field.operation} {field.member} {field.attribute}"
        return {"api": api, **_attribute_range(shape.documentation or "", field.attribute)}
    found: dict[str, Any] = {
        "api": f"{field.service} {field.operation} {field.member}",
        "kind": shape.type_name,
    }
    for key in ("min", "max"):
        if key in shape.metadata:
            found[key] = shape.metadata[key]
    if pattern := _usable_pattern(shape.metadata.get("pattern", "")):
        found["pattern"] = pattern
    if shape.metadata.get("enum"):
        found["enum"] = list(shape.metadata["enum"])
    documentation = shape.documentation or ""
    if field.documented_by:
        documentation = _member(field.service, field.operation, field.documented_by).documentation
        found["documentedBy"] = f"{field.service} {field.operation} {field.documented_by}"
    for key, value in _documented(documentation or "").items():
        found.setdefault(key, value)
    return found


def build() -> dict[str, Any]:
    """The whole table: ``{resource type: {property: limits}}`` plus the botocore version."""
    table: dict[str, Any] = {"botocore": botocore.__version__, "resources": {}}
    for field in FIELDS:
        table["resources"].setdefault(field.resource_type, {})[field.prop] = limits_of(field)
    return table


def render() -> str:
    return json.dumps(build(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build policy/guardrails/api_limits.json")
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python -m ops.docs.api_limits", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
