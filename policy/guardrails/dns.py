"""Route 53 guardrails: failover pairs and how fast resolvers notice a change."""

from __future__ import annotations

from typing import Any

from . import limits
from .aws_types import DNS_RECORD
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import get, is_set, is_unknown


@resource_rule(
    "dns-routing-ttl-ceiling",
    types=DNS_RECORD,
    level=MANDATORY,
    config={
        "ttlCeilingSeconds": {
            "type": "integer",
            "minimum": 1,
            "default": limits.DNS_TTL_CEILING_SECONDS,
            "description": "Longest TTL on failover and weighted records, in seconds.",
        }
    },
    description=(
        "Failover and weighted records (other than aliases, which have no TTL of their own) "
        "have a TTL of at most the ceiling (default 60 s). Mandatory: a long TTL keeps clients "
        "on the failed endpoint long after Route 53 switched."
    ),
)
def dns_routing_ttl_ceiling(check: ResourceCheck) -> None:
    routed = [
        key
        for key in ("failoverRoutingPolicies", "weightedRoutingPolicies")
        if is_set(check.get(key))
    ]
    if not routed or is_set(check.get("aliases")):
        return
    ceiling = check.config["ttlCeilingSeconds"]
    problem = limits.ttl_problem(check.known("ttl"), ceiling)
    if problem:
        check.violation(f"ttl {problem} on a {routed[0]} record", f"set ttl={ceiling} or less")


def _failover_type(record: StackResource) -> Any:
    return get(record.get("failoverRoutingPolicies"), "0.type")


def _zone_key(record: StackResource) -> Any:
    zone = record.get("zoneId")
    if isinstance(zone, str):
        return zone
    return record.depends_on("zoneId") or None


@stack_rule(
    "dns-failover-primary-health-checked",
    level=MANDATORY,
    description=(
        "Every failover PRIMARY record has a healthCheckId, and a SECONDARY record exists for the "
        "same zone, name and type. Mandatory: without the health check Route 53 never fails "
        "over; without the SECONDARY there is nowhere to fail over to."
    ),
)
def dns_failover_primary_health_checked(check: StackCheck) -> None:
    records = [r for r in check.of_type(DNS_RECORD) if is_set(r.get("failoverRoutingPolicies"))]
    secondaries = set()
    primaries = []
    unresolved = False
    for record in records:
        kind, name, kind_of_record = _failover_type(record), record.get("name"), record.get("type")
        zone = _zone_key(record)
        if any(is_unknown(v) for v in (kind, name, kind_of_record)) or zone is None:
            check.note(
                f"the zone, name, type or failover role of {record.label()} is unknown during "
                "preview"
            )
            unresolved = True
            continue
        key = (zone, str(name).lower().rstrip("."), kind_of_record)
        if kind == "SECONDARY":
            secondaries.add(key)
        elif kind == "PRIMARY":
            primaries.append((record, key))
    for record, key in primaries:
        if not is_set(record.get("healthCheckId")):
            check.violation(
                record,
                "the failover PRIMARY record has no health check",
                "set healthCheckId to an aws:route53/healthCheck (HTTPS on the service's health "
                "endpoint, or a CLOUDWATCH_METRIC check on the connectivity alarm)",
            )
        if key in secondaries:
            continue
        if unresolved:
            check.note(f"whether {record.label()} has a SECONDARY is unknown during preview")
        else:
            check.violation(
                record,
                f"no failover SECONDARY record exists for {key[1]} ({key[2]})",
                "add an aws:route53/record with the same zoneId, name and type, "
                'failoverRoutingPolicies=[{type: "SECONDARY"}] and its own setIdentifier',
            )


POLICIES = [dns_routing_ttl_ceiling, dns_failover_primary_health_checked]
