"""The ASGI application: routing, 404 and 405, fault injection, and no traceback ever sent.

``create_app`` is the factory the server calls in each worker process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from . import faults
from .responses import Response, json_response
from .routes import ROUTES, Handler
from .settings import AppSettings, app_settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

ALLOWED_METHODS = ("GET", "HEAD")
_ALLOW_HEADER = ((b"allow", ", ".join(ALLOWED_METHODS).encode()),)

log = logging.getLogger(__name__)
access_log = logging.getLogger("steadystate_app.access")


class App:
    """Serves ``routes`` (GET and HEAD) with ``settings``; everything else is a JSON error."""

    def __init__(self, settings: AppSettings, routes: Mapping[str, Handler] = ROUTES) -> None:
        self.settings = settings
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # the server refuses websockets before they get here
            return
        started = time.perf_counter()
        response = await self._respond(scope["method"], scope["path"].rstrip("/") or "/")
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [*response.headers, (b"content-length", b"%d" % len(response.body))],
            }
        )
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})
        if self.settings.access_log:
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": response.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    async def _respond(self, method: str, path: str) -> Response:
        handler = self.routes.get(path)
        if handler is None:
            return json_response(404, {"error": "not found"})
        if method not in ALLOWED_METHODS:
            return json_response(405, {"error": "method not allowed"}, _ALLOW_HEADER)
        try:
            if await faults.inject(self.settings.faults, path):
                return json_response(500, {"error": "injected fault"})
            return await handler(self.settings)
        except Exception:
            log.exception("unhandled error", extra={"method": method, "path": path})
            return json_response(500, {"error": "internal server error"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                log.info(
                    "worker ready",
                    extra={
                        "pid": os.getpid(),
                        "environment": self.settings.environment,
                        "version": self.settings.version,
                        "stage": self.settings.stage,
                    },
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                log.info("worker stopping", extra={"pid": os.getpid()})
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app() -> App:
    """Build the app from the environment (called once per worker process)."""
    return App(app_settings())
