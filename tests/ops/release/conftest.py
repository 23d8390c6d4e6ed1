"""The release tests' plan-format checks use a gate that passes; tests/ops/release/test_plan_gate.py
runs the real one (it takes seconds per stack)."""

from __future__ import annotations

import pytest

from ops.release import pipeline as pipeline_module
from ops.release.plan_gate import GateVerdict


@pytest.fixture(autouse=True)
def passing_gate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_gate") is None:
        verdict = GateVerdict(0, "steadystate-guardrails: stubbed for plan-format tests")
        monkeypatch.setattr(pipeline_module, "judge_stack", lambda _dir, _stack: verdict)
