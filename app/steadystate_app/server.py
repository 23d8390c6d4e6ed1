"""Production entry point: validate the settings, then serve the app with Granian.

``python -m steadystate_app.server`` is the image's default command and what ``make serve`` runs.
Granian, with the stdlib asyncio loop, was chosen by measurement (``bench/app``, ``make bench``).
On SIGTERM it stops accepting connections, lets in-flight requests finish, and kills workers
still busy after SHUTDOWN_TIMEOUT_SECONDS (25 s by default, inside ECS's 30 s stopTimeout).
A worker that dies stops the whole server (exit code 1) rather than being respawned in place: the
container exits, ECS replaces the task, and the death shows in the service's events instead of
hiding inside a process that looks healthy.
"""

from __future__ import annotations

import logging
import sys

from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.log import LogLevels

from . import logs
from .port_check import port_in_use_problem
from .settings import SettingsError, app_settings, server_settings
from .supervisor import Supervisor

log = logging.getLogger(__name__)


def main() -> int:
    """Run the server until SIGTERM or SIGINT (0) or a worker dies (1); 2 when the configuration
    is refused or the port is already in use."""
    try:
        server, app = server_settings(), app_settings()
    except SettingsError as exc:
        logs.configure()
        log.error("refusing to start: %s", exc)
        return 2
    logs.configure(server.log_level)
    if problem := port_in_use_problem(server.host, server.port):
        log.error("refusing to start: %s", problem)
        return 2
    if app.faults.enabled:
        log.warning(
            "fault switches are on",
            extra={
                "latency_ms": app.faults.latency_ms,
                "error_rate": app.faults.error_rate,
                "paths": sorted(app.faults.paths),
            },
        )
    Supervisor(
        "steadystate_app.asgi:create_app",
        factory=True,
        address=server.host,
        port=server.port,
        interface=Interfaces.ASGI,
        # The stdlib loop: in `make bench` uvloop gave ~5 % more requests/s but twice the p99.
        loop=Loops.asyncio,
        workers=server.workers,
        websockets=False,
        # Granian closes a keep-alive connection that sends no request for this long.
        http1_settings=HTTP1Settings(header_read_timeout=server.idle_timeout * 1000),
        log_level=LogLevels(server.log_level.lower()),
        log_dictconfig=logs.dict_config(server.log_level),
        workers_kill_timeout=server.shutdown_timeout,
        respawn_failed_workers=False,
    ).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
