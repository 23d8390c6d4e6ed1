"""The chaos record of one stack: its ``chaos.run`` journals and its AWS FIS history, per experiment.

    python -m chaos.report --stack prod [--journal-dir DIR] [--out DIR] [--region R] [--no-fis]
    make chaos-report STACK=prod [ARGS=...]

Writes ``<out>/<stack>/chaos-report.md`` (default ``build/chaos-report/``): a table per experiment
— runs, succeeded/deviated/aborted/failed, last run, p50/max time to recover, max error rate during
the fault — and, per experiment, ``<experiment>.svg``: the outcome and the error rate of each run
over time. The journals are read from ``<journal-dir>/<stack>/`` (``chaos/journals/``); the FIS
runs of the stack's templates from FIS (``fis-<template key>``), which needs AWS credentials:
without them, or when FIS refuses, the report is built from the journals and says why FIS was
skipped. No journals and no FIS runs still make a report, which says so.

Exit codes: 0 the report was written (FIS history read or skipped); 2 usage error; 3 the report
could not be written.
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "chaos/report.py is a module: run `python -m chaos.report` in the project, or `make chaos-report`\n"
    )
    raise SystemExit(2)

import argparse
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from chaos import journals
from chaos.fis_history import FisHistory, fis_history
from chaos.metrics import OUTCOMES
from chaos.run_records import ExperimentSummary, RunRecord, summarize
from chaos.runner import experiment_names
from chaos.svg_chart import render_chart
from ops.cli.options import add_json_option, add_stack_option, refuse_unknown_stack

REPO_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_DIR / "build" / "chaos-report"
REPORT_NAME = "chaos-report.md"
EXIT_OK, EXIT_USAGE, EXIT_WRITE = 0, 2, 3


@dataclass
class Sources:
    """Where the runs came from, and what was left out and why (shown in the report)."""

    journal_folder: Path
    journals: int = 0
    unreadable: list[str] = field(default_factory=list)
    fis: FisHistory | None = None
    fis_skipped: str | None = None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.report",
        description=(__doc__ or "").split("\n")[0],
        epilog="exit codes: 0 written; 2 usage error or unknown stack; 3 could not write",
    )
    add_stack_option(parser)
    parser.add_argument(
        "--journal-dir", type=Path, help="journals, under <dir>/<stack>/ (default chaos/journals)"
    )
    parser.add_argument("--out", type=Path, help="report directory (default build/chaos-report)")
    parser.add_argument("--region", help="FIS region (default: aws:region of Pulumi.<stack>.yaml)")
    parser.add_argument("--no-fis", action="store_true", help="journals only, skip FIS")
    add_json_option(parser)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", args.stack):
        parser.error(
            f"--stack must be a stack name (letters, digits, '.', '_', '-'), got {args.stack!r}"
        )
    return args


def read_fis(stack: str, region: str | None, fis: Any) -> tuple[FisHistory | None, str | None]:
    """(history, None) or (None, why it was skipped)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chaos.aws import client
    from chaos.preflight import aws_error, check_credentials, expected_stack_tag
    from chaos.run_errors import RunRefused

    try:
        if fis is None:
            check_credentials(region)
            fis = client("fis", region)
        return fis_history(fis, expected_stack_tag(REPO_DIR, stack)), None
    except RunRefused as err:
        return None, str(err)
    except (BotoCoreError, ClientError) as err:
        return None, str(aws_error(err, "FIS refused ListExperiments/GetExperiment"))


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def render_markdown(
    stack: str,
    summaries: Sequence[ExperimentSummary],
    records: Sequence[RunRecord],
    sources: Sources,
    now: datetime,
) -> str:
    lines = [
        f"# Chaos report: stack {stack}",
        "",
        f"Generated {now:%Y-%m-%d %H:%M} UTC by `make chaos-report STACK={stack}`.",
        "",
        f"- journals: {sources.journals} read from `{sources.journal_folder}`"
        + (f", {len(sources.unreadable)} unreadable" if sources.unreadable else ""),
    ]
    lines += [f"  - skipped {problem}" for problem in sources.unreadable]
    if sources.fis is not None:
        fis = sources.fis
        lines.append(
            f"- FIS history: {len(fis.runs)} finished runs of the stack's templates"
            + (f", {fis.in_progress} still in progress" if fis.in_progress else "")
            + (
                f", {fis.unattributed} of other or removed templates left out"
                if fis.unattributed
                else ""
            )
        )
    else:
        lines.append(f"- FIS history skipped: {sources.fis_skipped}")
    lines.append("")
    if not summaries:
        lines += [
            f"No runs recorded for stack {stack}: no journals in `{sources.journal_folder}`"
            + ("" if sources.fis is None else " and no finished FIS runs")
            + ". `make chaos STACK=... EXPERIMENT=...` records one.",
            "",
        ]
        return "\n".join(lines)
    header = ["experiment", "source", "runs", *OUTCOMES, "last run", "time to recover p50",
              "time to recover max", "max error rate"]  # fmt: skip
    lines += [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * 3 + "---:|" * 4 + "---|" + "---:|" * 3,
    ]
    for s in summaries:
        cells = [
            f"`{s.experiment}`",
            s.source,
            str(s.runs),
            *(str(s.outcomes[o]) for o in OUTCOMES),
            f"{s.last_run:%Y-%m-%d %H:%M}Z {s.last_outcome}",
            _seconds(s.recovery_p50),
            _seconds(s.recovery_max),
            _percent(s.error_rate_max),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for s in summaries:
        runs = [r for r in records if r.experiment == s.experiment]
        lines += [f"## {s.experiment}", "", f"![{s.experiment}]({_slug(s.experiment)}.svg)", ""]
        problems = [r for r in runs if r.outcome != "succeeded" and r.detail][-3:]
        lines += [f"- {r.when:%Y-%m-%d %H:%M}Z {r.outcome}: {r.detail}" for r in problems]
        if problems:
            lines.append("")
    return "\n".join(lines)


def write_report(
    folder: Path,
    stack: str,
    records: Sequence[RunRecord],
    sources: Sources,
    now: datetime,
) -> Path:
    summaries = summarize(records)
    folder.mkdir(parents=True, exist_ok=True)
    for s in summaries:
        runs = [r for r in records if r.experiment == s.experiment]
        chart = render_chart(f"{s.experiment} on {stack}: outcome and error rate", runs)
        (folder / f"{_slug(s.experiment)}.svg").write_text(chart)
    report = folder / REPORT_NAME
    report.write_text(render_markdown(stack, summaries, records, sources, now))
    return report


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    fis: Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stderr: TextIO | None = None,
) -> int:
    args = parse_args(argv)
    document_out = out or sys.stdout
    # With --json the document alone goes to stdout; the progress lines go to stderr.
    stream = (stderr or sys.stderr) if args.json else document_out
    if (
        refused := refuse_unknown_stack("chaos.report", args.stack, stderr or sys.stderr)
    ) is not None:
        return refused
    journal_dir = args.journal_dir or journals.JOURNAL_DIR
    records, unreadable = journals.read_journals(journal_dir, args.stack)
    known = set(experiment_names())
    for name in sorted({r.experiment for r in records} - known):
        print(f"skipped the journals of {name!r}: there is no such experiment", file=stream)
    records = [r for r in records if r.experiment in known]
    sources = Sources(journal_folder=journal_dir / args.stack, journals=len(records))
    sources.unreadable = unreadable
    if not records:
        print(f"no journals for stack {args.stack} in {sources.journal_folder}", file=stream)
    for problem in unreadable:
        print(f"skipped journal {problem}", file=stream)
    if args.no_fis:
        sources.fis_skipped = "--no-fis"
    else:
        from chaos.run import stack_region

        region = args.region or stack_region(args.stack)
        sources.fis, sources.fis_skipped = read_fis(args.stack, region, fis)
    if sources.fis is not None:
        records = sorted([*records, *sources.fis.runs], key=lambda record: record.when)
        print(f"FIS history: {len(sources.fis.runs)} finished runs", file=stream)
    else:
        print(f"FIS history skipped: {sources.fis_skipped}", file=stream)
    try:
        path = write_report((args.out or OUT_DIR) / args.stack, args.stack, records, sources, now())
    except OSError as err:
        print(f"error: could not write the report: {err}", file=stream)
        return EXIT_WRITE
    print(f"report written to {path}", file=stream)
    if args.json:
        document = {
            "stack": args.stack,
            "report": str(path),
            "fis": "read" if sources.fis is not None else f"skipped: {sources.fis_skipped}",
            "experiments": [
                {**asdict(s), "last_run": s.last_run.isoformat()} for s in summarize(records)
            ],
        }
        document_out.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
