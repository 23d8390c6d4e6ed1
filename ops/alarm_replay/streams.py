"""Metric streams shaped as AWS publishes them, one table entry per metric (``METRIC_SHAPES``).

* **ALB** (``AWS/ApplicationELB``): one datapoint a minute, and only "when requests are flowing
  through the load balancer ... If there are no requests flowing through the load balancer or no
  data for a metric, the metric is not reported"; the count metrics' reporting criterion is "There
  is a nonzero value" (Elastic Load Balancing user guide, "CloudWatch metrics for your Application
  Load Balancer"). ``TargetResponseTime`` exists only for minutes with target responses; with no
  healthy target the ALB itself answers 503 (``HTTPCode_ELB_5XX_Count``) and no target metric is
  published.
* **ALB healthy hosts** (``HealthyHostCount``): a gauge, "Reporting criteria: Reported if health
  checks are enabled" (same guide), so one datapoint every minute, traffic or not; per target group,
  and per zone with the ``AvailabilityZone`` dimension. ``Minimum`` is "the minimum reported by the
  individual load balancer nodes".
* **The prober** (``app/steadystate_app/prober.py``): every ``PROBE_INTERVAL_SECONDS`` (10 s) one
  ``<dependency>-connectivity`` sample of 1 or 0 per dependency plus ``all-connectivity``, stored at
  standard resolution (``cloudwatch.py``: ``StorageResolution`` 60) so Route 53 can follow it, and
  the task's CPU (``task-cpu-utilization``) at high resolution (``task_cpu.py``). A dead task
  publishes nothing.
* **SQS** (``AWS/SQS``): one datapoint a minute, and only while the queue is *active* — "A queue is
  considered active by CloudWatch for up to six hours from the last activity (i.e., any API call)
  on the queue" (Amazon SQS developer guide, "Available CloudWatch metrics for Amazon SQS",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
  A dead letter nobody reads stops being reported six hours after it arrived.

Assumed lags (AWS documents none): an ALB minute is readable one minute after it closes
(``ALB_PUBLISH_LAG_S``, the same one-period lag ``ops.resilience`` has always assumed, and the
"slight delay" the metric-math guide warns ``FILL`` about); a prober sample is readable one probe
interval after its timestamp (the cycle measures, then publishes; the task-CPU datum averages the
interval before it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ops.alarm_replay.definition import MetricStat
from ops.alarm_replay.evaluation import Published

ALB_PUBLISH_LAG_S = 60
PROBE_INTERVAL_S = 10
"""``PROBE_INTERVAL_SECONDS`` default of the prober (``app/steadystate_app/settings.py``)."""
ALB_MINUTE_S = 60
SLICE_S = 10


@dataclass(frozen=True)
class World:
    """What the service is doing at one moment."""

    load_balancer_rps: float = 0.0
    """Requests per second reaching the whole load balancer."""
    target_group_rps: float = 0.0
    """Requests per second reaching one target group (the sparsest: the onebox's share)."""
    error_share: float = 0.0
    """Share of target responses that are 5xx."""
    latency_s: float = 0.05
    targets_alive: bool = True
    """False: no task answers; the ALB answers 503 itself."""
    dependencies_up: bool = True
    tasks_publishing: bool = True
    """False: a dead task (or environment) publishes no prober or CPU sample."""
    task_cpu_percent: float = 5.0
    dead_letters: int = 0
    """Failed deliveries waiting in a dead-letter queue (a chaos start, a run record, a rotation)."""
    queue_active: bool = True
    """SQS still reports the queue: an API call on it within the last six hours."""
    healthy_hosts_per_zone: int = 1
    """Healthy targets of a target group in each zone (prod: a fleet task in every zone)."""
    lost_zone: str | None = None
    """The zone whose hosts are gone (``FIRST_ZONE``: the first zone the alarm reads). The load
    balancer's own metrics do not change: the other zones carry the load (static stability)."""

    def requests_per_s(self, target_group: bool) -> float:
        return self.target_group_rps if target_group else self.load_balancer_rps


FIRST_ZONE = "<the alarm's first zone>"
"""``World.lost_zone`` placeholder, bound per alarm to the first ``AvailabilityZone`` it reads."""

Timeline = Callable[[int], World]
"""The world at second t."""

Sampler = Callable[[MetricStat, Timeline, int, int], list[tuple[int, float]]]
"""(metric, world over time, start, end) -> raw datapoints (timestamp, value) as published."""


@dataclass(frozen=True)
class Shape:
    """How one metric reaches CloudWatch."""

    sample: Sampler
    lag_s: int
    what: str


def _alb_minutes(
    value: Callable[[World, bool], float], reported: Callable[[World, bool, float], bool]
) -> Sampler:
    def sample(
        metric: MetricStat, world: Timeline, start: int, end: int
    ) -> list[tuple[int, float]]:
        per_tg = "TargetGroup" in metric.dimensions
        out = []
        for minute in range(start - start % ALB_MINUTE_S, end, ALB_MINUTE_S):
            worlds = [world(minute + k) for k in range(0, ALB_MINUTE_S, SLICE_S)]
            total = sum(value(w, per_tg) * SLICE_S for w in worlds)
            if reported(worlds[-1], per_tg, total) or any(
                reported(w, per_tg, total) for w in worlds
            ):
                out.append((minute, float(round(total))))
        return out

    return sample


def alb_count(value: Callable[[World, bool], float]) -> Shape:
    """An ALB count (requests per second from the world), reported only when nonzero."""
    return Shape(
        _alb_minutes(value, lambda _w, _tg, total: round(total) > 0),
        ALB_PUBLISH_LAG_S,
        "ALB count, one datapoint a minute, only when nonzero",
    )


def _latency(metric: MetricStat, world: Timeline, start: int, end: int) -> list[tuple[int, float]]:
    """One sample per 10 s slice with target responses; the period statistic (``p90``) runs over
    them, as CloudWatch's percentiles run over the minute's requests."""
    per_tg = "TargetGroup" in metric.dimensions
    out = []
    for t in range(start - start % SLICE_S, end, SLICE_S):
        w = world(t)
        if w.targets_alive and w.requests_per_s(per_tg) > 0:
            out.append((t, w.latency_s))
    return out


def _healthy_hosts(
    metric: MetricStat, world: Timeline, start: int, end: int
) -> list[tuple[int, float]]:
    """One gauge datapoint a minute: the zone's healthy targets (0 for the lost zone, and
    everywhere when no task answers)."""
    zone = metric.dimensions.get("AvailabilityZone")
    out = []
    for minute in range(start - start % ALB_MINUTE_S, end, ALB_MINUTE_S):
        w = world(minute)
        gone = not w.targets_alive or (zone is not None and zone == w.lost_zone)
        out.append((minute, 0.0 if gone else float(w.healthy_hosts_per_zone)))
    return out


def prober_sample(value: Callable[[World], float], *, high_resolution: bool = False) -> Shape:
    """A value the prober publishes every 10 s while its task lives."""

    def sample(
        _metric: MetricStat, world: Timeline, start: int, end: int
    ) -> list[tuple[int, float]]:
        points = []
        for t in range(start - start % PROBE_INTERVAL_S, end, PROBE_INTERVAL_S):
            w = world(t)
            if w.tasks_publishing:
                points.append((t, value(w)))
        return points

    resolution = "high" if high_resolution else "standard"
    return Shape(
        sample,
        PROBE_INTERVAL_S,
        f"prober sample every {PROBE_INTERVAL_S} s ({resolution} resolution)",
    )


def _sqs_minutes(
    _metric: MetricStat, world: Timeline, start: int, end: int
) -> list[tuple[int, float]]:
    """A queue gauge (the messages waiting), once a minute while the queue is active."""
    minutes = range(start - start % ALB_MINUTE_S, end, ALB_MINUTE_S)
    return [(m, float(world(m).dead_letters)) for m in minutes if world(m).queue_active]


SQS_PUBLISH_LAG_S = 60
"""SQS pushes its metrics "at one-minute intervals"; like the ALB's, assumed readable a minute later."""

METRIC_SHAPES: Mapping[str, Shape] = {
    "RequestCount": alb_count(lambda w, tg: w.requests_per_s(tg)),
    "HTTPCode_Target_5XX_Count": alb_count(
        lambda w, tg: w.requests_per_s(tg) * w.error_share if w.targets_alive else 0.0
    ),
    "HTTPCode_ELB_5XX_Count": alb_count(
        lambda w, tg: 0.0 if w.targets_alive else w.requests_per_s(tg)
    ),
    "TargetResponseTime": Shape(
        _latency, ALB_PUBLISH_LAG_S, "ALB gauge, only minutes with target responses"
    ),
    "HealthyHostCount": Shape(
        _healthy_hosts, ALB_PUBLISH_LAG_S, "ALB gauge, one datapoint a minute (health checks on)"
    ),
    "*-connectivity": prober_sample(lambda w: 1.0 if w.dependencies_up else 0.0),
    "task-cpu-utilization": prober_sample(lambda w: w.task_cpu_percent, high_resolution=True),
    "ApproximateNumberOfMessagesVisible": Shape(
        _sqs_minutes,
        SQS_PUBLISH_LAG_S,
        "SQS gauge, one datapoint a minute, only while the queue is active (six hours after an API call)",
    ),
}
"""Metric name (``*`` = any prefix) -> how AWS publishes it. A new metric is one line here."""


def shape_key(metric_name: str) -> str | None:
    """The ``METRIC_SHAPES`` key for ``metric_name``, None when the replay does not know it."""
    if metric_name in METRIC_SHAPES:
        return metric_name
    return next(
        (k for k in METRIC_SHAPES if k.startswith("*") and metric_name.endswith(k[1:])), None
    )


def _statistic(stat: str, values: list[float]) -> float:
    if stat == "Sum":
        return sum(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum":
        return max(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat.startswith("p"):
        ranked = sorted(values)
        rank = max(1, math.ceil(float(stat[1:]) / 100 * len(ranked)))
        return ranked[rank - 1]
    raise ValueError(
        f"statistic {stat!r} is not replayed (Sum, Average, Minimum, Maximum, SampleCount, pNN)"
    )


def publish(metric: MetricStat, world: Timeline, start: int, end: int) -> Published:
    """The metric's datapoints per alarm period with the second each becomes readable."""
    key = shape_key(metric.metric_name)
    if key is None:
        raise KeyError(metric.metric_name)
    shape = METRIC_SHAPES[key]
    grouped: dict[int, list[float]] = {}
    for t, v in shape.sample(metric, world, start, end):
        grouped.setdefault(t - t % metric.period, []).append(v)
    return {
        s: (_statistic(metric.stat, values), s + metric.period + shape.lag_s)
        for s, values in grouped.items()
    }
