"""AlertTopic: alarms can publish to it (customer key), e-mails subscribe, TLS only."""

from __future__ import annotations

import json

import pytest

from components.alert_topic import AlertTopic, AlertTopicArgs

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(mocked) -> None:
    rec = mocked(
        lambda: AlertTopic("alerts", AlertTopicArgs(emails=["a@example.com", "b@example.com"]))
    )
    key = rec.named("alerts-key")
    assert rec.named("alerts-topic").inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    grants = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert grants["CloudWatchAlarmsEncrypt"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    topic_policy = {
        s["Sid"]: s for s in json.loads(rec.named("alerts-policy").inputs["policy"])["Statement"]
    }
    assert topic_policy["DenyInsecureTransport"]["Effect"] == "Deny"
    subs = rec.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subs) == ["a@example.com", "b@example.com"]
    assert all(s.inputs["protocol"] == "email" for s in subs)


def test_subscription_names_survive_reordering(mocked) -> None:
    emails = ["a@example.com", "b@example.com"]

    def names(order: list[str]) -> set[str]:
        rec = mocked(lambda: AlertTopic("alerts", AlertTopicArgs(emails=order)))
        return {r.name for r in rec.of_type("aws:sns/topicSubscription:TopicSubscription")}

    assert names(emails) == names(list(reversed(emails)))


def test_key_administrator_is_the_account_root(mocked) -> None:
    rec = mocked(lambda: AlertTopic("alerts", AlertTopicArgs()))
    grants = {
        s["Sid"]: s for s in json.loads(rec.named("alerts-key").inputs["policy"])["Statement"]
    }
    assert grants["AccountAdministers"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_webhooks_subscribe_over_https_with_the_url_kept_secret(mocked) -> None:
    hooks = ["https://hooks.example.com/alerts?token=abc", "https://pager.example.com/sns"]
    rec = mocked(
        lambda: AlertTopic("alerts", AlertTopicArgs(emails=["a@example.com"], webhooks=hooks))
    )
    subs = {s.inputs["protocol"]: s for s in rec.of_type(SUBSCRIPTION)}
    webhooks = [s for s in rec.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "https"]
    assert sorted(s.inputs["endpoint"] for s in webhooks) == sorted(hooks)
    assert {s.inputs["topic"] for s in webhooks} == {rec.named("alerts-topic").outputs["arn"]}
    assert "email" in subs
    # The URL (and its token) is neither in the logical name nor in plain state.
    assert all("token" not in s.name for s in webhooks)


def test_webhook_endpoints_are_registered_as_secrets(mocked) -> None:
    rec = mocked(
        lambda: AlertTopic(
            "alerts", AlertTopicArgs(emails=["a@example.com"], webhooks=["https://h.example.com/a"])
        )
    )
    by_protocol = {s.inputs["protocol"]: s for s in rec.of_type(SUBSCRIPTION)}
    assert by_protocol["https"].secret_inputs == ["endpoint"]
    assert by_protocol["email"].secret_inputs == []


@pytest.mark.parametrize("url", ["http://hooks.example.com/a", "hooks.example.com", "https://"])
def test_non_https_webhooks_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"AlertTopicArgs\.webhooks must hold https:// URLs"):
        AlertTopicArgs(webhooks=[url])
