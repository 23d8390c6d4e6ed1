"""Granian's main process, made safe to stop: its signal handlers take no lock.

Granian's own SIGTERM/SIGINT/SIGHUP handlers call ``threading.Event.set()``. A Python signal
handler runs in the main thread between two bytecodes, and that thread also waits on the same
event; when a worker exits at the moment SIGTERM arrives (``kill`` of the process group, as
``make serve`` under Ctrl-C or a test does), the handler can run while the main thread holds the
event's lock, and the process deadlocks on itself: every later SIGTERM is "handled" the same way
and the server never exits. Here the handlers only set the flag and write a byte to a pipe; a
relay thread sets the event outside any signal handler.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from granian.server.mp import MPServer


class Supervisor(MPServer):
    """Granian's multi-process server (what `granian.server.Server` is on a GIL build of
    CPython, as in the image) whose signal handlers are async-signal-safe."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        relay = threading.Thread(target=self._relay_wakeups, name="signal-relay", daemon=True)
        relay.start()

    def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
        self.interrupt_signal = True
        os.write(self._wake_write, b"\0")

    def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
        self.reload_signal = True
        os.write(self._wake_write, b"\0")

    def _relay_wakeups(self) -> None:
        while os.read(self._wake_read, 1):
            self.main_loop_interrupt.set()
