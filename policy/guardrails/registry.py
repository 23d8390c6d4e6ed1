"""The pack's registry: every policy of the pack, in catalogue order.

Kept out of the package ``__init__`` so that the Pulumi program can import the pure
:mod:`policy.guardrails.limits` without loading pulumi-policy and every rule.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (  # second wave (issue 12); chaos as a practice (issue 11)
    alarms,
    alert_delivery,
    autoscaling,
    capacity,
    capacity_protection,
    chaos_schedules,
    container_hardening,
    containers,
    create_limits,
    data_protection,
    deployment_safety,
    dns,
    dns_query_logging,
    ecr,
    ecs,
    ecs_exec,
    edges,
    failover_timing,
    failure_domains,
    fast_scaling,
    fis_templates,
    hosts,
    iam,
    iam_wildcards,
    lambda_functions,
    load_balancing,
    logs,
    network,
    ports,
    rds,
    rds_events,
    rds_hardening,
    secret_rotation,
    teardown,
    waf,
    zonal_shift,
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
    fast_scaling,
    dns,
    alarms,
    edges,
    # second wave (issue 12)
    ports,
    hosts,
    container_hardening,
    data_protection,
    iam_wildcards,
    rds_hardening,
    rds_events,
    capacity_protection,
    deployment_safety,
    failover_timing,
    alert_delivery,
    dns_query_logging,
    ecs_exec,
    # chaos as a practice (issue 11)
    fis_templates,
    chaos_schedules,
    lambda_functions,
    # tests that know AWS's rules (issue 20)
    create_limits,
    # a first `pulumi up` that works (issue 19)
    teardown,
    # issue 19: the edge and the credentials
    waf,
    secret_rotation,
    # issue 21: zonal shift and autoshift
    zonal_shift,
    # issue 21: blue and green as failure domains, a zone lost without an outage
    failure_domains,
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
