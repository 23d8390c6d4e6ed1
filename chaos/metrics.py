"""Publish an experiment's outcome to CloudWatch, so a dashboard tracks resilience over time.

One schema for every run, chaostoolkit (``chaos.run``) or AWS FIS (the stack's run recorder):
namespace ``steadystate/chaos``; per run, one 0/1 datum (unit Count) for each outcome metric —
``ExperimentSucceeded``, ``ExperimentDeviated``, ``ExperimentAborted``, ``ExperimentFailed`` —
so the four stay distinct (aborted: the steady state did not hold before the fault or the run
could not start, nothing was proven either way; failed: an activity or the tooling broke after
the fault was injected), plus ``ErrorRateDuringFault`` (Percent) and ``TimeToRecover``
(Seconds) when the run measured them. Each datum is published with the dimension ``Experiment``
alone (the series a dashboard graphs across stacks) and with ``Experiment`` + ``Stack`` (to tell
dev from prod): CloudWatch never aggregates across dimension sets, hence both.

Standard library only: the FIS run recorder's Lambda function ships this file as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

NAMESPACE = "steadystate/chaos"
OUTCOMES = ("succeeded", "deviated", "aborted", "failed")
OUTCOME_METRICS = {
    "succeeded": "ExperimentSucceeded",
    "deviated": "ExperimentDeviated",
    "aborted": "ExperimentAborted",
    "failed": "ExperimentFailed",
}
METRIC = OUTCOME_METRICS["succeeded"]
ERROR_RATE_METRIC = "ErrorRateDuringFault"
RECOVERY_METRIC = "TimeToRecover"
FIS_PREFIX = "fis-"
"""``Experiment`` dimension of a FIS run: ``fis-<template key>`` (``fis-stop-task``)."""


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
    outcome: str,
    stack: str | None,
    when: datetime | None = None,
    error_rate: float | None = None,
    recovery_seconds: float | None = None,
) -> list[dict[str, Any]]:
    """MetricData for one run; ``error_rate`` is 0-1, published as a percentage."""
    if outcome not in OUTCOME_METRICS:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
    base = [{"Name": "Experiment", "Value": experiment}]
    dimension_sets = [base] + ([[*base, {"Name": "Stack", "Value": stack}]] if stack else [])
    data: list[dict[str, Any]] = [
        {"MetricName": metric, "Value": 1.0 if name == outcome else 0.0, "Unit": "Count"}
        for name, metric in OUTCOME_METRICS.items()
    ]
    if error_rate is not None:
        data.append(
            {"MetricName": ERROR_RATE_METRIC, "Value": 100.0 * error_rate, "Unit": "Percent"}
        )
    if recovery_seconds is not None:
        data.append(
            {"MetricName": RECOVERY_METRIC, "Value": float(recovery_seconds), "Unit": "Seconds"}
        )
    if when is not None:
        data = [{**datum, "Timestamp": when} for datum in data]
    return [{**datum, "Dimensions": dims} for datum in data for dims in dimension_sets]


def publish_outcome(
    cloudwatch: Any,
    experiment: str,
    outcome: str,
    stack: str | None = None,
    when: datetime | None = None,
    error_rate: float | None = None,
    recovery_seconds: float | None = None,
) -> list[dict[str, Any]]:
    """``put_metric_data`` for one run; returns what was sent."""
    data = outcome_metric_data(experiment, outcome, stack, when, error_rate, recovery_seconds)
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
    return data
