"""Publishing probe results to CloudWatch: one batched PutMetricData per cycle, retried a bounded
number of times with exponential backoff, every failure logged.

Each dependency becomes the metric ``<name>-connectivity`` (1 reachable, 0 not), and
``all-connectivity`` is their minimum (0 as soon as any one is down): one metric a single alarm,
and so a Route 53 health check, can follow. All have unit Count, the single dimension
``Host=<environment>``, and standard resolution (60): Route 53 health checks can only follow
alarms on standard-resolution metrics.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .dependencies import CheckResult
from .settings import AGGREGATE

STANDARD_RESOLUTION = 60

log = logging.getLogger(__name__)


def metric_name(dependency: str) -> str:
    """The metric a dependency's probe publishes to."""
    return f"{dependency}-connectivity"


def metric_data(
    results: Sequence[CheckResult], host: str, timestamp: dt.datetime
) -> list[dict[str, Any]]:
    """PutMetricData's MetricData for one cycle: one datum per dependency, then the aggregate."""
    values = {result.name: 1.0 if result.ok else 0.0 for result in results}
    values[AGGREGATE] = min(values.values(), default=1.0)
    return [
        {
            "MetricName": metric_name(name),
            "Dimensions": [{"Name": "Host", "Value": host}],
            "Timestamp": timestamp,
            "Value": value,
            "Unit": "Count",
            "StorageResolution": STANDARD_RESOLUTION,
        }
        for name, value in values.items()
    ]


class Publisher:
    """Sends a cycle's results in one call, retrying AWS errors until ``attempts`` or a deadline.

    ``client`` is a boto3 CloudWatch client built without botocore's own retries, so these
    retries are the only ones and each is logged.
    """

    def __init__(
        self,
        client: Any,
        namespace: str,
        host: str,
        attempts: int = 3,
        first_delay: float = 0.5,
        max_delay: float = 4.0,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.host = host
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay

    async def publish(
        self,
        results: Sequence[CheckResult],
        timestamp: dt.datetime,
        deadline: float,
        extra: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """True once CloudWatch accepted the batch; False after the last allowed attempt.

        No retry is started that would end after ``deadline`` (event-loop time), so a cycle's
        retries never run into the next cycle. ``extra`` rides in the same call (the task-CPU
        datum of fast scale-out).
        """
        data = metric_data(results, self.host, timestamp) + list(extra)
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            try:
                await asyncio.to_thread(
                    self.client.put_metric_data, Namespace=self.namespace, MetricData=data
                )
            except (BotoCoreError, ClientError) as exc:
                delay = min(self.max_delay, self.first_delay * 2 ** (attempt - 1))
                final = attempt >= self.attempts or loop.time() + delay >= deadline
                log.warning(
                    "PutMetricData failed",
                    extra={
                        "attempt": attempt,
                        "error": str(exc),
                        "retry_in_s": None if final else delay,
                    },
                )
                if final:
                    log.error(
                        "dropping this cycle's metrics",
                        extra={"attempts": attempt, "metrics": len(data)},
                    )
                    return False
                await asyncio.sleep(delay)
            else:
                log.debug("published", extra={"attempt": attempt, "metrics": len(data)})
                return True
