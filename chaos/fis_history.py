"""The stack's AWS FIS runs, read back from FIS itself (``ListExperiments``/``GetExperiment``).

A template belongs to the stack when its ``Stack`` tag (the provider's default tags) is the
stack's; its ``steadystate:experiment`` tag (set by ``components/chaos_experiments.py``) names it,
and its runs are reported as ``fis-<that key>`` — the ``Experiment`` dimension of the metrics.
FIS states map to the outcomes of ``chaos.metrics`` by the run recorder's own rule
(:func:`chaos.fis_record.outcome_of`, so the report and the dashboard agree): ``completed``
succeeded, ``failed`` failed once an action had started (aborted before), ``cancelled`` aborted,
``stopped`` deviated. For ``stopped`` the recorder, which runs when the experiment ends, reads the
guard alarms and tells an alarm's stop (deviated) from a person's (aborted); read back later
there is no such evidence (FIS keeps no reason that tells them apart, and an alarm's state then
says nothing about that run), so the history counts every stop as the guard's. Runs still
pending, initiating, running or stopping are left out.
Runs of a template that no longer exists (replaced by an update) cannot be attributed and are
counted apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chaos.fis_record import TERMINAL_STATUSES, outcome_of
from chaos.metrics import FIS_PREFIX
from chaos.recovery import parse_time
from chaos.run_records import RunRecord

EXPERIMENT_TAG = "steadystate:experiment"
STACK_TAG = "Stack"
ASSUMED_GUARDS = {"stop condition": "fired"}
"""What a stopped run read back from FIS is taken to have been stopped by (see the docstring)."""


@dataclass
class FisHistory:
    runs: list[RunRecord] = field(default_factory=list)
    in_progress: int = 0
    unattributed: int = 0
    """Runs of templates not (or no longer) tagged for this stack's experiments."""


def _pages(call: Any, key: str) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = call(**({"nextToken": token} if token else {}))
        yield from page.get(key) or []
        token = page.get("nextToken")
        if not token:
            return


def stack_templates(fis: Any, stack_tag: str) -> dict[str, str]:
    """Template id -> ``steadystate:experiment`` key, for the templates of the stack."""
    found: dict[str, str] = {}
    for template in _pages(fis.list_experiment_templates, "experimentTemplates"):
        tags = template.get("tags") or {}
        if tags.get(EXPERIMENT_TAG) and tags.get(STACK_TAG) == stack_tag:
            found[template["id"]] = str(tags[EXPERIMENT_TAG])
    return found


def fis_history(fis: Any, stack_tag: str) -> FisHistory:
    templates = stack_templates(fis, stack_tag)
    history = FisHistory()
    for summary in _pages(fis.list_experiments, "experiments"):
        key = templates.get(str(summary.get("experimentTemplateId")))
        if key is None:
            history.unattributed += 1
            continue
        if str((summary.get("state") or {}).get("status")) not in TERMINAL_STATUSES:
            history.in_progress += 1
            continue
        detail = fis.get_experiment(id=summary["id"])["experiment"]
        outcome = outcome_of(detail, ASSUMED_GUARDS)
        when = _when(detail.get("startTime") or summary.get("creationTime"))
        if when is None:
            history.unattributed += 1
            continue
        reason = str((detail.get("state") or {}).get("reason") or "")
        history.runs.append(
            RunRecord(
                experiment=f"{FIS_PREFIX}{key}",
                source="fis",
                when=when,
                outcome=outcome,
                detail=f"{summary['id']}: {reason}" if reason else str(summary["id"]),
            )
        )
    history.runs.sort(key=lambda record: record.when)
    return history


def _when(value: Any) -> datetime | None:
    return parse_time(value.isoformat() if isinstance(value, datetime) else value)
