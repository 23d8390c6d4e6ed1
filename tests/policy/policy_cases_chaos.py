"""Violating and compliant inputs for the FIS template and chaos schedule policies (issue 11)."""

from __future__ import annotations

import json

from policy_cases import Case, with_

from policy.guardrails import aws_types as t

ALARM_ARN = "arn:aws:cloudwatch:us-east-2:123456789012:alarm:chaos-guard-elb-5xx"
FLEET_TASK = {
    "name": "fleet-task",
    "resourceType": "aws:ecs:task",
    "selectionMode": "COUNT(1)",
    "parameters": {"cluster": "steady", "service": "svc-blue"},
}
DB_SUBNETS = {
    "name": "database-subnets",
    "resourceType": "aws:ec2:subnet",
    "selectionMode": "ALL",
    "resourceArns": ["arn:aws:ec2:us-east-2:123456789012:subnet/subnet-a"],
}
GOOD_TEMPLATE = {
    "description": "Stop one task of the primary fleet",
    "roleArn": "arn:aws:iam::123456789012:role/fis",
    "actions": [
        {
            "name": "stop",
            "actionId": "aws:ecs:stop-task",
            "target": {"key": "Tasks", "value": "fleet-task"},
        }
    ],
    "targets": [FLEET_TASK],
    "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": ALARM_ARN}],
    "logConfiguration": {
        "logSchemaVersion": 2,
        "cloudwatchLogsConfiguration": {
            "logGroupArn": "arn:aws:logs:us-east-2:123456789012:log-group:fis:*"
        },
    },
}
ALL_HOSTS = {
    "name": "cluster-hosts",
    "resourceType": "aws:ec2:instance",
    "selectionMode": "ALL",
    "resourceTags": [{"key": "aws:autoscaling:groupName", "value": "steady-asg"}],
}
SEND_COMMAND_ACTIONS = [
    {
        "name": "blackhole-the-cdn",
        "actionId": "aws:ssm:send-command",
        "target": {"key": "Instances", "value": "cluster-hosts"},
    }
]
TERMINATE_ON_HOSTS = {
    "name": "terminate",
    "actionId": "aws:ec2:terminate-instances",
    "target": {"key": "Instances", "value": "cluster-hosts"},
}
ZONE = "us-east-2a"
ZONE_HOSTS = {
    **ALL_HOSTS,
    "name": "zone-hosts",
    "filters": [
        {"path": "State.Name", "values": ["running"]},
        {"path": "Placement.AvailabilityZone", "values": [ZONE]},
    ],
}
HOST_GROUPS = {
    "name": "host-groups",
    "resourceType": "aws:ec2:autoscaling-group",
    "selectionMode": "ALL",
    "resourceArns": [
        "arn:aws:autoscaling:us-east-2:123456789012:autoScalingGroup:1:autoScalingGroupName/steady"
    ],
}


def refuse_launches(zones: str) -> dict:
    return {
        "name": "refuse-launches-in-zone",
        "actionId": "aws:ec2:asg-insufficient-instance-capacity-error",
        "parameters": [
            {"key": "availabilityZoneIdentifiers", "value": zones},
            {"key": "duration", "value": "PT30M"},
        ],
        "target": {"key": "AutoScalingGroups", "value": "host-groups"},
    }


STOP_ZONE_HOSTS = {
    "name": "stop-zone-hosts",
    "actionId": "aws:ec2:stop-instances",
    "target": {"key": "Instances", "value": "zone-hosts"},
}
AZ_TEMPLATE = with_(
    GOOD_TEMPLATE,
    actions=[STOP_ZONE_HOSTS, refuse_launches(ZONE)],
    targets=[ZONE_HOSTS, HOST_GROUPS],
)
"""The AZ experiment's shape: ALL of one zone's hosts, ALL groups refused launches in that zone."""
START = "arn:aws:scheduler:::aws-sdk:fis:startExperiment"


def schedule(expression: str, **changes: object) -> dict:
    return {
        "scheduleExpression": expression,
        "scheduleExpressionTimezone": "Europe/Berlin",
        "flexibleTimeWindow": {"mode": "OFF"},
        "state": "ENABLED",
        "target": {
            "arn": START,
            "roleArn": "arn:aws:iam::123456789012:role/scheduler",
            "input": json.dumps({"ExperimentTemplateId": "EXT1", "ClientToken": "x"}),
        },
        **changes,
    }


MONTHLY = schedule("cron(0 10 ? * TUE#1 *)")
DLQ_ARN = "arn:aws:sqs:us-east-2:123456789012:chaos-schedule-dlq"
RETRIES = {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 600}


def kept(retry: dict | None = None, dlq: str | None = DLQ_ARN, **target: object) -> dict:
    """MONTHLY with its target's retry policy and dead-letter queue (None leaves either out)."""
    body = {**MONTHLY["target"], **target}
    if retry is not None:
        body["retryPolicy"] = retry
    if dlq is not None:
        body["deadLetterConfig"] = {"arn": dlq}
    return {**MONTHLY, "target": body}


KEPT = kept(RETRIES)

CHAOS_CASES = [
    Case(
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept(RETRIES, dlq=None),
        KEPT,
        "set target.deadLetterConfig.arn",
    ),
    Case(
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept(None),
        KEPT,
        "set target.retryPolicy {maximumRetryAttempts: 3",
    ),
    Case(  # boundary: 0 retries loses a throttled start, 1 keeps it
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumRetryAttempts": 0}),
        kept({**RETRIES, "maximumRetryAttempts": 1}),
        "maximumRetryAttempts: 3",
    ),
    Case(  # boundary: maxRetryAgeSeconds (900) passes, one second more does not
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumEventAgeInSeconds": 901}),
        kept({**RETRIES, "maximumEventAgeInSeconds": 900}),
        "maximumEventAgeInSeconds: 600",
    ),
    Case(  # a stricter configured age
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        KEPT,
        kept({**RETRIES, "maximumEventAgeInSeconds": 300}),
        "maximumEventAgeInSeconds: 300",
        config={"maxRetryAgeSeconds": 300},
    ),
    Case(
        "fis-template-alarm-stop-condition",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(GOOD_TEMPLATE, stopConditions=[{"source": "none"}]),
        GOOD_TEMPLATE,
        'stopConditions [{source: "aws:cloudwatch:alarm"',
    ),
    Case(
        "fis-template-alarm-stop-condition",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(GOOD_TEMPLATE, stopConditions=[{"source": "aws:cloudwatch:alarm"}]),
        with_(
            GOOD_TEMPLATE,
            stopConditions=[
                {"source": "none"},
                {"source": "aws:cloudwatch:alarm", "value": ALARM_ARN},
            ],
        ),
        "aws:cloudwatch:alarm",
    ),
    Case(
        "fis-template-logs",
        t.FIS_EXPERIMENT_TEMPLATE,
        {k: v for k, v in GOOD_TEMPLATE.items() if k != "logConfiguration"},
        GOOD_TEMPLATE,
        "cloudwatchLogsConfiguration: {logGroupArn",
    ),
    Case(
        "fis-template-logs",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(GOOD_TEMPLATE, logConfiguration={"logSchemaVersion": 2}),
        with_(
            GOOD_TEMPLATE,
            logConfiguration={"logSchemaVersion": 2, "s3Configuration": {"bucketName": "fis-logs"}},
        ),
        "s3Configuration {bucketName",
    ),
    Case(
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(GOOD_TEMPLATE, targets=[with_(FLEET_TASK, selectionMode="ALL")]),
        GOOD_TEMPLATE,
        "selectionMode to COUNT(1)",
    ),
    Case(
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(GOOD_TEMPLATE, targets=[with_(FLEET_TASK, selectionMode="PERCENT(75)")]),
        with_(GOOD_TEMPLATE, targets=[with_(FLEET_TASK, selectionMode="PERCENT(50)")]),
        "selectionMode=PERCENT(50) or less",
    ),
    Case(
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(
            GOOD_TEMPLATE,
            targets=[
                {
                    "name": "private-subnets",
                    "resourceType": "aws:ec2:subnet",
                    "selectionMode": "ALL",
                    "resourceTags": [{"key": "Tier", "value": "private"}],
                }
            ],
        ),
        with_(GOOD_TEMPLATE, targets=[DB_SUBNETS]),
        "one by one in resourceArns",
    ),
    Case(
        # ALL hosts is accepted for a target only a command uses (the command bounds the fault),
        # not once a terminate action shares that target
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(
            GOOD_TEMPLATE, actions=[*SEND_COMMAND_ACTIONS, TERMINATE_ON_HOSTS], targets=[ALL_HOSTS]
        ),
        with_(GOOD_TEMPLATE, actions=SEND_COMMAND_ACTIONS, targets=[ALL_HOSTS]),
        "selects ALL of its aws:ec2:instance resources",
    ),
    Case(
        # ALL of a group's hosts is an outage; ALL of its hosts in one zone is an AZ experiment
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(AZ_TEMPLATE, targets=[ALL_HOSTS | {"name": "zone-hosts"}, HOST_GROUPS]),
        AZ_TEMPLATE,
        "selectionMode to COUNT(1)",
    ),
    Case(
        # launches refused in two zones: the groups' ALL is no longer bounded by one zone
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(AZ_TEMPLATE, actions=[STOP_ZONE_HOSTS, refuse_launches(f"{ZONE},us-east-2b")]),
        AZ_TEMPLATE,
        "selectionMode to COUNT(1)",
    ),
    Case(
        # one zone's hosts stopped while launches fail in another: two zones down
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(AZ_TEMPLATE, actions=[STOP_ZONE_HOSTS, refuse_launches("us-east-2b")]),
        AZ_TEMPLATE,
        "name the same single zone",
    ),
    Case(
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule("cron(0 10 1 */2 ? *)"),
        MONTHLY,
        "scheduleExpression=cron(0 10 ? * TUE *)",
    ),
    Case(
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule("cron(0 3 ? * TUE *)"),
        schedule("cron(30 16 ? * MON-FRI *)"),
        "scheduleExpression=cron(0 10 ? * TUE *) (weekly) or cron(0 10 ? * TUE#1 *)",
        config={"businessDays": ["MON", "TUE", "WED", "THU", "FRI"]},
    ),
    Case(
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule("at(2026-12-08T10:00:00)"),
        schedule("cron(0 10 ? * 3L *)"),
        "scheduleExpression=cron(",
    ),
    Case(
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule("rate(7 days)"),
        schedule(
            "cron(0 10 ? * TUE *)",
            flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 60},
        ),
        "scheduleExpression=cron(",
    ),
    Case(
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(
            "cron(0 16 ? * TUE *)",
            flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 60},
        ),
        schedule(
            "cron(0 15 ? * TUE *)",
            flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 59},
        ),
        'flexibleTimeWindow {mode: "OFF"}',
    ),
    Case(
        "chaos-schedule-enabled-in-prod",
        t.SCHEDULE,
        with_(MONTHLY, state="DISABLED"),
        MONTHLY,
        'state="ENABLED"',
    ),
]
