"""The steadystate guardrails: every policy of the pack, grouped by resource family.

``all_policies()`` is what ``policy/__main__.py`` hands to ``PolicyPack``; each rule module
lists its policies in ``POLICIES``. Thresholds live in :mod:`.limits` (pure, shared with the
program's settings validator); each policy's config schema is ``policy.config_schema``.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    alarms,
    autoscaling,
    capacity,
    containers,
    dns,
    ecr,
    ecs,
    iam,
    load_balancing,
    logs,
    network,
    rds,
)
from .framework import PACK_ENFORCEMENT_LEVEL

__all__ = ["PACK_ENFORCEMENT_LEVEL", "RULE_MODULES", "all_policies", "config_schemas"]

RULE_MODULES = (
    network,
    load_balancing,
    ecs,
    containers,
    ecr,
    rds,
    iam,
    logs,
    capacity,
    autoscaling,
    dns,
    alarms,
)
"""Every module that declares policies, in catalogue order."""


def all_policies() -> list[Policy]:
    """Every policy of the pack, in catalogue order."""
    return [policy for module in RULE_MODULES for policy in module.POLICIES]


def config_schemas() -> dict[str, dict]:
    """Policy name -> its config schema as a JSON Schema object (policies with config only)."""
    return {
        policy.name: {"type": "object", "properties": policy.config_schema.properties}
        for policy in all_policies()
        if policy.config_schema is not None
    }
