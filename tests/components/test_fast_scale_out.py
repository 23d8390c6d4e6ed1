"""Fast scale-out on ServiceWithAutoscaling: a 10 s task-CPU alarm driving a step policy, and the
prober told to publish that metric."""

from __future__ import annotations

import json

import pytest

from components.service import FastScaleOutSpec, ScalingSpec, ServiceWithAutoscaling
from tests.components.test_service import service_args
from tests.support.aws_api import api_problems, register_task_definition_params

FAST = FastScaleOutSpec(cpu_threshold=85, datapoints=3, step_tasks=2, cooldown=60)


def fast_args(**overrides):
    scaling = ScalingSpec(min_tasks=2, max_tasks=10, cpu_target=70, fast_scale_out=FAST)
    return service_args(scaling=scaling, **overrides)


@pytest.fixture
def rec(mocked):
    return mocked(lambda: ServiceWithAutoscaling("web", fast_args()))


def test_a_step_policy_adds_bounded_steps_on_the_same_scalable_target(rec) -> None:
    policies = [
        r for r in rec.of_type("aws:appautoscaling/policy:Policy") if r.name == "web-fast-scale-out"
    ]
    assert len(policies) == 1
    policy = policies[0].inputs
    assert policy["policyType"] == "StepScaling"
    assert policy["resourceId"] == rec.named("web-scaling").inputs["resourceId"]
    config = policy["stepScalingPolicyConfiguration"]
    assert config["adjustmentType"] == "ChangeInCapacity"
    assert config["cooldown"] == 60
    assert config["metricAggregationType"] == "Average"
    assert config["stepAdjustments"] == [
        {"metricIntervalLowerBound": "0", "metricIntervalUpperBound": "20", "scalingAdjustment": 2},
        {"metricIntervalLowerBound": "20", "scalingAdjustment": 4},
    ]
    # Target tracking stays for steady state and scale-in.
    assert rec.named("web-cpu-tracking").inputs["policyType"] == "TargetTrackingScaling"


def test_the_alarm_reads_the_task_cpu_at_high_resolution_and_invokes_the_policy(rec) -> None:
    alarm = next(
        r
        for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.name == "web-fast-scale-out"
    ).inputs
    policy = next(
        r for r in rec.of_type("aws:appautoscaling/policy:Policy") if r.name == "web-fast-scale-out"
    )
    assert alarm["alarmActions"] == [policy.outputs["arn"]]
    assert (alarm["namespace"], alarm["metricName"]) == ("steadystate", "task-cpu-utilization")
    assert alarm["dimensions"] == {"Service": "blue-fleet"}
    assert (alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (10, 3, 3)
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (85, "GreaterThanThreshold")
    assert alarm["statistic"] == "Average"
    assert alarm["treatMissingData"] == "notBreaching"


def test_the_prober_publishes_the_metric_the_alarm_reads(rec) -> None:
    containers = json.loads(rec.named("web-taskdef").inputs["containerDefinitions"])
    prober = next(c for c in containers if c["name"] == "prober")
    env = {e["name"]: e["value"] for e in prober["environment"]}
    assert env["SCALING_METRIC_DIMENSION"] == "blue-fleet"
    assert env["TASK_CPU_UNITS"] == str(fast_args().cpu)
    task = register_task_definition_params(rec.named("web-taskdef").inputs)
    assert api_problems("ecs", "RegisterTaskDefinition", task) == ""


def test_without_fast_scale_out_nothing_extra_is_made(mocked) -> None:
    rec = mocked(lambda: ServiceWithAutoscaling("web", service_args()))
    assert "web-fast-scale-out" not in {r.name for r in rec.records}
    containers = json.loads(rec.named("web-taskdef").inputs["containerDefinitions"])
    prober = next(c for c in containers if c["name"] == "prober")
    assert "SCALING_METRIC_DIMENSION" not in {e["name"] for e in prober["environment"]}


def test_fast_scale_out_without_the_prober_is_refused(mocked) -> None:
    with pytest.raises(ValueError, match="fast_scale_out needs the prober sidecar"):
        mocked(lambda: ServiceWithAutoscaling("web", fast_args(prober=None)))
