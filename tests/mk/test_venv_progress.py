"""Creating the virtualenv shows progress: a line per step, and pip's own per-package lines for the
long install (no --quiet). Run against a temporary VENV with a fake interpreter whose `-m venv`
makes a fake venv python that records each pip call."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def fake_python(tmp_path: Path) -> Path:
    """A python3.12 whose `-m venv DIR` creates DIR/bin/python, which logs its arguments."""
    log = tmp_path / "pip-calls"
    path = tmp_path / "python3.12"
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-c" ]; then echo 3.12; exit 0; fi\n'
        'if [ "$1 $2" = "-m venv" ]; then\n'
        '  mkdir -p "$3/bin"\n'
        f'  printf \'#!/bin/sh\\necho "$@" >> {log}\\n\' > "$3/bin/python"\n'
        '  chmod +x "$3/bin/python"\n'
        "  exit 0\n"
        "fi\n"
        "exit 1\n"
    )
    path.chmod(0o755)
    return path


def test_make_venv_prints_a_line_per_step_and_lets_pip_report(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed: apt-get install make")
    venv = tmp_path / "venv"
    python = fake_python(tmp_path)
    result = subprocess.run(
        [make, "-C", str(ROOT), "--no-print-directory", "venv", f"PYTHON={python}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("venv")]
    assert [line.split(":", 1)[0] for line in steps] == ["venv 1/3", "venv 2/3", "venv 3/3", "venv"]
    assert steps[-1] == f"venv: {venv} is ready"
    calls = (tmp_path / "pip-calls").read_text().splitlines()
    install = next(call for call in calls if "-r requirements-dev.txt" in call)
    assert "--quiet" not in install.split() and "-q" not in install.split()
