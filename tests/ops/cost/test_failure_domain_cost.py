"""`make cost`: what per-environment capacity and zone headroom add to the container hosts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from ops.cost.estimate import failure_domain_lines
from ops.cost.failure_domains import failure_domain_costs, zone_safe_hosts
from ops.cost.price_table import region_prices
from settings import load_settings

REPO = Path(__file__).resolve().parents[3]


def stack_settings(stack: str, **cluster: object):
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    if cluster:
        merged = {**config["steadystate:cluster"], **cluster}
        raw["steadystate:cluster"] = json.dumps(merged)
    return load_settings(raw)


@given(st.integers(0, 60), st.integers(2, 6), st.integers(1, 8))
def test_zone_safe_hosts_is_the_fewest_whose_survivors_place_the_tasks(tasks, zones, per_host):
    hosts = zone_safe_hosts(tasks, zones, per_host)

    def survivors_place(h: int) -> bool:
        return (h - math.ceil(h / zones)) * per_host >= tasks

    assert survivors_place(hosts)
    assert hosts == 1 or not survivors_place(hosts - 1)


def test_prod_headroom_is_one_host_per_environment_and_separate_groups_cost_nothing_at_minimum():
    """Prod: 3 fleet + 2 onebox tasks per environment, 3 a t3.medium: 2 hosts filled, 1 kept
    for a lost zone. One shared zone-safe group for both environments' 10 tasks needs 6 hosts,
    as many as two groups of 3: separate groups add only the second group's ceiling."""
    lines = {c.item: c for c in failure_domain_costs(stack_settings("prod"), 10.0)}
    assert (lines["zone headroom"].hosts_min, lines["zone headroom"].monthly_min) == (2, 20.0)
    separate = lines["per-environment capacity"]
    assert (separate.hosts_min, separate.hosts_max) == (0, 12)


def test_more_hosts_than_zone_safety_needs_show_as_per_environment_cost():
    lines = {c.item: c for c in failure_domain_costs(stack_settings("prod", minInstances=5), 1.0)}
    assert lines["per-environment capacity"].hosts_min == 10 - 6
    assert lines["zone headroom"].hosts_min == 2 * (5 - 2)


def test_dev_keeps_one_group_and_no_headroom():
    lines = failure_domain_lines(stack_settings("dev"), region_prices("us-east-2"))
    assert [(item, low, high) for item, low, high, _ in lines] == [
        ("per-environment capacity", 0, 0),
        ("zone headroom", 0, 0),
    ]
