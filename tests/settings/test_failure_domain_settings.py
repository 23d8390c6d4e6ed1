"""Prod settings: environments on capacity of their own, a zone's loss ridden out without a new
host (the same rule as the policy zone-loss-static-stability), and the host rollout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from settings import SettingsError, load_settings
from settings.loader import host_rollout, zone_loss_group

REPO = Path(__file__).resolve().parents[2]


def prod_config() -> dict[str, object]:
    """Pulumi.prod.yaml's steadystate keys (the shipped prod stack)."""
    config = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("steadystate:")}


def raw(groups: dict[str, object]) -> dict[str, str]:
    return {
        f"steadystate:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in groups.items()
    }


def problems(groups: dict[str, object]) -> list[str]:
    try:
        load_settings(raw(groups))
    except SettingsError as err:
        return [str(p) for p in err.problems]
    return []


def with_changes(group: str, **changes: object) -> dict[str, object]:
    config = prod_config()
    config[group] = {**dict(config[group]), **changes}  # type: ignore[arg-type]
    return config


def test_the_shipped_prod_stack_rides_out_a_zone_on_capacity_of_its_own() -> None:
    assert problems(prod_config()) == []
    group = zone_loss_group(load_settings(raw(prod_config())))
    assert (group.zones, group.min_tasks, group.fixed_tasks) == (3, 3, 2)


def test_prod_refuses_shared_capacity_for_two_environments() -> None:
    found = problems(with_changes("cluster", capacityPerEnvironment=False))
    assert any(
        p.startswith("steadystate:cluster.capacityPerEnvironment = false: must be true in prod")
        for p in found
    )


@pytest.mark.parametrize(
    ("group", "change", "key", "fragment"),
    [
        ("service", {"cpuTarget": 70}, "service.cpuTarget = 70", "at most 66"),
        (
            "cluster",
            {"targetCapacityPercent": 75},
            "cluster.targetCapacityPercent = 75",
            "at most 66",
        ),
        ("cluster", {"instanceType": "t3.small"}, "cluster.minInstances = 3", "room for 2 task(s)"),
        ("service", {"minTasks": 2}, "service.minTasks = 2", "a zone runs no task"),
        ("network", {"availabilityZones": 1}, "network.availabilityZones = 1", "spans 1 zone"),
    ],
)
def test_prod_refuses_what_cannot_lose_a_zone(
    group: str, change: dict[str, object], key: str, fragment: str
) -> None:
    found = [p for p in problems(with_changes(group, **change)) if "zone" in p or "task" in p]
    assert any(p.startswith(f"steadystate:{key}: ") and fragment in p for p in found), found


def test_prod_refuses_an_instance_type_whose_size_is_unknown() -> None:
    found = problems(with_changes("cluster", instanceType="x2iedn.large"))
    assert any(p.startswith("steadystate:cluster.instanceType = x2iedn.large: ") for p in found)


def test_dev_may_share_one_group_and_is_not_judged_for_zones() -> None:
    assert (
        problems({"environments": ["blue", "green"], "cluster": {"targetCapacityPercent": 100}})
        == []
    )


def test_host_rollout_defaults_to_the_primary_environment_and_names_only_environments() -> None:
    prod = load_settings(raw(prod_config()))
    assert host_rollout(prod) == ["blue"]
    config = prod_config()
    config["dns"] = {**dict(config["dns"]), "primary": "green"}  # type: ignore[arg-type]
    assert host_rollout(load_settings(raw(config))) == ["green"]
    moved = with_changes("release", hostRollout=["blue", "green"])
    assert host_rollout(load_settings(raw(moved))) == ["blue", "green"]
    assert any(
        p.startswith('steadystate:release.hostRollout = ["purple"]: names no environment')
        for p in problems(with_changes("release", hostRollout=["purple"]))
    )
