"""A tiny HTTP service on 127.0.0.1 for the release tests: /health, /version, /api, counted.

``versions`` is the cycle of versions /version answers (e.g. 99 × fleet then 1 × onebox, like a
weighted listener); ``health`` the status /health answers.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalService:
    def __init__(self, versions: list[str], health: int = 200, api_status: int = 200) -> None:
        self.cycle = itertools.cycle(versions)
        self.health = health
        self.api_status = api_status
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.url = ""

    def set_versions(self, versions: list[str]) -> None:
        with self.lock:
            self.cycle = itertools.cycle(versions)


@contextmanager
def serving(service: LocalService) -> Iterator[LocalService]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with service.lock:
                service.hits[self.path] += 1
                version = next(service.cycle) if self.path == "/version" else ""
            status, body = {
                "/health": (service.health, {"status": "ok"}),
                "/version": (200, {"environment": "blue-fleet", "version": version}),
                "/api": (service.api_status, {"hello": "world"}),
            }.get(self.path, (404, {"error": "not found"}))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
