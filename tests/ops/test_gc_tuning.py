"""ops/cli/gc_tuning.py: each tool's own process, and the policy pack's, collects cycles less often;
importing a tool (as the tests and the release plan do) leaves the interpreter's defaults alone."""

from __future__ import annotations

import gc
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.cli.gc_tuning import THRESHOLDS

REPO = Path(__file__).resolve().parents[2]

TOOLS = ["ops.gate.check", "ops.cost", "ops.resilience.report", "ops.release.pipeline", "chaos.run"]


def _thresholds_after(code: str, cwd: Path = REPO) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("tool", TOOLS)
def test_a_tools_run_tunes_the_collector(tool: str) -> None:
    code = (
        "import gc, json, runpy, sys\n"
        "sys.argv = ['tool', '--help']\n"
        "try:\n"
        f"    runpy.run_module({tool!r}, run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(gc.get_threshold()))\n"
    )
    assert tuple(_thresholds_after(code)) == THRESHOLDS


@pytest.mark.parametrize("tool", ["ops.gate.check", "ops.cost.__main__", "chaos.run"])
def test_importing_a_tool_keeps_the_defaults(tool: str) -> None:
    before = gc.get_threshold()
    importlib.import_module(tool)
    assert gc.get_threshold() == before


def test_the_policy_pack_tunes_its_own_process() -> None:
    code = (
        "import gc, json, runpy, sys\n"
        "import pulumi_policy\n"
        "pulumi_policy.PolicyPack = lambda **_kwargs: None  # would serve forever\n"
        "sys.path.insert(0, '.')\n"
        "runpy.run_path('__main__.py', run_name='__main__')\n"
        "print(json.dumps(gc.get_threshold()))\n"
    )
    assert tuple(_thresholds_after(code, REPO / "policy")) == THRESHOLDS
