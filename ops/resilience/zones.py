"""Worst-case times of losing an Availability Zone, and of losing one environment's hosts.

Pure arithmetic over the zone-loss rule's :class:`policy.guardrails.zone_loss.CapacityGroup` (the
settings and the policy pack judge the same numbers) and the model's building blocks.

AWS behaviour (sources in brackets):

* A lost zone's targets stop answering; the ALB takes each out of service after
  ``interval × UnhealthyThreshold + timeout`` (``model.target_stops_traffic``), and the ECS service
  scheduler replaces tasks that are stopped or whose targets fail the load balancer's health check
  [ECS Developer Guide, "Amazon ECS service scheduler": "the service scheduler ... replaces tasks
  that fail health checks"]. A replacement serves once it started (``ECS_TASK_LAUNCH_S``, an
  assumption) and passed ``HealthyThresholdCount`` checks.
* Without room on the hosts left the replacements wait for a host that managed scaling launches;
  it counts after ``instanceWarmupPeriod`` (default 300 s) [ECS API Reference, ManagedScaling].
* A zonal shift marks the zone unhealthy for the load balancer at once, but "it can take a short
  time, typically up to a few minutes, for existing, in-progress connections in the Availability
  Zone to complete" [ARC Zonal Shift API Reference, StartZonalShift:
  https://docs.aws.amazon.com/arc-zonal-shift/latest/api/API_StartZonalShift.html]; "a few
  minutes" is taken as :data:`ZONAL_SHIFT_TRAFFIC_MOVED_S`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ops.resilience.model import (
    ECS_TASK_LAUNCH_S,
    Estimate,
    FailoverRecord,
    TargetGroupHealth,
    add_terms,
    env_failover,
    fmt_s,
    target_stops_traffic,
)
from policy.guardrails.zone_loss import (
    CapacityGroup,
    surviving_tasks,
    tasks_per_host,
    tasks_to_carry,
    zone_loss_problems,
)

ZONAL_SHIFT_TRAFFIC_MOVED_S = 180.0
"""Seconds until a zonal shift has moved a load balancer's traffic: the StartZonalShift API
reference's "typically up to a few minutes" for in-progress connections, taken as three."""

MANAGED_SCALING_DEFAULT_WARMUP_S = 300.0
"""ECS managed scaling's default ``instanceWarmupPeriod`` [ECS API Reference, ManagedScaling]."""


@dataclass(frozen=True)
class ZoneLoss:
    """One environment's capacity group at its minimum, as the zone-loss rule sees it."""

    name: str
    group: CapacityGroup
    instance_warmup_s: float = MANAGED_SCALING_DEFAULT_WARMUP_S


def capacity_left(loss: ZoneLoss) -> list[str]:
    """What the zones left hold: tasks against what the sized-for load needs, hosts and room."""
    g = loss.group
    left, needed = surviving_tasks(g.min_tasks, g.zones), tasks_to_carry(g.min_tasks, g.cpu_target)
    lines = [
        f"tasks left: {left} of {g.min_tasks} over {g.zones - 1} zone(s); the sized-for load "
        f"({g.min_tasks} × {g.cpu_target} % CPU) needs {needed} at full CPU"
    ]
    if g.host is not None:
        hosts = surviving_tasks(g.hosts, g.zones)
        room = hosts * tasks_per_host(g.host, g.task_cpu, g.task_memory)
        lines.append(
            f"hosts left: {hosts} of {g.hosts}, room for {room} task(s); the group runs "
            f"{g.min_tasks + g.fixed_tasks} at minimum"
        )
    return lines


def zone_loss_replacement(loss: ZoneLoss, tg: TargetGroupHealth) -> Estimate:
    """A zone is lost → replacement tasks serve: the ALB marks the zone's targets unhealthy, ECS
    starts replacements on the hosts left (or on a new host when they have no room), and the ALB
    passes them ``HealthyThresholdCount`` checks."""
    problems = dict(zone_loss_problems(loss.group))
    terms = list(target_stops_traffic(tg).terms)
    if "hosts" in problems or "zones" in problems:
        terms.append(
            (
                f"{fmt_s(loss.instance_warmup_s)} a new host (instanceWarmupPeriod)",
                loss.instance_warmup_s,
            )
        )
    terms += [
        (f"{fmt_s(ECS_TASK_LAUNCH_S)} replacement task start", ECS_TASK_LAUNCH_S),
        (
            f"{fmt_s(tg.interval_s)} × {tg.healthy_threshold} passing ALB checks",
            tg.interval_s * tg.healthy_threshold,
        ),
    ]
    notes = [*capacity_left(loss), *(f"not zone-safe: {p}" for p in problems.values())]
    return add_terms(terms, notes)


def zonal_shift_moves_traffic() -> Estimate:
    """A zonal shift (started by hand or by autoshift) → the load balancer's traffic has left the
    zone."""
    return add_terms(
        [
            (
                f"{fmt_s(ZONAL_SHIFT_TRAFFIC_MOVED_S)} in-progress connections finish "
                "(StartZonalShift: typically up to a few minutes)",
                ZONAL_SHIFT_TRAFFIC_MOVED_S,
            )
        ],
        [
            "the shift itself is created at once; when autoshift starts one is AWS's decision "
            "(not documented), so detection is not counted"
        ],
    )


def environment_hosts_lost(
    record: FailoverRecord, loss: ZoneLoss, tg: TargetGroupHealth
) -> tuple[Estimate, Estimate]:
    """One environment's hosts all lost → DNS answers with the other (``env_failover``), and the
    lost environment comes back: new hosts (warm-up), tasks started, targets healthy."""
    failover = env_failover(record, "env_down")
    back = add_terms(
        [
            (
                f"{fmt_s(loss.instance_warmup_s)} new hosts (instanceWarmupPeriod)",
                loss.instance_warmup_s,
            ),
            (f"{fmt_s(ECS_TASK_LAUNCH_S)} tasks start", ECS_TASK_LAUNCH_S),
            (
                f"{fmt_s(tg.interval_s)} × {tg.healthy_threshold} passing ALB checks",
                tg.interval_s * tg.healthy_threshold,
            ),
        ],
        ["the Auto Scaling group replaces the terminated instances to its minimum"],
    )
    return failover, back
