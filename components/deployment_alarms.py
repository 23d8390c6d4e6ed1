"""CloudWatch alarms that tell ECS a deployment is bad, so it rolls back on its own (the onebox/fleet article).

Both alarms watch one target group: a slow release (target response time above a threshold in M of
N one-minute datapoints) and an erroring release (share of target 5xx responses). No traffic is not
a failure, but in prod it is not a pass either: there missing data is "missing" (the alarm goes to
INSUFFICIENT_DATA, which ECS does not roll back on and the release pipeline's bake refuses to call
healthy); elsewhere it is "notBreaching". Never "breaching": a quiet night would roll back every
deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ALB_NAMESPACE = "AWS/ApplicationELB"


@dataclass(frozen=True)
class DeploymentAlarmSpec:
    """Thresholds for the two deployment alarms of one service."""

    alarm_topic_arn: pulumi.Input[str]
    """SNS topic notified when either alarm fires (every alarm has an action)."""
    latency_threshold_seconds: float = 3.0
    latency_datapoints: int = 3
    latency_evaluation_periods: int = 4
    error_rate_percent: float = 5.0
    error_min_requests: int = 10
    """Minutes with fewer requests than this count as healthy: one 5xx out of three is noise."""
    error_datapoints: int = 2
    error_evaluation_periods: int = 2
    period_seconds: int = 60
    treat_missing_data: str = "notBreaching"
    """``missing`` (prod): no requests leaves the alarm INSUFFICIENT_DATA instead of OK."""


def _dimensions(tg_suffix: pulumi.Input[str], lb_suffix: pulumi.Input[str]) -> dict:
    return {"TargetGroup": tg_suffix, "LoadBalancer": lb_suffix}


def deployment_alarms(
    name: str,
    spec: DeploymentAlarmSpec,
    target_group_arn_suffix: pulumi.Input[str],
    load_balancer_arn_suffix: pulumi.Input[str],
    parent: pulumi.Resource,
) -> Sequence[aws.cloudwatch.MetricAlarm]:
    """Create the latency and 5xx-rate alarms for one target group, children of `parent`."""
    if spec.treat_missing_data not in ("missing", "notBreaching"):
        raise ValueError(
            f"DeploymentAlarmSpec.treat_missing_data must be missing or notBreaching, got "
            f"{spec.treat_missing_data!r}"
        )
    opts = pulumi.ResourceOptions(parent=parent)
    dims = _dimensions(target_group_arn_suffix, load_balancer_arn_suffix)
    # Both alarms: breaching means "above the threshold"; no traffic is not a failure; every
    # state change reaches the alert topic.
    shared = {
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": spec.treat_missing_data,
        "alarm_actions": [spec.alarm_topic_arn],
        "ok_actions": [spec.alarm_topic_arn],
    }
    latency = aws.cloudwatch.MetricAlarm(
        f"{name}-latency",
        aws.cloudwatch.MetricAlarmArgs(
            alarm_description=(
                f"{name}: p90 target response time above {spec.latency_threshold_seconds} s in "
                f"{spec.latency_datapoints} of {spec.latency_evaluation_periods} minutes; "
                "ECS rolls the deployment back"
            ),
            namespace=ALB_NAMESPACE,
            metric_name="TargetResponseTime",
            dimensions=dims,
            extended_statistic="p90",
            period=spec.period_seconds,
            evaluation_periods=spec.latency_evaluation_periods,
            datapoints_to_alarm=spec.latency_datapoints,
            threshold=spec.latency_threshold_seconds,
            **shared,
        ),
        opts=opts,
    )

    def metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
        return aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=query_id,
            return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=ALB_NAMESPACE,
                metric_name=metric_name,
                dimensions=dims,
                period=spec.period_seconds,
                stat="Sum",
            ),
        )

    errors = aws.cloudwatch.MetricAlarm(
        f"{name}-5xx-rate",
        aws.cloudwatch.MetricAlarmArgs(
            alarm_description=(
                f"{name}: more than {spec.error_rate_percent} % of requests answered 5xx by targets "
                f"in {spec.error_datapoints} of {spec.error_evaluation_periods} minutes; "
                "ECS rolls the deployment back"
            ),
            metric_queries=[
                metric("errors", "HTTPCode_Target_5XX_Count"),
                metric("requests", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    label="target 5xx share (%)",
                    expression=(
                        f"IF(requests >= {max(spec.error_min_requests, 1)}, "
                        "100 * errors / requests, 0)"
                    ),
                    return_data=True,
                ),
            ],
            evaluation_periods=spec.error_evaluation_periods,
            datapoints_to_alarm=spec.error_datapoints,
            threshold=spec.error_rate_percent,
            **shared,
        ),
        opts=opts,
    )
    return latency, errors
