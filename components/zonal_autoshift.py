"""ZonalAutoshift: one environment's load balancer under Route 53 ARC zonal autoshift, the alarms
that guard its weekly practice runs, and the alarm that says one zone alone has lost its hosts.

What AWS does and requires (Route 53 ARC developer guide, "Zonal autoshift",
https://docs.aws.amazon.com/r53recovery/latest/dg/arc-zonal-autoshift.html, and botocore's
``arc-zonal-shift/2022-10-30`` model, ``CreatePracticeRunConfiguration``):

* autoshift needs a *practice run configuration*; ARC then shifts the resource out of one zone
  "about weekly ... for about 30 minutes". An *outcome alarm* is required (1..10, ``OutcomeAlarms``
  ``min`` 1): in ALARM it ends the practice run as FAILED. *Blocking alarms* (0..10) keep a practice
  run from starting, and stop one in progress, while they are in ALARM. Alarms must be CloudWatch
  alarms of the resource's region (``ControlConditionType`` ``CLOUDWATCH``);
* allowed windows (0..15) are ``Day:HH:MM-Day:HH:MM`` in UTC (``AllowedWindow`` pattern, 19
  characters), start and end on the same day, and cannot be combined with blocked windows
  (terraform-provider-aws ``internal/service/arczonalshift/zonal_autoshift_configuration.go``:
  ``ConflictsWith``);
* the load balancer needs the ARC integration on (ELB attribute ``zonal_shift.config.enabled``,
  pulumi-aws ``LoadBalancerArgs.enable_zonal_shift``; "Zonal shift is disabled by default and must
  be enabled on each Application Load Balancer", ELB user guide, "Enable zonal shift for your
  Application Load Balancer"). Cross-zone load balancing may stay on: "Application Load Balancer
  supports zonal shift with cross-zone enabled or cross-zone disabled configurations" (ARC guide,
  "Application Load Balancers"), and with it on a shift also stops the other zones' nodes from
  routing to the shifted zone's targets (AWS Networking blog, "Using cross-zone load balancing with
  zonal shift"). Older ARC pages that require cross-zone off predate that support.

The outcome alarms are the load balancer's 5xx shares, one for its targets' 5xx and one for its
own (502/503/504 when the remaining zones' targets cannot answer): a practice run fails when the
remaining zones cannot carry the service. Two alarms, not one sum: ``FILL`` of a metric with no
datapoint in the whole window is undocumented (``ops.alarm_replay.metric_math``), and the load
balancer's own 5xx count is absent in every healthy window, so a sum could stay empty. The blocking
alarms are the environment's deployment alarms and connectivity alarm: no practice while a release
is failing or a dependency is lost. Practice windows skip the chaos days (``default_practice_days``).

The zone alarm reads the fleet's ``HealthyHostCount`` per zone (``AvailabilityZone``,
``LoadBalancer``, ``TargetGroup``; "Reporting criteria: Reported if health checks are enabled", ELB
user guide, "CloudWatch metrics for your Application Load Balancer") and fires when some zone has
no healthy host while another zone still has one: a zone lost alone, which a zonal shift can fix.
It needs at least one fleet task per zone (tasks spread over zones first), so it is created only
where the fleet's minimum covers every zone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from policy.guardrails import limits

from .deployment_alarms import ALB_NAMESPACE, alb_count_query, error_rate_expression

ARC_WINDOW = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun):[0-9]{2}:[0-9]{2}-(Mon|Tue|Wed|Thu|Fri|Sat|Sun):[0-9]{2}:[0-9]{2}"
)
"""botocore ``arc-zonal-shift`` shape ``AllowedWindow`` (length 19)."""
MAX_WINDOWS = 15
"""``AllowedWindows`` ``max``."""
MAX_ALARMS = 10
"""``OutcomeAlarms`` / ``BlockingAlarms`` ``max``."""
PRACTICE_RUN_MINUTES = 30
"""How long a practice run shifts traffic (ARC guide, "Zonal autoshift components")."""
_DAY_NAMES = {"MON": "Mon", "TUE": "Tue", "WED": "Wed", "THU": "Thu", "FRI": "Fri"}


def default_practice_days(chaos_days: Collection[str]) -> list[str]:
    """The business days (``limits.BUSINESS_DAYS``) without the days chaos runs (its weekday, and
    the day after it when the AZ experiment runs), so a practice run never overlaps a chaos
    experiment; every business day without chaos."""
    return [day for day in limits.BUSINESS_DAYS if day not in chaos_days]


def practice_windows(days: Sequence[str], start_hour: int, end_hour: int) -> list[str]:
    """ARC allowed windows (UTC) ``Tue:09:00-Tue:17:00``, one per day; ValueError naming the bad
    input otherwise."""
    if not days:
        raise ValueError("practice days: need at least one day")
    if len(days) > MAX_WINDOWS:
        raise ValueError(f"practice days: ARC takes at most {MAX_WINDOWS} windows, got {len(days)}")
    if not 0 <= start_hour < end_hour <= 23:
        raise ValueError(
            f"practice hours {start_hour}-{end_hour}: need 0 <= start < end <= 23 (a window "
            "starts and ends on the same day)"
        )
    windows = []
    for day in days:
        if day not in _DAY_NAMES:
            raise ValueError(f"practice day {day!r}: must be one of {', '.join(_DAY_NAMES)}")
        name = _DAY_NAMES[day]
        window = f"{name}:{start_hour:02d}:00-{name}:{end_hour:02d}:00"
        if not ARC_WINDOW.fullmatch(window):
            raise ValueError(f"practice window {window!r} does not match ARC's format")
        windows.append(window)
    return windows


def zone_lost_expression(query_ids: Sequence[str]) -> str:
    """1 while some zone has no healthy host and some zone still has one, else 0.

    No ``FILL``: the gauge is published every minute, and ``FILL`` would put its value in the
    newest minute before the load balancer has published it (CloudWatch user guide, "Using metric
    math"), which reads as every zone empty and no host anywhere: 0 in every newest minute, so a
    3-of-3 alarm could never fire (``ops.alarm_replay`` showed it). A zone with no datapoint in a
    minute counts as 0 hosts in the sum and as not empty ("Missing values in a time series are
    treated as 0"; a comparison over a missing value has no point): never a false alarm.
    """
    if len(query_ids) < 2:
        raise ValueError("the zone alarm compares zones: it needs at least two")
    empty = " + ".join(f"({q} < 1)" for q in query_ids)
    return f"({empty}) >= 1 AND ({' + '.join(query_ids)}) >= 1"


@dataclass(frozen=True)
class ZonalAutoshiftArgs:
    load_balancer_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    zones: Sequence[str]
    """The stack's zone NAMES (the ``AvailabilityZone`` dimension's values)."""
    alarm_topic_arn: pulumi.Input[str]
    """SNS topic every alarm notifies."""
    allowed_windows: Sequence[str]
    """ARC allowed windows (``practice_windows``)."""
    blocking_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms that keep practice runs from starting (at most 10)."""
    fleet_target_group_arn_suffix: pulumi.Input[str] | None = None
    """The fleet's target group; with it, the zone alarm is created."""
    autoshift: bool = True
    """False: the outcome alarm and zone alarm only (dev), no autoshift configuration."""
    error_rate_percent: float = 5.0
    min_requests: int = 10
    outcome_datapoints: int = 2
    outcome_evaluation_periods: int = 3
    zone_datapoints: int = 3
    zone_evaluation_periods: int = 3
    period_seconds: int = 60


def _check(args: ZonalAutoshiftArgs) -> None:
    if len(args.blocking_alarm_arns) > MAX_ALARMS:
        raise ValueError(
            f"ZonalAutoshiftArgs.blocking_alarm_arns: ARC takes at most {MAX_ALARMS} blocking "
            f"alarms, got {len(args.blocking_alarm_arns)}"
        )
    for window in args.allowed_windows:
        if not ARC_WINDOW.fullmatch(window):
            raise ValueError(
                f"ZonalAutoshiftArgs.allowed_windows: {window!r} is not Day:HH:MM-Day:HH:MM"
            )
    if args.fleet_target_group_arn_suffix is not None:
        zone_lost_expression(list(args.zones))


class ZonalAutoshift(pulumi.ComponentResource):
    """Zonal autoshift for one load balancer. Guarantees: outcome alarms on the load balancer's
    5xx shares (targets', its own); with ``autoshift``, an ARC autoshift configuration ENABLED
    whose practice runs are judged by those alarms, blocked by ``blocking_alarm_arns`` and allowed only in
    ``allowed_windows``; with a fleet target group, a zone alarm that fires when one zone alone
    has no healthy fleet host. Every alarm notifies the topic on ALARM and OK."""

    outcome_alarm_arns: list[pulumi.Output[str]]
    zone_alarm_arn: pulumi.Output[str] | None
    alarm_arns: list[pulumi.Output[str]]
    """The alarms created here (outcome, then zone)."""

    def __init__(
        self, name: str, args: ZonalAutoshiftArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _check(args)
        super().__init__("steadystate:zonal_autoshift:ZonalAutoshift", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        actions = {
            "alarm_actions": [args.alarm_topic_arn],
            "ok_actions": [args.alarm_topic_arn],
            # A minute without requests (or a gauge with no datapoint yet) is not a failure.
            "treat_missing_data": "notBreaching",
        }
        lb_dims = {"LoadBalancer": args.load_balancer_arn_suffix}

        def count(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return alb_count_query(query_id, metric_name, lb_dims, args.period_seconds)

        outcomes = []
        for kind, metric_name, who in (
            ("target", "HTTPCode_Target_5XX_Count", "its targets"),
            ("elb", "HTTPCode_ELB_5XX_Count", "the load balancer itself (no target, 502/503/504)"),
        ):
            outcomes.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-lb-{kind}-5xx-rate",
                    aws.cloudwatch.MetricAlarmArgs(
                        alarm_description=(
                            f"{name}: more than {args.error_rate_percent} % of the load "
                            f"balancer's requests answered 5xx by {who} in "
                            f"{args.outcome_datapoints} of {args.outcome_evaluation_periods} "
                            "minutes; ends an ARC practice run as FAILED"
                        ),
                        metric_queries=[
                            count("errors", metric_name),
                            count("requests", "RequestCount"),
                            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                                id="rate",
                                label=f"load balancer {kind} 5xx share (%)",
                                expression=error_rate_expression(args.min_requests),
                                return_data=True,
                            ),
                        ],
                        comparison_operator="GreaterThanThreshold",
                        threshold=args.error_rate_percent,
                        evaluation_periods=args.outcome_evaluation_periods,
                        datapoints_to_alarm=args.outcome_datapoints,
                        **actions,
                    ),
                    opts=child,
                )
            )
        self.outcome_alarm_arns = [alarm.arn for alarm in outcomes]
        self.alarm_arns = list(self.outcome_alarm_arns)

        self.zone_alarm_arn = None
        if args.fleet_target_group_arn_suffix is not None:
            ids = [f"zone{index}" for index in range(len(args.zones))]
            queries = [
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=query_id,
                    label=zone,
                    return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=ALB_NAMESPACE,
                        metric_name="HealthyHostCount",
                        dimensions={
                            "AvailabilityZone": zone,
                            "LoadBalancer": args.load_balancer_arn_suffix,
                            "TargetGroup": args.fleet_target_group_arn_suffix,
                        },
                        period=args.period_seconds,
                        stat="Minimum",
                    ),
                )
                for query_id, zone in zip(ids, args.zones, strict=True)
            ]
            zone_alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-zone-lost",
                aws.cloudwatch.MetricAlarmArgs(
                    alarm_description=(
                        f"{name}: a zone has no healthy fleet host while another still has one, "
                        f"in {args.zone_datapoints} of {args.zone_evaluation_periods} minutes: "
                        "one zone lost alone (start a zonal shift away from it if autoshift has not)"
                    ),
                    metric_queries=[
                        *queries,
                        aws.cloudwatch.MetricAlarmMetricQueryArgs(
                            id="lost",
                            label="one zone without healthy hosts (1 = yes)",
                            expression=zone_lost_expression(ids),
                            return_data=True,
                        ),
                    ],
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    threshold=1,
                    evaluation_periods=args.zone_evaluation_periods,
                    datapoints_to_alarm=args.zone_datapoints,
                    **actions,
                ),
                opts=child,
            )
            self.zone_alarm_arn = zone_alarm.arn
            self.alarm_arns.append(zone_alarm.arn)

        if args.autoshift:
            aws.arczonalshift.ZonalAutoshiftConfiguration(
                f"{name}-autoshift",
                aws.arczonalshift.ZonalAutoshiftConfigurationArgs(
                    resource_arn=args.load_balancer_arn,
                    zonal_autoshift_status="ENABLED",
                    outcome_alarms=[
                        aws.arczonalshift.ZonalAutoshiftConfigurationOutcomeAlarmArgs(
                            alarm_identifier=arn, type="CLOUDWATCH"
                        )
                        for arn in self.outcome_alarm_arns
                    ],
                    blocking_alarms=[
                        aws.arczonalshift.ZonalAutoshiftConfigurationBlockingAlarmArgs(
                            alarm_identifier=arn, type="CLOUDWATCH"
                        )
                        for arn in args.blocking_alarm_arns
                    ],
                    allowed_windows=list(args.allowed_windows),
                ),
                opts=child,
            )
        self.register_outputs({"outcome_alarm_arns": self.outcome_alarm_arns})
