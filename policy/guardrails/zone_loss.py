"""Static stability over Availability Zones: can a capacity group lose one zone and still serve?

Pure arithmetic, shared by the settings (``settings/loader.py``) and the policy
``zone-loss-static-stability`` (one rule, two uses); the pack imports nothing from the program.

**What the service is sized for.** A service is sized for the load that keeps its minimum task
count at its CPU target: ``minTasks × cpuTarget %`` of one task's CPU. That is the load at which
target tracking sits at ``minTasks``; above it the service scales out, below it nothing is
removed. Carrying that load needs ``ceil(minTasks × cpuTarget / 100)`` tasks at full CPU (the floor
below which the service is overloaded) and ``minTasks`` tasks at the target.

**Riding out a zone's loss without a new host** means, for one capacity group:

1. every zone runs a task: ``minTasks ≥ zones`` (the service spreads tasks by
   ``attribute:ecs.availability-zone`` first, so each zone holds ``floor`` or ``ceil`` of
   ``tasks / zones``);
2. the tasks left after the zone with the most tasks is gone carry the sized-for load at no more
   than full CPU while their replacements start: ``minTasks - ceil(minTasks / zones) ≥
   ceil(minTasks × cpuTarget / 100)`` — in words, the CPU target is at most the share of tasks
   that survive, ``(zones - 1) / zones``;
3. the hosts left after the zone with the most hosts is gone have room for every task the group
   runs at minimum (the service's ``minTasks`` and any fixed-count service beside it, e.g. the
   onebox): ``(hosts - ceil(hosts / zones)) × tasks per host ≥ tasks`` — the replacements place on
   running hosts, no launch, no ``instanceWarmupPeriod``;
4. when managed scaling has grown the group above its minimum, it keeps a zone's share of hosts
   empty: ``targetCapacity ≤ 100 × (zones - 1) / zones``. ECS counts an instance as used when it
   runs any task (CapacityProviderReservation = instances needed / instances running, ECS
   developer guide, "Amazon ECS capacity provider auto scaling":
   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html), and
   with tasks spread over zones and bin-packed within each, a lost zone takes ``used / zones``
   hosts' tasks, which fit into the surviving zones' empty hosts only when
   ``(zones - 1) × (running - used) ≥ used``.

The Auto Scaling group balances its instances over its subnets' zones (AZRebalance: "launches new
instances ... to balance capacity evenly across Availability Zones", EC2 Auto Scaling user guide,
https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-availability-zone-balanced.html),
so the biggest zone holds ``ceil(hosts / zones)`` hosts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: vCPUs and memory (GiB) of the x86_64 instance types the hosts may run (the image is
#: linux/amd64), from https://aws.amazon.com/ec2/instance-types/ (general purpose and compute
#: optimized tables). A type outside the table cannot be judged for host room (rule 3): the
#: settings say so, and the policy reports it as a note.
INSTANCE_SIZES: dict[str, tuple[int, float]] = {
    **{f"t3.{size}": spec for size, spec in {
        "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
        "xlarge": (4, 16), "2xlarge": (8, 32),
    }.items()},
    **{f"t3a.{size}": spec for size, spec in {
        "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
        "xlarge": (4, 16), "2xlarge": (8, 32),
    }.items()},
    **{f"{family}.{size}": (vcpu, vcpu * 4) for family in ("m5", "m6i", "m7i")
       for size, vcpu in {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16}.items()},
    **{f"{family}.{size}": (vcpu, vcpu * 2) for family in ("c5", "c6i", "c7i")
       for size, vcpu in {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16}.items()},
    **{f"{family}.{size}": (vcpu, vcpu * 8) for family in ("r5", "r6i", "r7i")
       for size, vcpu in {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16}.items()},
}  # fmt: skip

#: Share of an instance's memory the ECS agent registers for tasks. The agent registers what the
#: kernel reports, less than the installed memory: an m4.large's 8 GiB registers as 7985 MiB
#: (97.5 %) in the ECS developer guide's example ("Reserving Amazon ECS Linux container instance
#: memory", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html);
#: 90 % leaves room for small instances, whose kernel share is larger.
REGISTERED_MEMORY_SHARE = 0.9

#: CPU units ECS registers per vCPU (task ``cpu`` is in the same units: 1024 = one vCPU).
CPU_UNITS_PER_VCPU = 1024


@dataclass(frozen=True)
class HostSize:
    """What one container instance registers with ECS."""

    cpu_units: int
    memory_mib: int


def host_size(instance_type: str) -> HostSize | None:
    """The CPU units and memory an instance of ``instance_type`` registers, or None if unknown."""
    spec = INSTANCE_SIZES.get(instance_type)
    if spec is None:
        return None
    vcpu, gib = spec
    return HostSize(vcpu * CPU_UNITS_PER_VCPU, math.floor(gib * 1024 * REGISTERED_MEMORY_SHARE))


def tasks_per_host(host: HostSize, task_cpu: int, task_memory: int) -> int:
    """How many tasks of ``task_cpu`` units and ``task_memory`` MiB fit on one host."""
    return min(host.cpu_units // task_cpu, host.memory_mib // task_memory)


def biggest_zone_share(count: int, zones: int) -> int:
    """The most of ``count`` items any one zone holds when they are spread evenly over ``zones``."""
    return math.ceil(count / zones)


def tasks_to_carry(min_tasks: int, cpu_target: int) -> int:
    """Tasks that carry the sized-for load (``min_tasks`` at ``cpu_target`` %) at full CPU."""
    return math.ceil(min_tasks * cpu_target / 100)


def surviving_tasks(tasks: int, zones: int) -> int:
    """Tasks left after the zone holding the most of ``tasks`` is lost."""
    return tasks - biggest_zone_share(tasks, zones)


def max_target_capacity_percent(zones: int) -> int:
    """The largest managed-scaling target that keeps a zone's share of hosts empty."""
    return math.floor(100 * (zones - 1) / zones)


def max_cpu_target_percent(min_tasks: int, zones: int) -> int:
    """The largest CPU target whose sized-for load the tasks left after a zone's loss carry at
    full CPU: ``floor(100 × surviving / minTasks)`` (at most ``(zones - 1) / zones``)."""
    return math.floor(100 * surviving_tasks(min_tasks, zones) / min_tasks) if min_tasks else 0


@dataclass(frozen=True)
class CapacityGroup:
    """One capacity group (an Auto Scaling group behind one capacity provider) at its minimum."""

    zones: int
    """Availability Zones the group's subnets (and the service's tasks) span."""
    min_tasks: int
    """The autoscaled service's minimum task count (what it is sized for)."""
    cpu_target: int
    """Its target-tracking CPU target, percent."""
    task_cpu: int
    """CPU units of one task."""
    task_memory: int
    """MiB of one task."""
    hosts: int
    """The group's minimum instance count."""
    host: HostSize | None
    """What one host registers; None when its instance type is unknown (rule 3 is not judged)."""
    target_capacity_percent: int
    """Managed scaling's target capacity."""
    fixed_tasks: int = 0
    """Tasks of fixed-count services on the same group (the onebox)."""


def zone_loss_problems(group: CapacityGroup) -> list[tuple[str, str]]:
    """Why ``group`` cannot lose any one zone without going below what it is sized for, as
    ``(what, problem)`` pairs (``what``: ``zones``, ``minTasks``, ``cpuTarget``, ``hosts`` or
    ``targetCapacity``); empty when it can."""
    z = group.zones
    if z < 2:
        return [("zones", f"spans {z} zone: losing it loses everything; span at least 2")]
    out: list[tuple[str, str]] = []
    if group.min_tasks < z:
        out.append(
            (
                "minTasks",
                f"{group.min_tasks} task(s) over {z} zones: a zone runs no task; run at least {z}",
            )
        )
    left, needed = (
        surviving_tasks(group.min_tasks, z),
        tasks_to_carry(group.min_tasks, group.cpu_target),
    )
    if group.min_tasks >= z and left < needed:
        out.append(
            (
                "cpuTarget",
                f"after losing a zone {left} of {group.min_tasks} task(s) remain, but the "
                f"sized-for load ({group.min_tasks} × {group.cpu_target} % CPU) needs {needed} at "
                f"full CPU; lower the CPU target to at most "
                f"{max_cpu_target_percent(group.min_tasks, z)} or run more tasks",
            )
        )
    if group.host is not None:
        per_host = tasks_per_host(group.host, group.task_cpu, group.task_memory)
        hosts_left = surviving_tasks(group.hosts, z)
        tasks = group.min_tasks + group.fixed_tasks
        if hosts_left * per_host < tasks:
            out.append(
                (
                    "hosts",
                    f"after losing a zone {hosts_left} of {group.hosts} host(s) remain with room "
                    f"for {hosts_left * per_host} task(s) ({per_host} per host), but the group "
                    f"runs {tasks}; raise the minimum hosts or pick a larger instance type",
                )
            )
    ceiling = max_target_capacity_percent(z)
    if group.target_capacity_percent > ceiling:
        out.append(
            (
                "targetCapacity",
                f"managed scaling at {group.target_capacity_percent} % keeps less than one "
                f"zone's share of {z} empty; set it to at most {ceiling}",
            )
        )
    return out


_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")


def unknown_instance_type_note(instance_type: object) -> str | None:
    """Why the host room cannot be judged for ``instance_type``, or None when it can."""
    if isinstance(instance_type, str) and instance_type in INSTANCE_SIZES:
        return None
    shown = (
        instance_type
        if isinstance(instance_type, str) and _INSTANCE_TYPE.fullmatch(instance_type)
        else repr(instance_type)
    )
    return (
        f"instance type {shown} is not in the zone-loss size table "
        "(policy/guardrails/zone_loss.py INSTANCE_SIZES), so the room left on the surviving "
        "hosts is not judged"
    )
