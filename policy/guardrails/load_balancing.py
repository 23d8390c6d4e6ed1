"""Load balancer guardrails: the load balancer, its listeners and rules, target groups, and the
onebox/fleet traffic split."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import limits
from .aws_types import LISTENER_RULES, LISTENERS, LOAD_BALANCERS, SUBNET, TARGET_GROUPS
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .limits import TEARDOWN_ARMED, TEARDOWN_TAG, is_armed_for_teardown
from .properties import Unknown, as_list, fmt, get, is_set, is_unknown

MODERN_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
)
"""Listener TLS policies that refuse TLS 1.0/1.1 (FSBP ELB.17's list plus forward-secret 1.2).

Sources: the protocols each policy enables, "Security policies for your Application Load
Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html;
FSBP ELB.17, https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html."""

RECOMMENDED_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

ONEBOX_TAG = ("Role", "onebox")
FLEET_TAG = ("Role", "fleet")

_HTTPS_REDIRECT = (
    'defaultActions=[{type: "redirect", redirect: {protocol: "HTTPS", port: "443", '
    'statusCode: "HTTP_301"}}]'
)


def _is_application(check: ResourceCheck) -> bool:
    return check.known("loadBalancerType", "application") == "application"


@resource_rule(
    "lb-access-logs-enabled",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    description=(
        "Every load balancer writes access logs to S3 (CKV_AWS_91, FSBP ELB.5). Mandatory: the "
        "access log is the only per-request record of who called the service."
    ),
)
def lb_access_logs_enabled(check: ResourceCheck) -> None:
    # limits.access_logs_problem is also the settings' rule for loadBalancer.accessLogs.
    off = limits.access_logs_problem(check.known("accessLogs.enabled"))
    if off or not is_set(check.get("accessLogs.bucket")):
        check.violation(
            off or "access logs have no bucket",
            "set accessLogs={bucket: <log bucket name>, enabled: true} (the bucket policy must "
            "let the regional ELB account write)",
        )


@resource_rule(
    "lb-deletion-protection",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    prod_only=True,
    description=(
        "Load balancers have deletion protection (CKV_AWS_150, FSBP ELB.6). Prod-only (config "
        "environment=prod): mandatory, because deleting the prod load balancer takes the service "
        "and its DNS name down; not applicable in dev, which is torn down at will."
    ),
)
def lb_deletion_protection(check: ResourceCheck) -> None:
    enabled = check.known("enableDeletionProtection")
    # limits.deletion_protection_problem is also the settings' rule in prod.
    problem = limits.deletion_protection_problem(enabled, is_armed_for_teardown(check.tags))
    if problem is None:
        if enabled is not True:
            check.note(
                f"armed for teardown ({TEARDOWN_TAG}={TEARDOWN_ARMED}); teardown-armed says so"
            )
        return
    check.violation(
        problem,
        "set enableDeletionProtection=true (to tear prod down, set "
        "steadystate:teardown.allowDataLoss instead)",
    )


@resource_rule(
    "lb-drop-invalid-headers",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    description=(
        "Application load balancers drop HTTP headers with invalid names (CKV_AWS_131, FSBP "
        "ELB.4). Mandatory: invalid headers are a request-smuggling vector."
    ),
)
def lb_drop_invalid_headers(check: ResourceCheck) -> None:
    if _is_application(check) and check.known("dropInvalidHeaderFields") is not True:
        check.violation(
            "invalid header fields are passed to targets", "set dropInvalidHeaderFields=true"
        )


@resource_rule(
    "lb-desync-mitigation-defensive",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    description=(
        "Application load balancers use the defensive or strictest HTTP desync mitigation mode "
        "(CKV_AWS_328, FSBP ELB.12). Mandatory: 'monitor' lets desync (smuggling) requests "
        "through."
    ),
)
def lb_desync_mitigation(check: ResourceCheck) -> None:
    if not _is_application(check):
        return
    mode = check.known("desyncMitigationMode", "defensive")
    if mode not in ("defensive", "strictest"):
        check.violation(
            f"desyncMitigationMode is {fmt(mode)}",
            'set desyncMitigationMode="defensive" (or "strictest")',
        )


@resource_rule(
    "lb-multi-az",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    description=(
        "Every load balancer is placed in at least two subnets (FSBP ELB.13). Mandatory: one "
        "subnet is one Availability Zone, and a zone outage would take the service down."
    ),
)
def lb_multi_az(check: ResourceCheck) -> None:
    subnets = as_list(check.get("subnets"))
    mappings = as_list(check.get("subnetMappings"))
    if is_unknown(subnets) or is_unknown(mappings):
        check.note("the subnet list is unknown during preview")
        return
    count = max(len(subnets), len(mappings))
    # One subnet per zone: limits.zone_count_problem is also network.availabilityZones' rule.
    if limits.zone_count_problem(count):
        check.violation(
            f"it is placed in {count} subnet{'s' if count != 1 else ''}",
            "set subnets to public subnets in at least two Availability Zones",
        )


@stack_rule(
    "lb-subnets-distinct-azs",
    level=MANDATORY,
    description=(
        "Every load balancer's subnets (those defined in the stack) lie in at least two distinct "
        "Availability Zones (FSBP ELB.13). Mandatory: two subnets in one zone are still one "
        "zone."
    ),
)
def lb_subnets_distinct_azs(check: StackCheck) -> None:
    subnets = check.of_type(SUBNET)
    for lb in check.of_type(LOAD_BALANCERS):
        zones: set[Any] = set()
        prop = "subnetMappings" if lb.get("subnetMappings") else "subnets"
        entries = lb.get(prop, [])
        ids = entries
        if isinstance(entries, list) and prop == "subnetMappings":
            ids = [get(e, "subnetId") for e in entries]
        if not ids:
            continue  # no subnets at all: lb-multi-az reports it
        if is_unknown(ids) or any(is_unknown(i) for i in ids):
            matched = [s for s in subnets if s.urn in lb.depends_on(prop)]
        else:
            matched = [s for s in subnets if s.get("id") in ids]
            if len(matched) < len(set(ids)):
                check.note(f"some subnets of {lb.label()} are not defined in this stack")
                continue
        if not matched:
            check.note(f"the subnets of {lb.label()} are unknown during preview")
            continue
        for subnet in matched:
            zones.add(subnet.get("availabilityZone") or subnet.get("availabilityZoneId"))
        if any(is_unknown(z) or z is None for z in zones):
            check.note(f"the Availability Zones of {lb.label()}'s subnets are unknown")
            continue
        if limits.zone_count_problem(len(zones)):
            check.violation(
                lb,
                f"all its subnets are in {', '.join(sorted(map(str, zones)))}",
                f"set {prop} to subnets in at least two distinct Availability Zones",
            )


def _listener_protocol(check: ResourceCheck) -> Any:
    protocol = check.known("protocol")
    if protocol is None:
        return "HTTPS" if is_set(check.get("certificateArn")) else "HTTP"
    return str(protocol).upper()


def _https_config_check(props: Mapping[str, Any], level: str | None) -> list[str]:
    if props.get("requireHttps") is False and level == "mandatory":
        return [
            'requireHttps is false but the enforcement level is "mandatory": a stack without '
            'a certificate can never pass; set enforcementLevel to "advisory" or requireHttps '
            "to true"
        ]
    return []


@resource_rule(
    "lb-http-redirects-to-https",
    types=LISTENERS,
    level=MANDATORY,
    config={
        "requireHttps": {
            "type": "boolean",
            "default": True,
            "description": (
                "Whether this stack serves HTTPS (has a certificate). When false (dev without "
                "a certificate) HTTP listeners may forward and the rule is not applicable; it "
                "must then run advisory."
            ),
        }
    },
    config_check=_https_config_check,
    description=(
        "Plain-HTTP listeners only redirect to HTTPS; they never forward traffic (AWSGuard, "
        "CKV2_AWS_20, FSBP ELB.1). Mandatory where the stack config says requireHttps=true "
        "(prod); a stack without a certificate sets requireHttps=false (not applicable) and "
        "runs it advisory."
    ),
)
def lb_http_redirects_to_https(check: ResourceCheck) -> None:
    if _listener_protocol(check) != "HTTP":
        return
    if check.config["requireHttps"] is not True:
        check.note("requireHttps is false for this stack (no certificate): HTTP may forward")
        return
    for i, action in enumerate(check.known("defaultActions", [])):
        kind = str(action.get("type", "")).lower()
        if kind == "redirect":
            protocol = str(get(action, "redirect.protocol", "#{protocol}")).upper()
            if protocol != "HTTPS":
                check.violation(
                    f"defaultActions[{i}] redirects to {protocol}, not HTTPS",
                    'set defaultActions[].redirect.protocol="HTTPS" and port="443"',
                )
        elif kind == "forward" or is_set(action.get("targetGroupArn")):
            # limits.plain_http_problem is also the settings' rule for a prod certificate.
            check.violation(
                f"the HTTP listener {limits.plain_http_problem(True)} (defaultActions[{i}])",
                f"set {_HTTPS_REDIRECT} and serve the targets from an HTTPS listener",
            )


@resource_rule(
    "lb-tls-policy-modern",
    types=LISTENERS,
    level=MANDATORY,
    config={
        "allowedSslPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(MODERN_SSL_POLICIES),
            "description": "Listener TLS policies accepted on HTTPS/TLS listeners.",
        }
    },
    description=(
        "HTTPS and TLS listeners name a TLS policy that refuses TLS 1.0/1.1 (FSBP ELB.17). "
        "Mandatory: old protocol versions have known downgrade and cipher attacks."
    ),
)
def lb_tls_policy_modern(check: ResourceCheck) -> None:
    if _listener_protocol(check) not in ("HTTPS", "TLS"):
        return
    policy = check.known("sslPolicy")
    if policy not in check.config["allowedSslPolicies"]:
        check.violation(
            f"sslPolicy is {fmt(policy) if policy else 'unset (AWS would pick its default)'}",
            f'set sslPolicy="{RECOMMENDED_SSL_POLICY}"',
        )


@resource_rule(
    "lb-target-group-health-check",
    types=TARGET_GROUPS,
    level=MANDATORY,
    description=(
        "Every target group has an explicit, enabled health check, with a path for HTTP(S) "
        "targets (CKV_AWS_261). Mandatory: without it the load balancer keeps sending traffic "
        "to broken tasks and ECS never replaces them."
    ),
)
def lb_target_group_health_check(check: ResourceCheck) -> None:
    if check.known("targetType") == "lambda":
        return
    health = check.known("healthCheck")
    if not isinstance(health, dict) or not health:
        check.violation(
            "it has no healthCheck",
            'set healthCheck={enabled: true, path: "/health", matcher: "200", interval: 15}',
        )
        return
    if health.get("enabled") is False:
        check.violation("healthCheck.enabled is false", "set healthCheck.enabled=true")
    protocol = str(health.get("protocol") or check.get("protocol") or "HTTP").upper()
    if protocol in ("HTTP", "HTTPS") and not is_set(health.get("path")):
        check.violation("the HTTP health check has no path", 'set healthCheck.path, e.g. "/health"')


def _role(target_group: StackResource | None) -> str | None:
    if target_group is None:
        return None
    for key, value in (ONEBOX_TAG, FLEET_TAG):
        if get(target_group.tags, key) == value:
            return value
    return None


_UNKNOWN_TARGET = {"arn": Unknown("string"), "weight": Unknown("number")}


def _forward_splits(resource: StackResource) -> list[tuple[str, list[dict[str, Any]]]]:
    """(where, [{arn, weight}]) for each forwarding action of a listener or listener rule."""
    prop = "defaultActions" if resource.type in LISTENERS else "actions"
    actions = resource.get(prop, [])
    if is_unknown(actions):
        return [(prop, [_UNKNOWN_TARGET])]
    splits = []
    for i, action in enumerate(actions):
        groups = get(action, "forward.targetGroups")
        if is_unknown(action) or is_unknown(groups):
            splits.append((f"{prop}[{i}]", [_UNKNOWN_TARGET]))
        elif isinstance(groups, list) and groups:
            targets = [
                {"arn": g.get("arn"), "weight": 1 if g.get("weight") is None else g["weight"]}
                if isinstance(g, dict)
                else _UNKNOWN_TARGET
                for g in groups
            ]
            splits.append((f"{prop}[{i}].forward.targetGroups", targets))
        elif is_set(get(action, "targetGroupArn")):
            splits.append((f"{prop}[{i}]", [{"arn": action["targetGroupArn"], "weight": 1}]))
    return splits


@stack_rule(
    "onebox-traffic-share",
    level=MANDATORY,
    config={
        "oneboxShareCeilingPercent": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "default": limits.ONEBOX_SHARE_CEILING_PERCENT,
            "description": "Largest percentage of a listener's traffic the onebox may receive.",
        }
    },
    description=(
        "The onebox (canary) target group gets at most a small share (default 10 %) of any "
        "listener's or listener rule's forwarded traffic. The onebox is the target group tagged "
        "Role=onebox, else the one not tagged Role=fleet, else the smaller weight. Mandatory: a "
        "bad release on the onebox must only hurt a sliver of traffic."
    ),
)
def onebox_traffic_share(check: StackCheck) -> None:
    ceiling = check.config["oneboxShareCeilingPercent"]
    target_groups = check.of_type(TARGET_GROUPS)
    for resource in check.of_type(LISTENERS, LISTENER_RULES):
        for where, targets in _forward_splits(resource):
            weights = [t["weight"] for t in targets]
            if not all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
                check.note(f"the weights of {resource.label()} are unknown during preview")
                continue
            roles = [_role(check.find_by(target_groups, t["arn"], "arn", "id")) for t in targets]
            if "onebox" in roles:
                onebox_idx = [i for i, r in enumerate(roles) if r == "onebox"]
                how = "tagged Role=onebox"
            elif "fleet" in roles and len(targets) > 1:
                onebox_idx = [i for i, r in enumerate(roles) if r != "fleet"]
                how = "the target group not tagged Role=fleet"
            elif len(targets) > 1:
                onebox_idx = [min(range(len(weights)), key=weights.__getitem__)]
                how = "the smaller weight; tag target groups Role=onebox/fleet to be exact"
            else:
                continue
            onebox = sum(weights[i] for i in onebox_idx)
            problem = limits.onebox_share_problem(onebox, sum(weights) - onebox, ceiling)
            if problem:
                check.violation(
                    resource,
                    f"{where}: {problem}; onebox identified as {how}",
                    f"lower the onebox target group's weight in {where} so it gets at most "
                    f"{fmt(ceiling)}% (e.g. onebox weight 1, fleet weight 99)",
                )


POLICIES = [
    lb_access_logs_enabled,
    lb_deletion_protection,
    lb_drop_invalid_headers,
    lb_desync_mitigation,
    lb_multi_az,
    lb_subnets_distinct_azs,
    lb_http_redirects_to_https,
    lb_tls_policy_modern,
    lb_target_group_health_check,
    onebox_traffic_share,
]
