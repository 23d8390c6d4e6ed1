"""The resilience time model: hand-computed cases, the source documents' setups, the targets, monotonicity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.resilience import model as m
from ops.resilience.model import (
    AlarmSpec,
    ContainerHealth,
    FailoverRecord,
    ReleaseGuard,
    Route53Check,
    ScalingPolicy,
    TargetGroupHealth,
)

ALB = "AWS/ApplicationELB"


def alb_alarm(
    name: str = "a", period: float = 60, n: int = 1, dp: int | None = None, **kw
) -> AlarmSpec:
    return AlarmSpec(
        name=name,
        period_s=period,
        evaluation_periods=n,
        datapoints_to_alarm=dp,
        namespace=ALB,
        **kw,
    )


def http_check(interval: float = 10, threshold: int = 3, name: str = "http") -> Route53Check:
    return Route53Check(
        name=name, type="HTTPS", request_interval_s=interval, failure_threshold=threshold
    )


def alarm_check(alarm: AlarmSpec, status: str = "", name: str = "cw") -> Route53Check:
    return Route53Check(
        name=name,
        type="CLOUDWATCH_METRIC",
        alarm=alarm,
        alarm_name=alarm.name,
        insufficient_data_health_status=status,
    )


def record(check: Route53Check | None, ttl: float = 60) -> FailoverRecord:
    return FailoverRecord(name="app", ttl_s=ttl, ttl_source="alias", health_check=check)


def guard(*alarms: AlarmSpec, **kw) -> ReleaseGuard:
    kw.setdefault("alarms_enabled", True)
    kw.setdefault("alarms_rollback", True)
    return ReleaseGuard(service="svc", alarms=alarms, **kw)


# --- the Estimate -----------------------------------------------------------------------------------


def test_estimate_adds_its_terms_and_shows_them():
    estimate = m.add_terms([("10 s × 3", 30), ("60 s TTL", 60)])
    assert estimate.seconds == 90
    assert estimate.formula == "10 s × 3 + 60 s TTL = 90 s"
    assert estimate.terms == [("10 s × 3", 30), ("60 s TTL", 60)]


def test_never_stays_never_when_terms_are_added():
    assert m.never("no check").plus(("60 s TTL", 60)).never
    assert m.fmt_s(math.inf) == "never"
    assert m.fmt_s(2.5) == "2.5 s"


def test_worst_of_names_the_slowest_and_lists_the_rest():
    worst = m.worst_of([("a", m.add_terms([("x", 10)])), ("b", m.add_terms([("y", 20)]))])
    assert worst.seconds == 20
    assert worst.formula.endswith("[b]")
    assert any("a: 10 s" in note for note in worst.notes)


# --- alarms -------------------------------------------------------------------------------------------


def test_alarm_detection_is_period_times_datapoints_plus_one_period_lag():
    estimate = m.alarm_detection(alb_alarm(period=60, n=1, dp=1))
    assert estimate.seconds == 60 * 1 + 60
    assert "60 s × 1 datapoint" in estimate.formula and "60 s metric lag" in estimate.formula


def test_m_of_n_uses_m_and_datapoints_default_to_evaluation_periods():
    assert m.alarm_detection(alb_alarm(n=4, dp=3)).seconds == 3 * 60 + 60
    assert m.alarm_detection(alb_alarm(n=2)).seconds == 2 * 60 + 60


def test_sub_minute_period_on_an_alb_metric_counts_as_a_minute():
    estimate = m.alarm_detection(alb_alarm(period=10, n=3))
    assert estimate.seconds == 3 * 60 + 60
    assert any("published every 60 s" in note for note in estimate.notes)


def test_high_resolution_custom_metric_keeps_its_period():
    alarm = AlarmSpec(name="c", period_s=10, evaluation_periods=3, namespace="steadystate")
    assert m.alarm_detection(alarm).seconds == 3 * 10 + 10


@pytest.mark.parametrize(
    ("metrics", "kind"),
    [
        (("HTTPCode_Target_5XX_Count", "RequestCount"), "errors"),
        (("HTTPCode_ELB_5XX_Count",), "errors"),
        (("TargetResponseTime",), "latency"),
        (("db-connectivity",), "connectivity"),
        (("CPUUtilization",), "other"),
    ],
)
def test_alarm_kind_comes_from_its_metrics(metrics, kind):
    assert AlarmSpec(name="x", period_s=60, metrics=metrics).kind == kind


# --- Route 53 -----------------------------------------------------------------------------------------


def test_endpoint_check_is_interval_times_threshold():
    assert m.health_check_detection(http_check(10, 3)).seconds == 30
    assert m.health_check_detection(Route53Check(name="d", type="HTTP")).seconds == 30 * 3


def test_endpoint_check_does_not_see_a_dependency_loss():
    assert m.health_check_detection(http_check(), "dependency_loss").never


@pytest.mark.parametrize("field", ["disabled", "inverted"])
def test_disabled_or_inverted_check_never_fails_over(field):
    check = Route53Check(name="h", type="HTTPS", request_interval_s=10, **{field: True})
    assert m.health_check_detection(check).never


def test_alarm_check_breaching_adds_route53_read():
    alarm = alb_alarm(n=1, treat_missing_data="breaching")
    assert m.health_check_detection(alarm_check(alarm)).seconds == 60 + 60 + m.ROUTE53_ALARM_READ_S


def test_alarm_check_on_missing_data_depends_on_insufficient_data_status():
    alarm = alb_alarm(n=2, dp=2, treat_missing_data="missing")
    unhealthy = m.health_check_detection(alarm_check(alarm, "Unhealthy"))
    assert unhealthy.seconds == 2 * 60 + 60 + m.ROUTE53_ALARM_READ_S
    assert m.health_check_detection(alarm_check(alarm, "LastKnownStatus")).never
    assert m.health_check_detection(alarm_check(alarm, "")).never


def test_not_breaching_alarm_misses_a_dead_environment_but_sees_a_dependency_loss():
    check = alarm_check(alb_alarm(treat_missing_data="notBreaching"), "Unhealthy")
    assert m.health_check_detection(check, "env_down").never
    assert m.health_check_detection(check, "dependency_loss").seconds == 60 + 60 + 30


def test_route53_rejects_high_resolution_alarms():
    alarm = AlarmSpec(
        name="fast",
        period_s=10,
        evaluation_periods=1,
        namespace="steadystate",
        treat_missing_data="breaching",
    )
    estimate = m.health_check_detection(alarm_check(alarm))
    assert estimate.never and "high-resolution" in estimate.formula


@pytest.mark.parametrize(
    ("extra", "word"),
    [({"metric_math": True}, "metric math"), ({"extended_statistic": "p90"}, "p90")],
)
def test_route53_cannot_follow_metric_math_or_percentile_alarms(extra, word):
    alarm = alb_alarm(treat_missing_data="breaching", **extra)
    estimate = m.health_check_detection(alarm_check(alarm))
    assert estimate.never and word in estimate.formula


def test_alarm_check_without_its_alarm_never_detects():
    check = Route53Check(name="cw", type="CLOUDWATCH_METRIC", alarm_name="gone")
    assert "not found" in m.health_check_detection(check).formula


def calculated(threshold: int | None) -> Route53Check:
    slow = alarm_check(alb_alarm(n=2, dp=2, treat_missing_data="breaching"))
    return Route53Check(
        name="calc",
        type="CALCULATED",
        children=(http_check(10, 3), slow),
        child_health_threshold=threshold,
    )


def test_calculated_needing_every_child_fails_with_the_fastest():
    assert m.health_check_detection(calculated(2)).seconds == 30


def test_calculated_needing_one_child_fails_with_the_slowest():
    assert m.health_check_detection(calculated(1)).seconds == 2 * 60 + 60 + 30


def test_calculated_without_threshold_assumes_the_slowest_and_says_so():
    estimate = m.health_check_detection(calculated(None))
    assert estimate.seconds == 2 * 60 + 60 + 30
    assert any("assumed 1" in note for note in estimate.notes)


def test_calculated_with_zero_threshold_is_always_healthy():
    assert m.health_check_detection(calculated(0)).never


def test_calculated_needing_more_children_than_it_has_is_always_unhealthy():
    assert m.health_check_detection(calculated(3)).seconds == 0


def test_calculated_dependency_loss_is_seen_only_by_the_alarm_child():
    assert m.health_check_detection(calculated(2), "dependency_loss").seconds == 2 * 60 + 60 + 30
    assert m.health_check_detection(calculated(1), "dependency_loss").never


# --- scenario 1 -----------------------------------------------------------------------------------------


def test_env_failover_fast_http_check_and_alias_ttl_is_90_s():
    estimate = m.env_failover(record(http_check(10, 3)))
    assert estimate.seconds == 90
    assert estimate.formula == "10 s × 3 (HTTPS check 'http') + 60 s TTL (alias) = 90 s"


def test_env_failover_without_health_check_never_happens():
    assert m.env_failover(record(None)).never


def test_the_resiliency_article_failover_takes_minutes():
    estimate = m.env_failover(m.RESILIENCY_ARTICLE_FAILOVER)
    assert estimate.seconds == 60 * 1 + 60 + m.ROUTE53_ALARM_READ_S + 60 == 210
    assert "60 s TTL" in estimate.formula


def test_both_failover_paths_are_reported():
    paths = m.env_failover_paths(record(calculated(2)))
    assert paths["environment down"].seconds == 90
    assert paths["dependency loss"].seconds == 2 * 60 + 60 + 30 + 60


# --- scenario 2 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "threshold"), [(0, 3), (1, 3), (6, 3), (7, 4), (25, 13), (400, 200), (800, 200)]
)
def test_circuit_breaker_threshold(desired, threshold):
    assert m.circuit_breaker_threshold(desired) == threshold


def test_circuit_breaker_trip_by_hand():
    tg = TargetGroupHealth(name="tg", interval_s=10, timeout_s=5, unhealthy_threshold=2)
    g = ReleaseGuard(
        service="svc",
        desired_count=4,
        circuit_breaker_enabled=True,
        circuit_breaker_rollback=True,
        health_check_grace_s=30,
        target_group=tg,
    )
    # threshold 3, 200 % max with 100 % min → 4 new tasks at once → one wave of 30 + max(30, 25)
    assert m.circuit_breaker_trip(g).seconds == 30 + 30


def test_circuit_breaker_waits_for_the_alb_when_its_check_outlasts_the_grace_period():
    tg = TargetGroupHealth(name="tg", interval_s=30, timeout_s=5, unhealthy_threshold=3)
    g = ReleaseGuard(
        service="svc",
        desired_count=4,
        circuit_breaker_enabled=True,
        circuit_breaker_rollback=True,
        health_check_grace_s=10,
        target_group=tg,
    )
    # grace 10 s is over long before the ALB has seen 3 failed checks: 30 × 3 + 5 = 95 s
    estimate = m.circuit_breaker_trip(g)
    assert estimate.seconds == 30 + 95
    assert "max(10 s grace, 30 s × 3 + 5 s ALB check)" in estimate.formula


def test_circuit_breaker_uses_the_faster_container_check():
    ch = ContainerHealth(interval_s=5, timeout_s=2, retries=2, start_period_s=0)
    g = ReleaseGuard(
        service="svc",
        circuit_breaker_enabled=True,
        circuit_breaker_rollback=True,
        container_health=ch,
    )
    # 1 desired → 1 in flight → 3 waves of (30 launch + 0 + 5 × 2 + 2)
    assert m.circuit_breaker_trip(g).seconds == 3 * (30 + 12)


def test_circuit_breaker_needs_rollback_and_a_health_check():
    assert m.circuit_breaker_trip(ReleaseGuard(service="s")).never
    assert m.circuit_breaker_trip(ReleaseGuard(service="s", circuit_breaker_enabled=True)).never
    no_check = ReleaseGuard(
        service="s", circuit_breaker_enabled=True, circuit_breaker_rollback=True
    )
    assert m.circuit_breaker_trip(no_check).never


def test_deployment_alarm_rollback_is_alarm_plus_ecs_poll():
    errors = alb_alarm("5xx", n=1, metrics=("HTTPCode_Target_5XX_Count",))
    estimate = m.deployment_alarm_rollback(guard(errors), "errors")
    assert estimate.seconds == 60 + 60 + m.ECS_ALARM_POLL_S == 150
    assert "30 s ECS alarm poll" in estimate.formula


def test_the_fastest_alarm_of_a_kind_starts_the_rollback():
    slow = alb_alarm("slow", n=4, dp=3, metrics=("TargetResponseTime",))
    fast = alb_alarm("fast", n=2, dp=2, metrics=("TargetResponseTime",))
    assert m.deployment_alarm_rollback(guard(slow, fast), "latency").seconds == 2 * 60 + 60 + 30


def test_no_rollback_without_rollback_flag_or_alarm_of_that_kind():
    latency = alb_alarm("lat", metrics=("TargetResponseTime",))
    assert m.deployment_alarm_rollback(guard(latency), "errors").never
    assert m.deployment_alarm_rollback(guard(latency, alarms_rollback=False), "latency").never
    assert m.deployment_alarm_rollback(guard(latency, alarms_enabled=False), "latency").never


def test_release_rollback_reports_the_breaker_only_as_a_note():
    g = guard(
        circuit_breaker_enabled=True,
        circuit_breaker_rollback=True,
        container_health=ContainerHealth(),
    )
    estimate = m.release_rollback(g, "errors")
    assert estimate.never
    assert any(note.startswith("circuit breaker, only if") for note in estimate.notes)


def test_the_onebox_article_release_is_3_minutes_plus_lag():
    assert (
        m.release_rollback(m.ONEBOX_ARTICLE_RELEASE, "latency").seconds == 3 * 60 + 60 + 30 == 270
    )
    assert m.release_rollback(m.ONEBOX_ARTICLE_RELEASE, "errors").seconds == 270


# --- scenarios 3 and 4 --------------------------------------------------------------------------------


def test_task_dies_with_alb_defaults_like_the_autoscaling_tutorial():
    estimate = m.target_stops_traffic(m.AUTOSCALING_TUTORIAL_TARGET_GROUP)
    assert estimate.seconds == 30 * 2 + 5 == 65
    assert any("in-flight" in note for note in estimate.notes)


def test_task_dies_with_fast_checks():
    tg = TargetGroupHealth(
        name="tg", interval_s=10, timeout_s=5, unhealthy_threshold=2, deregistration_delay_s=30
    )
    assert m.target_stops_traffic(tg).formula.endswith("= 25 s")


def test_scale_out_is_three_minutes_plus_lag_whatever_the_target_and_cooldown():
    fast = ScalingPolicy(
        name="p", metric="ECSServiceAverageCPUUtilization", target_value=50, scale_out_cooldown_s=0
    )
    assert (
        m.scale_out_start(fast).seconds
        == m.scale_out_start(m.AUTOSCALING_TUTORIAL_SCALING).seconds
        == 240
    )


# --- targets -------------------------------------------------------------------------------------------


def test_every_prod_target_beats_its_seed():
    assert m.PROD_TARGETS_S["env_failover"] < m.env_failover(m.RESILIENCY_ARTICLE_FAILOVER).seconds
    assert (
        m.PROD_TARGETS_S["release_errors"]
        < m.release_rollback(m.ONEBOX_ARTICLE_RELEASE, "errors").seconds
    )
    assert (
        m.PROD_TARGETS_S["release_slow"]
        < m.release_rollback(m.ONEBOX_ARTICLE_RELEASE, "latency").seconds
    )


def test_budgets_for_alarm_datapoints_and_check_threshold():
    assert m.max_datapoints_within(150, extra_s=m.ECS_ALARM_POLL_S) == 1
    assert m.max_datapoints_within(240, extra_s=m.ECS_ALARM_POLL_S) == 2
    assert m.max_datapoints_within(60, extra_s=30) == 0
    assert m.max_failure_threshold_within(90, 10, 60) == 3
    assert m.max_failure_threshold_within(90, 30, 60) == 1


def test_recommended_settings_meet_every_target_and_the_alarm_path_cannot():
    recs = m.recommended_settings()
    by_key: dict[str, list[m.Estimate]] = {}
    for key, _, estimate in recs:
        by_key.setdefault(key, []).append(estimate)
    http, alarm_floor = by_key["env_failover"]
    assert http.seconds <= 90 < alarm_floor.seconds
    assert by_key["release_errors"][0].seconds <= 150
    assert by_key["release_slow"][0].seconds <= 240


# --- monotonicity ---------------------------------------------------------------------------------------

periods = st.sampled_from([10, 30, 60, 120, 300])
counts = st.integers(min_value=1, max_value=10)
namespaces = st.sampled_from([ALB, "steadystate"])


@settings(max_examples=60, deadline=None)
@given(period=periods, n=counts, dp=counts, namespace=namespaces)
def test_more_datapoints_never_detect_faster(period, n, dp, namespace):
    a = AlarmSpec(
        name="a",
        period_s=period,
        evaluation_periods=max(n, dp),
        datapoints_to_alarm=dp,
        namespace=namespace,
    )
    b = AlarmSpec(
        name="b",
        period_s=period,
        evaluation_periods=max(n, dp + 1),
        datapoints_to_alarm=dp + 1,
        namespace=namespace,
    )
    assert m.alarm_detection(a).seconds <= m.alarm_detection(b).seconds


@settings(max_examples=60, deadline=None)
@given(p1=periods, p2=periods, dp=counts, namespace=namespaces)
def test_longer_periods_never_detect_faster(p1, p2, dp, namespace):
    short, long_ = sorted((p1, p2))
    a = AlarmSpec(name="a", period_s=short, evaluation_periods=dp, namespace=namespace)
    b = AlarmSpec(name="b", period_s=long_, evaluation_periods=dp, namespace=namespace)
    assert m.alarm_detection(a).seconds <= m.alarm_detection(b).seconds


@settings(max_examples=60, deadline=None)
@given(
    interval=st.sampled_from([10, 30]),
    threshold=counts,
    ttl=st.integers(min_value=0, max_value=3600),
    more_ttl=st.integers(min_value=0, max_value=600),
)
def test_slower_checks_or_longer_ttl_never_fail_over_faster(interval, threshold, ttl, more_ttl):
    base = m.env_failover(record(http_check(interval, threshold), ttl))
    assert base.seconds == interval * threshold + ttl
    assert base.seconds <= m.env_failover(record(http_check(interval, threshold + 1), ttl)).seconds
    assert base.seconds <= m.env_failover(record(http_check(30, threshold), ttl)).seconds
    assert (
        base.seconds
        <= m.env_failover(record(http_check(interval, threshold), ttl + more_ttl)).seconds
    )


@settings(max_examples=60, deadline=None)
@given(
    interval=st.integers(min_value=5, max_value=300),
    unhealthy=st.integers(min_value=2, max_value=10),
    timeout=st.integers(min_value=2, max_value=120),
    bump=st.integers(min_value=0, max_value=30),
)
def test_alb_detection_grows_with_every_setting(interval, unhealthy, timeout, bump):
    def t(i: int, u: int, to: int) -> float:
        return m.target_stops_traffic(
            TargetGroupHealth(name="tg", interval_s=i, unhealthy_threshold=u, timeout_s=to)
        ).seconds

    base = t(interval, unhealthy, timeout)
    assert base == interval * unhealthy + timeout
    assert base <= t(interval + bump, unhealthy, timeout)
    assert base <= t(interval, unhealthy + bump, timeout)
    assert base <= t(interval, unhealthy, timeout + bump)


@settings(max_examples=60, deadline=None)
@given(
    children=st.lists(st.tuples(st.sampled_from([10, 30]), counts), min_size=1, max_size=5),
    threshold=st.integers(min_value=1, max_value=5),
)
def test_calculated_check_requiring_more_healthy_children_never_fails_over_slower(
    children, threshold
):
    kids = tuple(http_check(i, k, name=f"c{n}") for n, (i, k) in enumerate(children))
    threshold = min(threshold, len(kids))

    def t(th: int) -> float:
        check = Route53Check(
            name="calc", type="CALCULATED", children=kids, child_health_threshold=th
        )
        return m.health_check_detection(check).seconds

    times = sorted(k.request_interval_s * k.failure_threshold for k in kids)
    assert t(threshold) == times[len(kids) - threshold]
    if threshold < len(kids):
        assert t(threshold + 1) <= t(threshold)


@settings(max_examples=60, deadline=None)
@given(a=st.integers(min_value=0, max_value=1000), b=st.integers(min_value=0, max_value=1000))
def test_circuit_breaker_threshold_is_bounded_and_monotone(a, b):
    low, high = sorted((a, b))
    assert 3 <= m.circuit_breaker_threshold(low) <= m.circuit_breaker_threshold(high) <= 200
