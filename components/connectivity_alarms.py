"""Alarms on the prober's ``<dependency>-connectivity`` metrics, and one Route 53-ready
aggregate alarm per environment.

The prober publishes, every 10 s at standard resolution with unit Count and dimension
``Host=<environment>``, one metric ``<dependency>-connectivity`` per dependency (1 reachable,
0 not) and ``all-connectivity`` (the minimum of those, i.e. 0 as soon as any dependency is down).

Why the aggregate is an alarm on ``all-connectivity`` and not a composite or metric-math alarm:
a Route 53 ``CLOUDWATCH_METRIC`` health check describes the alarm it follows with
``CloudWatchAlarmConfiguration``, whose ``MetricName``, ``Namespace``, ``Statistic`` and ``Period``
are all required, and Route 53 documents support only for standard-resolution metrics and the
statistics Average/Minimum/Maximum/Sum/SampleCount (``AlarmIdentifier`` in the Route 53 API
reference). A composite alarm has no metric and a metric-math alarm has no single metric or
statistic, so neither can be described there; an alarm on one real metric always can.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import pulumi
import pulumi_aws as aws

AGGREGATE_DEPENDENCY = "all"
"""Pseudo-dependency name of the aggregate: the prober publishes ``all-connectivity``."""

METRIC_SUFFIX = "-connectivity"
"""Suffix of every connectivity metric name."""

HOST_DIMENSION = "Host"
"""Dimension the prober tags every sample with; its value is the environment (``blue``)."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SECONDS_PER_DAY = 86_400


def metric_name(dependency: str) -> str:
    """The metric the prober publishes for ``dependency``: ``db`` -> ``db-connectivity``."""
    return f"{dependency}{METRIC_SUFFIX}"


AGGREGATE_METRIC = metric_name(AGGREGATE_DEPENDENCY)
"""``all-connectivity``: 1 when every dependency is reachable, else 0."""


@dataclass(frozen=True)
class ConnectivityAlarmsArgs:
    """Inputs of :class:`ConnectivityAlarms`; all known before deploy."""

    environments: Sequence[str]
    """Values of the ``Host`` dimension, one per environment (``["blue", "green"]``)."""
    dependencies: Sequence[str]
    """Dependency names as the prober knows them (``["db", "cdn"]``); ``all`` is reserved."""
    namespace: str
    """CloudWatch namespace the prober publishes into (not an ``AWS/`` namespace)."""
    topic_arn: pulumi.Input[str]
    """SNS topic every alarm notifies on ALARM and OK (the stack's AlertTopic)."""
    period_seconds: int = 60
    """Alarm period; a multiple of 60 so the alarm stays standard resolution for Route 53."""
    evaluation_periods: int = 2
    """N of "M out of N": how many recent periods the alarm looks at."""
    datapoints_to_alarm: int = 2
    """M of "M out of N": how many of them must breach (be below 1, or missing)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"ConnectivityAlarmsArgs.{arg} must be {allowed} (got {value!r})")


def _check_names(arg: str, names: Sequence[str]) -> None:
    if isinstance(names, str) or not names:
        raise _problem(arg, names, "a non-empty list of names")
    for name in names:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise _problem(arg, names, "names of letters, digits, '_', '.', '-' (max 63)")
    if len(set(names)) != len(names):
        raise _problem(arg, names, "a list without duplicates")


@dataclass(frozen=True)
class AlarmEvaluation:
    """Everything that decides when one connectivity alarm fires: the metric it reads and how.

    These are the settings Route 53 copies into a ``CLOUDWATCH_METRIC`` health check when the
    check is created (``CloudWatchAlarmConfiguration``) and never refreshes afterwards, so a
    change to any of them must replace the check (see :func:`fingerprint`).
    """

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison_operator: str
    treat_missing_data: str

    def fingerprint(self) -> str:
        """A short stable hash of these settings; equal settings give equal fingerprints."""
        fields = {**asdict(self), "dimensions": dict(sorted(self.dimensions.items()))}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def alarm_evaluation(
    environment: str, dependency: str, args: ConnectivityAlarmsArgs
) -> AlarmEvaluation:
    """How the alarm on ``dependency`` in ``environment`` evaluates: ``Minimum < 1`` for M of N
    periods, missing data breaching."""
    return AlarmEvaluation(
        namespace=args.namespace,
        metric_name=metric_name(dependency),
        dimensions={HOST_DIMENSION: environment},
        statistic="Minimum",
        period=args.period_seconds,
        evaluation_periods=args.evaluation_periods,
        datapoints_to_alarm=args.datapoints_to_alarm,
        threshold=1,
        comparison_operator="LessThanThreshold",
        treat_missing_data="breaching",
    )


def validate_args(args: ConnectivityAlarmsArgs) -> None:
    """Raise ValueError naming the argument, its value and what is allowed."""
    _check_names("environments", args.environments)
    _check_names("dependencies", args.dependencies)
    if AGGREGATE_DEPENDENCY in args.dependencies:
        raise _problem(
            "dependencies",
            list(args.dependencies),
            f"free of the reserved name {AGGREGATE_DEPENDENCY!r}",
        )
    if not args.namespace or args.namespace.startswith("AWS/"):
        raise _problem("namespace", args.namespace, "a non-empty custom namespace (not AWS/...)")
    period = args.period_seconds
    if isinstance(period, bool) or not isinstance(period, int) or period < 60 or period % 60:
        raise _problem("period_seconds", period, "a positive multiple of 60")
    n = args.evaluation_periods
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _problem("evaluation_periods", n, "a whole number >= 1")
    if n * period > _SECONDS_PER_DAY:
        raise _problem(
            "evaluation_periods", n, f"at most {_SECONDS_PER_DAY // period} with {period} s periods"
        )
    m = args.datapoints_to_alarm
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= n:
        raise _problem("datapoints_to_alarm", m, f"between 1 and evaluation_periods {n}")


class ConnectivityAlarms(pulumi.ComponentResource):
    """Per environment x dependency connectivity alarms plus a per-environment aggregate.

    Guarantees:

    * one alarm per (environment, dependency) on ``<dependency>-connectivity`` with
      ``Host=<environment>``: ``Minimum < 1`` for M of N periods, missing data breaching;
    * one aggregate alarm per environment on ``all-connectivity`` with the same semantics, a
      single standard-resolution metric alarm that a Route 53 ``CLOUDWATCH_METRIC`` check accepts;
    * every alarm sends ALARM and OK notifications to the given topic.
    """

    alarm_names: dict[str, dict[str, pulumi.Output[str]]]
    """environment -> dependency -> alarm name."""
    alarm_arns: list[pulumi.Output[str]]
    """ARNs of every alarm (per-dependency and aggregate), for an alarm-status widget."""
    aggregate_alarm_names: dict[str, pulumi.Output[str]]
    """environment -> name of the aggregate alarm, for BlueGreenDns."""
    aggregate_alarm_arns: dict[str, pulumi.Output[str]]
    """environment -> ARN of the aggregate alarm."""
    aggregate_alarm_fingerprints: dict[str, str]
    """environment -> :meth:`AlarmEvaluation.fingerprint` of its aggregate alarm (known before
    deploy), so a Route 53 check that copied the alarm's settings can be replaced when they change."""
    region: pulumi.Output[str]
    """Region the alarms live in: ``cloudwatch_alarm_region`` of the Route 53 health checks."""

    def __init__(
        self,
        name: str,
        args: ConnectivityAlarmsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:connectivity_alarms:ConnectivityAlarms", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        tags = dict(args.tags)

        self.region = aws.get_region_output(opts=invoke).region
        topic_arn = args.topic_arn
        self.alarm_names = {}
        self.aggregate_alarm_names = {}
        self.aggregate_alarm_arns = {}
        self.aggregate_alarm_fingerprints = {}
        self.alarm_arns = []
        for environment in args.environments:
            self.alarm_names[environment] = {}
            for dependency in args.dependencies:
                alarm = self._alarm(name, environment, dependency, args, topic_arn, tags)
                self.alarm_names[environment][dependency] = alarm.name
                self.alarm_arns.append(alarm.arn)
            aggregate = self._alarm(name, environment, AGGREGATE_DEPENDENCY, args, topic_arn, tags)
            self.aggregate_alarm_names[environment] = aggregate.name
            self.aggregate_alarm_arns[environment] = aggregate.arn
            self.aggregate_alarm_fingerprints[environment] = alarm_evaluation(
                environment, AGGREGATE_DEPENDENCY, args
            ).fingerprint()
            self.alarm_arns.append(aggregate.arn)

        self.register_outputs(
            {
                "alarm_names": self.alarm_names,
                "aggregate_alarm_names": self.aggregate_alarm_names,
                "region": self.region,
            }
        )

    def _alarm(
        self,
        name: str,
        environment: str,
        dependency: str,
        args: ConnectivityAlarmsArgs,
        topic_arn: pulumi.Input[str],
        tags: dict[str, str],
    ) -> aws.cloudwatch.MetricAlarm:
        what = "every dependency" if dependency == AGGREGATE_DEPENDENCY else dependency
        description = (
            f"{environment}: {what} unreachable - {metric_name(dependency)} (Host={environment}) "
            f"below 1 in {args.datapoints_to_alarm} of {args.evaluation_periods} "
            f"{args.period_seconds} s periods; missing data counts as unreachable."
        )
        evaluation = alarm_evaluation(environment, dependency, args)
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{environment}-{dependency}",
            aws.cloudwatch.MetricAlarmArgs(
                alarm_description=description,
                namespace=evaluation.namespace,
                metric_name=evaluation.metric_name,
                dimensions=dict(evaluation.dimensions),
                statistic=evaluation.statistic,
                period=evaluation.period,
                evaluation_periods=evaluation.evaluation_periods,
                datapoints_to_alarm=evaluation.datapoints_to_alarm,
                threshold=evaluation.threshold,
                comparison_operator=evaluation.comparison_operator,
                treat_missing_data=evaluation.treat_missing_data,
                actions_enabled=True,
                alarm_actions=[topic_arn],
                ok_actions=[topic_arn],
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
