"""Failover timing: Route 53 health checks and connectivity alarms notice a failure fast enough for
DNS failover to meet its target, and never call silence healthy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import limits
from .alarms import CONNECTIVITY_SUFFIX, _metric_names
from .aws_types import DNS_HEALTH_CHECK, METRIC_ALARM
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import fmt, is_unknown

ENDPOINT_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
"""Health-check types that probe an endpoint every requestInterval seconds."""

ROUTE53_DEFAULT_INTERVAL = 30
ROUTE53_DEFAULT_THRESHOLD = 3


def _budget_config_check(props: Mapping[str, Any], level: str | None) -> list[str]:
    target, ttl = props.get("failoverTargetSeconds"), props.get("ttlSeconds")
    if isinstance(target, int | float) and isinstance(ttl, int | float) and ttl >= target:
        return [
            f"ttlSeconds {fmt(ttl)} must be below failoverTargetSeconds {fmt(target)}: "
            "nothing would be left for detection"
        ]
    return []


@resource_rule(
    "dns-health-check-detection-within-target",
    types=DNS_HEALTH_CHECK,
    level=MANDATORY,
    config={
        "failoverTargetSeconds": {
            "type": "integer",
            "minimum": 1,
            "default": limits.FAILOVER_TARGET_SECONDS,
            "description": "Seconds from an environment failing to resolvers using the secondary.",
        },
        "ttlSeconds": {
            "type": "integer",
            "minimum": 0,
            "default": limits.FAILOVER_TTL_SECONDS,
            "description": "DNS TTL counted against the target (60 for ALB alias records).",
        },
    },
    config_check=_budget_config_check,
    description=(
        "Endpoint health checks (HTTP/HTTPS/TCP) detect a failure within the failover target "
        "minus the DNS TTL: requestInterval x failureThreshold <= 90 - 60 = 30 s by default. "
        "Mandatory: with Route 53's defaults (30 s x 3) failover takes 90 s plus the TTL, "
        "which misses the target before a single resolver moves."
    ),
)
def dns_health_check_detection(check: ResourceCheck) -> None:
    kind = check.known("type")
    if kind not in ENDPOINT_CHECK_TYPES:
        return
    interval = check.known("requestInterval") or ROUTE53_DEFAULT_INTERVAL
    threshold = check.known("failureThreshold") or ROUTE53_DEFAULT_THRESHOLD
    budget = check.config["failoverTargetSeconds"] - check.config["ttlSeconds"]
    problem = limits.detection_seconds_problem(
        interval, threshold, budget, "requestInterval × failureThreshold"
    )
    if problem:
        best = max(1, int(budget // 10))
        check.violation(
            f"{problem} (failover target {check.config['failoverTargetSeconds']} s minus "
            f"{check.config['ttlSeconds']} s TTL)",
            f"set requestInterval=10 and failureThreshold={best} or less",
        )


@resource_rule(
    "dns-alarm-health-check-unhealthy-on-missing-data",
    types=DNS_HEALTH_CHECK,
    level=MANDATORY,
    description=(
        'CLOUDWATCH_METRIC health checks set insufficientDataHealthStatus="Unhealthy". '
        "Mandatory: when the alarm has no data (the prober died, the metric stopped) "
        '"Healthy" keeps traffic on a broken environment and "LastKnownStatus" freezes the '
        "last good answer; Route 53 must fail over instead."
    ),
)
def dns_alarm_health_check_missing_data(check: ResourceCheck) -> None:
    if check.known("type") != "CLOUDWATCH_METRIC":
        return
    status = check.known("insufficientDataHealthStatus")
    if status != "Unhealthy":
        check.violation(
            "insufficientDataHealthStatus is "
            f"{fmt(status) if status else 'unset (Route 53 then keeps the last known status)'}",
            'set insufficientDataHealthStatus="Unhealthy"',
        )


@resource_rule(
    "connectivity-alarm-detection-within-target",
    types=METRIC_ALARM,
    level=MANDATORY,
    config={
        "detectionCeilingSeconds": {
            "type": "integer",
            "minimum": 60,
            "default": limits.CONNECTIVITY_DETECTION_CEILING_SECONDS,
            "description": "Longest period x datapointsToAlarm for a connectivity alarm.",
        }
    },
    description=(
        "Alarms on a '<dependency>-connectivity' metric go off within the ceiling (default 180 "
        "s): period x datapointsToAlarm (evaluationPeriods when unset). Mandatory: the alarm "
        "backs a Route 53 health check, so a slow alarm is a slow failover after a dependency "
        "is lost."
    ),
)
def connectivity_alarm_detection(check: ResourceCheck) -> None:
    names = _metric_names(check)
    connectivity = [n for n in names if isinstance(n, str) and n.endswith(CONNECTIVITY_SUFFIX)]
    if not connectivity:
        if any(is_unknown(n) for n in names):
            check.note("the alarm's metric name is unknown during preview")
        return
    period = check.known("period")
    if period is None:
        queries = check.known("metricQueries", []) or []
        period = next(
            (q["metric"].get("period") for q in queries if isinstance(q.get("metric"), dict)), None
        )
    datapoints = check.known("datapointsToAlarm") or check.known("evaluationPeriods")
    ceiling = check.config["detectionCeilingSeconds"]
    problem = limits.detection_seconds_problem(
        period, datapoints, ceiling, "period × datapointsToAlarm"
    )
    if problem:
        check.violation(
            f"the alarm on {connectivity[0]}: {problem}",
            f"set period=60 and datapointsToAlarm (and evaluationPeriods) to at most "
            f"{max(1, ceiling // 60)}",
        )


POLICIES = [
    dns_health_check_detection,
    dns_alarm_health_check_missing_data,
    connectivity_alarm_detection,
]
