"""Publish an experiment's outcome to CloudWatch, so a dashboard tracks resilience over time.

Namespace ``steadystate/chaos``, metric ``ExperimentSucceeded`` (1 or 0, unit Count), published
twice per run: with the dimension ``Experiment`` alone (the series a dashboard graphs across
stacks) and with ``Experiment`` + ``Stack`` (to tell dev from prod). CloudWatch never aggregates
across dimension sets, hence both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

NAMESPACE = "steadystate/chaos"
METRIC = "ExperimentSucceeded"


def outcome_metric_data(
    experiment: str, succeeded: bool, stack: str | None, when: datetime | None = None
) -> list[dict[str, Any]]:
    base = [{"Name": "Experiment", "Value": experiment}]
    dimension_sets = [base] + ([[*base, {"Name": "Stack", "Value": stack}]] if stack else [])
    datum: dict[str, Any] = {"MetricName": METRIC, "Value": 1.0 if succeeded else 0.0}
    datum["Unit"] = "Count"
    if when is not None:
        datum["Timestamp"] = when
    return [{**datum, "Dimensions": dims} for dims in dimension_sets]


def publish_outcome(
    cloudwatch: Any,
    experiment: str,
    succeeded: bool,
    stack: str | None = None,
    when: datetime | None = None,
) -> list[dict[str, Any]]:
    """``put_metric_data`` for one run; returns what was sent."""
    data = outcome_metric_data(experiment, succeeded, stack, when)
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
    return data
