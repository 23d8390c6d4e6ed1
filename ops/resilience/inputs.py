"""Read the resilience model's inputs out of a synthesized stack.

Records are chosen by resource TYPE and joined by the values AWS joins them by (health-check id,
alarm name, target-group ARN, task-definition ARN), never by logical name, so renaming resources or
wrapping them in components does not change the result. Values missing from the program fall back
to the AWS defaults the model documents; values that cannot be read (unresolved outputs, odd
strings) fall back too and are listed in ``StackInputs.warnings``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Protocol

from ops.alarm_replay.definition import DefinitionError, from_pulumi_inputs
from ops.alarm_replay.metric_math import ExpressionError
from ops.alarm_replay.stack import UnclassifiedAlarm, detection_seconds, purpose_of
from ops.resilience.model import (
    ALB_DEFAULT_DEREGISTRATION_DELAY_S,
    ALB_DEFAULT_HEALTHY,
    ALB_DEFAULT_INTERVAL_S,
    ALB_DEFAULT_TIMEOUT_S,
    ALB_DEFAULT_UNHEALTHY,
    ECS_CONTAINER_HC_DEFAULTS,
    ELB_ALIAS_TTL_S,
    ROUTE53_DEFAULT_FAILURE_THRESHOLD,
    ROUTE53_DEFAULT_INTERVAL_S,
    TARGET_TRACKING_DEFAULT_COOLDOWN_S,
    AlarmSpec,
    ContainerHealth,
    FailoverRecord,
    ReleaseGuard,
    Route53Check,
    ScalingPolicy,
    StackInputs,
    StepTrigger,
    TargetGroupHealth,
    ZoneGroupInput,
)
from ops.resilience.zones import MANAGED_SCALING_DEFAULT_WARMUP_S
from ops.synth.mocks import ResourceRecord
from settings import load_settings
from settings.loader import zone_loss_group

TARGET_GROUP_TYPES = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
HEALTH_CHECK_TYPE = "aws:route53/healthCheck:HealthCheck"
RECORD_TYPE = "aws:route53/record:Record"
ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE_TYPE = "aws:ecs/service:Service"
TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition"
SCALING_POLICY_TYPE = "aws:appautoscaling/policy:Policy"
SCALABLE_TARGET_TYPE = "aws:appautoscaling/target:Target"


class HasRecords(Protocol):
    records: list[ResourceRecord]


class _Reader:
    """Number/bool parsing that remembers what it had to guess."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def num(self, value: Any, default: float, where: str) -> float:
        if value is None or value == "":
            return float(default)
        if isinstance(value, bool):
            self.warnings.append(
                f"{where}: boolean {value!r} where a number belongs; used {default}"
            )
            return float(default)
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            self.warnings.append(f"{where}: cannot read {value!r} as a number; used {default}")
            return float(default)

    def int(self, value: Any, default: int, where: str) -> int:
        return int(self.num(value, default, where))

    @staticmethod
    def flag(value: Any) -> bool:
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)


def _of_type(recording: HasRecords, *types: str) -> list[ResourceRecord]:
    return [r for r in recording.records if r.custom and r.type in types]


def _value(record: ResourceRecord, key: str) -> Any:
    """An input, else the mocked output of the same name."""
    value = record.inputs.get(key)
    return record.outputs.get(key) if value is None else value


def _ids(record: ResourceRecord, *keys: str) -> set[str]:
    """Identifiers other resources may use to point at `record` (id, ARN, name...)."""
    found = {record.id} if record.id else set()
    for key in keys:
        for source in (record.outputs, record.inputs):
            value = source.get(key)
            if isinstance(value, str) and value:
                found.add(value)
    return found


def _first(value: Any) -> dict[str, Any]:
    """A nested block: providers hand some as a dict, some as a one-element list."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _tags(record: ResourceRecord) -> dict[str, str]:
    tags = _value(record, "tags") or {}
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


# --- alarms ---------------------------------------------------------------------------------------


def _replays(record: ResourceRecord, name: str, read: _Reader) -> tuple[tuple[str, float], ...]:
    """(scenario, worst seconds to ALARM) for every scenario the alarm's purpose alarms in."""
    try:
        definition = from_pulumi_inputs(name, record.inputs)
        needs = purpose_of(definition).needs
        out = []
        for scenario, need in needs.items():
            if need.state == "ALARM":
                seconds = detection_seconds(definition, scenario)
                out.append((scenario, math.inf if seconds is None else float(seconds)))
        return tuple(out)
    except (DefinitionError, ExpressionError, UnclassifiedAlarm, KeyError, ValueError) as err:
        read.warnings.append(f"alarm '{name}': not replayed ({err}); arithmetic model used")
        return ()


def _alarm(record: ResourceRecord, read: _Reader) -> AlarmSpec:
    name = str(_value(record, "name") or record.name)
    where = f"alarm '{name}'"
    metrics: list[str] = []
    namespaces: list[str] = []
    periods: list[float] = []
    if _value(record, "metricName"):
        metrics.append(str(_value(record, "metricName")))
    if _value(record, "namespace"):
        namespaces.append(str(_value(record, "namespace")))
    queries = _value(record, "metricQueries") or []
    for query in queries if isinstance(queries, list) else []:
        metric = _first(query.get("metric")) if isinstance(query, dict) else {}
        if metric.get("metricName"):
            metrics.append(str(metric["metricName"]))
        if metric.get("namespace"):
            namespaces.append(str(metric["namespace"]))
        if metric.get("period") is not None:
            periods.append(read.num(metric["period"], 60, where))
    period = _value(record, "period")
    if period is not None:
        periods.append(read.num(period, 60, where))
    if not periods:
        read.warnings.append(f"{where}: no period found; assumed 60 s")
        periods.append(60.0)
    evaluation = read.int(_value(record, "evaluationPeriods"), 1, where)
    datapoints = _value(record, "datapointsToAlarm")
    return AlarmSpec(
        name=name,
        period_s=max(periods),
        evaluation_periods=evaluation,
        datapoints_to_alarm=read.int(datapoints, evaluation, where)
        if datapoints is not None
        else None,
        metrics=tuple(metrics),
        namespace=next(
            (n for n in namespaces if n.startswith("AWS/")), namespaces[0] if namespaces else ""
        ),
        treat_missing_data=str(_value(record, "treatMissingData") or "missing"),
        threshold=read.num(_value(record, "threshold"), 0, where)
        if _value(record, "threshold") is not None
        else None,
        metric_math=any(
            isinstance(q, dict) and q.get("expression")
            for q in (queries if isinstance(queries, list) else [])
        ),
        extended_statistic=str(_value(record, "extendedStatistic") or ""),
        replays=_replays(record, name, read),
    )


def _alarms_by_name(recording: HasRecords, read: _Reader) -> dict[str, AlarmSpec]:
    out: dict[str, AlarmSpec] = {}
    for record in _of_type(recording, ALARM_TYPE):
        spec = _alarm(record, read)
        for key in _ids(record, "name", "alarmName", "arn"):
            out[key] = spec
    return out


# --- Route 53 -------------------------------------------------------------------------------------


def _health_checks(
    recording: HasRecords, alarms: dict[str, AlarmSpec], read: _Reader
) -> dict[str, Route53Check]:
    raw = {r.urn: r for r in _of_type(recording, HEALTH_CHECK_TYPE)}
    ids: dict[str, str] = {}
    for urn, record in raw.items():
        for key in _ids(record, "id", "arn"):
            ids[key] = urn
    built: dict[str, Route53Check] = {}

    def build(urn: str, seen: frozenset[str]) -> Route53Check:
        if urn in built:
            return built[urn]
        record = raw[urn]
        tags = _tags(record)
        name = tags.get("Name") or record.name
        where = f"health check '{name}'"
        kind = str(_value(record, "type") or "").upper()
        alarm_name = str(_value(record, "cloudwatchAlarmName") or "")
        children: list[Route53Check] = []
        for child_id in _value(record, "childHealthchecks") or []:
            child_urn = ids.get(str(child_id))
            if child_urn is None or child_urn in seen:
                read.warnings.append(f"{where}: child health check {child_id!r} not found")
                continue
            children.append(build(child_urn, seen | {urn}))
        threshold = _value(record, "childHealthThreshold")
        check = Route53Check(
            name=name,
            type=kind,
            request_interval_s=read.num(
                _value(record, "requestInterval"), ROUTE53_DEFAULT_INTERVAL_S, where
            ),
            failure_threshold=read.int(
                _value(record, "failureThreshold"), ROUTE53_DEFAULT_FAILURE_THRESHOLD, where
            ),
            alarm=alarms.get(alarm_name),
            alarm_name=alarm_name,
            insufficient_data_health_status=str(
                _value(record, "insufficientDataHealthStatus") or ""
            ),
            children=tuple(children),
            child_health_threshold=read.int(threshold, 1, where) if threshold is not None else None,
            inverted=read.flag(_value(record, "invertHealthcheck")),
            disabled=read.flag(_value(record, "disabled")),
        )
        built[urn] = check
        return check

    return {key: build(urn, frozenset({urn})) for key, urn in ids.items()}


def _failover_records(
    recording: HasRecords, checks: dict[str, Route53Check], read: _Reader
) -> list[FailoverRecord]:
    out = []
    for record in _of_type(recording, RECORD_TYPE):
        policies = _value(record, "failoverRoutingPolicies") or []
        kinds = {
            str(_first(p).get("type", "")).upper()
            for p in (policies if isinstance(policies, list) else [policies])
        }
        if "PRIMARY" not in kinds:
            continue
        set_id = _value(record, "setIdentifier")
        name = f"{_value(record, 'name') or record.name}" + (f" ({set_id})" if set_id else "")
        aliases = _value(record, "aliases") or []
        alias = _first(aliases)
        if alias:
            target = str(alias.get("name") or "")
            source = (
                "alias to ALB, fixed by AWS"
                if "elb.amazonaws.com" in target or not target
                else "alias, assumed 60 s like an ALB"
            )
            ttl = float(ELB_ALIAS_TTL_S)
        else:
            ttl = read.num(_value(record, "ttl"), 300, f"record '{name}'")
            source = "record TTL"
        check_id = _value(record, "healthCheckId")
        check = checks.get(str(check_id)) if check_id else None
        if check_id and check is None:
            read.warnings.append(
                f"record '{name}': health check {check_id!r} not found in the stack"
            )
        out.append(
            FailoverRecord(
                name=name,
                ttl_s=ttl,
                ttl_source=source,
                health_check=check,
                evaluate_target_health=read.flag(alias.get("evaluateTargetHealth"))
                if alias
                else False,
            )
        )
    return out


# --- load balancing and ECS -----------------------------------------------------------------------


def _target_groups(recording: HasRecords, read: _Reader) -> dict[str, TargetGroupHealth]:
    out: dict[str, TargetGroupHealth] = {}
    for record in _of_type(recording, *TARGET_GROUP_TYPES):
        tags = _tags(record)
        name = str(_value(record, "name") or record.name)
        where = f"target group '{name}'"
        hc = _first(_value(record, "healthCheck"))
        tg = TargetGroupHealth(
            name=name,
            role=tags.get("Role", ""),
            environment=tags.get("Environment", ""),
            interval_s=read.num(hc.get("interval"), ALB_DEFAULT_INTERVAL_S, where),
            timeout_s=read.num(hc.get("timeout"), ALB_DEFAULT_TIMEOUT_S, where),
            healthy_threshold=read.int(hc.get("healthyThreshold"), ALB_DEFAULT_HEALTHY, where),
            unhealthy_threshold=read.int(
                hc.get("unhealthyThreshold"), ALB_DEFAULT_UNHEALTHY, where
            ),
            deregistration_delay_s=read.num(
                _value(record, "deregistrationDelay"), ALB_DEFAULT_DEREGISTRATION_DELAY_S, where
            ),
        )
        for key in _ids(record, "arn", "id"):
            out[key] = tg
    return out


def _container_health(
    recording: HasRecords, read: _Reader
) -> dict[str, dict[str, ContainerHealth]]:
    """task-definition identifier → container name → its health check."""
    out: dict[str, dict[str, ContainerHealth]] = {}
    for record in _of_type(recording, TASK_DEFINITION_TYPE):
        raw = _value(record, "containerDefinitions")
        try:
            containers = json.loads(raw) if isinstance(raw, str) else (raw or [])
        except json.JSONDecodeError:
            read.warnings.append(
                f"task definition '{record.name}': containerDefinitions is not JSON"
            )
            containers = []
        checks: dict[str, ContainerHealth] = {}
        for container in containers if isinstance(containers, list) else []:
            hc = container.get("healthCheck") if isinstance(container, dict) else None
            if not isinstance(hc, dict):
                continue
            where = f"container '{container.get('name')}' health check"
            d = ECS_CONTAINER_HC_DEFAULTS
            checks[str(container.get("name"))] = ContainerHealth(
                interval_s=read.num(hc.get("interval"), d["interval"], where),
                timeout_s=read.num(hc.get("timeout"), d["timeout"], where),
                retries=read.int(hc.get("retries"), d["retries"], where),
                start_period_s=read.num(hc.get("startPeriod"), d["startPeriod"], where),
            )
        for key in _ids(record, "arn", "arnWithoutRevision", "family"):
            out[key] = checks
    return out


def _release_guards(
    recording: HasRecords,
    alarms: dict[str, AlarmSpec],
    target_groups: dict[str, TargetGroupHealth],
    containers: dict[str, dict[str, ContainerHealth]],
    read: _Reader,
) -> list[ReleaseGuard]:
    out = []
    for record in _of_type(recording, SERVICE_TYPE):
        name = str(_value(record, "name") or record.name)
        where = f"service '{name}'"
        lbs = _value(record, "loadBalancers") or []
        tg = None
        container_name = ""
        for lb in lbs if isinstance(lbs, list) else []:
            tg = target_groups.get(str(lb.get("targetGroupArn"))) or tg
            container_name = container_name or str(lb.get("containerName") or "")
        config = _first(_value(record, "alarms"))
        names = [str(n) for n in config.get("alarmNames") or []]
        specs = []
        for alarm_name in names:
            spec = alarms.get(alarm_name)
            if spec is None:
                read.warnings.append(
                    f"{where}: deployment alarm {alarm_name!r} not found in the stack"
                )
            else:
                specs.append(spec)
        breaker = _first(_value(record, "deploymentCircuitBreaker"))
        task_checks = containers.get(str(_value(record, "taskDefinition") or ""), {})
        health = task_checks.get(container_name) or next(iter(task_checks.values()), None)
        tags = _tags(record)
        out.append(
            ReleaseGuard(
                service=name,
                role=(tg.role if tg else "") or tags.get("Role", ""),
                environment=(tg.environment if tg else "") or tags.get("Environment", ""),
                desired_count=read.int(_value(record, "desiredCount"), 1, where),
                maximum_percent=read.int(_value(record, "deploymentMaximumPercent"), 200, where),
                minimum_healthy_percent=read.int(
                    _value(record, "deploymentMinimumHealthyPercent"), 100, where
                ),
                alarms_enabled=read.flag(config.get("enable")),
                alarms_rollback=read.flag(config.get("rollback")),
                alarms=tuple(specs),
                circuit_breaker_enabled=read.flag(breaker.get("enable")),
                circuit_breaker_rollback=read.flag(breaker.get("rollback")),
                health_check_grace_s=read.num(
                    _value(record, "healthCheckGracePeriodSeconds"), 0, where
                ),
                target_group=tg,
                container_health=health,
            )
        )
    return out


def _scaling_policies(recording: HasRecords, read: _Reader) -> list[ScalingPolicy]:
    out = []
    for record in _of_type(recording, SCALING_POLICY_TYPE):
        config = _first(_value(record, "targetTrackingScalingPolicyConfiguration"))
        if not config:
            continue
        name = str(_value(record, "resourceId") or _value(record, "name") or record.name)
        where = f"scaling policy '{name}'"
        predefined = _first(config.get("predefinedMetricSpecification"))
        custom = _first(config.get("customizedMetricSpecification"))
        metric = str(
            predefined.get("predefinedMetricType") or custom.get("metricName") or "custom metric"
        )
        out.append(
            ScalingPolicy(
                name=name,
                metric=metric,
                target_value=read.num(config.get("targetValue"), 0, where),
                scale_out_cooldown_s=read.num(
                    config.get("scaleOutCooldown"), TARGET_TRACKING_DEFAULT_COOLDOWN_S, where
                ),
                scale_in_cooldown_s=read.num(
                    config.get("scaleInCooldown"), TARGET_TRACKING_DEFAULT_COOLDOWN_S, where
                ),
            )
        )
    return out


def _probe_intervals(recording: HasRecords) -> dict[str, float]:
    """SCALING_METRIC_DIMENSION → PROBE_INTERVAL_SECONDS of the prober that publishes it."""
    out: dict[str, float] = {}
    for record in _of_type(recording, TASK_DEFINITION_TYPE):
        try:
            containers = json.loads(_value(record, "containerDefinitions") or "[]")
        except (TypeError, ValueError):
            continue
        for container in containers:
            env = {e.get("name"): e.get("value") for e in container.get("environment") or []}
            if env.get("SCALING_METRIC_DIMENSION"):
                interval = float(env.get("PROBE_INTERVAL_SECONDS") or 10)
                out[str(env["SCALING_METRIC_DIMENSION"])] = interval
    return out


def _step_triggers(recording: HasRecords, read: _Reader) -> list[StepTrigger]:
    """Alarms whose actions invoke a StepScaling policy of the stack."""
    policies = {
        arn: record
        for record in _of_type(recording, SCALING_POLICY_TYPE)
        if _value(record, "policyType") == "StepScaling"
        for arn in _ids(record, "arn")
    }
    intervals = _probe_intervals(recording)
    out = []
    for alarm in _of_type(recording, ALARM_TYPE):
        linked = [policies[a] for a in _value(alarm, "alarmActions") or [] if a in policies]
        if not linked:
            continue
        where = f"alarm '{alarm.name}'"
        period = read.num(_value(alarm, "period"), 60, where)
        dims = _value(alarm, "dimensions") or {}
        interval = intervals.get(str(dims.get("Service", "")), period)
        for policy in linked:
            out.append(
                StepTrigger(
                    name=str(_value(policy, "resourceId") or policy.name),
                    alarm=alarm.name,
                    metric=str(_value(alarm, "metricName") or "metric"),
                    period_s=period,
                    datapoints=int(
                        read.num(
                            _value(alarm, "datapointsToAlarm")
                            or _value(alarm, "evaluationPeriods"),
                            1,
                            where,
                        )
                    ),
                    sample_interval_s=interval,
                    replayed_s=dict(
                        _replays(alarm, str(_value(alarm, "name") or alarm.name), read)
                    ).get("a load step"),
                )
            )
    return out


def _fixed_size(recording: HasRecords) -> set[str]:
    return {
        str(_value(r, "resourceId"))
        for r in _of_type(recording, SCALABLE_TARGET_TYPE)
        if _value(r, "minCapacity") is not None
        and _value(r, "minCapacity") == _value(r, "maxCapacity")
    }


def _unique(items: Iterable[TargetGroupHealth]) -> list[TargetGroupHealth]:
    seen: list[TargetGroupHealth] = []
    for item in items:
        if not any(item is s for s in seen):
            seen.append(item)
    return seen


def _zone_groups(recording: HasRecords) -> list[ZoneGroupInput]:
    """Each environment's capacity group from the settings the stack was synthesized with (the
    zone-loss rule's numbers) and the capacity provider's instance warm-up; none without them."""
    config = getattr(recording, "config", None)
    values = getattr(config, "values", None)
    providers = _of_type(recording, "aws:ecs/capacityProvider:CapacityProvider")
    if not values or not providers:
        return []
    s = load_settings(values)
    g = zone_loss_group(s)
    scaling = _first(_first(_value(providers[0], "autoScalingGroupProvider")).get("managedScaling"))
    warmup = float(scaling.get("instanceWarmupPeriod") or MANAGED_SCALING_DEFAULT_WARMUP_S)
    # The primary environment first: its group is the one the PRIMARY failover record fronts.
    primary = [s.dns.primary] if s.dns.primary in s.environments else []
    ordered = [*primary, *(e for e in s.environments if e not in primary)]
    names = ordered if s.cluster.capacity_per_environment else ["shared"]
    return [
        ZoneGroupInput(
            environment=name,
            zones=g.zones,
            min_tasks=g.min_tasks,
            cpu_target=g.cpu_target,
            task_cpu=g.task_cpu,
            task_memory=g.task_memory,
            hosts=g.hosts,
            instance_type=s.cluster.instance_type,
            target_capacity_percent=g.target_capacity_percent,
            fixed_tasks=g.fixed_tasks,
            instance_warmup_s=warmup,
        )
        for name in names
    ]


def extract_inputs(recording: HasRecords) -> StackInputs:
    """The model's inputs from a :class:`ops.synth.runner.Synthesis` (or any recording of records)."""
    read = _Reader()
    alarms = _alarms_by_name(recording, read)
    checks = _health_checks(recording, alarms, read)
    target_groups = _target_groups(recording, read)
    containers = _container_health(recording, read)
    connectivity = []
    for spec in alarms.values():
        if spec.kind == "connectivity" and spec not in connectivity:
            connectivity.append(spec)
    return StackInputs(
        failover_records=_failover_records(recording, checks, read),
        release_guards=_release_guards(recording, alarms, target_groups, containers, read),
        target_groups=_unique(target_groups.values()),
        scaling_policies=_scaling_policies(recording, read),
        step_triggers=_step_triggers(recording, read),
        fixed_size=_fixed_size(recording),
        connectivity_alarms=connectivity,
        warnings=read.warnings,
        zone_groups=_zone_groups(recording),
    )
