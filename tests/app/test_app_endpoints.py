"""Every endpoint and error path of the app, over real HTTP against the real server process."""

from __future__ import annotations

import asyncio
import string
import subprocess
import sys
from typing import Any

from app_support import Process, clean_env, free_port, wait_for

ROUTES = ("/api", "/health", "/version", "/ready")


def test_api_is_52_random_ascii_letters_keyed_0_to_51(server: Process) -> None:
    response = server.get("/api")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert list(payload) == [str(index) for index in range(52)]
    assert all(len(letter) == 1 and letter in string.ascii_letters for letter in payload.values())


def test_api_payload_is_fresh_per_request(server: Process) -> None:
    payloads = {server.get("/api").body for _ in range(5)}
    assert len(payloads) == 5


def test_health_is_ok(server: Process) -> None:
    response = server.get("/health")
    assert response.status == 200
    assert response.json() == {"status": "OK"}


def test_version_reports_environment_and_version(server: Process) -> None:
    for path in ("/version", "/version/"):
        response = server.get(path)
        assert response.status == 200
        assert response.json() == {"environment": "green-onebox", "version": "1.2.3"}


def test_ready_with_no_dependencies_is_ready(server: Process) -> None:
    response = server.get("/ready")
    assert response.status == 200
    assert response.json() == {"status": "ready", "dependencies": {}}


def test_unknown_path_is_404_json(server: Process) -> None:
    for path in ("/", "/nope", "/api/extra", "/HEALTH"):
        response = server.get(path)
        assert response.status == 404, path
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"error": "not found"}


def test_wrong_method_is_405_with_allow(server: Process) -> None:
    for path in ROUTES:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = server.get(path, method=method)
            assert response.status == 405, (method, path)
            assert response.headers["allow"] == "GET, HEAD"
            assert response.json() == {"error": "method not allowed"}


def test_head_sends_headers_without_body(server: Process) -> None:
    response = server.get("/health", method="HEAD")
    assert response.status == 200
    assert response.body == b""
    assert response.headers["content-length"] == str(len(b'{"status":"OK"}'))


def test_responses_are_not_cacheable(server: Process) -> None:
    for path in ROUTES:
        assert server.get(path).headers["cache-control"] == "no-store"


def test_logs_are_json_with_access_lines(server: Process) -> None:
    server.get("/version?probe=access-log")

    def access_line() -> dict | None:
        records = server.log_records()  # fails on any non-JSON line
        return next((r for r in records if r.get("path") == "/version"), None)

    line = wait_for(access_line, 5, "the access log line")
    assert line["logger"] == "steadystate_app.access"
    assert {"method": "GET", "status": 200}.items() <= line.items()
    assert any(r["message"] == "worker ready" for r in server.log_records())


def test_container_healthcheck_command(server: Process) -> None:
    command = [sys.executable, "-m", "steadystate_app.healthcheck"]
    up = subprocess.run(command, env=clean_env(PORT=str(server.port)), timeout=10)
    down = subprocess.run(command, env=clean_env(PORT=str(free_port())), timeout=10)
    assert (up.returncode, down.returncode) == (0, 1)


def test_handler_error_is_json_500_without_traceback(caplog: Any) -> None:
    """An exception in a handler is logged and answered with a generic JSON 500."""
    from steadystate_app.asgi import App
    from steadystate_app.settings import app_settings

    async def broken(settings: object) -> None:
        raise RuntimeError("secret internals")

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = App(app_settings({}), routes={"/boom": broken})
    scope = {"type": "http", "method": "GET", "path": "/boom", "headers": []}
    asyncio.run(app(scope, receive, send))

    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"error":"internal server error"}'
    assert "secret internals" in caplog.text  # logged for operators, never sent to the client
