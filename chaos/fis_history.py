"""The stack's AWS FIS runs, read back from FIS itself (``ListExperiments``/``GetExperiment``).

A template belongs to the stack when its ``Stack`` tag (the provider's default tags) is the
stack's; its ``steadystate:experiment`` tag (set by ``components/chaos_experiments.py``) names it,
and its runs are reported as ``fis-<that key>`` — the ``Experiment`` dimension of the metrics.
FIS states map to the outcomes of ``chaos.metrics``: ``completed`` succeeded, ``stopped``
deviated (a guard alarm — the service's 5xx — or an operator stopped it), ``failed`` failed,
``cancelled`` aborted; runs still pending, initiating, running or stopping are left out.
Runs of a template that no longer exists (replaced by an update) cannot be attributed and are
counted apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chaos.metrics import FIS_PREFIX
from chaos.recovery import parse_time
from chaos.run_records import RunRecord

EXPERIMENT_TAG = "steadystate:experiment"
STACK_TAG = "Stack"
FIS_OUTCOMES = {
    "completed": "succeeded",
    "stopped": "deviated",
    "failed": "failed",
    "cancelled": "aborted",
}


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
        outcome = FIS_OUTCOMES.get(str((summary.get("state") or {}).get("status")))
        if outcome is None:
            history.in_progress += 1
            continue
        detail = fis.get_experiment(id=summary["id"])["experiment"]
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
