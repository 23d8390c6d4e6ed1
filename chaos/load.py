"""Bounded HTTP load on the service while a fault is injected: requests, errors, latency.

An experiment's method starts the load (:func:`start_load`), injects its fault, pauses, and ends it
(:func:`finish_load`, whose output — request count, error rate, p50/p99 — chaostoolkit writes to the
journal). The steady-state probe :func:`load_within_tolerance` then judges that run: before the
method there is none yet, so it measures a short sample of its own. The rollback
:func:`stop_load` stops any load still running (a failed method must not leave a thread behind).

Load is bounded: at most :data:`MAX_RATE` requests per second for at most :data:`MAX_DURATION`
seconds through at most :data:`MAX_CONCURRENCY` connections, each with a timeout. Errors are
answers outside 200-399 and requests that got no answer (refused, reset, timed out).
State lives in this module: chaostoolkit runs ``python`` activities in one process, in order.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("steadystate.chaos")

MAX_RATE = 50.0
"""Requests per second, at most (an experiment checks availability; it is not a load test)."""
MAX_DURATION = 3600.0
"""Seconds a load run may last, at most; a run ends by itself at its duration."""
MAX_CONCURRENCY = 16
"""Requests in flight, at most."""
MAX_TIMEOUT = 30.0
"""Per-request timeout, at most."""

Opener = Callable[..., Any]


class LoadError(Exception):
    """A load activity was called in the wrong order or with bounds outside the allowed ones."""


def _bounded(name: str, value: Any, low: float, high: float, *, open_low: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LoadError(f"{name} must be a number, got {value!r}") from None
    below = number <= low if open_low else number < low
    if math.isnan(number) or below or number > high:
        bracket = "(" if open_low else "["
        raise LoadError(f"{name} must be in {bracket}{low:g}, {high:g}], got {value!r}")
    return number


def _check_url(url: str) -> str:
    if urllib.parse.urlsplit(str(url)).scheme not in ("http", "https"):
        raise LoadError(f"load needs an http(s) URL, got {url!r}")
    return str(url)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in (0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadRun:
    """One run of load: a pacing thread submits GETs to a small pool and records each answer."""

    url: str
    rate: float
    duration: float
    timeout: float
    concurrency: int
    opener: Opener = urllib.request.urlopen
    statuses: list[int | None] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def _one(self) -> None:
        request = urllib.request.Request(self.url, headers={"User-Agent": "steadystate-chaos"})
        began = time.monotonic()
        status: int | None
        try:
            with self.opener(request, timeout=self.timeout) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as err:
            status = int(err.code)
        except (urllib.error.URLError, OSError):  # refused, reset, timed out
            status = None
        with self._lock:
            self.statuses.append(status)
            self.latencies.append(time.monotonic() - began)

    def _pace(self) -> None:
        interval = 1.0 / self.rate
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="chaos-load") as pool:
            sent = 0
            while not self._stop.is_set():
                elapsed = time.monotonic() - self.started
                if elapsed >= self.duration:
                    break
                due = sent * interval
                if elapsed < due:
                    self._stop.wait(due - elapsed)
                    continue
                pool.submit(self._one)
                sent += 1
        self.ended = time.monotonic()

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._pace, name="chaos-load-pacer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending, and wait for the requests in flight (each ends within its timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            statuses, latencies = list(self.statuses), list(self.latencies)
        errors = sum(1 for s in statuses if s is None or not 200 <= s < 400)
        by_status: dict[str, int] = {}
        for status in statuses:
            key = "no answer" if status is None else str(status)
            by_status[key] = by_status.get(key, 0) + 1
        end = self.ended if self.ended is not None else time.monotonic()
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        return {
            "url": self.url,
            "rate": self.rate,
            "seconds": round(end - self.started, 3),
            "requests": len(statuses),
            "errors": errors,
            "error_rate": (errors / len(statuses)) if statuses else None,
            "p50_ms": None if p50 is None else round(p50 * 1000, 1),
            "p99_ms": None if p99 is None else round(p99 * 1000, 1),
            "statuses": by_status,
        }


_current: LoadRun | None = None
_finished: dict[str, Any] | None = None


def _new_run(
    url: str, rate: Any, duration: Any, timeout: Any, concurrency: Any, opener: Opener
) -> LoadRun:
    return LoadRun(
        url=_check_url(url),
        rate=_bounded("rate", rate, 0, MAX_RATE),
        duration=_bounded("duration", duration, 0, MAX_DURATION),
        timeout=_bounded("timeout", timeout, 0, MAX_TIMEOUT),
        concurrency=int(_bounded("concurrency", concurrency, 1, MAX_CONCURRENCY, open_low=False)),
        opener=opener,
    )


def start_load(
    url: str,
    rate: float = 5,
    duration: float = 600,
    timeout: float = 5,
    concurrency: int = 4,
    *,
    opener: Opener = urllib.request.urlopen,
) -> dict[str, Any]:
    """Start GET ``url`` at ``rate``/s in the background, for at most ``duration`` seconds."""
    global _current, _finished
    if _current is not None and _current.running:
        raise LoadError(f"load on {_current.url} is already running: finish_load or stop_load it")
    run = _new_run(url, rate, duration, timeout, concurrency, opener)
    run.start()
    _current, _finished = run, None
    logger.info("load started: GET %s at %g/s for at most %gs", run.url, run.rate, run.duration)
    return {"url": run.url, "rate": run.rate, "max_duration": run.duration}


def finish_load() -> dict[str, Any]:
    """End the load :func:`start_load` started; the counts, error rate and p50/p99 (ms)."""
    global _current, _finished
    if _current is None:
        raise LoadError("finish_load without start_load: no load is running")
    run, _current = _current, None
    run.stop()
    _finished = run.summary()
    logger.info(
        "load finished: %d requests, %d errors, p99 %s ms",
        _finished["requests"],
        _finished["errors"],
        _finished["p99_ms"],
    )
    return _finished


def stop_load() -> dict[str, Any]:
    """Rollback: stop any load still running (no error when there is none)."""
    global _current
    if _current is None:
        return {"stopped": False}
    run, _current = _current, None
    run.stop()
    return {"stopped": True, **run.summary()}


def reset() -> None:
    """Forget the last measurement (a new run starts clean)."""
    global _finished
    _finished = None


def last_load() -> dict[str, Any] | None:
    """The summary :func:`finish_load` returned last, if any."""
    return _finished


def judge(
    summary: dict[str, Any], max_error_rate: float, max_p99_ms: float | None = None
) -> tuple[bool, str]:
    """(within tolerance, why): no requests at all is not within tolerance."""
    if not summary.get("requests"):
        return False, f"no request to {summary.get('url')} completed"
    rate = float(summary["error_rate"])
    if rate > max_error_rate:
        return False, (
            f"error rate {rate:.2%} ({summary['errors']}/{summary['requests']}, "
            f"{summary['statuses']}) above {max_error_rate:.2%}"
        )
    p99 = summary.get("p99_ms")
    if max_p99_ms is not None and p99 is not None and p99 > max_p99_ms:
        return False, f"p99 {p99} ms above {max_p99_ms:g} ms"
    return True, f"error rate {rate:.2%} of {summary['requests']} requests, p99 {p99} ms"


def load_within_tolerance(
    url: str,
    max_error_rate: float = 0.01,
    max_p99_ms: float | None = None,
    sample_seconds: float = 3,
    rate: float = 5,
    timeout: float = 5,
    *,
    opener: Opener = urllib.request.urlopen,
) -> bool:
    """True when the load measured during the fault (the last :func:`finish_load`) kept within
    ``max_error_rate`` (and ``max_p99_ms``); with no such measurement yet — the hypothesis before
    the method — it measures ``sample_seconds`` of load on ``url`` itself. The measurement is
    used once: the next call samples again."""
    global _finished
    limit = _bounded("max_error_rate", max_error_rate, 0, 1, open_low=False)
    if _finished is not None:
        summary, _finished = _finished, None
        what = "during the fault"
    else:
        run = _new_run(url, rate, sample_seconds, timeout, 4, opener)
        run.start()
        if run._thread is not None:
            run._thread.join(float(sample_seconds) + run.timeout + 5)
        summary = run.summary()
        what = f"in a {float(sample_seconds):g}s sample"
    ok, why = judge(summary, limit, None if max_p99_ms is None else float(max_p99_ms))
    (logger.info if ok else logger.warning)("load %s: %s", what, why)
    return ok
