"""A second server on a busy port refuses to start, naming the port (Granian alone would share it)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from app_support import Process, clean_env, free_port, spawn


def run_server_expecting_exit(log_path: Path, port: int) -> tuple[int, str]:
    process = spawn(
        [sys.executable, "-m", "steadystate_app.server"],
        clean_env(HOST="127.0.0.1", PORT=str(port), WORKERS="1"),
        log_path,
    )
    try:
        process.popen.wait(10)
    except subprocess.TimeoutExpired:
        process.stop()
        pytest.fail(f"the second server started on a busy port:\n{process.log_text()}")
    return process.popen.returncode, process.log_text()


@pytest.mark.slow
def test_a_second_server_on_the_same_port_fails_fast(
    start_server: Callable[..., Process], tmp_path: Path
) -> None:
    first = start_server()
    code, output = run_server_expecting_exit(tmp_path / "second.log", first.port)
    assert code == 2
    assert f"refusing to start: port {first.port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    assert first.get("/health").status == 200  # the first one is untouched


def test_a_free_port_passes_the_check() -> None:
    from steadystate_app.port_check import port_in_use_problem

    assert port_in_use_problem("127.0.0.1", free_port()) is None
