"""`make release-plan` judges the stack exactly as `make check` does before it prints a plan.

A plan for a stack the gate refuses would promise a release whose `pulumi preview --policy-pack`
then stops it; so the plan runs the offline gate (the real program under mocks, the policy pack over
its gRPC protocol: ``ops.gate.check``) and refuses what the gate refuses, with the gate's findings.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

# The gate's exit codes (ops.gate.check) → what they mean for a plan.
GATE_OK, GATE_MANDATORY, GATE_PROGRAM, GATE_PACK, GATE_USAGE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class GateVerdict:
    """What the offline gate said of one stack."""

    exit_code: int
    summary: str
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == GATE_OK


def judge_stack(project_dir: Path, stack: str) -> GateVerdict:
    """Run the offline gate in this process for `stack` of `project_dir` and read its verdict."""
    from ops.gate.check import main as gate_main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = gate_main(["--stack", stack, "--project-dir", str(project_dir), "--json"])
    try:
        document = json.loads(printed.getvalue())
    except json.JSONDecodeError:
        return GateVerdict(code, f"the gate exited {code} without a report", [])
    summary = (document.get("summary") or {}).get("line") or f"the gate exited {code}"
    findings = [
        f"{v['policy']} on {v['resource']['name']} ({v['resource']['type']}): {v['message']}"
        for v in document.get("violations") or []
        if v.get("level") == "mandatory"
    ]
    findings += [str(e.get("message", e)) for e in document.get("errors") or []]
    return GateVerdict(code, summary, findings)
