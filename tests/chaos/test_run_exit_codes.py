"""Every exit code of ``chaos.run`` is reached by a test (``== chaos_run.EXIT_...`` or its number
asserted on what ``main`` returned): a new code needs a test that produces it."""

from __future__ import annotations

import re
from pathlib import Path

from chaos import run_errors


def test_every_chaos_exit_code_is_asserted_by_a_test() -> None:
    codes = {
        name: value
        for name, value in vars(run_errors).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert len(set(codes.values())) == len(codes), "two exit codes share a number"
    text = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    by_name = set(re.findall(r"==\s*(?:chaos_run\.)?(EXIT_[A-Z_]+)", text))
    by_number = {int(n) for n in re.findall(r"(?:code|returncode|main\(.*\))\s*==\s*(\d)\b", text)}
    missing = sorted(n for n, v in codes.items() if n not in by_name and v not in by_number)
    assert not missing, f"chaos.run exit codes no test reaches: {missing}"
