"""`make release-plan` runs the offline gate first and refuses what `make check` refuses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ops.release import pipeline as pipeline_module
from ops.release.pipeline import EXIT_OK, EXIT_PULUMI, EXIT_USAGE

REPO = Path(__file__).resolve().parents[3]
INSECURE = REPO / "tests" / "fixtures" / "insecure"

pytestmark = [pytest.mark.real_gate, pytest.mark.slow]


def test_a_stack_the_gate_passes_gets_its_plan_with_the_gate_line(fresh_loop) -> None:
    out = io.StringIO()
    assert pipeline_module.main(["--stack", "dev", "--dry-run"], out=out) == EXIT_OK
    text = out.getvalue()
    assert "[dry-run] gate: steadystate-guardrails: " in text
    assert ", 0 mandatory" in text
    assert text.index("[dry-run] gate:") < text.index("[dry-run] stack dev")


def test_mandatory_violations_refuse_the_plan_naming_each(fresh_loop) -> None:
    """The insecure fixture passes its own (empty) settings but breaks 129 mandatory rules."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--stack", "dev", "--dry-run", "--work-dir", str(INSECURE), "--json"]
    assert pipeline_module.main(argv, out=out, stderr=err) == EXIT_PULUMI
    text = err.getvalue()
    assert "[error] the offline gate (make check) refuses stack dev: " in text
    assert "alarms-notify-topic-in-stack on cpu-high" in text
    assert "[dry-run]" not in text  # no plan is printed for a refused stack
    assert json.loads(out.getvalue())["exitCode"] == EXIT_PULUMI


def test_a_program_that_fails_is_a_configuration_error(fresh_loop, tmp_path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        (tmp_path / name).write_text((REPO / name).read_text())
    (tmp_path / "__main__.py").write_text("raise RuntimeError('the program broke')\n")
    out = io.StringIO()
    argv = ["--stack", "dev", "--dry-run", "--work-dir", str(tmp_path)]
    assert pipeline_module.main(argv, out=out) == EXIT_USAGE
    assert "refuses stack dev" in out.getvalue()
