"""Step-scaling guardrails for fast scale-out: bounded steps, and a trigger that needs sustained
load above the steady-state target.

Target tracking keeps a service at its target and owns scale-in; a step policy on a 10-second
alarm only adds tasks quickly after a load step. Wrongly tuned, it either adds a cluster's worth of
tasks on one blip or fights target tracking, adding tasks that target tracking then removes.
"""

from __future__ import annotations

from . import limits
from .aws_types import METRIC_ALARM, SCALING_POLICY
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import fmt, is_unknown

_STEP = "stepScalingPolicyConfiguration"
_TRACKING = "targetTrackingScalingPolicyConfiguration"


@resource_rule(
    "step-scaling-bounded",
    types=SCALING_POLICY,
    level=MANDATORY,
    config={
        "maxStepAdjustment": {
            "type": "integer",
            "minimum": 1,
            "default": limits.FAST_SCALE_OUT_MAX_STEP,
            "description": "Most tasks one step adjustment may add.",
        },
        "minCooldownSeconds": {
            "type": "integer",
            "minimum": 0,
            "default": limits.FAST_SCALE_OUT_MIN_COOLDOWN,
            "description": "Shortest cooldown a step-scaling policy may use.",
        },
    },
    description=(
        "Step-scaling policies add a bounded number of tasks per step (ChangeInCapacity, "
        "1 to the configured maximum, default 10), leave scale-in to target tracking, and wait at "
        "least the configured cooldown (default 30 s) between steps. Mandatory: an unbounded or "
        "unspaced step on a 10-second alarm can take a cluster's whole capacity on one blip."
    ),
)
def step_scaling_bounded(check: ResourceCheck) -> None:
    if check.known("policyType") != "StepScaling":
        return
    config = check.known(_STEP) or {}
    kind = config.get("adjustmentType")
    if kind != "ChangeInCapacity":
        check.violation(
            f"{_STEP}.adjustmentType is {fmt(kind)}; a step must add a known number of tasks",
            f"set {_STEP}.adjustmentType=ChangeInCapacity",
        )
    ceiling = check.config["maxStepAdjustment"]
    steps: list[dict] = config.get("stepAdjustments") or []  # fully known: check.known above
    for index, step in enumerate(steps):
        problem = limits.step_adjustment_problem(int(step.get("scalingAdjustment", 0)), ceiling)
        if problem:
            check.violation(
                f"{_STEP}.stepAdjustments[{index}].scalingAdjustment {problem}",
                f"set it between 1 and {ceiling}; scale-in belongs to target tracking",
            )
    floor = check.config["minCooldownSeconds"]
    cooldown = config.get("cooldown")
    if not isinstance(cooldown, int | float) or cooldown < floor:
        check.violation(
            f"{_STEP}.cooldown is {fmt(cooldown)}, under {floor} s: new tasks have not reported yet",
            f"set {_STEP}.cooldown to at least {floor}",
        )


def _step_policies_of(check: StackCheck, alarm: StackResource) -> list[StackResource]:
    linked = alarm.depends_on("alarmActions")
    return [
        p
        for p in check.of_type(SCALING_POLICY)
        if p.urn in linked and p.get("policyType") == "StepScaling"
    ]


def _tracking_target(check: StackCheck, step: StackResource) -> float | None:
    """The CPU target of the target-tracking policy on the same scalable target as `step`."""
    for policy in check.of_type(SCALING_POLICY):
        metric = policy.get(f"{_TRACKING}.predefinedMetricSpecification.predefinedMetricType")
        same = policy.get("resourceId") == step.get("resourceId")
        if same and metric == "ECSServiceAverageCPUUtilization":
            value = policy.get(f"{_TRACKING}.targetValue")
            return float(value) if isinstance(value, int | float) else None
    return None


@stack_rule(
    "step-scaling-alarm-sustained",
    level=MANDATORY,
    config={
        "minDatapoints": {
            "type": "integer",
            "minimum": 1,
            "default": limits.FAST_SCALE_OUT_MIN_DATAPOINTS,
            "description": "Fewest datapoints an alarm driving a step-scaling policy may fire on.",
        },
    },
    description=(
        "An alarm that drives a step-scaling policy fires only on sustained load (at least the "
        "configured datapoints, default 2) and, when it follows CPU, above the CPU target of the "
        "service's target tracking. Mandatory: one busy 10-second sample is not load, and a "
        "threshold at or below the tracking target adds tasks that target tracking then removes."
    ),
)
def step_scaling_alarm_sustained(check: StackCheck) -> None:
    minimum = check.config["minDatapoints"]
    for alarm in check.of_type(METRIC_ALARM):
        steps = _step_policies_of(check, alarm)
        if not steps:
            continue
        datapoints = alarm.get("datapointsToAlarm", alarm.get("evaluationPeriods"))
        if is_unknown(datapoints):
            check.note(f"the datapoints of {alarm.label()} are unknown during preview")
        elif not isinstance(datapoints, int | float) or datapoints < minimum:
            check.violation(
                alarm,
                f"it scales out on {fmt(datapoints)} datapoint(s)",
                f"set datapointsToAlarm and evaluationPeriods to at least {minimum}",
            )
        metric, threshold = str(alarm.get("metricName") or ""), alarm.get("threshold")
        if "cpu" not in metric.lower() or not isinstance(threshold, int | float):
            continue
        for step in steps:
            target = _tracking_target(check, step)
            if target is not None and threshold <= target:
                check.violation(
                    alarm,
                    f"threshold {fmt(threshold)} is not above the CPU tracking target "
                    f"{fmt(target)} of {step.get('resourceId')}",
                    f"set threshold above {fmt(target)} (settings: service.fastScaleOut.cpuThreshold)",
                )


POLICIES = [step_scaling_bounded, step_scaling_alarm_sustained]
