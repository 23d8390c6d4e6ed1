"""CloudWatch alarms that tell ECS a deployment is bad, so it rolls back on its own (the onebox/fleet article).

Both alarms watch one target group: a slow release (target response time above a threshold in M of
N one-minute datapoints) and an erroring release (share of target 5xx responses).

Both have a verdict in a healthy minute, busy or idle. The ALB publishes ``RequestCount`` and
``TargetResponseTime`` only for periods with requests and ``HTTPCode_Target_5XX_Count`` only for
periods where it is nonzero (Elastic Load Balancing user guide, "CloudWatch metrics for your
Application Load Balancer": "Elastic Load Balancing reports metrics to CloudWatch only when
requests are flowing through the load balancer"; AWS Knowledge Center "Why is my CloudWatch alarm
in INSUFFICIENT_DATA state?": with no 5XX errors in a period "the result is an empty period (rather
than a zero value)"). So:

* the 5xx rate fills the 5xx count with 0 (metric math ``FILL``, CloudWatch user guide "Using
  metric math"), so a minute with requests and no 5xx is a real 0 %, and an M-of-N evaluation
  judges the most recent minutes rather than the most recent minutes that happened to have a 5xx
  ("Evaluating an alarm": with enough existing datapoints CloudWatch evaluates "the most recent
  existing data points"). ``RequestCount`` is deliberately not filled: it decides which minutes
  have a datapoint at all. The same guide warns that when a metric is published "with a slight
  delay, and the most recent minute never has data", ``FILL`` puts its value there and the alarm
  can be "stuck in either OK state or ALARM state"; a filled request count would make the newest
  minute 0 requests, so prod's 1-of-1 alarm would never fire (``ops.alarm_replay`` pins this);
* both read missing data as ``notBreaching``: no requests at all is no failing request. AWS does not
  document what ``FILL`` returns when its metric has no datapoint in the whole window, and an idle
  standby has no ``RequestCount`` either; ``missing`` would leave it in INSUFFICIENT_DATA forever.

Never ``breaching``: a quiet night would roll back every deployment. That a bake had traffic is the
release pipeline's check (its load must get answers), not the alarms'. ``ops.alarm_replay`` replays
both alarms through idle, busy, failing and dead-task streams and pins these outcomes.
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


TREAT_MISSING_DATA = "notBreaching"
"""Both alarms: a minute without requests is not a failing release (see the module docstring)."""


def error_rate_expression(min_requests: int) -> str:
    """The 5xx share in percent, 0 in minutes with fewer than ``min_requests`` requests.

    A datapoint exists exactly for the minutes the ALB published ``RequestCount`` (requests flowed);
    there the 5xx count is ``FILL``ed with 0 because the ALB leaves a healthy minute's
    ``HTTPCode_Target_5XX_Count`` unpublished. ``IF`` with a scalar false branch gives 0 below the
    noise guard.
    """
    return f"IF(requests >= {max(min_requests, 1)}, 100 * FILL(errors, 0) / requests, 0)"


def alb_count_query(
    query_id: str, metric_name: str, dimensions: pulumi.Input[dict], period_seconds: int
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """A metric-math input: the ``Sum`` of an ALB count over ``period_seconds``, not returned."""
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=ALB_NAMESPACE,
            metric_name=metric_name,
            dimensions=dimensions,
            period=period_seconds,
            stat="Sum",
        ),
    )


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
    opts = pulumi.ResourceOptions(parent=parent)
    dims = _dimensions(target_group_arn_suffix, load_balancer_arn_suffix)
    # Both alarms: breaching means "above the threshold"; no traffic is not a failure; every
    # state change reaches the alert topic.
    shared = {
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": TREAT_MISSING_DATA,
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
        return alb_count_query(query_id, metric_name, dims, spec.period_seconds)

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
                    expression=error_rate_expression(spec.error_min_requests),
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
