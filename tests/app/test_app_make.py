"""``make serve`` runs the image's command and answers the endpoints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from app_support import ROOT, clean_env, free_port, spawn, wait_until_serving


@pytest.fixture
def make() -> str:
    found = shutil.which("make")
    if found is None:
        pytest.skip("make not installed: apt-get install make")
    return found


def test_make_serve_answers_the_endpoints(make: str, tmp_path: Path) -> None:
    port = free_port()
    # -o: never rebuild the virtualenv from inside a test.
    process = spawn(
        [make, "-s", "-o", ".venv/.installed", "serve", f"PORT={port}", "WORKERS=1"],
        clean_env(HOST="127.0.0.1", APP_ENVIRONMENT="dev"),
        tmp_path / "make-serve.log",
        port,
    )
    try:
        wait_until_serving(process)
        assert process.get("/health").json() == {"status": "OK"}
        assert len(process.get("/api").json()) == 52
        assert process.get("/version").json() == {"environment": "dev", "version": "unknown"}
        assert process.get("/ready").status == 200
    finally:
        # The whole group, as Ctrl-C in a terminal does: make, the main process and its worker get
        # SIGTERM at the same moment; every one of them must exit.
        process.stop_group(15)
    assert '"Granian shutdown completed, see ya!"' in process.log_text()


def test_make_serve_runs_the_image_command(make: str) -> None:
    dry_run = subprocess.run(
        [make, "-s", "-n", "-o", ".venv/.installed", "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "-m steadystate_app.server" in dry_run.stdout
    assert "PORT=8080 WORKERS=2" in dry_run.stdout
