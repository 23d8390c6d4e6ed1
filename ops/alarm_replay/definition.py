"""An alarm definition in the shape CloudWatch evaluates, read from Pulumi inputs or DescribeAlarms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)


class DefinitionError(ValueError):
    """An alarm the replay cannot read (names the alarm and the field)."""


@dataclass(frozen=True)
class MetricStat:
    """One metric read with one statistic over one period."""

    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    stat: str
    period: int


@dataclass(frozen=True)
class Query:
    """One ``MetricDataQuery``: a metric (``metric``) or an expression over other ids."""

    id: str
    metric: MetricStat | None = None
    expression: str = ""
    return_data: bool = False


@dataclass(frozen=True)
class AlarmDefinition:
    """What decides an alarm's state. ``queries`` always holds the metric(s): a single-metric alarm
    is one query ``m1`` with ``return_data``."""

    name: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    queries: tuple[Query, ...] = field(default_factory=tuple)

    @property
    def metrics(self) -> tuple[MetricStat, ...]:
        return tuple(q.metric for q in self.queries if q.metric is not None)

    @property
    def result(self) -> Query:
        return next(q for q in self.queries if q.return_data)


def _dims(raw: Any) -> dict[str, str]:
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):  # DescribeAlarms: [{"Name": ..., "Value": ...}]
        return {str(d["Name"]): str(d["Value"]) for d in raw}
    return {}


def _int(name: str, key: str, value: Any, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    try:
        return int(str(value))
    except ValueError:
        raise DefinitionError(f"alarm {name!r}: {key} is {value!r}, not a whole number") from None


def _checked(alarm: AlarmDefinition) -> AlarmDefinition:
    where = f"alarm {alarm.name!r}"
    if alarm.treat_missing_data not in TREATMENTS:
        raise DefinitionError(
            f"{where}: treatMissingData {alarm.treat_missing_data!r} is not one of {TREATMENTS}"
        )
    if alarm.comparison not in COMPARISONS:
        raise DefinitionError(
            f"{where}: comparison {alarm.comparison!r} is not one of {COMPARISONS}"
        )
    if not 1 <= alarm.datapoints_to_alarm <= alarm.evaluation_periods:
        raise DefinitionError(
            f"{where}: datapointsToAlarm {alarm.datapoints_to_alarm} must be between 1 and "
            f"evaluationPeriods {alarm.evaluation_periods}"
        )
    if sum(q.return_data for q in alarm.queries) != 1:
        raise DefinitionError(f"{where}: exactly one metric query must return data")
    return alarm


def from_pulumi_inputs(name: str, inputs: Mapping[str, Any]) -> AlarmDefinition:
    """An ``aws:cloudwatch/metricAlarm:MetricAlarm``'s registered inputs (camelCase, as pulumi-aws
    sends them)."""
    evaluation = _int(name, "evaluationPeriods", inputs.get("evaluationPeriods"))
    if inputs.get("metricQueries"):
        queries = []
        for raw in inputs["metricQueries"]:
            metric = raw.get("metric")
            stat = None
            if metric:
                stat = MetricStat(
                    namespace=str(metric.get("namespace", "")),
                    metric_name=str(metric.get("metricName", "")),
                    dimensions=_dims(metric.get("dimensions")),
                    stat=str(metric.get("stat", "")),
                    period=_int(name, "metric.period", metric.get("period")),
                )
            queries.append(
                Query(
                    id=str(raw["id"]),
                    metric=stat,
                    expression=str(raw.get("expression") or ""),
                    return_data=bool(raw.get("returnData", False)),
                )
            )
        period = next((q.metric.period for q in queries if q.metric), 60)
    else:
        period = _int(name, "period", inputs.get("period"))
        stat = str(inputs.get("statistic") or inputs.get("extendedStatistic") or "")
        queries = [
            Query(
                id="m1",
                metric=MetricStat(
                    namespace=str(inputs.get("namespace", "")),
                    metric_name=str(inputs.get("metricName", "")),
                    dimensions=_dims(inputs.get("dimensions")),
                    stat=stat,
                    period=period,
                ),
                return_data=True,
            )
        ]
    return _checked(
        AlarmDefinition(
            name=name,
            period=period,
            evaluation_periods=evaluation,
            datapoints_to_alarm=_int(
                name, "datapointsToAlarm", inputs.get("datapointsToAlarm"), evaluation
            ),
            threshold=float(inputs.get("threshold", 0.0)),
            comparison=str(inputs.get("comparisonOperator", "")),
            treat_missing_data=str(inputs.get("treatMissingData") or "missing"),
            queries=tuple(queries),
        )
    )


def from_describe_alarms(alarm: Mapping[str, Any]) -> AlarmDefinition:
    """One ``MetricAlarms`` entry of CloudWatch ``DescribeAlarms`` (botocore shape ``MetricAlarm``)."""
    name = str(alarm.get("AlarmName", "?"))
    evaluation = _int(name, "EvaluationPeriods", alarm.get("EvaluationPeriods"))
    if alarm.get("Metrics"):
        queries = []
        for raw in alarm["Metrics"]:
            stat_block = raw.get("MetricStat")
            stat = None
            if stat_block:
                metric = stat_block["Metric"]
                stat = MetricStat(
                    namespace=str(metric.get("Namespace", "")),
                    metric_name=str(metric.get("MetricName", "")),
                    dimensions=_dims(metric.get("Dimensions")),
                    stat=str(stat_block.get("Stat", "")),
                    period=_int(name, "MetricStat.Period", stat_block.get("Period")),
                )
            queries.append(
                Query(
                    id=str(raw["Id"]),
                    metric=stat,
                    expression=str(raw.get("Expression") or ""),
                    return_data=bool(raw.get("ReturnData", True)),
                )
            )
        period = next((q.metric.period for q in queries if q.metric), 60)
    else:
        period = _int(name, "Period", alarm.get("Period"))
        queries = [
            Query(
                id="m1",
                metric=MetricStat(
                    namespace=str(alarm.get("Namespace", "")),
                    metric_name=str(alarm.get("MetricName", "")),
                    dimensions=_dims(alarm.get("Dimensions")),
                    stat=str(alarm.get("Statistic") or alarm.get("ExtendedStatistic") or ""),
                    period=period,
                ),
                return_data=True,
            )
        ]
    return _checked(
        AlarmDefinition(
            name=name,
            period=period,
            evaluation_periods=evaluation,
            datapoints_to_alarm=_int(
                name, "DatapointsToAlarm", alarm.get("DatapointsToAlarm"), evaluation
            ),
            threshold=float(alarm.get("Threshold", 0.0)),
            comparison=str(alarm.get("ComparisonOperator", "")),
            treat_missing_data=str(alarm.get("TreatMissingData") or "missing"),
            queries=tuple(queries),
        )
    )
