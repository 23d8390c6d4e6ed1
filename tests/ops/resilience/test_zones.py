"""Losing a zone and losing one environment's hosts, in the resilience model and report."""

from __future__ import annotations

import io

import pytest

from ops.resilience import report as rr
from ops.resilience.model import FailoverRecord, Route53Check, StackInputs, TargetGroupHealth
from ops.resilience.zones import (
    ZONAL_SHIFT_TRAFFIC_MOVED_S,
    ZoneLoss,
    environment_hosts_lost,
    zonal_shift_moves_traffic,
    zone_loss_replacement,
)
from ops.synth.runner import synthesize
from policy.guardrails.zone_loss import CapacityGroup, host_size

TG = TargetGroupHealth("fleet", "fleet", "blue", interval_s=10, timeout_s=3, healthy_threshold=2)


def prod_like(**changes: object) -> ZoneLoss:
    values: dict = {
        "zones": 3,
        "min_tasks": 3,
        "cpu_target": 60,
        "task_cpu": 512,
        "task_memory": 1024,
        "hosts": 3,
        "host": host_size("t3.medium"),
        "target_capacity_percent": 66,
        "fixed_tasks": 2,
        **changes,
    }
    return ZoneLoss("blue", CapacityGroup(**values), instance_warmup_s=120)


def test_a_zone_safe_group_replaces_tasks_without_a_new_host() -> None:
    estimate = zone_loss_replacement(prod_like(), TG)
    # 10 × 2 + 3 (ALB marks the lost targets) + 30 (task start) + 10 × 2 (new target healthy)
    assert estimate.seconds == 73
    assert not any("instanceWarmupPeriod" in label for label, _ in estimate.terms)
    assert "hosts left: 2 of 3, room for 6 task(s); the group runs 5 at minimum" in estimate.notes


def test_without_room_on_the_hosts_left_replacements_wait_for_a_new_host() -> None:
    estimate = zone_loss_replacement(prod_like(host=host_size("t3.small")), TG)
    assert estimate.seconds == 73 + 120
    assert any(note.startswith("not zone-safe: ") for note in estimate.notes)


def test_a_zonal_shift_takes_the_documented_few_minutes() -> None:
    assert zonal_shift_moves_traffic().seconds == ZONAL_SHIFT_TRAFFIC_MOVED_S == 180


def test_losing_an_environments_hosts_fails_over_and_comes_back() -> None:
    record = FailoverRecord("api (blue)", 60, "alias", Route53Check("blue", "HTTPS", 10, 3))
    failover, back = environment_hosts_lost(record, prod_like(), TG)
    assert failover.seconds == 90  # 10 s × 3 checks + 60 s TTL
    assert back.seconds == 120 + 30 + 20


@pytest.fixture(scope="module")
def prod_report(request) -> rr.Report:
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        synthesis = synthesize("prod")
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return rr.build_report("prod", rr.extract_inputs(synthesis))


def test_prod_rides_out_a_zone_and_an_environments_hosts_within_its_targets(prod_report) -> None:
    by_key = {row.key: row for row in prod_report.rows}
    zone, shift, hosts = by_key["zone_replacement"], by_key["zonal_shift"], by_key["env_hosts_lost"]
    assert zone.met is True and hosts.met is True, (zone.stack, hosts.stack)
    assert zone.stack is not None and zone.stack.seconds <= 180
    assert "tasks left: 2 of 3 over 2 zone(s)" in zone.stack.notes[0]
    assert shift.stack is not None and shift.stack.seconds == 180
    assert [name for name, _ in hosts.details] == ["blue comes back"]
    out = io.StringIO()
    rr.render_text(prod_report, out)
    assert "Zone lost → replacement tasks serve" in out.getvalue()


def test_no_capacity_group_is_not_deployed() -> None:
    by_key = {row.key: row for row in rr.build_report("dev", StackInputs()).rows}
    assert by_key["zone_replacement"].stack is None
    assert by_key["env_hosts_lost"].stack is None
