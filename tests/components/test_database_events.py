"""RDS event notifications under mocks: the Database subscribes its instance, its parameter group
and DB security groups to the alert topic with the FSBP categories, and the AlertTopic's key and
topic policy admit events.rds.amazonaws.com for this account's RDS resources only."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.alert_topic import AlertTopic, AlertTopicArgs
from components.database import Database, DatabaseArgs

SUBSCRIPTION = "aws:rds/eventSubscription:EventSubscription"
INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS = "events.rds.amazonaws.com"
ACCOUNT = "123456789012"
SOURCE_ARN = f"arn:aws:rds:us-east-2:{ACCOUNT}:*"

ARGS = DatabaseArgs(
    vpc_id="vpc-0123",
    isolated_subnet_ids=["subnet-iso-a", "subnet-iso-b"],
    client_security_group_ids=["sg-ecs-instances"],
    tags={"Project": "steadystate"},
)


def _wired() -> None:
    alerts = AlertTopic("alerts", AlertTopicArgs(emails=["a@example.com"], rds_events=True))
    Database("db", dataclasses.replace(ARGS, event_topic_arn=alerts.topic_arn))


@pytest.fixture
def wired(mocked):
    return mocked(_wired)


def subscriptions(rec) -> dict[str, dict]:
    return {r.inputs["sourceType"]: r.inputs for r in rec.of_type(SUBSCRIPTION)}


def test_instance_parameter_group_and_security_groups_notify_the_alert_topic(wired) -> None:
    topic_arn = wired.named("alerts-topic").outputs["arn"]
    by_type = subscriptions(wired)
    assert set(by_type) == {"db-instance", "db-parameter-group", "db-security-group"}
    assert {s["snsTopic"] for s in by_type.values()} == {topic_arn}
    assert all(s["enabled"] is True for s in by_type.values())
    assert all(s["tags"] == {"Project": "steadystate"} for s in by_type.values())
    assert by_type["db-instance"]["eventCategories"] == [
        "maintenance",
        "configuration change",
        "failure",
    ]
    assert by_type["db-parameter-group"]["eventCategories"] == ["configuration change"]
    assert by_type["db-security-group"]["eventCategories"] == ["configuration change", "failure"]


def test_subscriptions_name_this_stacks_instance_and_parameter_group(wired) -> None:
    (instance,) = wired.of_type(INSTANCE)
    (group,) = wired.of_type(PARAMETER_GROUP)
    by_type = subscriptions(wired)
    assert by_type["db-instance"]["sourceIds"] == [instance.outputs["identifier"]]
    assert by_type["db-parameter-group"]["sourceIds"] == [group.outputs["name"]]
    # No DB security groups exist for a VPC instance: the subscription names none (all).
    assert "sourceIds" not in by_type["db-security-group"]
    records = {r.inputs["sourceType"]: r for r in wired.of_type(SUBSCRIPTION)}
    assert instance.urn in records["db-instance"].property_dependencies["sourceIds"]
    assert group.urn in records["db-parameter-group"].property_dependencies["sourceIds"]


def test_no_topic_no_subscriptions(mocked) -> None:
    rec = mocked(lambda: Database("db", ARGS))
    assert rec.of_type(SUBSCRIPTION) == []


def _statements(document: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def test_key_and_topic_policy_admit_rds_events_for_this_account_only(wired) -> None:
    key = _statements(wired.named("alerts-key").inputs["policy"])["RdsEventsEncrypt"]
    assert key["Principal"] == {"Service": RDS}
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    topic = wired.named("alerts-topic").outputs["arn"]
    publish = _statements(wired.named("alerts-policy").inputs["policy"])["RdsEventsPublish"]
    assert publish["Principal"] == {"Service": RDS}
    assert publish["Action"] == ["sns:Publish"]
    assert publish["Resource"] == [topic]
    for grant in (key, publish):
        assert grant["Effect"] == "Allow"
        assert grant["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": SOURCE_ARN},
        }


def test_without_rds_events_only_cloudwatch_is_admitted(mocked) -> None:
    rec = mocked(lambda: AlertTopic("alerts", AlertTopicArgs(emails=["a@example.com"])))
    for resource in ("alerts-key", "alerts-policy"):
        document = rec.named(resource).inputs["policy"]
        assert RDS not in document
        services = {
            s["Principal"].get("Service")
            for s in json.loads(document)["Statement"]
            if s["Effect"] == "Allow" and "Service" in s["Principal"]
        }
        assert services == {"cloudwatch.amazonaws.com"}
