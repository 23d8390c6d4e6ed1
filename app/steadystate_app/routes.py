"""The endpoint handlers. Each takes the app's settings and returns a :class:`Response`.

Add an endpoint by writing a handler and adding its path to :data:`ROUTES`.
"""

from __future__ import annotations

import random
import string
from collections.abc import Awaitable, Callable

from . import readiness
from .responses import JSON_HEADERS, Response, json_response
from .settings import AppSettings

Handler = Callable[[AppSettings], Awaitable[Response]]

_LETTERS = string.ascii_letters
_COUNT = 52
# The /api body with a %s per letter: letters need no JSON escaping, so filling this template is
# the same JSON as json.dumps of the dict, at half the cost on the hottest path.
_API_TEMPLATE = "{" + ",".join(f'"{index}":"%s"' for index in range(_COUNT)) + "}"


async def api(settings: AppSettings) -> Response:
    """Keys "0".."51", each a random ASCII letter, fresh per request (the autoscaling tutorial's payload)."""
    letters = tuple(random.choices(_LETTERS, k=_COUNT))
    return Response(200, (_API_TEMPLATE % letters).encode(), JSON_HEADERS)


async def health(settings: AppSettings) -> Response:
    """Liveness for the target group and the container health check: no dependency calls."""
    return json_response(200, {"status": "OK"})


async def version(settings: AppSettings) -> Response:
    """Which deployment answers: blue or green, onebox or fleet, and which release."""
    return json_response(200, {"environment": settings.environment, "version": settings.version})


async def ready(settings: AppSettings) -> Response:
    """Readiness over the configured dependencies: 200, or 503 when a required one is down."""
    status, body = await readiness.report(settings)
    return json_response(status, body)


ROUTES: dict[str, Handler] = {"/api": api, "/health": health, "/version": version, "/ready": ready}
