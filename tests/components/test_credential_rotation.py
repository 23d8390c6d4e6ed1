"""ScheduledRotation under the SDK mock runtime, and the failure rule's pattern against ECS events.

The inputs that carry the guarantee: a rate(<n> days) schedule, ENABLED, running the rotation
task definition on the cluster's capacity provider, with retries and a dead-letter queue; a
scheduler role that may run only that family on only that cluster and pass only the task's two
roles to ECS tasks; a rule that forwards failed runs to the same queue; an alarm on the queue.

The pattern is matched by a small re-statement of EventBridge's matching rules from aws/event-ruler
README.md ("Anything-but matching", "The $or Primitive", "JSON Array Matching": "the array
structure is 'crushed out' of the rule pattern"); ECS event fields from the ECS developer guide,
"Amazon ECS task state change events" (``clusterArn``, ``group``, ``lastStatus``, ``stopCode``,
``containers[].exitCode``); RunTask's default group is ``family:<family>``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.credential_rotation import (
    ScheduledRotation,
    ScheduledRotationArgs,
    failure_pattern,
    schedule_expression,
    task_definition_family_arn,
)

CLUSTER = "arn:aws:ecs:us-east-2:123456789012:cluster/steady"
TASKDEF = (
    "arn:aws:ecs:us-east-2:123456789012:task-definition/steadystate-prod-db-bootstrap-rotate:3"
)
FAMILY = "steadystate-prod-db-bootstrap-rotate"
ROLES = [
    "arn:aws:iam::123456789012:role/db-bootstrap-execution-role",
    "arn:aws:iam::123456789012:role/db-bootstrap-task-role",
]
TOPIC = "arn:aws:sns:us-east-2:123456789012:alerts"

SCHEDULE = "aws:scheduler/schedule:Schedule"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def rotation_args(**change: Any) -> ScheduledRotationArgs:
    values: dict[str, Any] = {
        "cluster_arn": CLUSTER,
        "capacity_provider_name": "steady-cp",
        "task_definition_arn": TASKDEF,
        "task_family": FAMILY,
        "pass_role_arns": ROLES,
        "alarm_topic_arn": TOPIC,
        **change,
    }
    return ScheduledRotationArgs(**values)


@pytest.fixture
def rec(mocked):
    return mocked(lambda: ScheduledRotation("db-rotation", rotation_args()))


def only(rec, type_token: str):
    (record,) = rec.of_type(type_token)
    return record


def test_the_schedule_runs_the_rotation_task_every_30_days(rec) -> None:
    schedule = only(rec, SCHEDULE).inputs
    assert schedule["scheduleExpression"] == "rate(30 days)"
    assert schedule["state"] == "ENABLED"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == CLUSTER
    assert target["roleArn"] == only(rec, ROLE).outputs["arn"]
    assert target["ecsParameters"] == {
        "taskDefinitionArn": TASKDEF,
        "taskCount": 1,
        "capacityProviderStrategies": [{"capacityProvider": "steady-cp", "weight": 1}],
    }


def test_failed_starts_are_retried_then_dead_lettered(rec) -> None:
    target = only(rec, SCHEDULE).inputs["target"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 5, "maximumEventAgeInSeconds": 3600}
    assert target["deadLetterConfig"] == {"arn": only(rec, QUEUE).outputs["arn"]}


def test_the_failures_queue_is_encrypted_and_keeps_messages_14_days(rec) -> None:
    queue = only(rec, QUEUE).inputs
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["messageRetentionSeconds"] == 1_209_600


def test_the_scheduler_role_runs_only_the_family_on_the_cluster_and_passes_two_roles(rec) -> None:
    trust = json.loads(only(rec, ROLE).inputs["assumeRolePolicy"])
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert assume["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = json.loads(only(rec, ROLE_POLICY).inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["RunTheRotationTask"] == {
        "Sid": "RunTheRotationTask",
        "Effect": "Allow",
        "Action": ["ecs:RunTask"],
        "Resource": [
            "arn:aws:ecs:us-east-2:123456789012:task-definition/"
            "steadystate-prod-db-bootstrap-rotate:*"
        ],
        "Condition": {"ArnEquals": {"ecs:cluster": CLUSTER}},
    }
    assert by_sid["PassTheTaskRoles"]["Action"] == ["iam:PassRole"]
    assert by_sid["PassTheTaskRoles"]["Resource"] == ROLES
    assert by_sid["PassTheTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert by_sid["DeadLetterFailedStarts"]["Action"] == ["sqs:SendMessage"]
    assert by_sid["DeadLetterFailedStarts"]["Resource"] == [only(rec, QUEUE).outputs["arn"]]
    assert set(by_sid) == {"RunTheRotationTask", "PassTheTaskRoles", "DeadLetterFailedStarts"}


def test_the_schedule_waits_for_its_role_s_policy(rec) -> None:
    schedule, policy = only(rec, SCHEDULE), only(rec, ROLE_POLICY)
    assert policy.urn in schedule.dependencies


def test_failed_runs_reach_the_queue_from_the_rule_only(rec) -> None:
    rule, target, queue = only(rec, RULE), only(rec, TARGET), only(rec, QUEUE)
    assert json.loads(rule.inputs["eventPattern"]) == failure_pattern(CLUSTER, FAMILY)
    assert target.inputs["rule"] == rule.outputs["name"]
    assert target.inputs["arn"] == queue.outputs["arn"]
    queue_policy = only(rec, QUEUE_POLICY).inputs
    assert queue_policy["queueUrl"] == queue.outputs["url"]
    (grant,) = json.loads(queue_policy["policy"])["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert grant["Action"] == ["sqs:SendMessage"] and grant["Resource"] == [queue.outputs["arn"]]
    assert grant["Condition"] == {"ArnEquals": {"aws:SourceArn": rule.outputs["arn"]}}


def test_the_alarm_fires_while_a_failure_waits_and_keeps_paging_when_sqs_goes_quiet(rec) -> None:
    """SQS publishes metrics only while a queue is active, up to six hours after its last API call
    (SQS developer guide, "Available CloudWatch metrics for Amazon SQS"): an unread failure stops
    being reported while it still waits, so missing data keeps the last state (ignore), never
    notBreaching, which would clear the page six hours later."""
    alarm = only(rec, ALARM).inputs
    assert (alarm["namespace"], alarm["metricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert alarm["dimensions"] == {"QueueName": only(rec, QUEUE).outputs["name"]}
    assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"]) == ("Maximum", 300, 1)
    assert alarm["datapointsToAlarm"] == 1
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["treatMissingData"] == "ignore"
    assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]


def test_every_child_is_parented(rec) -> None:
    (component,) = rec.of_type("steadystate:credential_rotation:ScheduledRotation")
    children = rec.children_of(component)
    assert len(children) == len(rec.records) - 1 == 8


@pytest.mark.parametrize(("days", "expression"), [(1, "rate(1 day)"), (30, "rate(30 days)")])
def test_schedule_expression(days: int, expression: str) -> None:
    assert schedule_expression(days) == expression


def test_a_rotation_interval_below_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="rotation_days"):
        schedule_expression(0)


def test_the_grant_covers_every_revision_of_the_family() -> None:
    assert task_definition_family_arn(TASKDEF, FAMILY) == (
        "arn:aws:ecs:us-east-2:123456789012:task-definition/" + FAMILY + ":*"
    )


# the failure rule's pattern against ECS task state change events ------------------------------


def _flatten(value: Any, path: str, out: dict[str, list[Any]]) -> None:
    """event-ruler's view of an event: arrays crushed out, leaves by dotted path."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, path, out)
    else:
        out.setdefault(path, []).append(value)


def _leaf_matches(values: list[Any], filters: list[Any]) -> bool:
    for f in filters:
        for value in values:
            if isinstance(f, dict) and "anything-but" in f:
                if value != f["anything-but"]:
                    return True
            elif value == f:
                return True
    return False


def _matches(pattern: dict[str, Any], flat: dict[str, list[Any]], path: str = "") -> bool:
    for key, node in pattern.items():
        if key == "$or":
            if not any(_matches(option, flat, path) for option in node):
                return False
            continue
        where = f"{path}.{key}" if path else key
        if isinstance(node, dict):
            if not _matches(node, flat, where):
                return False
        elif where not in flat or not _leaf_matches(flat[where], node):
            return False
    return True


def ecs_event(**detail: Any) -> dict[str, list[Any]]:
    event = {
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "detail": {
            "clusterArn": CLUSTER,
            "group": f"family:{FAMILY}",
            "lastStatus": "STOPPED",
            "stopCode": "EssentialContainerExited",
            "containers": [{"name": "bootstrap", "exitCode": 0}],
            **detail,
        },
    }
    flat: dict[str, list[Any]] = {}
    _flatten(event, "", flat)
    return flat


@pytest.mark.parametrize(
    ("detail", "failed"),
    [
        ({"containers": [{"name": "bootstrap", "exitCode": 1}]}, True),
        ({"containers": [{"name": "bootstrap", "exitCode": 137}]}, True),
        (
            {"stopCode": "TaskFailedToStart", "containers": [{"name": "bootstrap"}]},
            True,
        ),
        ({}, False),
        ({"lastStatus": "RUNNING", "containers": [{"name": "bootstrap", "exitCode": 1}]}, False),
        ({"group": "family:other", "containers": [{"name": "b", "exitCode": 1}]}, False),
        ({"clusterArn": CLUSTER + "-other", "containers": [{"exitCode": 2}]}, False),
    ],
    ids=[
        "exit-1",
        "killed",
        "never-started",
        "success",
        "running",
        "other-family",
        "other-cluster",
    ],
)
def test_the_rule_matches_failed_rotation_runs_only(detail: dict, failed: bool) -> None:
    assert _matches(failure_pattern(CLUSTER, FAMILY), ecs_event(**detail)) is failed
