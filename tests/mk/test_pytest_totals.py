"""The suite's pytest settings keep the "N passed" totals line, for `make test` and `pytest -q`.

`-q` in addopts plus `-q` on the command line is `-qq`, which drops the totals line.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make_test_pytest_args() -> list[str]:
    """The arguments `make test` passes to pytest (its `coverage run -m pytest ...` line)."""
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    match = re.search(r"-m coverage run -m pytest(.*)", recipe)
    assert match, "the Makefile's test target no longer runs pytest under coverage"
    return [arg for arg in shlex.split(match.group(1)) if arg != "$(ARGS)"]  # empty by default


@pytest.mark.parametrize(
    "args",
    [pytest.param(["-q"], id="pytest -q"), pytest.param([], id="plain pytest"), "make test"],
)
def test_the_totals_line_is_printed(tmp_path: Path, args: list[str] | str) -> None:
    argv = _make_test_pytest_args() if args == "make test" else args
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), *argv, "test_one.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^=*\s*1 passed in ", result.stdout, re.M), result.stdout


def test_make_test_says_why_a_test_was_skipped(tmp_path: Path) -> None:
    """`make test` lists each skipped test with its reason (`-rs`), so a skip that hides a missing
    tool (the pulumi CLI, graphviz, Postgres) is visible in the run's output."""
    (tmp_path / "test_skip.py").write_text(
        "import pytest\n\n\ndef test_needs_a_tool():\n    pytest.skip('the tool is not installed')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COVERAGE_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            *_make_test_pytest_args(),
            "test_skip.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        r"^SKIPPED \[1\] test_skip\.py:\d+: the tool is not installed$", result.stdout, re.M
    ), result.stdout
