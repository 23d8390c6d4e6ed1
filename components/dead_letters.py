"""Where failed asynchronous deliveries land, and the alarm that says one did.

A dead-letter queue is a standard SQS queue (EventBridge Scheduler, EventBridge rule targets and
Lambda destinations all refuse FIFO queues), encrypted with SQS-managed keys (SSE-SQS: the
senders need no grant in a KMS key policy), and keeping a message for SQS's maximum of 14 days, so a failure found after a long weekend is still
there to read.

The alarm fires when the queue holds a message: ``ApproximateNumberOfMessagesVisible`` (Maximum
over 5 minutes) > 0. SQS publishes its metrics only while the queue is *active* — "A queue is
considered active by CloudWatch for up to six hours from the last activity (i.e., any API call)
on the queue", and "All metrics emit non-negative values only when the queue is active"
(Amazon SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
and "Monitoring Amazon SQS queues using CloudWatch"). So a dead letter nobody reads for six hours
stops being reported while it still sits in the queue. ``treat_missing_data="ignore"`` keeps the
alarm in the state it had when the metric stopped: ALARM stays ALARM until someone receives and
deletes the message (that API call wakes the queue, which then reports 0), and a quiet queue,
which reported 0 for six hours after its creation, stays OK. ``notBreaching`` (or ``FILL(m, 0)``)
would turn an unread failure back to OK six hours later; ``breaching`` would page for every idle
queue (CloudWatch user guide, "Configuring how CloudWatch alarms treat missing data").
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

RETENTION_SECONDS = 14 * 24 * 3600
"""SQS's maximum message retention (1,209,600 s)."""
ALARM_PERIOD_SECONDS = 300
ALARM_METRIC = "ApproximateNumberOfMessagesVisible"
ALARM_TREAT_MISSING_DATA = "ignore"
"""See the module docstring: an inactive queue's metric stops, its last state is the truth."""


def dead_letter_queue(name: str, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
    """A standard queue, SSE-SQS encrypted, keeping messages 14 days."""
    return aws.sqs.Queue(
        name,
        aws.sqs.QueueArgs(
            sqs_managed_sse_enabled=True,
            message_retention_seconds=RETENTION_SECONDS,
        ),
        opts=opts,
    )


def dead_letter_alarm(
    name: str,
    queue: aws.sqs.Queue,
    what: str,
    topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """ALARM while ``queue`` holds a message; ``what`` says what failed, for the description."""
    return aws.cloudwatch.MetricAlarm(
        name,
        aws.cloudwatch.MetricAlarmArgs(
            alarm_description=(
                f"{what} failed and landed in its dead-letter queue: read the message "
                "(it names the error), fix the cause, then delete it"
            ),
            namespace="AWS/SQS",
            metric_name=ALARM_METRIC,
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=0.0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data=ALARM_TREAT_MISSING_DATA,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
        ),
        opts=opts,
    )
