"""RDS event subscriptions (FSBP RDS.20/21): which subscription covers which instance or parameter
group, with known values and with preview-time unknowns resolved through property dependencies."""

from __future__ import annotations

from typing import Any

import pytest
from policy_harness import UNKNOWN_ARRAY, UNKNOWN_BOOL, UNKNOWN_STRING, Res, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from policy.guardrails import aws_types as t

TOPIC = "arn:aws:sns:us-east-2:123456789012:alerts"
INSTANCE = Res(t.RDS_INSTANCE, "db", {"engine": "postgres", "identifier": "app-db-1"})
GROUP = Res(t.RDS_PARAMETER_GROUP, "db-params", {"name": "db-params-1", "family": "postgres16"})
INSTANCE_EVENTS = ["maintenance", "configuration change", "failure"]


def subscription(name: str = "events", deps: dict[str, list[str]] | None = None, **props: Any):
    base = {
        "snsTopic": TOPIC,
        "sourceType": "db-instance",
        "sourceIds": ["app-db-1"],
        "eventCategories": INSTANCE_EVENTS,
        "enabled": True,
    }
    merged = {k: v for k, v in {**base, **props}.items() if v is not None}
    return Res(t.RDS_EVENT_SUBSCRIPTION, name, merged, deps or {})


def group_subscription(deps: dict[str, list[str]] | None = None, **props: Any):
    defaults = {
        "sourceType": "db-parameter-group",
        "sourceIds": ["db-params-1"],
        "eventCategories": ["configuration change"],
    }
    return subscription("group-events", deps, **{**defaults, **props})


# rds-instance-event-subscription ----------------------------------------------------------------


def test_instance_without_any_subscription_is_reported() -> None:
    outcome = run_stack("rds-instance-event-subscription", [INSTANCE])
    assert_reported(
        outcome,
        INSTANCE,
        'sourceType "db-instance"',
        '"maintenance", "configuration change", "failure"',
        'add an aws:rds/eventSubscription {sourceType: "db-instance"',
    )


def test_instance_with_a_covering_subscription_passes() -> None:
    assert_clean(run_stack("rds-instance-event-subscription", [INSTANCE, subscription()]))


@pytest.mark.parametrize(
    "props",
    [
        {"sourceIds": None},  # every instance
        {"sourceIds": []},
        {"eventCategories": None},  # every category
        {"eventCategories": ["Maintenance", "failure", "configuration change", "failover"]},
        {"sourceType": None, "sourceIds": None},  # every source type
        {"enabled": None},  # enabled by default
    ],
    ids=repr,
)
def test_broader_subscriptions_cover_the_instance(props: dict) -> None:
    outcome = run_stack("rds-instance-event-subscription", [INSTANCE, subscription(**props)])
    assert_clean(outcome)


@pytest.mark.parametrize(
    ("props", "why"),
    [
        ({"enabled": False}, '"events" has enabled=false'),
        ({"eventCategories": ["failure", "availability"]}, '"events" leaves out "maintenance"'),
        ({"sourceIds": ["other-db"]}, '"events" names other sources in sourceIds'),
        ({"sourceType": "db-parameter-group"}, "covers its"),
    ],
    ids=repr,
)
def test_subscriptions_that_miss_the_instance_are_named(props: dict, why: str) -> None:
    outcome = run_stack("rds-instance-event-subscription", [INSTANCE, subscription(**props)])
    assert_reported(outcome, INSTANCE, why)


def test_one_covering_subscription_among_others_is_enough() -> None:
    stack = [INSTANCE, subscription("off", enabled=False), subscription("on")]
    assert_clean(run_stack("rds-instance-event-subscription", stack))


def test_required_categories_come_from_config() -> None:
    config = {"requiredCategories": ["failure", "low storage"]}
    stack = [INSTANCE, subscription()]
    assert_reported(
        run_stack("rds-instance-event-subscription", stack, config=config),
        INSTANCE,
        'leaves out "low storage"',
    )
    narrow = [INSTANCE, subscription(eventCategories=["failure", "low storage"])]
    assert_clean(run_stack("rds-instance-event-subscription", narrow, config=config))


def test_source_ids_computed_from_the_instance_are_followed_during_preview() -> None:
    instance = Res(t.RDS_INSTANCE, "db", {"engine": "postgres", "identifier": UNKNOWN_STRING})
    linked = subscription(sourceIds=[UNKNOWN_STRING], deps={"sourceIds": ["db"]})
    assert_clean(run_stack("rds-instance-event-subscription", [instance, linked]))

    elsewhere = Res(t.RDS_INSTANCE, "other", {"engine": "postgres", "identifier": UNKNOWN_STRING})
    other = subscription(sourceIds=UNKNOWN_ARRAY, deps={"sourceIds": ["other"]})
    assert_reported(
        run_stack("rds-instance-event-subscription", [instance, elsewhere, other]),
        instance,
        "names other sources",
    )


def test_an_unknown_that_decides_skips_with_the_reason() -> None:
    stack = [INSTANCE, subscription(enabled=UNKNOWN_BOOL)]
    outcome = run_stack("rds-instance-event-subscription", stack)
    assert outcome.violations == []
    assert outcome.not_applicable is not None
    assert "unknown during preview" in outcome.not_applicable
    assert "<unknown" not in outcome.not_applicable


def test_stack_without_instances_is_not_concerned() -> None:
    assert_clean(run_stack("rds-instance-event-subscription", [GROUP]))


# rds-parameter-group-event-subscription -----------------------------------------------------


def test_parameter_group_without_subscription_is_reported() -> None:
    outcome = run_stack("rds-parameter-group-event-subscription", [GROUP, subscription()])
    assert_reported(
        outcome,
        GROUP,
        'sourceType "db-parameter-group"',
        '"configuration change"',
        "sourceIds: [<this parameter group name>]",
    )


def test_parameter_group_with_a_covering_subscription_passes() -> None:
    assert_clean(run_stack("rds-parameter-group-event-subscription", [GROUP, group_subscription()]))
    by_dependency = group_subscription(
        sourceIds=[UNKNOWN_STRING], deps={"sourceIds": ["db-params"]}
    )
    group = Res(t.RDS_PARAMETER_GROUP, "db-params", {"name": UNKNOWN_STRING})
    assert_clean(run_stack("rds-parameter-group-event-subscription", [group, by_dependency]))


def test_parameter_group_subscription_without_configuration_changes_is_reported() -> None:
    stack = [GROUP, group_subscription(eventCategories=["failure"])]
    outcome = run_stack("rds-parameter-group-event-subscription", stack)
    assert_reported(outcome, GROUP, 'leaves out "configuration change"')
