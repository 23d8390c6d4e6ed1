"""ScheduledRotation: the app's database credentials rotated on a schedule, failures kept and
alarmed.

An EventBridge Scheduler schedule runs the rotation task definition (``bootstrap_db --rotate``,
alternating users: components.database_bootstrap, app/steadystate_app/bootstrap_db.py) with ECS
RunTask every ``rotation_days`` days. Two kinds of failure land in one SQS queue:

- the schedule could not start the task (after its retries): Scheduler's dead-letter queue
  ("When a schedule fails to invoke its target, EventBridge Scheduler delivers a JSON payload ...
  to an Amazon SQS standard queue", https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html;
  the execution role needs ``sqs:SendMessage`` on it);
- the task ran and failed: an EventBridge rule on ECS's "ECS Task State Change" events of the
  rotation family (``group`` ``family:<family>``, RunTask's default group) that stopped with a
  container exit code other than 0, or never started (``stopCode`` ``TaskFailedToStart``).

An alarm on the queue's ``ApproximateNumberOfMessagesVisible`` notifies the alert topic while a
failure waits in it. Why not a Secrets Manager rotation Lambda: AWS's
SecretsManagerRDSPostgreSQLRotationMultiUser function comes from the Serverless Application
Repository as a CloudFormation stack (its function and role outside what the policy pack and the
IAM checks see), and would need a VPC attachment in the isolated subnets plus a Secrets Manager
endpoint there; the rotate task already runs on the cluster with the only role that may read the
master secret, and is tested against real Postgres.

Scheduler's execution role (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html):
``ecs:RunTask`` on the rotation family's task definitions, only on this cluster (``ecs:cluster``);
``iam:PassRole`` on the task's execution and task roles only, only to ``ecs-tasks.amazonaws.com``
(``iam:PassedToService``); ``sqs:SendMessage`` on the queue. No tags are set on the task, so
``ecs:TagResource`` is not needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .dead_letters import dead_letter_alarm, dead_letter_queue
from .iam_documents import assume_role_policy, document, statement

#: Scheduler retries a failed RunTask call this many times, for at most this long, then
#: dead-letters it (RetryPolicy: 0..185 attempts, 60..86,400 s).
RETRY_ATTEMPTS = 5
RETRY_MAXIMUM_AGE_SECONDS = 3_600


@dataclass(frozen=True)
class ScheduledRotationArgs:
    cluster_arn: pulumi.Input[str]
    """Cluster the rotation task runs on."""
    capacity_provider_name: pulumi.Input[str]
    """EC2 capacity provider the task is placed on (bridge networking, like the bootstrap)."""
    task_definition_arn: pulumi.Input[str]
    """The rotation task definition (DatabaseBootstrap.rotate_task_definition_arn)."""
    task_family: str
    """Its family (DatabaseBootstrap.rotate_family): the RunTask grant and the failure rule."""
    pass_role_arns: Sequence[pulumi.Input[str]]
    """The task's execution and task roles (DatabaseBootstrap.role_arns)."""
    alarm_topic_arn: pulumi.Input[str]
    """Where the failure alarm goes."""
    rotation_days: int = 30
    """Days between rotations (``rate(<n> days)``)."""


def schedule_expression(days: int) -> str:
    """``rate(30 days)``; Scheduler's rate unit for one is ``day``."""
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"rotation_days must be a whole number of days >= 1, got {days!r}")
    return f"rate({days} {'day' if days == 1 else 'days'})"


def failure_pattern(cluster_arn: str, family: str) -> dict[str, Any]:
    """ECS task state changes of ``family`` on ``cluster_arn`` that mean the rotation failed."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [cluster_arn],
            "group": [f"family:{family}"],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }


def task_definition_family_arn(task_definition_arn: str, family: str) -> str:
    """Every revision of ``family``: ``arn:...:task-definition/<family>:*``."""
    prefix = task_definition_arn.split(":task-definition/", 1)[0]
    return f"{prefix}:task-definition/{family}:*"


class ScheduledRotation(pulumi.ComponentResource):
    """Runs the rotation task every ``rotation_days`` days (schedule ENABLED, no flexible window,
    bounded retries, a dead-letter queue), keeps every failed start and failed run in one SQS queue
    (encrypted, 14 days) and alarms while the queue holds one."""

    schedule_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    alarm_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ScheduledRotationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:credential_rotation:ScheduledRotation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        expression = schedule_expression(args.rotation_days)

        queue = dead_letter_queue(f"{name}-failures", child)
        rule = aws.cloudwatch.EventRule(
            f"{name}-failed-run",
            aws.cloudwatch.EventRuleArgs(
                description=f"{args.task_family}: a rotation task stopped with an error",
                event_pattern=pulumi.Output.from_input(args.cluster_arn).apply(
                    lambda cluster: json.dumps(failure_pattern(cluster, args.task_family))
                ),
            ),
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-failures-policy",
            aws.sqs.QueuePolicyArgs(
                queue_url=queue.url,
                policy=document(
                    statement(
                        ["sqs:SendMessage"],
                        [queue.arn],
                        sid="FailedRotationRuns",
                        principals={"Service": "events.amazonaws.com"},
                        conditions={"ArnEquals": {"aws:SourceArn": rule.arn}},
                    )
                ),
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-failed-run-target",
            aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=queue.arn),
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-scheduler-role",
            aws.iam.RoleArgs(
                description=f"EventBridge Scheduler: run {args.task_family} on the cluster",
                assume_role_policy=assume_role_policy(
                    "scheduler.amazonaws.com", source_account=account
                ),
            ),
            opts=child,
        )
        families = pulumi.Output.from_input(args.task_definition_arn).apply(
            lambda arn: task_definition_family_arn(arn, args.task_family)
        )
        policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            aws.iam.RolePolicyArgs(
                role=role.name,
                policy=document(
                    statement(
                        ["ecs:RunTask"],
                        [families],
                        sid="RunTheRotationTask",
                        conditions={"ArnEquals": {"ecs:cluster": args.cluster_arn}},
                    ),
                    statement(
                        ["iam:PassRole"],
                        list(args.pass_role_arns),
                        sid="PassTheTaskRoles",
                        conditions={
                            "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                        },
                    ),
                    statement(["sqs:SendMessage"], [queue.arn], sid="DeadLetterFailedStarts"),
                ),
            ),
            opts=child,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            aws.scheduler.ScheduleArgs(
                description=f"Rotate the app's database credentials: {expression}",
                schedule_expression=expression,
                state="ENABLED",
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=args.cluster_arn,
                    role_arn=role.arn,
                    ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                        task_definition_arn=args.task_definition_arn,
                        task_count=1,
                        capacity_provider_strategies=[
                            aws.scheduler.ScheduleTargetEcsParametersCapacityProviderStrategyArgs(
                                capacity_provider=args.capacity_provider_name, weight=1
                            )
                        ],
                    ),
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                        maximum_retry_attempts=RETRY_ATTEMPTS,
                        maximum_event_age_in_seconds=RETRY_MAXIMUM_AGE_SECONDS,
                    ),
                    dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                        arn=queue.arn
                    ),
                ),
            ),
            # The first invocation must find the role able to act.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # An unread failure must keep paging after SQS stops publishing for an idle queue:
        # dead_letters says why the alarm ignores missing data.
        alarm = dead_letter_alarm(
            f"{name}-failed",
            queue,
            f"A database credential rotation ({args.task_family})",
            args.alarm_topic_arn,
            child,
        )
        self.schedule_name = schedule.name
        self.queue_arn = queue.arn
        self.alarm_arn = alarm.arn
        self.register_outputs(
            {
                "schedule_name": self.schedule_name,
                "queue_arn": self.queue_arn,
                "alarm_arn": self.alarm_arn,
            }
        )
