"""`make bench` and `make bench-check` leave tracked files unchanged: their results go to an ignored
folder under build/, and the committed reference figures in bench/results/ are only read."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench import check_speed
from bench.app import run as app_bench

REPO = Path(__file__).resolve().parents[2]


def _ignored(path: Path) -> bool:
    result = subprocess.run(
        ["git", "check-ignore", "-q", str(path.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    "written",
    [
        check_speed.RESULTS / "check_speed.json",
        check_speed.RESULTS / "check_speed.md",
        app_bench.RESULTS / "app.json",
        app_bench.RESULTS / "app.md",
    ],
    ids=lambda p: p.name,
)
def test_bench_results_go_to_an_ignored_path(written: Path) -> None:
    assert _ignored(written), f"{written} would change the work tree"
