"""`make test`'s coverage settings measure the Python processes a test starts, not only pytest's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[2]

# Imports settings.aws_config only in a child process: its lines are covered only if coverage
# follows the subprocess.
PARENT = """
import subprocess, sys
subprocess.run(
    [sys.executable, "-c", "from settings.aws_config import known_regions; known_regions()"],
    check=True,
)
"""


def test_a_child_process_is_measured(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    data_file = tmp_path / "data" / ".coverage"
    data_file.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env.update(COVERAGE_FILE=str(data_file), PYTHONPATH=str(ROOT))
    run = [sys.executable, "-m", "coverage", "run", f"--rcfile={ROOT / 'pyproject.toml'}"]
    subprocess.run([*run, str(script)], cwd=ROOT, env=env, check=True, timeout=120)
    subprocess.run(
        [sys.executable, "-m", "coverage", "combine", "-q", f"--rcfile={ROOT / 'pyproject.toml'}"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    measured = {Path(f).resolve() for f in data.measured_files()}
    target = (ROOT / "settings" / "aws_config.py").resolve()
    assert target in measured
    assert len(data.lines(str(target)) or []) > 10
