"""Put on PYTHONPATH by test_app_container.py: reports every file-system write outside /tmp and
/dev on stderr, in this process and in its forked workers, as ``WRITE-OUTSIDE-TMP <what>``."""

from __future__ import annotations

import os
import sys
from typing import Any

_ALLOWED = ("/tmp/", "/dev/")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.truncate"}


def _measuring(path: str) -> bool:
    """A data file of coverage (``make test``), which the image never runs: not the app's write."""
    return "coverage" in sys.modules and os.path.basename(path).startswith(".coverage.")


def _report(event: str, path: Any) -> None:
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, str) and _measuring(path):
        return
    if isinstance(path, str) and not os.path.abspath(path).startswith(_ALLOWED):
        sys.stderr.write(f"WRITE-OUTSIDE-TMP {event} {os.path.abspath(path)}\n")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing:
            _report(event, path)
    elif event in _PATH_EVENTS:
        _report(event, args[0])


sys.addaudithook(_hook)
