"""Turn the raw config map Pulumi hands the program into a validated :class:`Settings`.

Every problem is collected before anything is raised, so one run shows all of them; nothing here
registers a resource, so a bad configuration stops the program before the first one.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import typing
from collections.abc import Mapping
from typing import Any

from policy.guardrails import limits
from policy.guardrails.zone_loss import (
    CapacityGroup,
    host_size,
    unknown_instance_type_note,
    zone_loss_problems,
)

from .aws_config import aws_config_problems
from .errors import Problem, SettingsError
from .fields import Rule, camel, kind_problem, rule_problem
from .model import Settings
from .offline_secrets import is_placeholder, stand_in

# Config namespaces besides the project's own: the providers this program uses, and Pulumi's.
OTHER_NAMESPACES = ("aws", "docker", "pulumi")

# Networks ECS itself uses on EC2 hosts in bridge mode: a VPC overlapping them breaks routing.
DOCKER_BRIDGE = ipaddress.IPv4Network("172.17.0.0/16")
ECS_TASK_METADATA = ipaddress.IPv4Network("169.254.0.0/16")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


REMOVED = {
    "fleetImage": (
        "removed: the fleet's image lives with the stack now (its release pin), not in "
        "Pulumi.<stack>.yaml; delete this key (docs/how-to/release.md: Release state lives with "
        "the stack)"
    ),
}


def _suggest(key: str, allowed: list[str]) -> str:
    if key in REMOVED:
        return REMOVED[key]
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown key; {hint}allowed: {', '.join(sorted(allowed))}"


def _build(cls: type, data: Mapping[str, Any], path: str, problems: list[Problem]) -> Any:
    """Instantiate dataclass `cls` from camelCase `data`, appending problems instead of raising."""
    hints = _hints(cls)
    fields = {camel(f.name): f for f in dataclasses.fields(cls)}
    sep = "." if ":" in path else ":"  # `project:group.field.subfield`
    for key in data:
        if key not in fields:
            problems.append(Problem(f"{path}{sep}{key}", data[key], _suggest(key, list(fields))))
    values: dict[str, Any] = {}
    for key, f in fields.items():
        if key not in data:
            continue
        value, where = data[key], f"{path}{sep}{key}"
        if is_placeholder(value):
            # A whole object or list given as one secret: unknowable offline (offline_secrets).
            if not dataclasses.is_dataclass(hints[f.name]):
                values[f.name] = stand_in(value, f.metadata["rule"].kind, _default(f))
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            if problem := kind_problem(value, dict):
                problems.append(Problem(where, value, problem))
            else:
                values[f.name] = _build(hints[f.name], value, where, problems)
            continue
        rule: Rule = f.metadata["rule"]
        if problem := rule_problem(value, rule):
            problems.append(Problem(where, value, problem))
        else:
            values[f.name] = value
    return cls(**values)


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _namespace_problem(full_key: str, text: str, project: str) -> Problem | None:
    """A key in no namespace this program reads (`steadystat:service`) would be ignored silently."""
    namespace, _, key = full_key.partition(":")
    if namespace == project or namespace in OTHER_NAMESPACES:
        return None
    known = [project, *OTHER_NAMESPACES]
    close = difflib.get_close_matches(namespace, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}:{key}? " if close else ""
    return Problem(
        full_key,
        text,
        f"unknown namespace {namespace!r}, so this program would never read it; {hint}"
        f"namespaces: {', '.join(known)}",
    )


def _decode(raw: str, rule_kind: type | None) -> Any:
    """Pulumi passes strings; structured and non-string values arrive JSON-encoded."""
    if rule_kind is str:
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # reported as a type problem by the caller


def load_settings(raw: Mapping[str, str], project: str = "steadystate") -> Settings:
    """Validate the `project:` and `aws:` keys of `raw` (key → string) completely, or raise
    SettingsError."""
    problems: list[Problem] = []
    top = {camel(f.name): f for f in dataclasses.fields(Settings)}
    hints = _hints(Settings)
    data: dict[str, Any] = {}
    for full_key, text in raw.items():
        if problem := _namespace_problem(full_key, text, project):
            problems.append(problem)
            continue
        namespace, _, key = full_key.partition(":")
        if namespace != project:
            continue
        if key not in top:
            problems.append(Problem(full_key, text, _suggest(key, list(top))))
            continue
        f = top[key]
        nested = dataclasses.is_dataclass(hints[f.name])
        data[key] = _decode(text, None if nested else f.metadata["rule"].kind)
    settings = _build(Settings, data, project, problems)
    problems.extend(aws_config_problems(raw))
    if not problems:
        # A group given whole as one secret is unknowable offline: rules about its keys wait for
        # the real run, which has the decrypted value (offline_secrets).
        hidden = tuple(f"{project}:{key}" for key, value in data.items() if is_placeholder(value))
        problems.extend(
            p
            for p in consistency_problems(settings, project)
            if not any(p.key == h or p.key.startswith(f"{h}.") for h in hidden)
        )
    if problems:
        raise SettingsError(problems)
    return settings


def consistency_problems(s: Settings, project: str = "steadystate") -> list[Problem]:
    """Rules spanning several keys; each problem names the key a user should change."""
    p = project
    out: list[Problem] = []

    def add(key: str, value: Any, message: str) -> None:
        out.append(Problem(f"{p}:{key}", value, message))

    if s.cluster.min_instances > s.cluster.max_instances:
        add(
            "cluster.minInstances",
            s.cluster.min_instances,
            f"must not exceed cluster.maxInstances ({s.cluster.max_instances})",
        )
    if s.service.min_tasks > s.service.max_tasks:
        add(
            "service.minTasks",
            s.service.min_tasks,
            f"must not exceed service.maxTasks ({s.service.max_tasks})",
        )
    else:
        # Each bound's problem under its own key. Min above max was said just above in the
        # settings' words, so the guardrail's bounds are judged only when min <= max.
        min_problem = limits.min_bound_problem(s.service.min_tasks)
        if min_problem is None and s.is_prod:
            min_problem = limits.prod_minimum_problem(s.service.min_tasks)
        if min_problem:
            add("service.minTasks", s.service.min_tasks, min_problem)
        if max_problem := limits.max_bound_problem(s.service.max_tasks, s.service.min_tasks):
            add("service.maxTasks", s.service.max_tasks, max_problem)
    if problem := limits.deployment_headroom_problem(
        s.service.minimum_healthy_percent, s.service.maximum_percent
    ):
        add(
            "service.maximumPercent",
            s.service.maximum_percent,
            f"{problem} (service.minimumHealthyPercent): ECS could neither start a new task nor "
            "stop an old one, so every deployment would hang (the gate refuses it, "
            "ecs-service-deployment-headroom)",
        )
    if s.is_prod and (
        problem := limits.prod_minimum_healthy_problem(s.service.minimum_healthy_percent)
    ):
        add(
            "service.minimumHealthyPercent",
            s.service.minimum_healthy_percent,
            f"{problem} in prod: a deployment must start new tasks before stopping old ones (the "
            "gate refuses it, ecs-service-prod-minimum-healthy-percent); lower it in dev only",
        )
    # The capacity provider's value, as components.ecs_cluster.termination_protection_setting maps it.
    protection = "ENABLED" if s.cluster.managed_termination_protection else "DISABLED"
    if s.is_prod and (problem := limits.termination_protection_problem(protection)):
        add(
            "cluster.managedTerminationProtection",
            s.cluster.managed_termination_protection,
            f"must be true in prod (managed termination protection {problem}): a scale-in "
            "could terminate a host with running tasks (the gate refuses it, "
            "ecs-capacity-provider-termination-protection); set it false in dev only",
        )
    armed = s.teardown.allow_data_loss
    lb = s.load_balancer
    if s.is_prod and (problem := limits.deletion_protection_problem(lb.deletion_protection, armed)):
        add(
            "loadBalancer.deletionProtection",
            False,
            f"must be true in prod ({problem}; the gate refuses it, lb-deletion-protection); to "
            "tear prod down set teardown.allowDataLoss instead",
        )
    db = s.database
    if (
        s.is_prod
        and db.enabled
        and (problem := limits.deletion_protection_problem(db.deletion_protection, armed))
    ):
        add(
            "database.deletionProtection",
            False,
            f"must be true in prod ({problem}; the gate refuses it, rds-deletion-protection); to "
            "tear prod down set teardown.allowDataLoss instead",
        )
    # Without a certificate the program's HTTP listener forwards (composition.args.serves_https).
    serves_https = bool(lb.certificate_arn or lb.certificate_domain)
    if s.is_prod and (problem := limits.plain_http_problem(not serves_https)):
        add(
            "loadBalancer.certificateDomain",
            None,
            "must be set in prod, or loadBalancer.certificateArn: without a certificate the HTTP "
            f"listener {problem} (the gate refuses it in prod, lb-http-redirects-to-https)",
        )
    if s.is_prod and db.enabled and (problem := limits.multi_az_problem(db.multi_az)):
        add(
            "database.multiAz",
            False,
            f"must be true in prod ({problem}; the gate refuses it, rds-multi-az): a zone's loss "
            "would take the data offline",
        )
    dns = s.dns
    if dns.enabled and (
        problem := limits.detection_seconds_problem(
            dns.health_check_interval,
            dns.failure_threshold,
            limits.FAILOVER_TARGET_SECONDS - limits.FAILOVER_TTL_SECONDS,
            "dns.healthCheckInterval × dns.failureThreshold",
        )
    ):
        add(
            "dns.failureThreshold",
            dns.failure_threshold,
            f"{problem} (failover target {limits.FAILOVER_TARGET_SECONDS} s minus the "
            f"{limits.FAILOVER_TTL_SECONDS} s DNS TTL): lower it or dns.healthCheckInterval (the "
            "gate refuses it, dns-health-check-detection-within-target)",
        )
    hc = s.service.health_check
    if hc.timeout >= hc.interval:
        add(
            "service.healthCheck.timeout",
            hc.timeout,
            f"must be less than service.healthCheck.interval ({hc.interval})",
        )
    if s.network.nat_strategy == "none" and not s.network.interface_endpoints:
        add(
            "network.interfaceEndpoints",
            False,
            "must be true when network.natStrategy is none: tasks could not reach ECR or CloudWatch Logs",
        )
    vpc = ipaddress.IPv4Network(s.network.cidr)
    for reserved, why in (
        (DOCKER_BRIDGE, "the Docker bridge network on every container host"),
        (ECS_TASK_METADATA, "link-local addresses used by the task metadata endpoints"),
    ):
        if vpc.overlaps(reserved):
            add(
                "network.cidr",
                s.network.cidr,
                f"overlaps {reserved} ({why}); pick e.g. 10.20.0.0/16",
            )
    for other in s.network.avoid_cidrs:
        if vpc.overlaps(ipaddress.IPv4Network(other)):
            add("network.cidr", s.network.cidr, f"overlaps {other} listed in network.avoidCidrs")
    if s.release.onebox and (
        problem := limits.onebox_share_problem(s.release.onebox_weight, s.release.fleet_weight)
    ):
        add("release.oneboxWeight", s.release.onebox_weight, problem)
    if s.release.onebox and (
        problem := limits.min_capacity_problem(
            s.release.onebox_tasks, s.release.onebox_tasks, prod=s.is_prod
        )
    ):
        add("release.oneboxTasks", s.release.onebox_tasks, problem)
    if s.release.latency_datapoints > s.release.latency_evaluation_periods:
        add(
            "release.latencyDatapoints",
            s.release.latency_datapoints,
            f"must not exceed release.latencyEvaluationPeriods ({s.release.latency_evaluation_periods})",
        )
    if s.release.error_datapoints > s.release.error_evaluation_periods:
        add(
            "release.errorDatapoints",
            s.release.error_datapoints,
            f"must not exceed release.errorEvaluationPeriods ({s.release.error_evaluation_periods})",
        )
    known = {f"{env}-{role}" for env in s.environments for role in _roles(s)}
    for key in [*(s.release.rollout or []), *(s.release.pins or {})]:
        if key not in known:
            add(
                "release.rollout" if key in (s.release.rollout or []) else "release.pins",
                key,
                f"names no service of this stack; services: {', '.join(sorted(known))}",
            )
    for key in s.release.faults or {}:
        if key not in known:
            services = ", ".join(sorted(known))
            add("release.faults", key, f"names no onebox of this stack; services: {services}")
        elif not s.release.moves(key):
            add(
                "release.faults",
                key,
                "its pin does not move in this up (name it in release.rollout or release.pins): "
                "a fault switch goes with a release",
            )
    if s.load_balancer.certificate_arn and s.load_balancer.certificate_domain:
        add(
            "loadBalancer.certificateDomain",
            s.load_balancer.certificate_domain,
            "set either loadBalancer.certificateArn or loadBalancer.certificateDomain, not both",
        )
    if s.is_prod and not (s.connectivity.alarm_emails or s.connectivity.alarm_webhooks):
        add(
            "connectivity.alarmEmails",
            [],
            "must list at least one address in prod (or set connectivity.alarmWebhooks): every "
            "prod alarm notifies the alert topic, and a topic without subscribers tells nobody",
        )
    if s.is_prod and s.database.enabled and s.database.rotation_days is None:
        add(
            "database.rotationDays",
            None,
            "must be set in prod (1–30): the app's database credentials rotate at least every "
            "30 days (the gate refuses a prod app secret without it, db-app-secret-rotation)",
        )
    if s.is_prod and not s.load_balancer.waf:
        add(
            "loadBalancer.waf",
            False,
            "must be true in prod: the internet-facing load balancers stay behind AWS WAF (the "
            "gate refuses a prod ALB without a web ACL, lb-internet-facing-waf); set it false in "
            "dev stacks only",
        )
    if s.is_prod and s.chaos.enabled and not s.chaos.schedules_enabled:
        add(
            "chaos.schedulesEnabled",
            False,
            "must be true in prod when chaos.enabled: the gate refuses a disabled prod chaos "
            "schedule (chaos-schedule-enabled-in-prod); set chaos.enabled false to remove the "
            "experiments instead",
        )
    zonal = s.zonal_shift
    if zonal.practice_start_hour >= zonal.practice_end_hour:
        add(
            "zonalShift.practiceStartHour",
            zonal.practice_start_hour,
            f"must be before zonalShift.practiceEndHour ({zonal.practice_end_hour})",
        )
    if s.is_prod and not zonal.enabled:
        add(
            "zonalShift.enabled",
            False,
            "must be true in prod: every prod load balancer can be shifted out of an impaired "
            "zone (the gate refuses it otherwise, lb-zonal-shift-enabled)",
        )
    elif s.is_prod and zonal.autoshift is False:
        add(
            "zonalShift.autoshift",
            False,
            "must not be false in prod: AWS shifts prod's load balancers out of an impaired zone "
            "and practises it weekly (the gate refuses it otherwise, lb-zonal-autoshift-practised)",
        )
    elif zonal.autoshift and not zonal.enabled:
        add(
            "zonalShift.enabled",
            False,
            "must be true when zonalShift.autoshift is: ARC shifts only load balancers with "
            "zonal shift enabled",
        )
    if s.dns.enabled and len(s.environments) != 2:
        add("dns.enabled", True, f"needs exactly two environments, got {s.environments}")
    if s.dns.primary not in s.environments:
        add(
            "dns.primary",
            s.dns.primary,
            "must be one of environments: " + ", ".join(s.environments),
        )
    if s.network.zones is not None and len(s.network.zones) != s.network.availability_zones:
        add(
            "network.zones",
            s.network.zones,
            f"names {len(s.network.zones)} zones but network.availabilityZones is "
            f"{s.network.availability_zones}: set both to the same count",
        )
    if s.teardown.allow_data_loss and s.database.enabled and not s.database.final_snapshot:
        add(
            "database.finalSnapshot",
            False,
            "must be true while teardown.allowDataLoss is set: `pulumi destroy` would delete the "
            "database without a final snapshot (the teardown keeps the data in it)",
        )
    if s.database.max_allocated_storage < s.database.allocated_storage:
        add(
            "database.maxAllocatedStorage",
            s.database.max_allocated_storage,
            f"must be at least database.allocatedStorage ({s.database.allocated_storage})",
        )
    fast = s.service.fast_scale_out
    if fast.enabled and fast.cpu_threshold <= s.service.cpu_target:
        add(
            "service.fastScaleOut.cpuThreshold",
            fast.cpu_threshold,
            f"must be above service.cpuTarget ({s.service.cpu_target}): below it the step policy "
            "adds tasks that target tracking then removes",
        )
    if fast.enabled and s.connectivity.probe_interval_seconds > 10:
        add(
            "connectivity.probeIntervalSeconds",
            s.connectivity.probe_interval_seconds,
            "must be at most 10 when service.fastScaleOut.enabled: the prober publishes the task "
            "CPU its 10 s alarm reads",
        )
    if fast.enabled and not s.probed_dependencies():
        add(
            "service.fastScaleOut.enabled",
            True,
            "needs the prober sidecar (a connectivity.dependencies entry it can reach): it "
            "publishes the task-CPU metric",
        )
    out.extend(_failure_domain_problems(s, p))
    if s.cluster.max_instances < 1 and s.service.min_tasks > 0:
        add(
            "cluster.maxInstances",
            s.cluster.max_instances,
            "must allow at least one host for the tasks",
        )
    return out


def host_rollout(s: Settings) -> list[str]:
    """Environments whose host pins take this run's host settings: ``release.hostRollout``, or
    the first environment (``dns.primary`` first): host changes reach one environment per `up`."""
    if s.release.host_rollout is not None:
        return list(s.release.host_rollout)
    first = s.dns.primary if s.dns.primary in s.environments else s.environments[0]
    return [first]


def zone_loss_group(s: Settings) -> CapacityGroup:
    """The capacity group of the primary environment at its minimum, as the zone-loss rule sees
    it: the fleet's minTasks and CPU target, the onebox beside it, the group's hosts. Without
    per-environment capacity every environment's services share the one group."""
    envs_on_group = 1 if s.cluster.capacity_per_environment else len(s.environments)
    onebox = s.release.onebox_tasks if s.release.onebox else 0
    return CapacityGroup(
        zones=s.network.availability_zones,
        min_tasks=s.service.min_tasks,
        cpu_target=s.service.cpu_target,
        task_cpu=s.service.cpu,
        task_memory=s.service.memory,
        hosts=s.cluster.min_instances,
        host=host_size(s.cluster.instance_type),
        target_capacity_percent=s.cluster.target_capacity_percent,
        fixed_tasks=onebox * envs_on_group + s.service.min_tasks * (envs_on_group - 1),
    )


#: Which key a user changes for each zone-loss problem (policy/guardrails/zone_loss.py).
_ZONE_LOSS_KEYS = {
    "zones": "network.availabilityZones",
    "minTasks": "service.minTasks",
    "cpuTarget": "service.cpuTarget",
    "hosts": "cluster.minInstances",
    "targetCapacity": "cluster.targetCapacityPercent",
}


def _failure_domain_problems(s: Settings, project: str) -> list[Problem]:
    """Prod: environments on capacity of their own, and a primary environment that rides out
    the loss of any one zone without a new host (the same rule as the policy
    zone-loss-static-stability)."""
    out: list[Problem] = []
    unknown = [e for e in s.release.host_rollout or [] if e not in s.environments]
    if unknown:
        out.append(
            Problem(
                f"{project}:release.hostRollout",
                unknown,
                f"names no environment of this stack; environments: {', '.join(s.environments)}",
            )
        )
    if not s.is_prod:
        return out
    if len(s.environments) > 1 and not s.cluster.capacity_per_environment:
        out.append(
            Problem(
                f"{project}:cluster.capacityPerEnvironment",
                False,
                "must be true in prod with two environments: blue and green never share a host, "
                "an Auto Scaling group or a launch template, so a bad AMI or host fault reaches "
                "one of them only (the gate refuses shared capacity, "
                "ecs-environments-own-capacity)",
            )
        )
    if (
        s.service.min_tasks > s.service.max_tasks
        or s.cluster.min_instances > s.cluster.max_instances
        or limits.prod_minimum_problem(s.service.min_tasks)
    ):
        return out  # said above in the settings' words; the zone arithmetic needs sane bounds
    group = zone_loss_group(s)
    for what, problem in zone_loss_problems(group):
        key = _ZONE_LOSS_KEYS[what]
        value = {
            "zones": group.zones,
            "minTasks": group.min_tasks,
            "cpuTarget": group.cpu_target,
            "hosts": group.hosts,
            "targetCapacity": group.target_capacity_percent,
        }[what]
        out.append(
            Problem(
                f"{project}:{key}",
                value,
                f"prod must ride out the loss of any one zone without a new host: {problem} "
                "(the gate refuses it too, zone-loss-static-stability)",
            )
        )
    if group.host is None:
        out.append(
            Problem(
                f"{project}:cluster.instanceType",
                s.cluster.instance_type,
                f"{unknown_instance_type_note(s.cluster.instance_type)}; prod needs a type whose "
                "size is known to prove a zone's loss leaves room for its tasks",
            )
        )
    return out


def raw_config() -> dict[str, str]:
    """Every config value the Pulumi runtime gave this program, key → string."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in merged.items()}


def _roles(s: Settings) -> tuple[str, ...]:
    return ("fleet", "onebox") if s.release.onebox else ("fleet",)
