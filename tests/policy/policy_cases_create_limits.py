"""Violating and compliant inputs for aws-create-time-limits: values AWS rejects at create time."""

from __future__ import annotations

from policy_cases import Case, with_

from policy.guardrails import aws_types as t

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"

ALARM = {
    "comparisonOperator": "GreaterThanThreshold",
    "evaluationPeriods": 3,
    "datapointsToAlarm": 2,
    "period": 60,
    "statistic": "Sum",
    "threshold": 5,
    "namespace": "AWS/ApplicationELB",
    "metricName": "HTTPCode_Target_5XX_Count",
    "treatMissingData": "notBreaching",
    "alarmActions": ["arn:aws:sns:us-east-2:123456789012:alerts"],
}
HEALTH_CHECK = {"path": "/health", "interval": 10, "timeout": 3, "healthyThreshold": 2}
GROUP = {
    "name": "blue-fleet-tg-1a2b3c4",
    "port": 8080,
    "protocol": "HTTP",
    "targetType": "instance",
    "healthCheck": HEALTH_CHECK,
}

CREATE_LIMIT_CASES = [
    Case(
        "aws-create-time-limits",
        t.METRIC_ALARM,
        with_(ALARM, datapointsToAlarm=4),
        ALARM,
        "change datapointsToAlarm",
    ),
    Case(
        "aws-create-time-limits",
        t.METRIC_ALARM,
        with_(ALARM, period=45),
        with_(ALARM, period=10),
        "set period to a value the API accepts",
    ),
    Case(
        "aws-create-time-limits",
        t.METRIC_ALARM,
        with_(ALARM, treatMissingData="notbreaching"),
        with_(ALARM, treatMissingData="breaching"),
        "set treatMissingData",
    ),
    Case(
        "aws-create-time-limits",
        t.LOG_GROUP,
        {"name": "/app/logs", "retentionInDays": 45},
        {"name": "/app/logs", "retentionInDays": 60},
        "set retentionInDays",
    ),
    Case(
        "aws-create-time-limits",
        TARGET_GROUP,
        with_(GROUP, name="blue-fleet-target-group-" + "x" * 16),
        GROUP,
        "set name",
    ),
    Case(
        "aws-create-time-limits",
        TARGET_GROUP,
        with_(GROUP, healthCheck=with_(HEALTH_CHECK, timeout=10)),
        GROUP,
        "change healthCheck.timeout",
    ),
    Case(
        "aws-create-time-limits",
        "aws:scheduler/schedule:Schedule",
        {"name": "chaos", "target": {"retryPolicy": {"maximumRetryAttempts": 200}}},
        {"name": "chaos", "target": {"retryPolicy": {"maximumRetryAttempts": 185}}},
        "set target.retryPolicy.maximumRetryAttempts",
    ),
]
