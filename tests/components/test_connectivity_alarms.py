"""ConnectivityAlarms under mocks: per-pair alarms, aggregates, their topic, validation."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components.connectivity_alarms import (
    AGGREGATE_METRIC,
    ConnectivityAlarms,
    ConnectivityAlarmsArgs,
    metric_name,
)

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC_ARN = "arn:aws:sns:us-east-2:123456789012:alerts"

ARGS = ConnectivityAlarmsArgs(
    environments=["blue", "green"],
    dependencies=["db", "cdn"],
    namespace="steadystate",
    topic_arn=TOPIC_ARN,
)


def build(args: ConnectivityAlarmsArgs = ARGS, name: str = "conn") -> ConnectivityAlarms:
    component = ConnectivityAlarms(name, args)
    pulumi.export("aggregate_alarm_names", component.aggregate_alarm_names)
    pulumi.export("alarm_names", component.alarm_names)
    pulumi.export("alarm_arns", component.alarm_arns)
    pulumi.export("region", component.region)
    return component


@pytest.fixture
def rec(mocked):
    return mocked(build)


def test_one_alarm_per_environment_and_dependency_plus_one_aggregate_each(rec) -> None:
    names = sorted(r.name for r in rec.of_type(ALARM))
    assert names == sorted(
        f"conn-{env}-{dep}" for env in ("blue", "green") for dep in ("db", "cdn", "all")
    )


@pytest.mark.parametrize("env", ["blue", "green"])
@pytest.mark.parametrize("dep", ["db", "cdn", "all"])
def test_alarm_semantics(rec, env: str, dep: str) -> None:
    inputs = rec.named(f"conn-{env}-{dep}").inputs
    assert inputs["namespace"] == "steadystate"
    assert inputs["metricName"] == metric_name(dep)
    assert inputs["dimensions"] == {"Host": env}
    assert inputs["statistic"] == "Minimum"
    assert "extendedStatistic" not in inputs and "metricQueries" not in inputs
    assert inputs["threshold"] == 1
    assert inputs["comparisonOperator"] == "LessThanThreshold"
    assert inputs["period"] == 60
    assert inputs["evaluationPeriods"] == 2
    assert inputs["datapointsToAlarm"] == 2
    assert inputs["treatMissingData"] == "breaching"


def test_every_alarm_notifies_the_given_topic(rec) -> None:
    topic_arn = TOPIC_ARN
    for alarm in rec.of_type(ALARM):
        assert alarm.inputs["actionsEnabled"] is True
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]


def test_aggregate_is_a_plain_metric_alarm_on_all_connectivity(rec) -> None:
    assert AGGREGATE_METRIC == "all-connectivity"
    for env in ("blue", "green"):
        aggregate = rec.named(f"conn-{env}-all")
        assert aggregate.type == ALARM  # not a composite alarm: Route 53 could not follow it
        assert aggregate.inputs["metricName"] == "all-connectivity"
        assert rec.outputs["aggregate_alarm_names"][env] == aggregate.outputs["name"]
    assert not rec.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")


def test_outputs_name_every_alarm_and_the_region(rec) -> None:
    assert rec.outputs["alarm_names"]["green"]["cdn"] == rec.named("conn-green-cdn").outputs["name"]
    assert sorted(rec.outputs["alarm_arns"]) == sorted(a.outputs["arn"] for a in rec.of_type(ALARM))
    assert rec.outputs["region"] == "us-east-2"


def test_children_are_parented_and_named_after_the_component(rec) -> None:
    component = rec.named("conn")
    assert component.type == "steadystate:connectivity_alarms:ConnectivityAlarms"
    children = rec.children_of(component)
    assert children and len(children) == len(rec.records) - 1
    assert all(c.name.startswith("conn-") for c in children)
    assert all("name" not in c.inputs for c in children)  # physical names are auto-generated


def test_custom_periods_flow_through(mocked) -> None:
    args = dataclasses.replace(
        ARGS, period_seconds=120, evaluation_periods=3, datapoints_to_alarm=2
    )
    rec = mocked(lambda: build(args))
    for alarm in rec.of_type(ALARM):
        assert (alarm.inputs["period"], alarm.inputs["evaluationPeriods"]) == (120, 3)
        assert alarm.inputs["datapointsToAlarm"] == 2


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"environments": []}, "environments"),
        ({"environments": ["blue", "blue"]}, "environments"),
        ({"dependencies": ["db", "all"]}, "dependencies"),
        ({"dependencies": ["bad name"]}, "dependencies"),
        ({"namespace": "AWS/ECS"}, "namespace"),
        ({"period_seconds": 30}, "period_seconds"),
        ({"period_seconds": 90}, "period_seconds"),
        ({"evaluation_periods": 0}, "evaluation_periods"),
        ({"evaluation_periods": 2000}, "evaluation_periods"),
        ({"datapoints_to_alarm": 3}, "datapoints_to_alarm"),
        ({"datapoints_to_alarm": 0}, "datapoints_to_alarm"),
    ],
)
def test_invalid_args_raise_naming_the_argument(change: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"ConnectivityAlarmsArgs\.{arg} must be"):
        ConnectivityAlarms("conn", dataclasses.replace(ARGS, **change))
