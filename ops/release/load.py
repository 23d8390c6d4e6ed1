"""Bounded traffic for the bake: a steady request rate for a fixed time, so deployment alarms see
requests even on a quiet stack (the onebox/fleet article ran siege during the onebox stage).

At most ``rate × seconds`` requests, paced one after another (a slow service gets fewer, never a
burst); ``stop`` ends it early. Answers are counted by status; no answer counts as an error by kind.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ops.release.http_probe import Fetch, http_get, join

MAX_RATE = 200.0
MAX_SECONDS = 3600.0
LOAD_PATH = "/api"


@dataclass
class LoadResult:
    url: str
    planned: int
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        codes = ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses.items())) or "none"
        lost = ", ".join(f"{k}×{n}" for k, n in sorted(self.failures.items()))
        return (
            f"{self.sent} of {self.planned} requests in {self.seconds:.0f}s to {self.url}: "
            f"answers {codes}" + (f"; no answer {lost}" if lost else "")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "planned": self.planned,
            "sent": self.sent,
            "answered": self.answered,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": dict(self.failures),
            "seconds": round(self.seconds, 3),
        }


def check_bounds(rate: float, seconds: float) -> str | None:
    """A message when the flags are outside what the bake may send, else None."""
    if not 0 < rate <= MAX_RATE:
        return f"--load-rate must be above 0 and at most {MAX_RATE:g} requests/s (got {rate:g})"
    if not 0 < seconds <= MAX_SECONDS:
        return f"--load-seconds must be above 0 and at most {MAX_SECONDS:g} (got {seconds:g})"
    return None


def generate_load(
    base_url: str,
    *,
    rate: float,
    seconds: float,
    path: str = LOAD_PATH,
    timeout: float = 5.0,
    stop: threading.Event | None = None,
    fetch: Fetch = http_get,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> LoadResult:
    """Send GET ``base_url + path`` ``rate`` times a second for ``seconds``, at most."""
    if problem := check_bounds(rate, seconds):
        raise ValueError(problem)
    url = join(base_url, path)
    result = LoadResult(url=url, planned=int(rate * seconds))
    start = clock()
    for n in range(result.planned):
        due = start + n / rate
        now = clock()
        # the first request always goes out: a bake shorter than one poll still calls the service
        if n and (now - start >= seconds or (stop is not None and stop.is_set())):
            break
        if due > now:
            sleep(due - now)
        result.sent += 1
        try:
            status, _ = fetch(url, timeout)
            result.statuses[status] += 1
        except OSError as err:
            result.failures[type(err).__name__] += 1
    result.seconds = clock() - start
    return result


class BackgroundLoad:
    """:func:`generate_load` on a thread for the length of a bake; ``finish()`` joins it."""

    def __init__(self, base_url: str, *, rate: float, seconds: float, **kwargs: Any) -> None:
        self.stop = threading.Event()
        self.result: LoadResult | None = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = generate_load(
                    base_url, rate=rate, seconds=seconds, stop=self.stop, **kwargs
                )
            except BaseException as err:  # reported by finish(), never lost on the thread
                self.error = err

        self.thread = threading.Thread(target=run, name="release-load", daemon=True)

    def start(self) -> BackgroundLoad:
        self.thread.start()
        return self

    def finish(self, timeout: float = 30.0) -> LoadResult:
        self.stop.set()
        self.thread.join(timeout)
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise RuntimeError("the load thread did not finish")
        return self.result
