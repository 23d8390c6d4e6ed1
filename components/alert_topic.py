"""AlertTopic: the stack's one SNS topic that every alarm notifies (and, with a database, RDS event
notifications), with e-mail and HTTPS webhook subscribers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .iam_documents import document, statement

RDS_EVENTS_PRINCIPAL = "events.rds.amazonaws.com"
"""The service principal RDS event notifications publish to SNS as."""


def rds_source_arn(partition: str, region: str, account: str) -> str:
    """``arn:<partition>:rds:<region>:<account>:*``: the ``aws:SourceArn`` pattern that admits RDS
    event notifications from this account's RDS resources in this region only. RDS names the
    resource the event is about (``db:<identifier>``, ``pg:<name>``, ...); the pattern does not
    pin one, so a replaced instance (a new identifier per generation) needs no policy change."""
    return f"arn:{partition}:rds:{region}:{account}:*"


@dataclass(frozen=True)
class AlertTopicArgs:
    emails: Sequence[str] = field(default_factory=tuple)
    """Addresses subscribed by e-mail (each must confirm the subscription AWS sends)."""
    webhooks: Sequence[str] = field(default_factory=tuple)
    """``https://`` URLs subscribed over HTTPS (each must confirm the subscription: answer the
    SubscriptionConfirmation message by visiting its SubscribeURL)."""
    rds_events: bool = False
    """Also admit RDS event notifications (``events.rds.amazonaws.com``) to the topic and its key,
    for RDS resources of this account and region only (the Database component's event
    subscriptions). Off: only CloudWatch may publish."""

    def __post_init__(self) -> None:
        for url in self.webhooks:
            if not isinstance(url, str) or not url.startswith("https://") or len(url) <= 8:
                raise ValueError(
                    "AlertTopicArgs.webhooks must hold https:// URLs only (SNS would deliver "
                    f"alarms to http:// in the clear); got {url!r}"
                )


def subscription_key(email: str) -> str:
    """A logical-name suffix per address that survives reordering the list."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:8]


def webhook_key(url: str) -> str:
    """A logical-name suffix per webhook URL (the URL itself may carry a token: it is not kept
    in the name)."""
    return hashlib.sha256(url.strip().encode()).hexdigest()[:8]


class AlertTopic(pulumi.ComponentResource):
    """An SNS topic that CloudWatch alarms of this account may publish to, TLS-only, with one e-mail
    subscription per address and one HTTPS subscription per webhook (its URL kept as a secret in
    the state, since webhook URLs often carry a token). It is encrypted with its own customer-managed KMS key (rotated
    yearly): CloudWatch cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns`
    key, because that key's policy cannot grant it `kms:GenerateDataKey`.

    With ``rds_events`` the key and the topic policy also admit ``events.rds.amazonaws.com``
    (``kms:GenerateDataKey*`` and ``kms:Decrypt`` on the key, ``sns:Publish`` on the topic, as AWS
    documents for RDS event notifications to an encrypted topic), on behalf of this account
    (``aws:SourceAccount``) and its RDS resources in this region (``aws:SourceArn``) only.
    """

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:alert_topic:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        rds_conditions = None
        if args.rds_events:
            region = aws.get_region_output(opts=invoke).region
            rds_conditions = {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {
                    "aws:SourceArn": pulumi.Output.all(partition, region, account).apply(
                        lambda parts: rds_source_arn(*parts)
                    )
                },
            }
        key_statements = [
            statement(
                ["kms:*"],
                ["*"],
                sid="AccountAdministers",
                principals={
                    "AWS": pulumi.Output.concat("arn:", partition, ":iam::", account, ":root")
                },
            ),
            statement(
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                ["*"],
                sid="CloudWatchAlarmsEncrypt",
                principals={"Service": "cloudwatch.amazonaws.com"},
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            ),
        ]
        if rds_conditions:
            key_statements.append(
                statement(
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                    ["*"],
                    sid="RdsEventsEncrypt",
                    principals={"Service": RDS_EVENTS_PRINCIPAL},
                    conditions=rds_conditions,
                )
            )
        key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=f"{name}: encrypts alarm notifications",
                enable_key_rotation=True,
                deletion_window_in_days=7,
                policy=document(*key_statements),
            ),
            opts=child,
        )
        topic = aws.sns.Topic(
            f"{name}-topic", aws.sns.TopicArgs(kms_master_key_id=key.arn), opts=child
        )
        publishers = [
            statement(
                ["sns:Publish"],
                [topic.arn],
                sid="CloudWatchAlarmsPublish",
                principals={"Service": "cloudwatch.amazonaws.com"},
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        ]
        if rds_conditions:
            publishers.append(
                statement(
                    ["sns:Publish"],
                    [topic.arn],
                    sid="RdsEventsPublish",
                    principals={"Service": RDS_EVENTS_PRINCIPAL},
                    conditions=rds_conditions,
                )
            )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            aws.sns.TopicPolicyArgs(
                arn=topic.arn,
                policy=document(
                    *publishers,
                    statement(
                        ["sns:Publish"],
                        [topic.arn],
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        principals={"AWS": "*"},
                        conditions={"Bool": {"aws:SecureTransport": "false"}},
                    ),
                ),
            ),
            opts=child,
        )
        for email in args.emails:
            aws.sns.TopicSubscription(
                f"{name}-email-{subscription_key(email)}",
                aws.sns.TopicSubscriptionArgs(topic=topic.arn, protocol="email", endpoint=email),
                opts=child,
            )
        for url in args.webhooks:
            aws.sns.TopicSubscription(
                f"{name}-webhook-{webhook_key(url)}",
                aws.sns.TopicSubscriptionArgs(
                    topic=topic.arn, protocol="https", endpoint=pulumi.Output.secret(url)
                ),
                opts=child,
            )
        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})
