"""The settings refuse every value that a mandatory policy would always reject, with the policy's
own rule function, naming the key; and the pack's violation on such a resource names that key.

One row per pair that ``bench/settings_policy_sweep.py`` found: a value set alone in the shipped
stack file, accepted by the settings, synthesized and judged by the real pack with a mandatory
violation every time. ``rule`` is what the shared function in ``policy.guardrails.limits`` says
about the value: the settings' message must carry it, so the settings and the policy judge with
the same function, not two copies of a threshold. A value only prod's policies reject
(``prod_only``) is still accepted in dev.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.synth.stack_config import load_stack_config
from policy.guardrails import limits
from policy.guardrails.setting_keys import SETTING_KEYS
from settings import SettingsError, load_settings

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pair:
    stack: str
    key: str
    value: Any
    policies: tuple[str, ...]
    rule: str | None
    """The shared limits function's verdict on the value, which the settings' message carries."""
    prod_only: bool = False
    filed_under: str | None = None
    """The key the problem names when it is not ``key`` (a rule over two keys files it once)."""


PAIRS = [
    Pair(
        "dev",
        "loadBalancer.accessLogs",
        False,
        ("lb-access-logs-enabled",),
        limits.access_logs_problem(False),
    ),
    Pair(
        "dev",
        "network.availabilityZones",
        1,
        ("lb-multi-az", "lb-subnets-distinct-azs", "autoscaling-group-multi-az"),
        limits.zone_count_problem(1),
    ),
    Pair(
        "dev",
        "service.maximumPercent",
        100,
        ("ecs-service-deployment-headroom",),
        limits.deployment_headroom_problem(100, 100),
    ),
    Pair(
        "dev",
        "service.scaleOutCooldown",
        900,
        ("autoscaling-scale-out-cooldown",),
        limits.scale_out_cooldown_problem(900),
    ),
    Pair(
        "prod",
        "service.minimumHealthyPercent",
        50,
        ("ecs-service-prod-minimum-healthy-percent",),
        limits.prod_minimum_healthy_problem(50),
        prod_only=True,
    ),
    Pair(
        "prod",
        "cluster.managedTerminationProtection",
        False,
        ("ecs-capacity-provider-termination-protection",),
        limits.termination_protection_problem("DISABLED"),
        prod_only=True,
    ),
    Pair(
        "prod",
        "loadBalancer.deletionProtection",
        False,
        ("lb-deletion-protection",),
        limits.deletion_protection_problem(False),
        prod_only=True,
    ),
    Pair(
        "prod",
        "database.deletionProtection",
        False,
        ("rds-deletion-protection",),
        limits.deletion_protection_problem(False),
        prod_only=True,
    ),
    Pair(
        "prod",
        "database.multiAz",
        False,
        ("rds-multi-az",),
        limits.multi_az_problem(False),
        prod_only=True,
    ),
    Pair(
        "prod",
        "dns.failureThreshold",
        6,
        ("dns-health-check-detection-within-target",),
        limits.detection_seconds_problem(
            10, 6, 30, "dns.healthCheckInterval × dns.failureThreshold"
        ),
    ),
    Pair(
        "prod",
        "dns.healthCheckInterval",
        30,
        ("dns-health-check-detection-within-target",),
        limits.detection_seconds_problem(
            30, 3, 30, "dns.healthCheckInterval × dns.failureThreshold"
        ),
        filed_under="dns.failureThreshold",
    ),
    Pair(
        "prod",
        "service.fastScaleOut.cooldown",
        600,
        ("autoscaling-scale-out-cooldown",),
        limits.scale_out_cooldown_problem(600),
    ),
    Pair(
        "prod",
        "service.fastScaleOut.stepTasks",
        6,
        ("step-scaling-bounded",),
        limits.step_adjustment_problem(12),
    ),
    Pair(
        "prod",
        "loadBalancer.accessLogs",
        False,
        ("lb-access-logs-enabled",),
        limits.access_logs_problem(False),
    ),
    Pair(
        "prod",
        "service.maximumPercent",
        100,
        ("ecs-service-deployment-headroom",),
        limits.deployment_headroom_problem(100, 100),
    ),
    Pair(
        "prod",
        "service.scaleOutCooldown",
        900,
        ("autoscaling-scale-out-cooldown",),
        limits.scale_out_cooldown_problem(900),
    ),
    Pair(
        "prod",
        "loadBalancer.certificateDomain",
        None,
        ("lb-http-redirects-to-https",),
        limits.plain_http_problem(True),
        prod_only=True,
    ),
]


def stack_config_with(stack: str, key: str, value: Any) -> dict[str, str]:
    """The shipped stack's config as the program gets it, with ``key`` set to ``value`` (a group
    the stack file leaves out starts from its project default, as Pulumi merges them)."""
    values = dict(load_stack_config(PROJECT_DIR, stack).values)
    group, _, rest = key.partition(".")
    full = f"steadystate:{group}"
    if not rest:
        values[full] = json.dumps(value)
        return values
    data = json.loads(values.get(full, "{}"))
    node = data
    *path, leaf = rest.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[leaf] = value
    values[full] = json.dumps(data)
    return values


def _id(pair: Pair) -> str:
    return f"{pair.stack}:{pair.key}={json.dumps(pair.value)}"


@pytest.mark.parametrize("pair", PAIRS, ids=_id)
def test_the_settings_refuse_it_with_the_policy_s_rule_naming_the_key(pair: Pair) -> None:
    assert pair.rule, "the shared function must refuse the value itself"
    with pytest.raises(SettingsError) as caught:
        load_settings(stack_config_with(pair.stack, pair.key, pair.value))
    key = pair.filed_under or pair.key
    mine = [p.message for p in caught.value.problems if p.key == f"steadystate:{key}"]
    assert mine, f"no problem names steadystate:{key}: {caught.value}"
    assert any(pair.key in message for message in mine) or key == pair.key, mine
    assert any(pair.rule in message for message in mine), (pair.rule, mine)
    assert any(policy in message for message in mine for policy in pair.policies), mine


@pytest.mark.parametrize("pair", [p for p in PAIRS if p.prod_only], ids=_id)
def test_a_value_only_prod_refuses_is_still_accepted_in_dev(pair: Pair) -> None:
    load_settings(stack_config_with("dev", pair.key, pair.value))


@pytest.mark.parametrize("pair", PAIRS, ids=_id)
def test_the_pack_s_violation_names_the_same_key(pair: Pair) -> None:
    for policy in pair.policies:
        assert pair.key in [source.key for source in SETTING_KEYS[policy]], policy


def test_the_shipped_stacks_are_accepted() -> None:
    for stack in ("dev", "prod"):
        load_settings(load_stack_config(PROJECT_DIR, stack).values)
