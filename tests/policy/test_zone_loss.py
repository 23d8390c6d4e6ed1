"""The zone-loss arithmetic (policy/guardrails/zone_loss.py), judged against a simulation of
the zone's loss rather than against its own formulas.

The simulation: tasks spread over zones as ECS's ``spread`` on ``attribute:ecs.availability-zone``
does (each zone holds floor or ceil of tasks / zones: API_PlacementStrategy), hosts balanced the
same way by the Auto Scaling group; one zone is lost; the surviving tasks must carry the
sized-for load at full CPU and every task must fit on the surviving hosts, placed first-fit.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from policy.guardrails.zone_loss import (
    CapacityGroup,
    HostSize,
    host_size,
    max_cpu_target_percent,
    max_target_capacity_percent,
    tasks_per_host,
    zone_loss_problems,
)


def spread(count: int, zones: int) -> list[int]:
    """``count`` items over ``zones`` as evenly as ECS / Auto Scaling spread them."""
    return [count // zones + (1 if z < count % zones else 0) for z in range(zones)]


def survives(group: CapacityGroup) -> dict[str, bool]:
    """Which of the zone-loss conditions hold, by losing every zone in turn."""
    tasks, hosts = spread(group.min_tasks, group.zones), spread(group.hosts, group.zones)
    carry, room = True, True
    for lost in range(group.zones):
        left = group.min_tasks - tasks[lost]
        # The sized-for load in CPU units must fit into the surviving tasks at 100 % each.
        if left * group.task_cpu * 100 < group.min_tasks * group.task_cpu * group.cpu_target:
            carry = False
        if group.host is not None:
            free = [(group.host.cpu_units, group.host.memory_mib)] * (group.hosts - hosts[lost])
            placed = 0
            for _ in range(group.min_tasks + group.fixed_tasks):
                slot = next(
                    (
                        i
                        for i, (c, m) in enumerate(free)
                        if c >= group.task_cpu and m >= group.task_memory
                    ),
                    None,
                )
                if slot is None:
                    break
                c, m = free[slot]
                free[slot] = (c - group.task_cpu, m - group.task_memory)
                placed += 1
            if placed < group.min_tasks + group.fixed_tasks:
                room = False
    return {"carry": carry, "room": room}


groups = st.builds(
    CapacityGroup,
    zones=st.integers(2, 6),
    min_tasks=st.integers(0, 40),
    cpu_target=st.integers(10, 90),
    task_cpu=st.sampled_from([128, 256, 512, 1024, 2048]),
    task_memory=st.sampled_from([256, 512, 1024, 2048, 4096]),
    hosts=st.integers(0, 30),
    host=st.sampled_from([host_size("t3.small"), host_size("t3.medium"), host_size("m6i.xlarge")]),
    target_capacity_percent=st.integers(1, 100),
    fixed_tasks=st.integers(0, 4),
)


@given(groups)
def test_the_rule_refuses_exactly_what_the_simulated_zone_loss_breaks(group: CapacityGroup) -> None:
    found = {what for what, _ in zone_loss_problems(group)}
    outcome = survives(group)
    assert ("minTasks" in found) == (group.min_tasks < group.zones)
    if group.min_tasks >= group.zones:
        assert ("cpuTarget" in found) == (not outcome["carry"])
    assert ("hosts" in found) == (not outcome["room"])


@given(groups)
def test_the_cpu_target_advice_is_the_largest_that_passes(group: CapacityGroup) -> None:
    if group.min_tasks < group.zones:
        return
    ceiling = max_cpu_target_percent(group.min_tasks, group.zones)
    at = CapacityGroup(**{**group.__dict__, "cpu_target": ceiling})
    above = CapacityGroup(**{**group.__dict__, "cpu_target": ceiling + 1})
    assert survives(at)["carry"] if ceiling > 0 else True
    assert not survives(above)["carry"]


@given(st.integers(2, 6), st.integers(1, 100), st.integers(1, 50))
def test_target_capacity_keeps_a_zone_of_hosts_empty(
    zones: int, target: int, per_zone: int
) -> None:
    """Managed scaling keeps ``used = target % of running`` hosts busy; with tasks spread over
    zones and packed within each, every zone has ``used / zones`` busy hosts. Losing a zone, its
    busy hosts' tasks must fit into the empty hosts of the others."""
    running = per_zone * zones
    used = math.ceil(running * target / 100)
    # zones' empty hosts left ≥ one zone's busy hosts, times zones (whole numbers, no rounding):
    # (zones - 1) × (running - used) / zones ≥ used / zones
    fits = (zones - 1) * (running - used) >= used
    group = CapacityGroup(
        zones=zones,
        min_tasks=zones,
        cpu_target=10,
        task_cpu=256,
        task_memory=512,
        hosts=running,
        host=None,
        target_capacity_percent=target,
    )
    refused = any(what == "targetCapacity" for what, _ in zone_loss_problems(group))
    if refused:
        assert target > max_target_capacity_percent(zones)
        # Refused targets fail the loss for some large enough group.
        big = per_zone * 100 * zones
        assert (zones - 1) * (big - math.ceil(big * target / 100)) < math.ceil(big * target / 100)
    else:
        assert fits


def test_one_zone_is_refused_whatever_else() -> None:
    group = CapacityGroup(1, 4, 50, 256, 512, 4, host_size("t3.medium"), 50)
    assert [what for what, _ in zone_loss_problems(group)] == ["zones"]


def test_tasks_per_host_is_bounded_by_cpu_and_memory() -> None:
    host = HostSize(cpu_units=2048, memory_mib=3686)
    assert tasks_per_host(host, 512, 1024) == 3  # memory-bound
    assert tasks_per_host(host, 1024, 512) == 2  # cpu-bound


def test_registered_memory_is_below_the_installed_memory() -> None:
    """ECS developer guide, memory-management.html: an m4.large (8 GiB) registers 7985 MiB; the
    table's share is at most that ratio, so a host is never assumed larger than it registers."""
    medium = host_size("t3.medium")
    assert medium is not None and medium.memory_mib <= 4096 * 7985 / 8192
    assert host_size("x9.unknown") is None
