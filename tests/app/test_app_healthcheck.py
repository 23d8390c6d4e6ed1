"""The container health check passes on 200 from /health only: a 404 (wrong path, wrong app on
the port), a redirect or a 503 (draining, not ready) is unhealthy, as is nothing listening.

ECS runs the container health check command and counts exit 0 as healthy, anything else as
unhealthy (ECS API reference, ``HealthCheck.command``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from steadystate_app import healthcheck


@pytest.fixture
def answering(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """A server on 127.0.0.1 answering ``/health`` with ``status["code"]``; PORT points at it."""
    status = {"code": 200}
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(status["code"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PORT", str(server.server_address[1]))
    try:
        yield status
    finally:
        server.shutdown()
        server.server_close()
    assert set(paths) <= {"/health"}


def test_200_is_healthy(answering) -> None:
    assert healthcheck.main() == 0


@pytest.mark.parametrize("code", [301, 404, 429, 500, 503])
def test_anything_but_200_is_unhealthy(answering, code) -> None:
    answering["code"] = code
    assert healthcheck.main() == 1
