"""Resilience report: worst-case recovery times of a stack next to the source documents' configurations.

    python -m ops.resilience.report --stack prod [--json]

Synthesizes the stack offline (``ops.synth.runner.synthesize``), reads the settings that decide recovery
times (``ops.resilience.inputs``), and computes with ``ops.resilience.model``, for this stack and for
the source documents' setups, how long in the worst case it takes until:

* an environment dies → DNS answers with the other one;
* an erroring release / a slow release → its rollback starts;
* a task dies → the ALB stops sending it requests;
* a load step → scale-out starts;
* a zone is lost → replacement tasks serve, with the tasks and hosts the other zones keep, and how
  long a zonal shift takes to move the load balancers' traffic;
* one environment's hosts are lost → DNS answers with the other one (and the lost one comes back).

Exit status: 0 when every prod target is met (targets are enforced for ``--stack prod`` or with
``--enforce-targets``), 1 when one is missed (the missed ones are printed), 2 when the program could
not be synthesized or the stack is unknown.
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "ops/resilience/report.py is a module: run `python -m ops.resilience.report` in the project, or `make resilience`\n"
    )
    raise SystemExit(2)

import argparse
import asyncio
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ops.cli.options import REPO_DIR, add_json_option, add_stack_option, refuse_unknown_stack
from ops.resilience.inputs import extract_inputs
from ops.resilience.model import (
    ASSUMPTIONS,
    AUTOSCALING_TUTORIAL_SCALING,
    AUTOSCALING_TUTORIAL_TARGET_GROUP,
    ONEBOX_ARTICLE_RELEASE,
    PROD_TARGETS_S,
    RESILIENCY_ARTICLE_FAILOVER,
    Estimate,
    StackInputs,
    TargetGroupHealth,
    alarm_detection,
    env_failover,
    fmt_s,
    recommended_settings,
    release_rollback,
    scale_out_for_service,
    scale_out_start,
    target_stops_traffic,
    worst_of,
)
from ops.resilience.zones import (
    ZoneLoss,
    environment_hosts_lost,
    zonal_shift_moves_traffic,
    zone_loss_replacement,
)
from policy.guardrails.zone_loss import CapacityGroup, host_size

ENFORCED_STACKS = frozenset({"prod"})
NOT_DEPLOYED = "not deployed in this stack"

EXIT_OK, EXIT_TARGET_MISSED, EXIT_SYNTH_FAILED = 0, 1, 2


@dataclass
class Row:
    """One scenario: this stack's worst case, the source document's, and the prod target."""

    key: str
    title: str
    stack: Estimate | None
    """None when the stack has no resources for this scenario."""
    source_name: str
    source: Estimate
    target_s: float | None = None
    details: list[tuple[str, Estimate]] = field(default_factory=list)
    missing_reason: str = ""

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when the scenario has no target."""
        if self.target_s is None:
            return None
        return self.stack is not None and self.stack.seconds <= self.target_s

    def versus_source(self) -> str:
        if self.stack is None:
            return ""
        a, b = self.stack.seconds, self.source.seconds
        if a == b:
            return "same as the source"
        return "faster than the source" if a < b else "slower than the source"


@dataclass
class Report:
    stack: str
    enforced: bool
    rows: list[Row]
    warnings: list[str]

    @property
    def missed(self) -> list[Row]:
        return [r for r in self.rows if r.met is False]

    @property
    def exit_code(self) -> int:
        return EXIT_TARGET_MISSED if self.enforced and self.missed else EXIT_OK


def _label(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def build_report(stack: str, inputs: StackInputs, *, enforced: bool | None = None) -> Report:
    """Every scenario row for `inputs`; targets enforced for prod unless told otherwise."""
    rows: list[Row] = []

    failover = [(r.name, env_failover(r, "env_down")) for r in inputs.failover_records]
    dependency = [
        (f"dependency loss, {r.name}", env_failover(r, "dependency_loss"))
        for r in inputs.failover_records
    ]
    dependency += [
        (f"connectivity alarm '{a.name}' alone (not on a failover record)", alarm_detection(a))
        for a in inputs.connectivity_alarms
        if not inputs.failover_records
    ]
    rows.append(
        Row(
            key="env_failover",
            title="Environment dies → DNS answers with the other",
            stack=worst_of(failover) if failover else None,
            source_name="resiliency-testing article",
            source=env_failover(RESILIENCY_ARTICLE_FAILOVER),
            target_s=PROD_TARGETS_S["env_failover"],
            details=dependency,
            missing_reason="no Route 53 PRIMARY failover record",
        )
    )

    for key, kind, title in (
        ("release_errors", "errors", "Erroring release (5xx) → rollback starts"),
        ("release_slow", "latency", "Slow release (> 3 s) → rollback starts"),
    ):
        per_service = [
            (_label(g.role, g.environment, f"'{g.service}'"), release_rollback(g, kind))
            for g in inputs.release_guards
        ]
        rows.append(
            Row(
                key=key,
                title=title,
                stack=worst_of(per_service) if per_service else None,
                source_name="onebox/fleet article",
                source=release_rollback(ONEBOX_ARTICLE_RELEASE, kind),
                target_s=PROD_TARGETS_S[key],
                missing_reason="no ECS service",
            )
        )

    per_tg = [
        (_label(t.role, t.environment, f"'{t.name}'"), target_stops_traffic(t))
        for t in inputs.target_groups
    ]
    rows.append(
        Row(
            key="task_dies",
            title="Task dies → ALB stops sending it traffic",
            stack=worst_of(per_tg) if per_tg else None,
            source_name="autoscaling tutorial",
            source=target_stops_traffic(AUTOSCALING_TUTORIAL_TARGET_GROUP),
            missing_reason="no ALB target group",
        )
    )

    services = sorted(
        {p.name for p in inputs.scaling_policies} | {t.name for t in inputs.step_triggers}
    )
    per_policy = [
        (
            name,
            scale_out_for_service(
                [p for p in inputs.scaling_policies if p.name == name],
                [t for t in inputs.step_triggers if t.name == name],
            ),
        )
        for name in services
        if name not in inputs.fixed_size
    ]
    scale_source = scale_out_start(AUTOSCALING_TUTORIAL_SCALING).with_notes(
        "the autoscaling tutorial also scaled cluster nodes on 30 % cluster CPU; a capacity provider with managed "
        "scaling now adds EC2 capacity when tasks cannot be placed"
    )
    rows.append(
        Row(
            key="scale_out",
            title="Load step → scale-out starts",
            stack=worst_of(per_policy) if per_policy else None,
            source_name="autoscaling tutorial",
            source=scale_source,
            target_s=PROD_TARGETS_S["scale_out"],
            missing_reason="no scaling policy on a service that can grow",
        )
    )
    rows.extend(_zone_rows(inputs))
    return Report(
        stack=stack,
        enforced=stack in ENFORCED_STACKS if enforced is None else enforced,
        rows=rows,
        warnings=list(inputs.warnings),
    )


def zone_losses(inputs: StackInputs) -> list[ZoneLoss]:
    """Each environment's capacity group, as :mod:`ops.resilience.zones` takes it."""
    return [
        ZoneLoss(
            name=z.environment,
            group=CapacityGroup(
                zones=z.zones,
                min_tasks=z.min_tasks,
                cpu_target=z.cpu_target,
                task_cpu=z.task_cpu,
                task_memory=z.task_memory,
                hosts=z.hosts,
                host=host_size(z.instance_type),
                target_capacity_percent=z.target_capacity_percent,
                fixed_tasks=z.fixed_tasks,
            ),
            instance_warmup_s=z.instance_warmup_s,
        )
        for z in inputs.zone_groups
    ]


#: The autoscaling tutorial's capacity: one group, no zone headroom (it scaled hosts on cluster
#: CPU), so a lost zone's replacements wait for a new host; ALB target-group defaults.
AUTOSCALING_TUTORIAL_ZONE = ZoneLoss(
    name="autoscaling tutorial",
    group=CapacityGroup(
        zones=2,
        min_tasks=2,
        cpu_target=80,
        task_cpu=256,
        task_memory=512,
        hosts=1,
        host=host_size("t3.small"),
        target_capacity_percent=100,
    ),
)


def _fleet_health(inputs: StackInputs, environment: str) -> TargetGroupHealth:
    fleets = [
        t
        for t in inputs.target_groups
        if t.role == "fleet" and environment in (t.environment, "shared")
    ]
    return (fleets or inputs.target_groups or [AUTOSCALING_TUTORIAL_TARGET_GROUP])[0]


def _zone_rows(inputs: StackInputs) -> list[Row]:
    """Zone lost (replacement, zonal shift) and one environment's hosts lost."""
    losses = zone_losses(inputs)
    replacement = [
        (loss.name, zone_loss_replacement(loss, _fleet_health(inputs, loss.name)))
        for loss in losses
    ]
    rows = [
        Row(
            key="zone_replacement",
            title="Zone lost → replacement tasks serve",
            stack=worst_of(replacement) if replacement else None,
            source_name="autoscaling tutorial",
            source=zone_loss_replacement(
                AUTOSCALING_TUTORIAL_ZONE, AUTOSCALING_TUTORIAL_TARGET_GROUP
            ),
            # Judged where there are hosts to lose (EC2 capacity groups); Fargate has none.
            target_s=PROD_TARGETS_S["zone_replacement"] if losses else None,
            missing_reason="no EC2 capacity group",
        ),
        Row(
            key="zonal_shift",
            title="Zone impaired → zonal shift moves traffic",
            stack=zonal_shift_moves_traffic() if inputs.target_groups else None,
            source_name="ARC StartZonalShift",
            source=zonal_shift_moves_traffic(),
            missing_reason="no load balancer",
        ),
    ]
    # The PRIMARY record is the primary environment's, the first capacity group.
    hosts_lost: list[tuple[str, Estimate]] = []
    comes_back: list[tuple[str, Estimate]] = []
    for record in inputs.failover_records if losses else []:
        loss = losses[0]
        failover, back = environment_hosts_lost(record, loss, _fleet_health(inputs, loss.name))
        hosts_lost.append((record.name, failover))
        comes_back.append((f"{loss.name} comes back", back))
    tutorial_failover, _ = environment_hosts_lost(
        RESILIENCY_ARTICLE_FAILOVER, AUTOSCALING_TUTORIAL_ZONE, AUTOSCALING_TUTORIAL_TARGET_GROUP
    )
    rows.append(
        Row(
            key="env_hosts_lost",
            title="An environment's hosts lost → DNS answers with the other",
            stack=worst_of(hosts_lost) if hosts_lost else None,
            source_name="resiliency-testing article",
            source=tutorial_failover,
            target_s=PROD_TARGETS_S["env_hosts_lost"] if losses else None,
            details=comes_back,
            missing_reason="no Route 53 PRIMARY failover record, or no capacity group",
        )
    )
    return rows


# --- text -------------------------------------------------------------------------------------------


def _cell_seconds(estimate: Estimate | None) -> str:
    if estimate is None:
        return NOT_DEPLOYED
    text = fmt_s(estimate.seconds)
    if not estimate.never and estimate.seconds >= 120:
        text += f" ({estimate.seconds / 60:.1f} min)"
    return text


def _status(row: Row, enforced: bool) -> str:
    if row.met is None:
        return "—"
    word = "PASS" if row.met else "FAIL"
    return word if enforced else f"{word.lower()} (not enforced)"


def render_text(report: Report, out: TextIO) -> None:
    w = out.write
    enforced = "enforced" if report.enforced else "shown, not enforced for this stack"
    w(f"Resilience report — stack '{report.stack}' (worst case; prod targets {enforced})\n\n")
    header = ("Scenario", "This stack", "Source setup", "Target (prod)", "Result")
    table = [
        (
            row.title,
            _cell_seconds(row.stack),
            f"{_cell_seconds(row.source)} {row.source_name}",
            f"≤ {fmt_s(row.target_s)}" if row.target_s is not None else "—",
            _status(row, report.enforced),
        )
        for row in report.rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for line in [header, tuple("-" * n for n in widths), *table]:
        w("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() + "\n")

    for number, row in enumerate(report.rows, 1):
        w(f"\n{number}. {row.title}\n")
        if row.stack is None:
            w(f"   this stack: {NOT_DEPLOYED} ({row.missing_reason})\n")
        else:
            comparison = row.versus_source()
            w(
                f"   this stack: {row.stack.formula}"
                + (f"  — {comparison}" if comparison else "")
                + "\n"
            )
            for note in row.stack.notes:
                w(f"     · {note}\n")
        for name, estimate in row.details:
            w(f"   {name}: {estimate.formula}\n")
            for note in estimate.notes:
                w(f"     · {note}\n")
        w(f"   {row.source_name}: {row.source.formula}\n")
        for note in row.source.notes:
            w(f"     · {note}\n")

    w("\nSettings that meet every prod target (same model):\n")
    for key, setting, estimate in recommended_settings():
        w(f"   [{key}] {setting}: {estimate.formula}\n")

    w("\nAssumptions:\n")
    for assumption in ASSUMPTIONS:
        w(f"   - {assumption}\n")
    if report.warnings:
        w("\nWarnings (values the stack did not give; defaults used):\n")
        for warning in report.warnings:
            w(f"   - {warning}\n")
    if report.missed:
        label = "MISSED prod targets" if report.enforced else "Prod targets this stack would miss"
        w(f"\n{label}:\n")
        for row in report.missed:
            got = NOT_DEPLOYED if row.stack is None else fmt_s(row.stack.seconds)
            w(f"   - {row.title}: {got} (target ≤ {fmt_s(row.target_s or 0)})\n")


# --- JSON -------------------------------------------------------------------------------------------


def _seconds(value: float) -> float | None:
    return None if math.isinf(value) else value


def estimate_json(estimate: Estimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "seconds": _seconds(estimate.seconds),
        "never": estimate.never,
        "formula": estimate.formula,
        "terms": [{"term": label, "seconds": _seconds(v)} for label, v in estimate.terms],
        "notes": list(estimate.notes),
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "stack": report.stack,
        "targets_enforced": report.enforced,
        "rows": [
            {
                "key": row.key,
                "scenario": row.title,
                "deployed": row.stack is not None,
                "stack": estimate_json(row.stack),
                "not_deployed_reason": row.missing_reason if row.stack is None else None,
                "source": {"name": row.source_name, **(estimate_json(row.source) or {})},
                "target_seconds": row.target_s,
                "target_met": row.met,
                "details": [{"name": n, **(estimate_json(e) or {})} for n, e in row.details],
            }
            for row in report.rows
        ],
        "recommended_settings": [
            {"scenario": key, "setting": setting, **(estimate_json(e) or {})}
            for key, setting, e in recommended_settings()
        ],
        "assumptions": list(ASSUMPTIONS),
        "warnings": report.warnings,
        "missed": [row.key for row in report.missed],
        "exit_code": report.exit_code,
    }


# --- CLI --------------------------------------------------------------------------------------------


def _default_synth(stack: str, project_dir: Path | None, program: Path | None) -> Any:
    """Synthesize on a loop of our own, closed afterwards (else interpreter exit warns about it)."""
    from ops.synth.runner import PROJECT_DIR, synthesize

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize(stack, project_dir or PROJECT_DIR, program)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.resilience.report",
        description="Worst-case recovery times of a stack next to the source documents' configurations.",
    )
    add_stack_option(parser)
    add_json_option(parser)
    parser.add_argument(
        "--enforce-targets",
        action="store_true",
        help="exit 1 on a missed prod target even when the stack is not prod",
    )
    parser.add_argument("--project-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--program", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    *,
    synth: Callable[[str, Path | None, Path | None], Any] = _default_synth,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    stdout: TextIO = out or sys.stdout
    stderr: TextIO = err or sys.stderr
    args = parse_args(argv)
    project_dir = args.project_dir or REPO_DIR
    if (refused := refuse_unknown_stack("resilience", args.stack, stderr, project_dir)) is not None:
        return refused
    try:
        synthesis = synth(args.stack, args.project_dir, args.program)
    except Exception as error:  # the program's own errors are the message to show
        stderr.write(
            f"resilience: cannot synthesize stack '{args.stack}': {type(error).__name__}: {error}\n"
        )
        return EXIT_SYNTH_FAILED
    inputs = extract_inputs(synthesis)
    report = build_report(args.stack, inputs, enforced=True if args.enforce_targets else None)
    if args.json:
        json.dump(report_json(report), stdout, indent=2, ensure_ascii=False)
        stdout.write("\n")
    else:
        render_text(report, stdout)
    if report.exit_code == EXIT_TARGET_MISSED:
        missed = ", ".join(row.key for row in report.missed)
        stderr.write(f"resilience: prod target missed: {missed}\n")
    return report.exit_code


if __name__ == "__main__":
    from ops.cli.gc_tuning import tune_gc

    tune_gc()  # a run of the tool: its synthesis collects less often
    raise SystemExit(main())
