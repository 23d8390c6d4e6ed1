"""What the failure domains cost: hosts of its own for each environment, and the zone headroom.

Both are parts of the "container hosts" line at minimum capacity, counted in hosts of the stack's
instance type (host and root volume):

* **per-environment capacity**: the hosts the environments' groups keep at minimum, less the
  hosts one shared group would need to place every environment's tasks at minimum;
* **zone headroom**: within each group, the minimum hosts beyond those its tasks fill at
  minimum: the room the zone-loss rule (``policy/guardrails/zone_loss.py``) keeps so that a lost
  zone's tasks place without a new host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from policy.guardrails.zone_loss import host_size, tasks_per_host
from settings import Settings
from settings.loader import zone_loss_group


@dataclass(frozen=True)
class DomainCost:
    """One failure-domain line: hosts at minimum and maximum capacity, at ``host_monthly`` each."""

    item: str
    hosts_min: int
    hosts_max: int
    host_monthly: float
    how: str

    @property
    def monthly_min(self) -> float:
        return self.hosts_min * self.host_monthly

    @property
    def monthly_max(self) -> float:
        return self.hosts_max * self.host_monthly


def zone_safe_hosts(tasks: int, zones: int, per_host: int) -> int:
    """The fewest hosts (spread over ``zones``) whose survivors of a zone's loss place ``tasks``."""
    hosts = 1
    while (hosts - math.ceil(hosts / zones)) * per_host < tasks:
        hosts += 1
    return hosts


def failure_domain_costs(s: Settings, host_monthly: float) -> list[DomainCost]:
    """The two lines for ``s``; empty when the instance type's size is unknown (nothing to count
    the tasks a host takes with)."""
    size = host_size(s.cluster.instance_type)
    per_host = tasks_per_host(size, s.service.cpu, s.service.memory) if size else 0
    if per_host == 0 or s.network.availability_zones < 2:
        return []
    g = zone_loss_group(s)
    c = s.cluster
    groups = len(s.environments) if c.capacity_per_environment else 1
    group_tasks = g.min_tasks + g.fixed_tasks
    filled = math.ceil(group_tasks / per_host)
    if groups > 1:
        every_task = group_tasks * groups
        shared = max(c.min_instances, zone_safe_hosts(every_task, g.zones, per_host))
        separate = DomainCost(
            "per-environment capacity",
            max(0, c.min_instances * groups - shared),
            c.max_instances * (groups - 1),
            host_monthly,
            f"{groups} groups of {c.min_instances}-{c.max_instances} hosts, against one shared "
            f"group of {shared}-{c.max_instances} that places all {every_task} tasks after a "
            "zone's loss",
        )
    else:
        separate = DomainCost("per-environment capacity", 0, 0, host_monthly, "one shared group")
    return [
        separate,
        DomainCost(
            "zone headroom",
            max(0, c.min_instances - filled) * groups,
            max(0, c.min_instances - filled) * groups,
            host_monthly,
            f"{groups} group(s) × ({c.min_instances} hosts at minimum - {filled} that "
            f"{group_tasks} tasks fill): a lost zone's tasks place on the hosts left",
        ),
    ]
