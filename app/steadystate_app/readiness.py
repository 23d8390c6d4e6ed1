"""The ``/ready`` report: every configured dependency checked at once, each under a timeout.

Ready (200) unless a required dependency is down (503). Dependencies named in READY_OPTIONAL are
reported but never make the service unready. Clients see only a short error class; the detail
goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .dependencies import check
from .settings import AppSettings

log = logging.getLogger(__name__)


async def report(settings: AppSettings) -> tuple[int, dict[str, Any]]:
    """Check every dependency concurrently; return the HTTP status and the JSON body."""
    results = await asyncio.gather(
        *(check(dependency, settings.ready_timeout) for dependency in settings.dependencies)
    )
    ready = True
    dependencies: dict[str, dict[str, Any]] = {}
    for result in results:
        required = result.name not in settings.optional
        entry: dict[str, Any] = {
            "status": "up" if result.ok else "down",
            "required": required,
            "latency_ms": result.latency_ms,
        }
        if not result.ok:
            entry["error"] = result.error
            ready = ready and not required
            log.warning(
                "dependency down",
                extra={"dependency": result.name, "required": required, "error": result.detail},
            )
        dependencies[result.name] = entry
    body = {"status": "ready" if ready else "not ready", "dependencies": dependencies}
    return (200 if ready else 503), body
