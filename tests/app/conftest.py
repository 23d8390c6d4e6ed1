"""Fixtures for the app's tests: the real server and prober processes, a real Postgres and a real
moto_server, all on 127.0.0.1, all stopped at teardown."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Under --import-mode=importlib nothing puts this directory on sys.path: do it so the test
# modules can import their helpers.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_support import (
    AWS_TEST_ENV,
    Postgres,
    Process,
    TcpListener,
    clean_env,
    free_port,
    postgres_bin,
    spawn,
    start_moto,
    wait_for,
    wait_until_serving,
)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start ``python -m steadystate_app.server`` (the image's command) with extra env vars."""
    started: list[Process] = []

    def start(**env: str) -> Process:
        port = free_port()
        settings = {"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", **env}
        process = spawn(
            [sys.executable, "-m", "steadystate_app.server"],
            clean_env(**settings),
            tmp_path / f"server-{len(started)}.log",
            port,
        )
        started.append(process)
        wait_until_serving(process)
        # Every worker up, not just the first: a worker still booting when SIGTERM arrives misses
        # it (Granian), and the test's stop() would then wait out SHUTDOWN_TIMEOUT_SECONDS.
        workers = int(settings["WORKERS"])
        wait_for(
            lambda: process.log_text().count('"Started worker-') >= workers,
            15,
            f"{workers} workers to start",
        )
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """One server with two workers and a known environment, shared by a module's tests."""
    port = free_port()
    process = spawn(
        [sys.executable, "-m", "steadystate_app.server"],
        clean_env(
            HOST="127.0.0.1",
            PORT=str(port),
            WORKERS="2",
            APP_ENVIRONMENT="green-onebox",
            APP_VERSION="1.2.3",
            ACCESS_LOG="true",
        ),
        tmp_path_factory.mktemp("server") / "server.log",
        port,
    )
    try:
        wait_until_serving(process)
        yield process
    finally:
        process.stop()


@pytest.fixture
def tcp_listener() -> Iterator[TcpListener]:
    listener = TcpListener()
    listener.up()
    yield listener
    listener.down()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real Postgres server (Debian's), initialised and started for the session."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("Postgres server not installed: apt-get install postgresql")
    # Not under pytest's 0700 temp root: the postgres user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="steadystate-pg-"))
    server = Postgres(bin_dir, base)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    process = start_moto(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    yield process
    process.stop()


@pytest.fixture
def start_prober(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start ``python -m steadystate_app.prober`` (the sidecar's command) against moto."""
    started: list[Process] = []

    def start(moto_port: int, **env: str) -> Process:
        settings = {
            **AWS_TEST_ENV,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
            "PROBE_INTERVAL_SECONDS": "1",
            "PROBE_TIMEOUT_SECONDS": "0.5",
            "LOG_LEVEL": "DEBUG",
            **env,
        }
        process = spawn(
            [sys.executable, "-m", "steadystate_app.prober"],
            clean_env(**settings),
            tmp_path / f"prober-{len(started)}.log",
        )
        started.append(process)
        wait_for(lambda: "prober started" in process.log_text(), 15, "the prober to start")
        return process

    yield start
    for process in started:
        process.stop()
