"""The task's CPU use, read from the ECS task metadata endpoint, for fast scale-out.

The prober sidecar samples ``${ECS_CONTAINER_METADATA_URI_V4}/task/stats`` (Docker stats of every
container in the task) once a cycle and publishes the task's CPU as a percentage of the CPU units
the task reserves, at one-second storage resolution. Utilisation is the growth of the containers'
``cpu_stats.cpu_usage.total_usage`` (nanoseconds of CPU) between two samples divided by the wall
time between them, so it averages the whole cycle and needs no second reading inside one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

CPU_UNITS_PER_VCPU = 1024
METRIC_NAME = "task-cpu-utilization"
HIGH_RESOLUTION = 1


def total_cpu_ns(stats: Mapping[str, Any]) -> int:
    """Nanoseconds of CPU every container of the task has used (stopped containers are None)."""
    total = 0
    for container in stats.values():
        if container:
            total += int(container["cpu_stats"]["cpu_usage"]["total_usage"])
    return total


def fetch_stats(url: str, timeout: float) -> dict[str, Any]:
    """The task's Docker stats by container id, from the task metadata endpoint."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class TaskCpuSampler:
    """Percent of the task's reserved CPU used since the previous sample (None on the first)."""

    def __init__(
        self,
        metadata_uri: str,
        cpu_units: int,
        *,
        timeout: float = 2.0,
        fetch: Callable[[str, float], Mapping[str, Any]] = fetch_stats,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.url = metadata_uri.rstrip("/") + "/task/stats"
        self.vcpus = cpu_units / CPU_UNITS_PER_VCPU
        self.timeout = timeout
        self.fetch = fetch
        self.clock = clock
        self.previous: tuple[int, int] | None = None

    async def sample(self) -> float | None:
        try:
            stats = await asyncio.to_thread(self.fetch, self.url, self.timeout)
            used, now = total_cpu_ns(stats), self.clock()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("task stats unavailable", extra={"error": str(exc), "url": self.url})
            self.previous = None
            return None
        previous, self.previous = self.previous, (used, now)
        if previous is None or now <= previous[1] or used < previous[0]:
            return None  # first sample, or a container restarted and its counter began again
        cores = (used - previous[0]) / (now - previous[1])
        return round(100.0 * cores / self.vcpus, 2)


def metric_datum(percent: float, service: str, timestamp: Any) -> dict[str, Any]:
    """PutMetricData entry for one sample: high resolution, so a 10 s alarm can follow it."""
    return {
        "MetricName": METRIC_NAME,
        "Dimensions": [{"Name": "Service", "Value": service}],
        "Timestamp": timestamp,
        "Value": percent,
        "Unit": "Percent",
        "StorageResolution": HIGH_RESOLUTION,
    }
