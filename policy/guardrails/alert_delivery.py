"""Alert delivery: an alarm topic with nobody subscribed swallows every alarm."""

from __future__ import annotations

from .aws_types import COMPOSITE_ALARM, METRIC_ALARM, SNS_TOPIC, SNS_TOPIC_SUBSCRIPTION
from .framework import MANDATORY, StackCheck, stack_rule
from .properties import as_list, is_unknown


@stack_rule(
    "alarm-topics-have-subscriber",
    level=MANDATORY,
    prod_only=True,
    description=(
        "Every SNS topic of this stack that a CloudWatch alarm notifies has at least one "
        "aws:sns/topicSubscription. Prod-only (config environment=prod): mandatory, because a "
        "prod alarm that reaches an empty topic pages nobody; not applicable in dev."
    ),
)
def alarm_topics_have_subscriber(check: StackCheck) -> None:
    alarms = check.of_type(METRIC_ALARM, COMPOSITE_ALARM)
    subscriptions = check.of_type(SNS_TOPIC_SUBSCRIPTION)
    for topic in check.of_type(SNS_TOPIC):
        notified = []
        for alarm in alarms:
            if topic.urn in alarm.depends_on("alarmActions"):
                notified.append(True)
                continue
            actions = alarm.get("alarmActions")
            arn = topic.get("arn")
            if is_unknown(actions) or is_unknown(arn):
                notified.append(None)
            else:
                notified.append(arn in as_list(actions))
        if True not in notified:
            if None in notified:
                check.note(f"which alarms notify {topic.label()} is unknown during preview")
            continue
        links = [check.refers_to(s, "topic", topic, "arn", "id") for s in subscriptions]
        if True in links:
            continue
        if None in links:
            check.note(f"the subscriptions of {topic.label()} are unknown during preview")
            continue
        check.violation(
            topic,
            "alarms notify this topic but nothing is subscribed to it",
            'add an aws:sns/topicSubscription {topic: <this topic arn>, protocol: "email", '
            "endpoint: <on-call address>} (or an SQS/Lambda/HTTPS endpoint of the paging "
            "system)",
        )


POLICIES = [alarm_topics_have_subscriber]
