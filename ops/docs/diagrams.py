"""Mermaid sequence diagrams of a release, a failover and a chaos run, derived from the code.

- the release: :func:`ops.release.pipeline.plan_steps` over the prod stack's settings, with the
  pipeline's own default bake, load and timeouts;
- the failover: :func:`ops.resilience.model.env_failover_paths` over the prod stack's synthesized
  failover record (the same terms `make resilience` adds up);
- the chaos run: an experiment file of `chaos/experiments/`, in chaostoolkit's order (steady state,
  method, steady state again, rollbacks).

Each function returns a fenced ``mermaid`` block; the docs site renders it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ops.resilience.model import FailoverRecord, env_failover_paths, fmt_s

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXPERIMENTS_DIR = PROJECT_DIR / "chaos" / "experiments"
# Physical names under mocks end in a 7-hex suffix (`alarm-1a2b3c4`); AWS gives other ones.
_MOCK_SUFFIX = re.compile(r"-[0-9a-f]{7}\b")


def _text(text: str) -> str:
    """`text` made safe for a Mermaid message or note (no `;` or `#`, no mock name suffixes)."""
    return _MOCK_SUFFIX.sub("", text).replace(";", ",").replace("#", "no. ")


def _fence(lines: Sequence[str]) -> str:
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"


def release_sequence(
    stack: str,
    steps: Sequence[Any],
    *,
    bake_seconds: float,
    load_rate: float,
    rollout_timeout: float,
) -> str:
    """A release of `stack` as `make release` runs it: one ``up`` per step of `steps`
    (:class:`ops.release.pipeline.Step`), each watched and smoke-tested, oneboxes baked."""
    lines = [
        "sequenceDiagram",
        "    autonumber",
        "    participant R as make release",
        "    participant P as Pulumi (Automation API)",
        "    participant E as ECS and CloudWatch",
        "    participant L as environment URL",
        "    R->>E: preflight: DescribeServices, DescribeAlarms",
        "    R->>P: preview with the policy pack",
    ]
    for step in steps:
        rollout = ", ".join(step.rollout)
        if getattr(step, "hosts", False):
            lines += [
                f"    Note over R,L: {_text(step.name)}",
                f"    R->>P: up, release.hostRollout = {', '.join(step.host_rollout)}",
                f"    R->>E: {step.environment}'s instance refresh to Successful (at most "
                f"{fmt_s(rollout_timeout)})",
                f"    R->>E: bake {step.environment}'s services {fmt_s(bake_seconds)}: no "
                "deployment alarm in ALARM",
            ]
            continue
        lines += [
            f"    Note over R,L: {_text(step.name)}",
            f"    R->>P: up, release.rollout = {rollout}",
            f"    R->>E: watch {step.key} to COMPLETED (at most {fmt_s(rollout_timeout)}), "
            "no deployment alarm in ALARM",
        ]
        if step.role == "onebox":
            lines += [
                f"    R->>L: smoke: /health 200, /version shows the new version ({step.key})",
                f"    R->>L: bake {fmt_s(bake_seconds)} under {load_rate:g} requests/s",
                f"    R->>E: {step.key} alarms out of ALARM, with data",
            ]
        else:
            lines.append("    R->>L: smoke: every /version answer is the new version")
    lines += [
        "    opt any step fails",
        "        R->>P: up with release.pins: the failed service back on its release",
        "    end",
    ]
    if any(getattr(step, "hosts", False) for step in steps):
        lines[-1:-1] = ["        R->>R: a host step fails: the next environment's hosts stay"]
    return _fence(lines)


def failover_sequence(record: FailoverRecord, primary: str, secondary: str) -> str:
    """How the primary environment's failure reaches clients, on both paths the model knows."""
    lines = [
        "sequenceDiagram",
        f"    participant A as {primary} (primary)",
        "    participant H as Route 53 health checks",
        "    participant D as resolvers and clients",
        f"    participant B as {secondary} (secondary)",
    ]
    for path, estimate in env_failover_paths(record).items():
        if estimate.never:
            lines.append(f"    Note over A,B: {path}: {_text(estimate.formula)}")
            continue
        lines.append("    rect rgba(127, 127, 127, 0.08)")
        lines.append(f"    Note over A,B: {path}: {fmt_s(estimate.seconds)} in the worst case")
        elapsed = 0.0
        last = len(estimate.terms) - 1
        for index, (label, seconds) in enumerate(estimate.terms):
            elapsed += seconds
            source, target = ("H", "D") if "TTL" in label else ("A", "H")
            arrow = "->>" if index == last else "-->>"
            lines.append(f"    {source}{arrow}{target}: {_text(label)}, t = {fmt_s(elapsed)}")
        lines.append(f"    D->>B: requests reach {secondary}")
        lines.append("    end")
    return _fence(lines)


def _resolve(value: object, configuration: Mapping[str, Any]) -> str:
    """`value` with chaostoolkit's `${key}` replaced by the experiment's plain configuration value."""

    def lookup(match: re.Match[str]) -> str:
        found = configuration.get(match.group(1))
        return str(found) if isinstance(found, (int, float, str)) else match.group(0)

    return re.sub(r"\$\{(\w+)\}", lookup, str(value))


def _activity(
    activity: Mapping[str, Any],
    runner: str,
    participants: dict[str, str],
    configuration: Mapping[str, Any],
) -> list[str]:
    provider = activity.get("provider", {})
    module = str(provider.get("module") or provider.get("type") or "?")
    alias = participants.setdefault(module, f"M{len(participants)}")
    kind = "probe" if activity.get("type") == "probe" else "action"
    lines = [f"    {runner}->>{alias}: {kind} {activity.get('name')} ({provider.get('func', '')})"]
    pause = (activity.get("pauses") or {}).get("after")
    if pause is not None:
        lines.append(f"    Note over {runner}: pause {_text(_resolve(pause, configuration))} s")
    return lines


def chaos_sequence(experiment: str, experiments_dir: Path = EXPERIMENTS_DIR) -> str:
    """The run of `chaos/experiments/<experiment>.json`: each activity, by the module it calls."""
    data = json.loads((experiments_dir / f"{experiment}.json").read_text())
    participants: dict[str, str] = {}
    hypothesis = data.get("steady-state-hypothesis", {}).get("probes", [])
    body: list[str] = []
    sections = (
        ("steady state before the fault (abort if it does not hold)", hypothesis),
        ("method", data.get("method", [])),
        ("steady state after the fault (deviated if it does not hold)", hypothesis),
        ("rollbacks (always)", data.get("rollbacks", [])),
    )
    for title, activities in sections:
        body.append(f"    Note over R: {title}")
        for activity in activities:
            body += _activity(activity, "R", participants, data.get("configuration", {}))
    head = ["sequenceDiagram", f"    participant R as chaos.run {experiment}"]
    head += [f"    participant {alias} as {module}" for module, alias in participants.items()]
    return _fence(head + body)
