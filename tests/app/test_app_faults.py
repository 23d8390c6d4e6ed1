"""Fault switches: latency and error rate from the environment, and their refusal in prod."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from app_support import Process, clean_env, free_port, spawn


def test_error_rate_one_fails_every_api_request_but_not_health(
    start_server: Callable[..., Process],
) -> None:
    server = start_server(FAULT_ERROR_RATE="1")
    for _ in range(3):
        response = server.get("/api")
        assert response.status == 500
        assert response.json() == {"error": "injected fault"}
    assert server.get("/health").status == 200  # the load balancer keeps the task


def test_fault_paths_choose_the_endpoints(start_server: Callable[..., Process]) -> None:
    server = start_server(FAULT_ERROR_RATE="1", FAULT_PATHS="/health")
    assert server.get("/health").status == 500
    assert server.get("/api").status == 200


def test_latency_delays_api_responses(start_server: Callable[..., Process]) -> None:
    server = start_server(FAULT_LATENCY_MS="400")
    started = time.monotonic()
    response = server.get("/api")
    assert response.status == 200
    assert time.monotonic() - started >= 0.4


def test_faults_are_off_by_default(start_server: Callable[..., Process]) -> None:
    server = start_server()
    assert all(server.get("/api").status == 200 for _ in range(20))


def run_server_expecting_exit(log_path: Path, **env: str) -> tuple[int, str]:
    """Start the server and wait for it to exit (stopping it, workers and all, after 10 s)."""
    process = spawn(
        [sys.executable, "-m", "steadystate_app.server"],
        clean_env(**{"HOST": "127.0.0.1", "PORT": str(free_port()), **env}),
        log_path,
    )
    try:
        process.popen.wait(10)
    except subprocess.TimeoutExpired:
        process.stop()
        pytest.fail(f"the server started:\n{process.log_text()}")
    return process.popen.returncode, process.log_text()


@pytest.mark.parametrize(
    "fault", [{"FAULT_LATENCY_MS": "6000"}, {"FAULT_ERROR_RATE": "0.1"}], ids=["latency", "errors"]
)
def test_prod_refuses_faults_unless_allowed(fault: dict[str, str], tmp_path: Path) -> None:
    code, output = run_server_expecting_exit(tmp_path / "server.log", APP_STAGE="prod", **fault)
    assert code == 2
    assert "refusing to start" in output
    assert "APP_ALLOW_FAULTS=true" in output
    assert "Traceback" not in output


def test_prod_allows_faults_when_explicitly_allowed(start_server: Callable[..., Process]) -> None:
    server = start_server(APP_STAGE="prod", APP_ALLOW_FAULTS="true", FAULT_ERROR_RATE="1")
    assert server.get("/api").status == 500


@pytest.mark.parametrize(
    "env",
    [
        {"FAULT_ERROR_RATE": "1.5"},
        {"FAULT_LATENCY_MS": "soon"},
        {"APP_STAGE": "staging"},
        {"APP_ALLOW_FAULTS": "maybe"},
        {"PORT": "http"},
        {"WORKERS": "0"},
        {"LOG_LEVEL": "loud"},
        {"HTTP_IDLE_TIMEOUT_SECONDS": "-1"},
        {"READY_DEPENDENCIES": "cache"},
    ],
)
def test_invalid_settings_stop_start_up(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run_server_expecting_exit(tmp_path / "server.log", **env)
    assert code == 2
    assert next(iter(env)) in output  # the message names the variable
