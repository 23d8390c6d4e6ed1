"""Publish an experiment's outcome to CloudWatch, so a dashboard tracks resilience over time.

Namespace ``steadystate/chaos``, metric ``ExperimentSucceeded`` (1 or 0, unit Count) and, when the
experiment measured load during the fault, ``ErrorRateDuringFault`` (unit Percent), published
twice per run: with the dimension ``Experiment`` alone (the series a dashboard graphs across
stacks) and with ``Experiment`` + ``Stack`` (to tell dev from prod). CloudWatch never aggregates
across dimension sets, hence both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

NAMESPACE = "steadystate/chaos"
METRIC = "ExperimentSucceeded"
ERROR_RATE_METRIC = "ErrorRateDuringFault"


def fault_error_rate(journal: Mapping[str, Any]) -> float | None:
    """The error rate (0-1) ``chaos.load.finish_load`` measured in the method, if it ran."""
    for record in journal.get("run") or []:
        provider = (record.get("activity") or {}).get("provider") or {}
        output = record.get("output")
        if provider.get("func") == "finish_load" and isinstance(output, Mapping):
            rate = output.get("error_rate")
            return None if rate is None else float(rate)
    return None


def outcome_metric_data(
    experiment: str,
    succeeded: bool,
    stack: str | None,
    when: datetime | None = None,
    error_rate: float | None = None,
) -> list[dict[str, Any]]:
    base = [{"Name": "Experiment", "Value": experiment}]
    dimension_sets = [base] + ([[*base, {"Name": "Stack", "Value": stack}]] if stack else [])
    data: list[dict[str, Any]] = [
        {"MetricName": METRIC, "Value": 1.0 if succeeded else 0.0, "Unit": "Count"}
    ]
    if error_rate is not None:
        data.append(
            {"MetricName": ERROR_RATE_METRIC, "Value": 100.0 * error_rate, "Unit": "Percent"}
        )
    if when is not None:
        data = [{**datum, "Timestamp": when} for datum in data]
    return [{**datum, "Dimensions": dims} for datum in data for dims in dimension_sets]


def publish_outcome(
    cloudwatch: Any,
    experiment: str,
    succeeded: bool,
    stack: str | None = None,
    when: datetime | None = None,
    error_rate: float | None = None,
) -> list[dict[str, Any]]:
    """``put_metric_data`` for one run; returns what was sent."""
    data = outcome_metric_data(experiment, succeeded, stack, when, error_rate)
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
    return data
