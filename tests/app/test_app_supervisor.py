"""The main process stops when it should: a signal never deadlocks it, and a dead worker stops
it instead of being respawned behind the container's back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable

from app_support import APP_DIR, ROOT, Process, clean_env, wait_for

# SIGTERM delivered while the main thread holds the lock of the event it waits on: the instant
# a worker's exit wakes it. Granian's own handler calls Event.set() there and deadlocks.
SIGNAL_WHILE_HOLDING_THE_EVENT_LOCK = """
import signal
from granian._signals import set_main_signals
from steadystate_app.supervisor import Supervisor

server = Supervisor("steadystate_app.asgi:create_app", factory=True)
set_main_signals(server.signal_handler_interrupt, server.signal_handler_reload)
with server.main_loop_interrupt._cond:
    signal.raise_signal(signal.SIGTERM)
print("woken:", server.main_loop_interrupt.wait(10), "interrupted:", server.interrupt_signal)
"""


def test_a_signal_never_deadlocks_the_main_process() -> None:
    # subprocess.run SIGKILLs the child on timeout: a deadlocked one ignores SIGTERM.
    result = subprocess.run(
        [sys.executable, "-c", SIGNAL_WHILE_HOLDING_THE_EVENT_LOCK],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(APP_DIR)),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "woken: True interrupted: True"


def worker_pid(server: Process) -> int:
    def spawned() -> int | None:
        found = re.search(r"Spawning worker-1 with PID: (\d+)", server.log_text())
        return int(found.group(1)) if found else None

    return wait_for(spawned, 10, "the worker's PID in the log")


def test_a_dead_worker_stops_the_server(start_server: Callable[..., Process]) -> None:
    server = start_server(WORKERS="1")
    os.kill(worker_pid(server), signal.SIGKILL)  # as the kernel's OOM killer would

    exit_code = server.popen.wait(15)

    assert exit_code == 1
    messages = [record["message"] for record in server.log_records()]
    assert "Unexpected exit from worker-1" in messages
    assert not any(message.startswith("Respawning") for message in messages)
    assert "Granian shutdown completed, see ya!" in messages
