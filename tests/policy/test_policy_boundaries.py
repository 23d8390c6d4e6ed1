"""Each policy's boundaries and exemptions, through the policy's own validate().

The per-policy cases (``policy_cases*.py``) show one violating and one compliant input, usually far
from the limit; a rule written ``<`` for ``<=`` passes them. Here every rule with a numeric or
time boundary is run at the limit (accepted) and one step past it (refused), on both sides where
it has two, and every exemption a rule's description promises is run (not judged) beside the
same input without it (judged). The limits come from :mod:`policy.guardrails.limits`, the values
the pack's config defaults to; an exemption's source is in the rule's description.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from policy_cases import CASES, GOOD_RDS, GOOD_SERVICE, scaling_policy, with_
from policy_cases_chaos import (
    AZ_TEMPLATE,
    FLEET_TASK,
    GOOD_TEMPLATE,
    RETRIES,
    ZONE_HOSTS,
    kept,
    schedule,
)
from policy_cases_lambda import FUNCTION
from policy_harness import POLICIES, Res, run_resource, run_stack

from policy.guardrails import aws_types as t
from policy.guardrails import limits
from policy.guardrails.framework import StackGuardrail

DEV = {"environment": "dev"}
LISTENER, TARGET_GROUP = t.LISTENERS[0], t.TARGET_GROUPS[0]


@dataclass(frozen=True)
class Edge:
    """One input at (or one step past) a policy's boundary, and whether the policy refuses it."""

    id: str
    policy: str
    type: str
    props: dict[str, Any]
    refused: bool
    config: dict[str, Any] | None = None


def step_policy(adjustment: int = 2, cooldown: int = 60) -> dict[str, Any]:
    return {
        "policyType": "StepScaling",
        "stepScalingPolicyConfiguration": {
            "adjustmentType": "ChangeInCapacity",
            "cooldown": cooldown,
            "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": adjustment}],
        },
    }


def tracking_cooldown(seconds: int | None) -> dict[str, Any]:
    policy = scaling_policy(60)
    if seconds is not None:
        policy["targetTrackingScalingPolicyConfiguration"]["scaleOutCooldown"] = seconds
    return policy


def failover_record(ttl: int) -> dict[str, Any]:
    return {
        "name": "api",
        "type": "CNAME",
        "ttl": ttl,
        "records": ["a"],
        "failoverRoutingPolicies": [{"type": "PRIMARY"}],
    }


def health_check(interval: int, threshold: int) -> dict[str, Any]:
    return {
        "type": "HTTPS",
        "fqdn": "alb.example.com",
        "resourcePath": "/health",
        "port": 443,
        "requestInterval": interval,
        "failureThreshold": threshold,
    }


def connectivity_alarm(period: int, datapoints: int) -> dict[str, Any]:
    return {
        "metricName": "db-connectivity",
        "namespace": "steadystate",
        "period": period,
        "evaluationPeriods": datapoints,
        "datapointsToAlarm": datapoints,
        "treatMissingData": "breaching",
    }


def fis(selection: str) -> dict[str, Any]:
    return with_(GOOD_TEMPLATE, targets=[with_(FLEET_TASK, selectionMode=selection)])


START, END = limits.BUSINESS_HOURS_START, limits.BUSINESS_HOURS_END
LOW, HIGH = limits.TARGET_VALUE_LOW, limits.TARGET_VALUE_HIGH
CAP, PROD_MIN = limits.MAX_CAPACITY_CAP, limits.PROD_MINIMUM_CAPACITY
TTL = limits.DNS_TTL_CEILING_SECONDS
DETECT = limits.FAILOVER_TARGET_SECONDS - limits.FAILOVER_TTL_SECONDS  # 30 s for a health check
CONN = limits.CONNECTIVITY_DETECTION_CEILING_SECONDS
GRACE = limits.HEALTH_CHECK_GRACE_MINIMUM_SECONDS
BACKUP = limits.BACKUP_RETENTION_MINIMUM_DAYS
STEP, STEP_COOL = limits.FAST_SCALE_OUT_MAX_STEP, limits.FAST_SCALE_OUT_MIN_COOLDOWN
OUT_COOL = limits.SCALE_OUT_COOLDOWN_CEILING_SECONDS
HEALTHY = limits.PROD_MINIMUM_HEALTHY_PERCENT
COUNT, PERCENT = limits.FIS_TARGET_COUNT_CEILING, limits.FIS_TARGET_PERCENT_CEILING
RETENTION = limits.LOG_RETENTION_MINIMUM_DAYS
RETENTION_BELOW = max(d for d in limits.CLOUDWATCH_RETENTION_DAYS if d < RETENTION)
RETRY_AGE = limits.CHAOS_SCHEDULE_MAX_RETRY_AGE_SECONDS
RDS_MAX_BACKUP = 35  # RDS BackupRetentionPeriod 0..35 (CreateDBInstance API reference)

EDGES = [
    # chaos-schedule-cadence: a run starts at or after the window's first hour, before its end
    Edge(
        "first hour",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(f"cron(0 {START} ? * TUE *)"),
        False,
    ),
    Edge(
        "hour before",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(f"cron(59 {START - 1} ? * TUE *)"),
        True,
    ),
    Edge(
        "last hour",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(f"cron(59 {END - 1} ? * TUE *)"),
        False,
    ),
    Edge(
        "end hour", "chaos-schedule-cadence", t.SCHEDULE, schedule(f"cron(0 {END} ? * TUE *)"), True
    ),
    Edge(
        "window ends a minute before the end",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(
            f"cron(0 {END - 1} ? * TUE *)",
            flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 59},
        ),
        False,
    ),
    Edge(
        "window reaches the end",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(
            f"cron(0 {END - 1} ? * TUE *)",
            flexibleTimeWindow={"mode": "FLEXIBLE", "maximumWindowInMinutes": 60},
        ),
        True,
    ),
    Edge("friday", "chaos-schedule-cadence", t.SCHEDULE, schedule("cron(0 10 ? * FRI *)"), False),
    Edge("saturday", "chaos-schedule-cadence", t.SCHEDULE, schedule("cron(0 10 ? * SAT *)"), True),
    # every 35 days at most: monthly (28-35 days apart) passes, every other month does not
    Edge(
        "monthly", "chaos-schedule-cadence", t.SCHEDULE, schedule("cron(0 10 ? * TUE#1 *)"), False
    ),
    Edge(
        "bimonthly",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule("cron(0 10 ? 1/2 TUE#1 *)"),
        True,
    ),
    # autoscaling-target-value-range: LOW..HIGH inclusive
    Edge("low", "autoscaling-target-value-range", t.SCALING_POLICY, scaling_policy(LOW), False),
    Edge(
        "below low",
        "autoscaling-target-value-range",
        t.SCALING_POLICY,
        scaling_policy(LOW - 1),
        True,
    ),
    Edge("high", "autoscaling-target-value-range", t.SCALING_POLICY, scaling_policy(HIGH), False),
    Edge(
        "above high",
        "autoscaling-target-value-range",
        t.SCALING_POLICY,
        scaling_policy(HIGH + 1),
        True,
    ),
    # autoscaling-capacity-bounds: max <= CAP, min <= max
    Edge(
        "cap",
        "autoscaling-capacity-bounds",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 2, "maxCapacity": CAP},
        False,
    ),
    Edge(
        "over cap",
        "autoscaling-capacity-bounds",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 2, "maxCapacity": CAP + 1},
        True,
    ),
    Edge(
        "min = max",
        "autoscaling-capacity-bounds",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 4, "maxCapacity": 4},
        False,
    ),
    # autoscaling-prod-min-capacity: prod keeps at least PROD_MIN
    Edge(
        "prod minimum",
        "autoscaling-prod-min-capacity",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": PROD_MIN, "maxCapacity": 4},
        False,
    ),
    Edge(
        "below prod minimum",
        "autoscaling-prod-min-capacity",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": PROD_MIN - 1, "maxCapacity": 4},
        True,
    ),
    # dns-routing-ttl-ceiling
    Edge("ttl ceiling", "dns-routing-ttl-ceiling", t.DNS_RECORD, failover_record(TTL), False),
    Edge("ttl over", "dns-routing-ttl-ceiling", t.DNS_RECORD, failover_record(TTL + 1), True),
    # dns-health-check-detection-within-target: interval x threshold <= target - TTL
    Edge(
        "detection budget",
        "dns-health-check-detection-within-target",
        t.DNS_HEALTH_CHECK,
        health_check(10, DETECT // 10),
        False,
    ),
    Edge(
        "detection over",
        "dns-health-check-detection-within-target",
        t.DNS_HEALTH_CHECK,
        health_check(10, DETECT // 10 + 1),
        True,
    ),
    # connectivity-alarm-detection-within-target: period x datapoints <= CONN
    Edge(
        "connectivity budget",
        "connectivity-alarm-detection-within-target",
        t.METRIC_ALARM,
        connectivity_alarm(60, CONN // 60),
        False,
    ),
    Edge(
        "connectivity over",
        "connectivity-alarm-detection-within-target",
        t.METRIC_ALARM,
        connectivity_alarm(60, CONN // 60 + 1),
        True,
    ),
    # ecs-service-health-check-grace-period: at least GRACE
    Edge(
        "grace",
        "ecs-service-health-check-grace-period",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, healthCheckGracePeriodSeconds=GRACE),
        False,
    ),
    Edge(
        "grace short",
        "ecs-service-health-check-grace-period",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, healthCheckGracePeriodSeconds=GRACE - 1),
        True,
    ),
    # rds-backup-retention: BACKUP..35
    Edge(
        "backup minimum",
        "rds-backup-retention",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, backupRetentionPeriod=BACKUP),
        False,
    ),
    Edge(
        "backup short",
        "rds-backup-retention",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, backupRetentionPeriod=BACKUP - 1),
        True,
    ),
    Edge(
        "backup maximum",
        "rds-backup-retention",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, backupRetentionPeriod=RDS_MAX_BACKUP),
        False,
    ),
    Edge(
        "backup over",
        "rds-backup-retention",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, backupRetentionPeriod=RDS_MAX_BACKUP + 1),
        True,
    ),
    # log-group-retention: the smallest allowed value and the CloudWatch value just below it
    Edge(
        "retention minimum",
        "log-group-retention",
        t.LOG_GROUP,
        {"name": "/ecs/web", "retentionInDays": RETENTION},
        False,
    ),
    Edge(
        "retention below",
        "log-group-retention",
        t.LOG_GROUP,
        {"name": "/ecs/web", "retentionInDays": RETENTION_BELOW},
        True,
    ),
    # step-scaling-bounded: 1..STEP tasks, cooldown >= STEP_COOL
    Edge("largest step", "step-scaling-bounded", t.SCALING_POLICY, step_policy(STEP), False),
    Edge("step too large", "step-scaling-bounded", t.SCALING_POLICY, step_policy(STEP + 1), True),
    Edge("smallest step", "step-scaling-bounded", t.SCALING_POLICY, step_policy(1), False),
    Edge("no step", "step-scaling-bounded", t.SCALING_POLICY, step_policy(0), True),
    Edge(
        "shortest cooldown",
        "step-scaling-bounded",
        t.SCALING_POLICY,
        step_policy(cooldown=STEP_COOL),
        False,
    ),
    Edge(
        "cooldown short",
        "step-scaling-bounded",
        t.SCALING_POLICY,
        step_policy(cooldown=STEP_COOL - 1),
        True,
    ),
    # autoscaling-scale-out-cooldown: at most OUT_COOL (unset target tracking means 300 s)
    Edge(
        "cooldown ceiling",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        tracking_cooldown(OUT_COOL),
        False,
    ),
    Edge(
        "cooldown over",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        tracking_cooldown(OUT_COOL + 1),
        True,
    ),
    Edge(
        "cooldown unset",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        tracking_cooldown(None),
        True,
    ),
    Edge(
        "step cooldown ceiling",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        step_policy(cooldown=OUT_COOL),
        False,
    ),
    Edge(
        "step cooldown over",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        step_policy(cooldown=OUT_COOL + 1),
        True,
    ),
    # ecs-service-prod-minimum-healthy-percent
    Edge(
        "healthy floor",
        "ecs-service-prod-minimum-healthy-percent",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=HEALTHY),
        False,
    ),
    Edge(
        "healthy below",
        "ecs-service-prod-minimum-healthy-percent",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=HEALTHY - 1),
        True,
    ),
    # ecs-service-deployment-headroom: maximum above minimum
    Edge(
        "headroom",
        "ecs-service-deployment-headroom",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=100, deploymentMaximumPercent=101),
        False,
    ),
    Edge(
        "no headroom",
        "ecs-service-deployment-headroom",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=100, deploymentMaximumPercent=100),
        True,
    ),
    # fis-template-bounded-targets: COUNT(n <= COUNT), PERCENT(n <= PERCENT)
    Edge(
        "count ceiling",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        fis(f"COUNT({COUNT})"),
        False,
    ),
    Edge(
        "count over",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        fis(f"COUNT({COUNT + 1})"),
        True,
    ),
    Edge(
        "percent ceiling",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        fis(f"PERCENT({PERCENT})"),
        False,
    ),
    # rds-enhanced-monitoring: 0 < monitoringInterval <= 60
    Edge(
        "coarsest monitoring",
        "rds-enhanced-monitoring",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, monitoringInterval=60),
        False,
    ),
    Edge(
        "monitoring off",
        "rds-enhanced-monitoring",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, monitoringInterval=0),
        True,
    ),
    Edge(
        "finest monitoring",
        "rds-enhanced-monitoring",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, monitoringInterval=1),
        False,
    ),
    Edge(
        "percent over",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        fis(f"PERCENT({PERCENT + 1})"),
        True,
    ),
    # chaos-schedule-failures-kept: at least one retry, retrying no longer than the ceiling
    Edge(
        "one retry",
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumRetryAttempts": 1}),
        False,
    ),
    Edge(
        "no retry",
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumRetryAttempts": 0}),
        True,
    ),
    Edge(
        "retry age at the ceiling",
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumEventAgeInSeconds": RETRY_AGE}),
        False,
    ),
    Edge(
        "retry age past the ceiling",
        "chaos-schedule-failures-kept",
        t.SCHEDULE,
        kept({**RETRIES, "maximumEventAgeInSeconds": RETRY_AGE + 1}),
        True,
    ),
]

IMAGE_FUNCTION = {
    "role": FUNCTION["role"],
    "packageType": "Image",
    "imageUri": "123456789012.dkr.ecr.us-east-2.amazonaws.com/fn@sha256:" + "a" * 64,
}
# Exemptions each rule's description promises, and the same input where they do not apply.
EXEMPTIONS = [
    # fis-template-bounded-targets: ALL hosts filtered to exactly one zone (an AZ experiment)
    Edge(
        "ALL hosts of one zone",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        AZ_TEMPLATE,
        False,
    ),
    Edge(
        "ALL hosts of two zones",
        "fis-template-bounded-targets",
        t.FIS_EXPERIMENT_TEMPLATE,
        with_(
            AZ_TEMPLATE,
            targets=[
                ZONE_HOSTS
                | {"filters": [{"path": "Placement.AvailabilityZone", "values": ["a", "b"]}]},
                *AZ_TEMPLATE["targets"][1:],
            ],
        ),
        True,
    ),
    Edge(
        "container image: no runtime",
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        IMAGE_FUNCTION,
        False,
    ),
    Edge(
        "image with an old runtime",
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        with_(IMAGE_FUNCTION, runtime="python3.8"),
        False,
    ),
    Edge(
        "zip without runtime",
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        with_(IMAGE_FUNCTION, packageType="Zip"),
        True,
    ),
    Edge(
        "zip is the default",
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        {k: v for k, v in FUNCTION.items() if k != "packageType"} | {"runtime": "python3.8"},
        True,
    ),
    Edge(
        "dev: healthy floor not judged",
        "ecs-service-prod-minimum-healthy-percent",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=50),
        False,
        DEV,
    ),
    Edge(
        "dev: prod minimum not judged",
        "autoscaling-prod-min-capacity",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 1, "maxCapacity": 4},
        False,
        DEV,
    ),
    Edge(
        "dev: disabled schedule allowed",
        "chaos-schedule-enabled-in-prod",
        t.SCHEDULE,
        schedule("cron(0 10 ? * TUE *)", state="DISABLED"),
        False,
        DEV,
    ),
    Edge(
        "prod: disabled schedule",
        "chaos-schedule-enabled-in-prod",
        t.SCHEDULE,
        schedule("cron(0 10 ? * TUE *)", state="DISABLED"),
        True,
    ),
    Edge(
        "not a FIS schedule: any hour",
        "chaos-schedule-cadence",
        t.SCHEDULE,
        schedule(
            "cron(0 3 ? * SUN *)",
            target={
                "arn": "arn:aws:lambda:us-east-2:123456789012:function:f",
                "roleArn": "arn:aws:iam::123456789012:role/s",
            },
        ),
        False,
    ),
    Edge(
        "daemon service: no headroom needed",
        "ecs-service-deployment-headroom",
        t.ECS_SERVICE,
        with_(
            GOOD_SERVICE,
            schedulingStrategy="DAEMON",
            deploymentMinimumHealthyPercent=100,
            deploymentMaximumPercent=100,
        ),
        False,
    ),
    Edge(
        "scale-in step: no cooldown ceiling",
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        step_policy(-1, cooldown=900),
        False,
    ),
    Edge(
        "non-connectivity alarm: no detection budget",
        "connectivity-alarm-detection-within-target",
        t.METRIC_ALARM,
        with_(connectivity_alarm(300, 5), metricName="CPUUtilization"),
        False,
    ),
    Edge(
        "alarm-backed check: no interval budget",
        "dns-health-check-detection-within-target",
        t.DNS_HEALTH_CHECK,
        {
            "type": "CLOUDWATCH_METRIC",
            "cloudwatchAlarmName": "a",
            "cloudwatchAlarmRegion": "us-east-2",
            "insufficientDataHealthStatus": "Unhealthy",
        },
        False,
    ),
]


@pytest.mark.parametrize("edge", EDGES + EXEMPTIONS, ids=lambda e: f"{e.policy}[{e.id}]")
def test_boundary_and_exemption(edge: Edge) -> None:
    outcome = run_resource(edge.policy, edge.type, edge.props, name="edge", config=edge.config)
    if edge.refused:
        assert outcome.messages, f"{edge.policy} accepted {edge.id}: {json.dumps(edge.props)}"
    else:
        assert outcome.messages == [], outcome.text


NUMERIC_RULES = {
    "chaos-schedule-cadence",
    "chaos-schedule-failures-kept",
    "autoscaling-target-value-range",
    "autoscaling-capacity-bounds",
    "autoscaling-prod-min-capacity",
    "dns-routing-ttl-ceiling",
    "dns-health-check-detection-within-target",
    "connectivity-alarm-detection-within-target",
    "ecs-service-health-check-grace-period",
    "rds-backup-retention",
    "log-group-retention",
    "step-scaling-bounded",
    "autoscaling-scale-out-cooldown",
    "ecs-service-prod-minimum-healthy-percent",
    "ecs-service-deployment-headroom",
    "fis-template-bounded-targets",
    "rds-enhanced-monitoring",
}
"""Resource rules whose verdict turns on a number (a limit, a time, a count)."""


def test_every_numeric_rule_has_an_edge_on_each_side() -> None:
    """Each rule with a numeric boundary is run at the limit (accepted) and past it (refused)."""
    for name in NUMERIC_RULES:
        verdicts = {e.refused for e in EDGES if e.policy == name}
        assert verdicts == {True, False}, f"{name}: needs an accepted and a refused edge"


def test_every_rule_using_a_limit_is_listed_as_numeric() -> None:
    """A resource rule whose config defaults to a number from ``limits`` is a numeric rule."""
    numeric_defaults = {
        name
        for name, policy in POLICIES.items()
        if not isinstance(policy, StackGuardrail)
        and policy.config_schema is not None
        and any(
            isinstance(spec.get("default"), int) and not isinstance(spec.get("default"), bool)
            for spec in policy.config_schema.properties.values()
        )
    }
    assert numeric_defaults <= NUMERIC_RULES, sorted(numeric_defaults - NUMERIC_RULES)


def test_every_prod_only_rule_is_not_judged_in_dev() -> None:
    """The prod-only exemption: each prod-only resource rule's violating case passes in dev."""
    prod_only = {n for n, p in POLICIES.items() if getattr(p, "prod_only", False)}
    resource_cases = {c.policy: c for c in CASES}
    for name in sorted(prod_only & set(resource_cases)):
        case = resource_cases[name]
        assert run_resource(name, case.type, case.bad, config=case.config).messages, name
        dev = run_resource(name, case.type, case.bad, config={**(case.config or {}), **DEV})
        assert dev.messages == [], f"{name} judged a dev stack: {dev.text}"


def test_onebox_share_at_the_ceiling_passes_and_one_past_is_refused() -> None:
    """Stack rule onebox-traffic-share: the onebox's weight share <= ONEBOX_SHARE_CEILING_PERCENT."""
    ceiling = limits.ONEBOX_SHARE_CEILING_PERCENT

    def listener(onebox: int, fleet: int) -> list[Res]:
        groups = [
            Res(TARGET_GROUP, "onebox", {"arn": "arn:onebox", "tags": {"Role": "onebox"}}),
            Res(TARGET_GROUP, "fleet", {"arn": "arn:fleet", "tags": {"Role": "fleet"}}),
        ]
        forward = {
            "type": "forward",
            "forward": {
                "targetGroups": [
                    {"arn": "arn:onebox", "weight": onebox},
                    {"arn": "arn:fleet", "weight": fleet},
                ]
            },
        }
        return [*groups, Res(LISTENER, "l", {"defaultActions": [forward]})]

    assert run_stack("onebox-traffic-share", listener(ceiling, 100 - ceiling)).messages == []
    assert run_stack("onebox-traffic-share", listener(ceiling + 1, 99 - ceiling)).messages
