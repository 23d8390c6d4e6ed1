"""One chaos run as the report sees it, from a chaostoolkit journal or an AWS FIS experiment, and
the figures per experiment (runs, outcome counts, last run, time to recover, error rate)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chaos.metrics import OUTCOMES


@dataclass(frozen=True)
class RunRecord:
    experiment: str
    """``Experiment`` dimension: the chaostoolkit experiment name, or ``fis-<template key>``."""
    source: str
    """``chaostoolkit`` (a journal of ``chaos.run``) or ``fis`` (the stack's FIS history)."""
    when: datetime
    outcome: str
    """succeeded | deviated | aborted | failed."""
    error_rate: float | None = None
    """Errors during the fault, 0-1, when measured."""
    recovery_seconds: float | None = None
    detail: str = ""
    """Why a run was aborted or failed, when known."""


@dataclass(frozen=True)
class ExperimentSummary:
    experiment: str
    source: str
    runs: int
    outcomes: dict[str, int]
    last_run: datetime
    last_outcome: str
    recovery_p50: float | None
    recovery_max: float | None
    error_rate_max: float | None


def summarize(records: Iterable[RunRecord]) -> list[ExperimentSummary]:
    """One summary per experiment, by name; ``recovery_p50`` is the median (the mean of the two
    middle runs for an even count) of the runs that measured it."""
    by_name: dict[str, list[RunRecord]] = {}
    for record in records:
        by_name.setdefault(record.experiment, []).append(record)
    summaries = []
    for name, runs in sorted(by_name.items()):
        runs = sorted(runs, key=lambda record: record.when)
        recoveries = [r.recovery_seconds for r in runs if r.recovery_seconds is not None]
        rates = [r.error_rate for r in runs if r.error_rate is not None]
        summaries.append(
            ExperimentSummary(
                experiment=name,
                source=runs[-1].source,
                runs=len(runs),
                outcomes={o: sum(r.outcome == o for r in runs) for o in OUTCOMES},
                last_run=runs[-1].when,
                last_outcome=runs[-1].outcome,
                recovery_p50=statistics.median(recoveries) if recoveries else None,
                recovery_max=max(recoveries) if recoveries else None,
                error_rate_max=max(rates) if rates else None,
            )
        )
    return summaries
