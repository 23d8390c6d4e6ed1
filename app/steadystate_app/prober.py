"""Connectivity prober, run as a sidecar from the app's image: ``python -m steadystate_app.prober``.

Every PROBE_INTERVAL_SECONDS (10) it checks each PROBE_TARGETS entry (TCP connect, or HTTP GET)
under PROBE_TIMEOUT_SECONDS and publishes ``<name>-connectivity`` = 1 or 0, plus
``all-connectivity`` (their minimum), with dimension ``Host=PROBE_HOST_DIMENSION`` in one
PutMetricData call. A dependency that goes down shows in the next cycle. Errors are logged and
never end the loop; SIGTERM ends it cleanly.

With SCALING_METRIC_DIMENSION set (fast scale-out), the same call also carries the task's CPU use
(:mod:`.task_cpu`) at high resolution, so scaling on it costs no extra PutMetricData requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from . import logs
from .cloudwatch import Publisher
from .dependencies import CheckResult, check
from .settings import ProberSettings, SettingsError, prober_settings
from .task_cpu import TaskCpuSampler, metric_datum

log = logging.getLogger(__name__)


async def run(
    settings: ProberSettings,
    publisher: Publisher,
    stop: asyncio.Event,
    sampler: TaskCpuSampler | None = None,
) -> None:
    """Probe (and sample the task's CPU) and publish on a fixed cadence until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    states: dict[str, bool] = {}
    deadline = loop.time()
    while not stop.is_set():
        deadline += settings.interval
        try:
            timestamp = dt.datetime.now(dt.UTC)
            results = await asyncio.gather(
                *(check(target, settings.timeout) for target in settings.targets)
            )
            _log_changes(results, states)
            extra = []
            if sampler is not None and settings.scaling_dimension:
                percent = await sampler.sample()
                if percent is not None:
                    extra.append(metric_datum(percent, settings.scaling_dimension, timestamp))
            await publisher.publish(results, timestamp, deadline, extra)
        except Exception:  # the loop must outlive any single cycle's surprise
            log.exception("probe cycle failed")
        delay = deadline - loop.time()
        if delay < 0:
            log.warning("probe cycle overran its interval", extra={"overrun_s": round(-delay, 3)})
            deadline, delay = loop.time(), 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


def _log_changes(results: list[CheckResult], states: dict[str, bool]) -> None:
    for result in results:
        fields = {"dependency": result.name, "latency_ms": result.latency_ms}
        if result.ok:
            log.debug("dependency up", extra=fields)
            if states.get(result.name) is not True:
                log.info("dependency is up", extra=fields)
        else:
            fields["error"] = result.detail
            log.debug("dependency down", extra=fields)
            if states.get(result.name) is not False:
                log.warning("dependency is down", extra=fields)
        states[result.name] = result.ok


def _sampler(settings: ProberSettings) -> TaskCpuSampler | None:
    if not settings.scaling_dimension:
        return None
    if not settings.metadata_uri:
        log.warning("ECS_CONTAINER_METADATA_URI_V4 is not set (not on ECS?): no task CPU metric")
        return None
    return TaskCpuSampler(settings.metadata_uri, settings.task_cpu_units)


async def _main(settings: ProberSettings, publisher: Publisher) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info(
        "prober started",
        extra={
            "targets": [target.name for target in settings.targets],
            "interval_s": settings.interval,
            "namespace": settings.namespace,
            "host": settings.host_dimension,
            "scaling_dimension": settings.scaling_dimension,
        },
    )
    await run(settings, publisher, stop, _sampler(settings))
    log.info("prober stopped")


def main() -> int:
    """Run the prober until SIGTERM or SIGINT; 2 when the configuration is refused."""
    try:
        settings = prober_settings()
    except SettingsError as exc:
        logs.configure()
        log.error("refusing to start: %s", exc)
        return 2
    logs.configure(settings.log_level)
    try:
        client = boto3.client(
            "cloudwatch",
            region_name=settings.region,
            config=Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )
    except BotoCoreError as exc:  # e.g. no region configured
        log.error("refusing to start: %s", exc)
        return 2
    publisher = Publisher(
        client, settings.namespace, settings.host_dimension, settings.publish_attempts
    )
    asyncio.run(_main(settings, publisher))
    return 0


if __name__ == "__main__":
    sys.exit(main())
