"""Where ``chaos.run`` keeps its journals, and how they are read back.

Every run, whatever its outcome — including one refused before it started — writes its journal to
``<dir>/<stack>/<UTC start, YYYYmmddTHHMMSSZ>-<experiment>.json`` (``dir`` is ``chaos/journals/``
unless ``--journal-dir`` says otherwise; git ignores it). The journal is the engine's (chaoslib's
or the built-in runner's) plus ``steadystate``, the run as the report reads it: experiment, stack,
outcome, start, error rate during the fault (0-1), time to recover (s), the reason a run was
refused, the exit code and what happened to the metric.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.metrics import OUTCOMES
from chaos.recovery import parse_time
from chaos.run_records import RunRecord

JOURNAL_DIR = Path(__file__).resolve().parent / "journals"
SUMMARY_KEY = "steadystate"
STAMP = "%Y%m%dT%H%M%SZ"


def _file_name(name: str, fallback: str) -> str:
    """``name`` with only letters, digits, ``_.-``, and no leading dot (never ``..``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).lstrip(".") or fallback


def journal_path(directory: Path, stack: str, experiment: str, when: datetime) -> Path:
    """A new file for this run (``-2``, ``-3``... when a run of the same second exists)."""
    folder = directory / _file_name(stack, "stack")
    stem = f"{when.astimezone(UTC).strftime(STAMP)}-{_file_name(experiment, 'experiment')}"
    path, nth = folder / f"{stem}.json", 1
    while path.exists():
        nth += 1
        path = folder / f"{stem}-{nth}.json"
    return path


def write_journal(path: Path, journal: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(journal, indent=2, default=str) + "\n")
    return path


def refused_journal(
    name: str,
    experiment: Mapping[str, Any] | None,
    reason: str,
    started: datetime,
    ended: datetime,
) -> dict[str, Any]:
    """The journal of a run refused before its steady state was probed: status aborted, the
    reason, nothing run (the shape of the engines' journals, so ``verdict`` reads it)."""
    return {
        "engine": None,
        "experiment": dict(experiment) if experiment else {"name": name},
        "start": started.isoformat(),
        "end": ended.isoformat(),
        "duration": (ended - started).total_seconds(),
        "status": "aborted",
        "reason": reason,
        "deviated": False,
        "steady_states": {"before": None, "after": None, "during": []},
        "run": [],
        "rollbacks": [],
    }


def record_of(journal: Mapping[str, Any]) -> RunRecord:
    """The run a journal written by ``chaos.run`` describes; ValueError if it is not one."""
    summary = journal.get(SUMMARY_KEY)
    if not isinstance(summary, Mapping):
        raise ValueError(f"no {SUMMARY_KEY!r} summary (not written by chaos.run)")
    when = parse_time(summary.get("started") or journal.get("start"))
    outcome = summary.get("outcome")
    if when is None or outcome not in OUTCOMES or not summary.get("experiment"):
        raise ValueError("the summary lacks experiment, outcome or start")
    rate, recovery = summary.get("error_rate"), summary.get("time_to_recover")
    return RunRecord(
        experiment=str(summary["experiment"]),
        source="chaostoolkit",
        when=when,
        outcome=str(outcome),
        error_rate=None if rate is None else float(rate),
        recovery_seconds=None if recovery is None else float(recovery),
        detail=str(summary.get("reason") or ""),
    )


def read_journals(directory: Path, stack: str) -> tuple[list[RunRecord], list[str]]:
    """The runs journaled for ``stack``, oldest first, and one line per file that is not one."""
    records: list[RunRecord] = []
    problems: list[str] = []
    folder = directory / _file_name(stack, "stack")
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            records.append(record_of(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError, AttributeError) as err:
            problems.append(f"{path.name}: {err}")
    return sorted(records, key=lambda record: record.when), problems
