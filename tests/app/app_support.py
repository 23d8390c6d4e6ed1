"""Helpers for the app's tests: processes, HTTP, a TCP service, Postgres and moto_server,
all on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "app"
sys.path.insert(0, str(APP_DIR))  # the in-process tests import steadystate_app from app/

# Variables the app or prober read: scrubbed from the inherited environment so a developer's
# shell cannot change what a test sees.
_APP_PREFIXES = ("APP_", "FAULT_", "DB_", "READY_", "PROBE_", "AWS_", "GRANIAN_")
_APP_VARS = {"DATABASE_URL", "HOST", "PORT", "WORKERS", "LOG_LEVEL", "ACCESS_LOG"}
_APP_VARS |= {"SHUTDOWN_TIMEOUT_SECONDS", "HTTP_IDLE_TIMEOUT_SECONDS"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def clean_env(**overrides: str) -> dict[str, str]:
    """The inherited environment without the app's variables, plus PYTHONPATH=app and
    ``overrides``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _APP_VARS and not key.startswith(_APP_PREFIXES)
    }
    env["PYTHONPATH"] = str(APP_DIR)
    env.update(overrides)
    return env


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, path: str, method: str = "GET", timeout: float = 10) -> HttpResult:
    """One HTTP/1.1 request to 127.0.0.1:``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpResult(response.status, headers, response.read())
    finally:
        connection.close()


@dataclass
class Process:
    """A child process whose stdout and stderr go to ``log_path``."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines logged so far (any other line fails the test: logs must be JSON)."""
        records = []
        for line in self.log_text().splitlines():
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pytest.fail(f"log line is not JSON: {line!r}")
        return records

    def get(self, path: str, method: str = "GET", timeout: float = 10) -> HttpResult:
        return request(self.port, path, method, timeout)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM to the process, then SIGKILL to its whole process group (workers included) if
        it still runs after ``timeout``; fails the test if any process of the group is left. The
        exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        assert_group_gone(self.popen.pid)
        return self.popen.returncode

    def stop_group(self, timeout: float = 15) -> int | None:
        """SIGTERM to the whole process group (``make`` and the server it runs); waits for every
        member to exit, SIGKILLs what is left after ``timeout`` and then fails the test; the leader's
        exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_members(self.popen.pid) and time.monotonic() < deadline:
            self.popen.poll()  # reap the leader as soon as it exits
            time.sleep(0.05)
        left = group_members(self.popen.pid)
        if left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
            assert_group_gone(self.popen.pid)
            pytest.fail(
                f"still running {timeout} s after SIGTERM (killed now): {left}\n{self.log_text()}"
            )
        return self.popen.wait(5)


def group_members(pgid: int) -> list[str]:
    """The live (not zombie) processes of process group ``pgid``, as "pid command" strings; the
    child this test has not reaped yet counts as live until reaped."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited while listing
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it.
        comm_end = text.rindex(")")
        state, _ppid, pgrp = text[comm_end + 2 :].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(f"{stat.parent.name} {text[text.index('(') + 1 : comm_end]}")
    return members


def assert_group_gone(pgid: int, timeout: float = 5) -> None:
    """Fail the test if a process of group ``pgid`` is still alive after ``timeout`` seconds
    (orphaned members are reaped by init, which can take a moment)."""
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        if time.monotonic() > deadline:
            left = group_members(pgid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            pytest.fail(f"processes outlived the test (killed now): {left}")
        time.sleep(0.05)


def spawn(args: list[str], env: dict[str, str], log_path: Path, port: int = 0) -> Process:
    log_file = log_path.open("wb")
    popen = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    log_file.close()
    return Process(popen, log_path, port)


def wait_until_serving(process: Process, timeout: float = 15) -> None:
    """Until the server answers HTTP; fails with the server's log if the process exits first."""

    def serving() -> bool:
        if process.popen.poll() is not None:
            pytest.fail(f"server exited with {process.popen.returncode}:\n{process.log_text()}")
        try:
            process.get("/health", timeout=1)  # any answer: faults may make it a 500
        except OSError:
            return False
        return True

    wait_for(serving, timeout, "the server to answer HTTP")


class TcpListener:
    """A TCP service on 127.0.0.1 that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self._sock: socket.socket | None = None

    def up(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self._sock = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def down(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None

    @staticmethod
    def _accept(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = sock.accept()
                connection.close()


# --- Postgres -------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


@dataclass
class Postgres:
    """A throwaway Postgres cluster: password auth on 127.0.0.1:``port``."""

    bin_dir: Path
    base: Path
    port: int = field(default_factory=free_port)
    user: str = "steadystate"
    password: str = "s3cret-'quote\"and space"  # exercises conninfo quoting
    dbname: str = "postgres"

    @property
    def data(self) -> Path:
        return self.base / "data"

    def dsn(self, password: str | None = None) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password if password is None else password,
            dbname=self.dbname,
        )

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        password_file = self.base / "password"
        password_file.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            self.user,
            "--pwfile",
            str(password_file),
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.base / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


# --- moto_server ------------------------------------------------------------------------------

AWS_TEST_ENV = {
    # What the task definition sets (botocore by itself reads only AWS_DEFAULT_REGION).
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def start_moto(port: int, log_path: Path) -> Process:
    """``moto_server`` on 127.0.0.1:``port``, answering once this returns."""
    process = spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        clean_env(),
        log_path,
        port,
    )

    def answering() -> bool:
        if process.popen.poll() is not None:
            pytest.fail(f"moto_server exited:\n{process.log_text()}")
        try:
            return process.get("/moto-api/", timeout=1).status == 200
        except OSError:
            return False

    wait_for(answering, 20, "moto_server to answer")
    return process


def cloudwatch(port: int) -> Any:
    """A boto3 CloudWatch client talking to the moto_server on ``port``."""
    import boto3

    return boto3.client(
        "cloudwatch",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=AWS_TEST_ENV["AWS_REGION"],
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def secretsmanager(port: int) -> Any:
    """A boto3 Secrets Manager client talking to the moto_server on ``port``."""
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=AWS_TEST_ENV["AWS_REGION"],
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )
