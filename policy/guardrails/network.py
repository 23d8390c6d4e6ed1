"""Network guardrails: security groups and their rules, subnets, VPC flow logs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .aws_types import (
    FLOW_LOG,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SG_EGRESS_RULE,
    SG_INGRESS_RULE,
    SUBNET,
    VPC,
)
from .framework import ADVISORY, MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
from .properties import as_list, find_unknown, fmt, get, is_set, is_unknown

ADMIN_PORTS = (22, 3389)
"""Ports that must never be open to the whole internet: SSH and RDP."""

PULUMI_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi"
"""pulumi-aws's default security group description: says nothing about the group."""

_ALL_PROTOCOLS = {"-1", "all"}
_PORT_PROTOCOLS = {"tcp", "udp", "6", "17"}


@dataclass(frozen=True)
class _IngressEntry:
    """One ingress permission, whichever resource shape it came from."""

    where: str
    protocol: Any
    from_port: Any
    to_port: Any
    sources: list[Any]


def _is_world(cidr: Any) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _exposed_ports(entry: _IngressEntry, forbidden: list[int]) -> str | None:
    """What ``entry`` opens among the forbidden ports, e.g. "port 22", or None."""
    protocol = str(entry.protocol).lower()
    if protocol in _ALL_PROTOCOLS:
        return "all ports"
    if protocol not in _PORT_PROTOCOLS:
        return None
    low, high = entry.from_port, entry.to_port
    if not isinstance(low, int) or not isinstance(high, int):
        return "all ports" if entry.from_port is None and entry.to_port is None else None
    if low <= 0 and high >= 65535:
        return "all ports"
    hits = [port for port in forbidden if low <= port <= high]
    if not hits:
        return None
    return ("port " if len(hits) == 1 else "ports ") + ", ".join(str(p) for p in hits)


def _ingress_entries(check: ResourceCheck) -> list[_IngressEntry]:
    if check.type == SECURITY_GROUP:
        rules = check.get("ingress", [])
        if is_unknown(rules):
            check.note("ingress is unknown during preview")
            return []
        return [
            _IngressEntry(
                f"ingress[{i}]",
                rule.get("protocol"),
                rule.get("fromPort"),
                rule.get("toPort"),
                [*_cidrs(rule.get("cidrBlocks")), *_cidrs(rule.get("ipv6CidrBlocks"))],
            )
            for i, rule in enumerate(rules)
            if isinstance(rule, dict)
        ]
    if check.type == SECURITY_GROUP_RULE:
        if check.known("type") != "ingress":
            return []
        return [
            _IngressEntry(
                "the rule",
                check.get("protocol"),
                check.get("fromPort"),
                check.get("toPort"),
                [*_cidrs(check.get("cidrBlocks")), *_cidrs(check.get("ipv6CidrBlocks"))],
            )
        ]
    return [
        _IngressEntry(
            "the rule",
            check.get("ipProtocol"),
            check.get("fromPort"),
            check.get("toPort"),
            [check.get("cidrIpv4"), check.get("cidrIpv6")],
        )
    ]


def _cidrs(value: Any) -> list[Any]:
    listed = as_list(value)
    return [listed] if is_unknown(listed) else listed


@resource_rule(
    "security-group-no-world-admin-ingress",
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, SG_INGRESS_RULE],
    level=MANDATORY,
    description=(
        "No security group admits the whole internet (0.0.0.0/0 or ::/0) to SSH, RDP or all "
        "ports. Mandatory: an internet-open admin port is the most exploited AWS "
        "misconfiguration (CKV_AWS_24/25/277, FSBP EC2.18/19)."
    ),
    config={
        "forbiddenPorts": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 65535},
            "default": list(ADMIN_PORTS),
            "description": "Ports never to open to 0.0.0.0/0 or ::/0 (plus all-ports rules).",
        }
    },
)
def no_world_admin_ingress(check: ResourceCheck) -> None:
    forbidden = list(check.config["forbiddenPorts"])
    for entry in _ingress_entries(check):
        if not any(_is_world(s) for s in entry.sources):
            if any(is_unknown(s) for s in entry.sources):
                check.note(f"the source CIDRs of {entry.where} are unknown during preview")
            continue
        fields = (entry.protocol, entry.from_port, entry.to_port)
        if any(find_unknown(f) is not None for f in fields):
            check.note(f"the protocol or ports of {entry.where} are unknown during preview")
            continue
        exposed = _exposed_ports(entry, forbidden)
        if exposed:
            world = ", ".join(s for s in entry.sources if _is_world(s))
            check.violation(
                f"{entry.where} admits {world} to {exposed}",
                "remove the world CIDR from that rule and allow only known sources, e.g. the "
                "load balancer's security group (securityGroups / referencedSecurityGroupId / "
                "sourceSecurityGroupId); reach hosts with SSM Session Manager or ECS Exec",
            )


def _blank(value: Any) -> bool:
    return not is_set(value) or (isinstance(value, str) and not value.strip())


@resource_rule(
    "security-group-descriptions",
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, SG_INGRESS_RULE, SG_EGRESS_RULE],
    level=ADVISORY,
    description=(
        "Every security group and every rule says in its description why it exists (CKV_AWS_23). "
        "Advisory by default: documentation hygiene that is not itself exploitable; the stack "
        "configs make it mandatory."
    ),
)
def security_group_descriptions(check: ResourceCheck) -> None:
    if check.type != SECURITY_GROUP:
        if _blank(check.get("description")):
            check.violation(
                "the rule has no description",
                'set description to what the rule allows and why, e.g. "HTTPS from the ALB"',
            )
        return
    description = check.get("description")
    if _blank(description) or description == PULUMI_DEFAULT_SG_DESCRIPTION:
        check.violation(
            f"the group's description is {fmt(description) if is_set(description) else 'unset'}",
            'set description to what the group protects, e.g. "ECS tasks of the web service"',
        )
    for direction in ("ingress", "egress"):
        rules = check.get(direction, [])
        if is_unknown(rules):
            check.note(f"{direction} is unknown during preview")
            continue
        undescribed = [
            f"{direction}[{i}]"
            for i, rule in enumerate(rules)
            if isinstance(rule, dict) and _blank(rule.get("description"))
        ]
        if undescribed:
            check.violation(
                f"{', '.join(undescribed)} {'has' if len(undescribed) == 1 else 'have'} "
                "no description",
                f"set description on each {direction} rule to what it allows and why",
            )


@resource_rule(
    "subnet-private-no-public-ip",
    types=SUBNET,
    level=MANDATORY,
    description=(
        "Only subnets tagged Tier=public map public IPs on launch; private and isolated subnets "
        "never do (CKV_AWS_130, FSBP EC2.15). Mandatory: a public IP on a private subnet puts "
        "tasks and databases on the internet."
    ),
)
def subnet_private_no_public_ip(check: ResourceCheck) -> None:
    if check.known("mapPublicIpOnLaunch") is not True:
        return
    tier = get(check.tags, "Tier")
    if is_unknown(tier):
        check.note("tags.Tier is unknown during preview")
        return
    if tier != "public":
        check.violation(
            f"mapPublicIpOnLaunch is true but the subnet is tagged Tier={tier or '(none)'}",
            "set mapPublicIpOnLaunch=false (or tag the subnet Tier=public if it really is the "
            "public tier)",
        )


@stack_rule(
    "vpc-flow-logs-enabled",
    level=MANDATORY,
    description=(
        "Every VPC in the stack has an aws:ec2/flowLog attached (CKV2_AWS_11, FSBP EC2.6). "
        "Mandatory: without flow logs there is no record of who talked to what during an "
        "incident."
    ),
)
def vpc_flow_logs_enabled(check: StackCheck) -> None:
    flow_logs = check.of_type(FLOW_LOG)
    for vpc in check.of_type(VPC):
        links = [check.refers_to(log, "vpcId", vpc, "id") for log in flow_logs]
        if True in links:
            continue
        if None in links:
            check.note(f"which VPC the flow logs of {vpc.label()} watch is unknown during preview")
            continue
        check.violation(
            vpc,
            "the VPC has no flow log",
            "add an aws:ec2/flowLog with vpcId set to this VPC's id, trafficType="
            '"ALL" and a CloudWatch log group or S3 bucket as logDestination',
        )


POLICIES = [
    no_world_admin_ingress,
    security_group_descriptions,
    subnet_private_no_public_ip,
    vpc_flow_logs_enabled,
]
