"""The operator CLIs run under ``python -OO``, which strips the docstrings they describe themselves
with (``__doc__`` is None there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", ["chaos.run", "chaos.report", "ops.docs.generate"])
def test_help_without_docstrings(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-OO", "-m", module, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
