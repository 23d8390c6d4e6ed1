"""Metric streams shaped as AWS publishes them (ELB user guide, "CloudWatch metrics for your
Application Load Balancer": counts only when nonzero, nothing without requests; the prober's
10 s samples in app/steadystate_app/prober.py; nothing from a dead task)."""

from __future__ import annotations

from ops.alarm_replay.definition import MetricStat
from ops.alarm_replay.streams import (
    ALB_PUBLISH_LAG_S,
    PROBE_INTERVAL_S,
    World,
    publish,
    shape_key,
)

TG = {"TargetGroup": "targetgroup/tg/1", "LoadBalancer": "app/lb/2"}


def stat(
    name: str, statistic: str = "Sum", period: int = 60, dims: dict | None = None
) -> MetricStat:
    return MetricStat("AWS/ApplicationELB", name, TG if dims is None else dims, statistic, period)


def steady(world: World):
    return lambda _t: world


def test_a_healthy_minute_publishes_requests_but_no_5xx_count() -> None:
    busy = steady(World(load_balancer_rps=20, target_group_rps=0.2))
    requests = publish(stat("RequestCount"), busy, 0, 180)
    assert requests == {0: (12.0, 60 + ALB_PUBLISH_LAG_S), 60: (12.0, 180), 120: (12.0, 240)}
    assert publish(stat("HTTPCode_Target_5XX_Count"), busy, 0, 180) == {}


def test_an_idle_minute_publishes_nothing_at_all() -> None:
    for name in ("RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"):
        assert publish(stat(name, "p90"), steady(World()), 0, 300) == {}


def test_without_healthy_targets_only_the_load_balancers_own_5xx_remain() -> None:
    dead = steady(World(load_balancer_rps=20, targets_alive=False, tasks_publishing=False))
    assert publish(
        stat("HTTPCode_ELB_5XX_Count", dims={"LoadBalancer": "app/lb/2"}), dead, 0, 60
    ) == {0: (1200.0, 120)}
    assert publish(stat("TargetResponseTime", "p90"), dead, 0, 60) == {}


def test_the_prober_samples_every_10_s_and_a_dead_task_is_silent() -> None:
    metric = MetricStat("steadystate", "db-connectivity", {"Host": "blue"}, "SampleCount", 60)
    assert publish(metric, steady(World()), 0, 60) == {0: (6.0, 60 + PROBE_INTERVAL_S)}
    assert publish(metric, steady(World(tasks_publishing=False)), 0, 60) == {}


def test_unknown_metrics_have_no_shape() -> None:
    assert shape_key("all-connectivity") == "*-connectivity"
    assert shape_key("NumberOfMessagesSent") is None
