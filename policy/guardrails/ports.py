"""Internet exposure by port: which ports a security group (or network ACL) may open to the whole
internet, beyond the SSH/RDP rule in :mod:`.network`.

Both security-group rules read every shape a permission can take (inline ``ingress`` blocks, the
legacy ``aws:ec2/securityGroupRule`` and ``aws:vpc/securityGroupIngressRule``), IPv4 and IPv6.
"""

from __future__ import annotations

from typing import Any

from .aws_types import (
    DEFAULT_SECURITY_GROUP,
    NETWORK_ACL,
    NETWORK_ACL_RULE,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SG_INGRESS_RULE,
    VPC,
)
from .framework import MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
from .network import ADMIN_PORTS, _exposed_ports, _ingress_entries, _IngressEntry, _is_world
from .properties import find_unknown, fmt, is_unknown

HIGH_RISK_PORTS = (
    20,  # FTP data
    21,  # FTP
    22,  # SSH
    23,  # Telnet
    25,  # SMTP
    110,  # POP3
    135,  # MS RPC
    143,  # IMAP
    445,  # SMB
    1433,  # SQL Server
    1434,  # SQL Server browser
    1521,  # Oracle
    2049,  # NFS
    2375,  # Docker API
    2376,  # Docker API (TLS)
    3000,  # dev servers
    3306,  # MySQL / MariaDB
    3389,  # RDP
    4333,  # mSQL
    5000,  # dev servers
    5432,  # PostgreSQL
    5439,  # Redshift
    5500,  # VNC
    5601,  # Kibana
    6379,  # Redis / Valkey
    8080,  # HTTP alternates / admin consoles
    8088,
    8888,
    9042,  # Cassandra
    9200,  # OpenSearch / Elasticsearch
    9300,
    11211,  # Memcached
    27017,  # MongoDB
)
"""FSBP EC2.19's high-risk ports plus the database, cache and container-API ports it omits."""

AUTHORIZED_WORLD_PORTS = (80, 443)
"""Ports that may be open to 0.0.0.0/0 or ::/0 (FSBP EC2.18's default): the public HTTP(S) entry."""

_PORT_PROTOCOLS = {"tcp", "udp", "6", "17"}


def _world_entries(check: ResourceCheck) -> list[tuple[_IngressEntry, str]]:
    """(entry, the world CIDRs it admits) for every ingress entry whose fields are known."""
    found = []
    for entry in _ingress_entries(check):
        world = [s for s in entry.sources if _is_world(s)]
        if not world:
            if any(is_unknown(s) for s in entry.sources):
                check.note(f"the source CIDRs of {entry.where} are unknown during preview")
            continue
        if any(
            find_unknown(f) is not None for f in (entry.protocol, entry.from_port, entry.to_port)
        ):
            check.note(f"the protocol or ports of {entry.where} are unknown during preview")
            continue
        found.append((entry, ", ".join(world)))
    return found


_ONLY_KNOWN_SOURCES = (
    "allow only known sources instead of the world CIDR (the load balancer's security group via "
    "referencedSecurityGroupId / sourceSecurityGroupId, or the VPC CIDR); reach hosts and "
    "databases from inside the VPC"
)


@resource_rule(
    "security-group-no-world-high-risk-ports",
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, SG_INGRESS_RULE],
    level=MANDATORY,
    config={
        "highRiskPorts": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 65535},
            "default": list(HIGH_RISK_PORTS),
            "description": "Ports never to open to 0.0.0.0/0 or ::/0 (plus all-ports rules).",
        }
    },
    description=(
        "No security group admits 0.0.0.0/0 or ::/0 to a high-risk port: databases (5432, "
        "3306, 1433, 1521, 27017), caches (6379, 11211), file sharing, mail, remote desktop, "
        "container APIs (FSBP EC2.19, CKV_AWS_24/25). Mandatory: these services are scanned "
        "for and brute-forced within minutes of being exposed."
    ),
)
def no_world_high_risk_ports(check: ResourceCheck) -> None:
    ports = list(check.config["highRiskPorts"])
    for entry, world in _world_entries(check):
        exposed = _exposed_ports(entry, ports)
        if exposed:
            check.violation(f"{entry.where} admits {world} to {exposed}", _ONLY_KNOWN_SOURCES)


def _unauthorized(entry: _IngressEntry, authorized: list[int]) -> str | None:
    protocol = str(entry.protocol).lower()
    if protocol in ("-1", "all"):
        return "all ports"
    if protocol not in _PORT_PROTOCOLS:
        return None  # ICMP and other portless protocols
    low, high = entry.from_port, entry.to_port
    if not isinstance(low, int) or not isinstance(high, int):
        return "all ports"
    if low <= 0 and high >= 65535:
        return "all ports"
    outside = [p for p in range(low, high + 1) if p not in authorized]
    if not outside:
        return None
    return f"port {low}" if low == high else f"ports {low}-{high}"


@resource_rule(
    "security-group-world-ingress-authorized-ports",
    types=[SECURITY_GROUP, SECURITY_GROUP_RULE, SG_INGRESS_RULE],
    level=MANDATORY,
    config={
        "authorizedPorts": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 65535},
            "default": list(AUTHORIZED_WORLD_PORTS),
            "description": "The only TCP/UDP ports that may be open to 0.0.0.0/0 or ::/0.",
        }
    },
    description=(
        "Whatever admits the whole internet (0.0.0.0/0 or ::/0) opens only the authorized ports "
        "(default 80 and 443, the load balancer's listeners) (FSBP EC2.18, Control Tower "
        "CT.EC2.PR.3). Mandatory: every other world-open port is an unreviewed entry point."
    ),
)
def world_ingress_authorized_ports(check: ResourceCheck) -> None:
    authorized = list(check.config["authorizedPorts"])
    for entry, world in _world_entries(check):
        opened = _unauthorized(entry, authorized)
        if opened:
            check.violation(
                f"{entry.where} admits {world} to {opened}, outside the authorized "
                f"{', '.join(map(str, authorized)) or '(none)'}",
                _ONLY_KNOWN_SOURCES,
            )


def _acl_entries(check: ResourceCheck) -> list[tuple[str, dict[str, Any]]]:
    if check.type == NETWORK_ACL_RULE:
        if check.known("egress", False) is True:
            return []
        return [("the rule", check.props)]
    rules = check.get("ingress", [])
    if is_unknown(rules):
        check.note("ingress is unknown during preview")
        return []
    return [(f"ingress[{i}]", r) for i, r in enumerate(rules) if isinstance(r, dict)]


@resource_rule(
    "network-acl-no-world-admin-ingress",
    types=[NETWORK_ACL, NETWORK_ACL_RULE],
    level=MANDATORY,
    description=(
        "No network ACL allows 0.0.0.0/0 or ::/0 in to SSH (22), RDP (3389) or all ports (FSBP "
        "EC2.21). Mandatory: a subnet-wide allow undoes the security "
        "groups' intent for everything in the subnet."
    ),
)
def network_acl_no_world_admin_ingress(check: ResourceCheck) -> None:
    for where, rule in _acl_entries(check):
        action = rule.get("ruleAction") if check.type == NETWORK_ACL_RULE else rule.get("action")
        cidrs = [rule.get("cidrBlock"), rule.get("ipv6CidrBlock")]
        fields = (action, *cidrs, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
        if any(find_unknown(f) is not None for f in fields):
            check.note(f"{where} is unknown during preview")
            continue
        if str(action).lower() != "allow" or not any(_is_world(c) for c in cidrs):
            continue
        entry = _IngressEntry(
            where, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"), cidrs
        )
        exposed = _exposed_ports(entry, list(ADMIN_PORTS))
        if exposed:
            world = ", ".join(str(c) for c in cidrs if _is_world(c))
            check.violation(
                f"{where} allows {world} in to {exposed} (protocol {fmt(rule.get('protocol'))})",
                "narrow the rule's cidrBlock to known networks or set its action to deny; SSH "
                "and RDP go through SSM Session Manager",
            )


@stack_rule(
    "vpc-default-security-group-closed",
    level=MANDATORY,
    description=(
        "Every VPC of the stack adopts its default security group with an "
        "aws:ec2/defaultSecurityGroup that has no ingress and no egress rules (FSBP EC2.2, "
        "CKV2_AWS_12). Mandatory: AWS creates the default group allowing all traffic between its "
        "members, and anything launched without a group lands in it."
    ),
)
def vpc_default_security_group_closed(check: StackCheck) -> None:
    groups = check.of_type(DEFAULT_SECURITY_GROUP)
    fix = (
        "add an aws:ec2/defaultSecurityGroup with vpcId set to this VPC's id, ingress=[] and "
        "egress=[] (Pulumi then removes the default rules)"
    )
    for vpc in check.of_type(VPC):
        links = [(g, check.refers_to(g, "vpcId", vpc, "id")) for g in groups]
        adopted = [g for g, linked in links if linked]
        if not adopted:
            if any(linked is None for _, linked in links):
                check.note("which VPC the default security groups adopt is unknown during preview")
            else:
                check.violation(vpc, "its default security group keeps AWS's allow rules", fix)
            continue
        for group in adopted:
            rules = [group.get("ingress"), group.get("egress")]
            if any(is_unknown(r) for r in rules):
                check.note(f"the rules of {group.label()} are unknown during preview")
            elif any(rules):
                check.violation(
                    vpc,
                    f'its default security group "{group.name}" still has rules',
                    "set ingress=[] and egress=[] on that aws:ec2/defaultSecurityGroup",
                )


POLICIES = [
    no_world_high_risk_ports,
    world_ingress_authorized_ports,
    network_acl_no_world_admin_ingress,
    vpc_default_security_group_closed,
]
