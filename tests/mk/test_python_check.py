"""`make venv` with the wrong Python: refused in one clear line, and a .venv made by another Python
version is rebuilt. Run against a temporary VENV (never the worktree's own .venv) with fake
interpreters that report a version and record that they were asked to create a venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "mk" / "python-check.sh"


def fake_python(tmp_path: Path, version: str) -> Path:
    """A `pythonX.Y` that prints its version for `-c` and logs any other use to `used`."""
    path = tmp_path / f"python{version}"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-c" ]; then echo {version}; exit 0; fi\n'
        f'echo "$@" >> "{tmp_path}/used"\n'
        "exit 1\n"
    )
    path.chmod(0o755)
    return path


def make_venv(python: Path | str, venv: Path) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed: apt-get install make")
    return subprocess.run(
        [make, "-C", str(ROOT), "--no-print-directory", "venv", f"PYTHON={python}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_python_3_10_is_refused_before_anything_runs(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = fake_python(tmp_path, "3.10")
    result = make_venv(python, venv)
    assert result.returncode != 0
    assert (
        f"steadystate needs Python 3.11 or newer: PYTHON={python} is Python 3.10; "
        "set PYTHON, e.g. make venv PYTHON=python3.11"
    ) in result.stderr
    assert not venv.exists()
    assert not (tmp_path / "used").exists()  # no `-m venv`, no pip


def test_a_missing_interpreter_is_named(tmp_path: Path) -> None:
    result = make_venv(tmp_path / "python-nowhere", tmp_path / "venv")
    assert result.returncode != 0
    assert f"'{tmp_path / 'python-nowhere'}' does not run" in result.stderr


def test_a_venv_from_another_python_is_rebuilt(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.10.12\n")
    (venv / "bin" / "python").symlink_to("/bin/true")
    python = fake_python(tmp_path, "3.12")
    result = make_venv(python, venv)
    assert f"rebuilding {venv}: it was made by Python 3.10, PYTHON={python} is Python 3.12" in (
        result.stderr
    )
    # the old venv is gone and PYTHON was asked to make a new one (the fake then fails)
    assert not (venv / "pyvenv.cfg").exists()
    assert (tmp_path / "used").read_text().split() == ["-m", "venv", str(venv)]


@pytest.mark.parametrize("key", ["version", "version_info"])
def test_a_venv_of_the_same_minor_version_is_kept(tmp_path: Path, key: str) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "pyvenv.cfg").write_text(f"{key} = {minor}.99\n")
    result = subprocess.run(
        ["sh", str(CHECK), sys.executable, str(venv)], capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert (venv / "pyvenv.cfg").exists()
