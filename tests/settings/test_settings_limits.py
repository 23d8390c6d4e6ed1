"""Every settings limit pinned by a settings test (not only by the README's generated table), and
an empty list read as empty, never as "not set".

``LIMITS`` says, per key with a bound, the lowest and highest value a stack may write. Each bound is
accepted and one step past it is refused with the key named; a field with a bound that is not in
the table fails ``test_every_bounded_setting_is_pinned_here``, so a new or changed limit comes with
its test. Where a bound comes from AWS, the reason says which API limit it is.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator
from typing import Any

import pytest

from composition import args as build
from settings import Settings, SettingsError, load_settings
from settings.fields import Rule, camel, rule_problem, snake

# key -> (lowest allowed, highest allowed, step past the bound, why)
LIMITS: dict[str, tuple[float, float, float, str]] = {
    "network.availabilityZones": (
        2,
        6,
        1,
        "limits.MULTI_AZ_MINIMUM (lb-multi-az); room for 3 tiers of subnets in the /16–/22 plan",
    ),
    "network.flowLogRetentionDays": (30, 3653, 1, "guardrail minimum; CloudWatch's longest value"),
    "cluster.minInstances": (0, 100, 1, "ASG sizes this project supports"),
    "cluster.maxInstances": (1, 100, 1, "at least one host"),
    "cluster.targetCapacityPercent": (1, 100, 1, "ECS ManagedScaling.targetCapacity 1..100"),
    "cluster.rootVolumeGib": (30, 1000, 1, "the ECS-optimized AMI's snapshot is 30 GiB"),
    "image.keepImages": (2, 1000, 1, "the newest and one to roll back to"),
    "service.cpu": (128, 10240, 1, "ECS task CPU units on EC2: 128..10240"),
    "service.memory": (128, 30720, 1, "ECS task memory MiB"),
    "service.containerPort": (1024, 65535, 1, "non-privileged ports only (non-root container)"),
    "service.minTasks": (0, 1000, 1, "Application Auto Scaling bounds used here"),
    "service.maxTasks": (1, 1000, 1, "Application Auto Scaling bounds used here"),
    "service.cpuTarget": (10, 90, 1, "policy.guardrails.limits TARGET_VALUE_LOW..HIGH"),
    "service.memoryTarget": (10, 90, 1, "policy.guardrails.limits TARGET_VALUE_LOW..HIGH"),
    "service.requestsPerTarget": (1, 100000, 1, "a positive request rate"),
    "service.scaleOutCooldown": (0, 120, 1, "limits.SCALE_OUT_COOLDOWN_CEILING_SECONDS"),
    "service.scaleInCooldown": (0, 3600, 1, "an hour at most"),
    "service.healthCheckGracePeriod": (30, 7200, 1, "guardrail minimum; two hours at most"),
    "service.deregistrationDelay": (0, 3600, 1, "ELB deregistration_delay 0..3600"),
    "service.stopTimeout": (2, 120, 1, "Fargate's documented maximum; EC2 documents none"),
    "service.logRetentionDays": (30, 3653, 1, "guardrail minimum; CloudWatch's longest value"),
    "service.minimumHealthyPercent": (0, 100, 1, "a percentage of desired"),
    "service.maximumPercent": (100, 200, 1, "ECS deployment maximumPercent"),
    "service.healthCheck.interval": (5, 300, 1, "ELB HealthCheckIntervalSeconds 5..300"),
    "service.healthCheck.timeout": (2, 120, 1, "ELB HealthCheckTimeoutSeconds 2..120"),
    "service.healthCheck.healthyThreshold": (2, 10, 1, "ELB HealthyThresholdCount 2..10"),
    "service.healthCheck.unhealthyThreshold": (2, 10, 1, "ELB UnhealthyThresholdCount 2..10"),
    "service.fastScaleOut.cpuThreshold": (20, 99, 1, "a CPU percentage above any target"),
    "service.fastScaleOut.datapoints": (
        2,
        6,
        1,
        "limits.FAST_SCALE_OUT_MIN_DATAPOINTS: no one-off",
    ),
    "service.fastScaleOut.stepTasks": (
        1,
        5,
        1,
        "limits.FAST_SCALE_OUT_MAX_STEP: the larger step, twice stepTasks, at most 10",
    ),
    "service.fastScaleOut.cooldown": (
        30,
        120,
        1,
        "limits.FAST_SCALE_OUT_MIN_COOLDOWN..SCALE_OUT_COOLDOWN_CEILING_SECONDS",
    ),
    "loadBalancer.accessLogRetentionDays": (1, 3650, 1, "ten years at most"),
    "loadBalancer.idleTimeout": (1, 4000, 1, "ALB idle_timeout.timeout_seconds 1..4000"),
    "loadBalancer.wafLogRetentionDays": (
        30,
        3653,
        1,
        "guardrail minimum; CloudWatch's longest value",
    ),
    "release.oneboxWeight": (0, 999, 1, "ALB forward target group weight 0..999"),
    "release.fleetWeight": (1, 999, 1, "ALB forward target group weight, the fleet above 0"),
    "release.oneboxTasks": (1, 10, 1, "a small onebox"),
    "release.latencyThresholdSeconds": (0.1, 60, 0.05, "a response-time threshold"),
    "release.latencyDatapoints": (1, 10, 1, "breaching minutes"),
    "release.latencyEvaluationPeriods": (1, 10, 1, "minutes looked at"),
    "release.errorRatePercent": (0.1, 100, 0.05, "a percentage"),
    "release.errorMinRequests": (0, 100000, 1, "noise guard"),
    "release.errorDatapoints": (1, 10, 1, "breaching minutes"),
    "release.errorEvaluationPeriods": (1, 10, 1, "minutes looked at"),
    "dns.queryLogRetentionDays": (30, 3653, 1, "guardrail minimum; CloudWatch's longest value"),
    "dns.failureThreshold": (1, 10, 1, "Route 53 FailureThreshold 1..10"),
    "connectivity.probeIntervalSeconds": (5, 60, 1, "the prober's cadence"),
    "database.allocatedStorage": (20, 65536, 1, "RDS gp3 Postgres 20..65536 GiB"),
    "database.maxAllocatedStorage": (20, 65536, 1, "RDS gp3 Postgres 20..65536 GiB"),
    "database.backupRetentionDays": (7, 35, 1, "guardrail minimum; RDS allows up to 35"),
    "database.rotationDays": (1, 30, 1, "FSBP SecretsManager.4: rotated within 30 days"),
    "chaos.hour": (9, 16, 1, "limits.BUSINESS_HOURS_START..END-1: a run starts in the window"),
    "zonalShift.practiceStartHour": (
        9,
        16,
        1,
        "limits.BUSINESS_HOURS_START..END-1: ARC practice windows inside business hours (UTC)",
    ),
    "zonalShift.practiceEndHour": (
        10,
        17,
        1,
        "limits.BUSINESS_HOURS_START+1..END: a window ends by the end of business hours",
    ),
    "chaos.faultDurationMinutes": (1, 30, 1, "a bounded fault"),
    "chaos.guard5xxPerMinute": (1, 100000, 1, "a stop condition that can fire"),
    "chaos.azOutageMinutes": (5, 60, 1, "a bounded zone outage, over by 18:00 at the latest"),
}
"""CloudWatch Logs retention values end at 3653 days (PutRetentionPolicy, retentionInDays)."""


def settings_fields(cls: type = Settings, path: str = "") -> Iterator[tuple[str, Rule, Any]]:
    """(dotted key, rule, default) of every leaf setting."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = path + camel(f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            yield from settings_fields(hints[f.name], key + ".")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        yield key, f.metadata["rule"], default


RULES = {key: rule for key, rule, _ in settings_fields()}


def config_for(key: str, value: Any) -> dict[str, str]:
    """The raw config map setting only ``key`` (``group.field`` or a top-level key)."""
    group, *rest = key.split(".")
    if not rest:
        return {f"steadystate:{group}": json.dumps(value)}
    nested: Any = value
    for part in reversed(rest):
        nested = {part: nested}
    return {f"steadystate:{group}": json.dumps(nested)}


def loaded(settings: Settings, key: str) -> Any:
    value: Any = settings
    for part in key.split("."):
        value = getattr(value, snake(part))
    return value


def test_every_bounded_setting_is_pinned_here() -> None:
    """A setting with a minimum, a maximum, or a numeric check has its limits in LIMITS."""
    bounded = {
        key
        for key, rule in RULES.items()
        if rule.kind in (int, float)
        and not rule.choices
        and (rule.minimum is not None or rule.maximum is not None or rule.check is not None)
    }
    assert bounded == set(LIMITS), {
        "bounded but not pinned": sorted(bounded - set(LIMITS)),
        "pinned but unbounded or gone": sorted(set(LIMITS) - bounded),
    }


def _number(value: float, rule: Rule) -> float:
    return int(value) if rule.kind is int else value


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_each_limit_is_accepted_and_one_step_past_is_refused_naming_the_key(key: str) -> None:
    low, high, step, _why = LIMITS[key]
    rule = RULES[key]
    for edge in (low, high):
        assert rule_problem(_number(edge, rule), rule) is None, f"{key} = {edge} must be allowed"
    for past in (low - step, high + step):
        value = _number(past, rule)
        assert rule_problem(value, rule), f"{key} = {value} must be refused"
        with pytest.raises(SettingsError) as caught:
            load_settings(config_for(key, value))
        assert any(p.key == f"steadystate:{key}" for p in caught.value.problems), (
            key,
            [str(p) for p in caught.value.problems],
        )


LIST_KEYS = sorted(key for key, rule in RULES.items() if rule.kind in (list, dict))


def test_the_list_settings_are_the_ones_this_file_knows() -> None:
    assert LIST_KEYS == [
        "connectivity.alarmEmails",
        "connectivity.alarmWebhooks",
        "connectivity.dependencies",
        "environments",
        "network.avoidCidrs",
        "network.zones",
        "release.faults",
        "release.hostRollout",
        "release.pins",
        "release.rollout",
        "zonalShift.practiceDays",
    ]


@pytest.mark.parametrize("key", LIST_KEYS)
def test_an_empty_list_is_empty_never_the_default(key: str) -> None:
    """``[]`` written in a stack is refused naming the key, or loads as exactly empty: never
    replaced by the default, never read as "not set" (``null``)."""
    empty: Any = {} if RULES[key].kind is dict else []
    try:
        settings = load_settings(config_for(key, empty))
    except SettingsError as err:
        assert [p.key for p in err.problems] == [f"steadystate:{key}"], str(err)
        return
    value = loaded(settings, key)
    assert value == empty and value is not None, f"{key}: [] loaded as {value!r}"


def test_an_empty_rollout_moves_no_pin() -> None:
    """``release.rollout: []`` is "nothing takes this run's image" (a pins-only put back), not
    "unset" (the oneboxes would move)."""
    settings = load_settings(
        config_for("release", {"onebox": True, "rollout": []})
        | config_for("environments", ["blue", "green"])
    )
    for key in build.service_keys(settings):
        assert build.release_pin_args(settings, key, "img@sha256:" + "a" * 64, "v1").follow is False


def test_no_dependencies_is_refused_naming_the_key_not_read_as_unset() -> None:
    """An empty list is an empty list (the defaults would put db and cdn back), and the program
    cannot build its connectivity alarms from none: refused, before any resource registers."""
    with pytest.raises(SettingsError) as caught:
        load_settings(config_for("connectivity.dependencies", []))
    [problem] = caught.value.problems
    assert problem.key == "steadystate:connectivity.dependencies" and problem.value == []
    assert "at least one dependency" in problem.message


def test_empty_alarm_subscribers_in_prod_are_refused_as_no_subscriber() -> None:
    raw = {"steadystate:stage": "prod"} | config_for(
        "connectivity", {"alarmEmails": [], "alarmWebhooks": []}
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(raw)
    assert "steadystate:connectivity.alarmEmails" in {p.key for p in caught.value.problems}


# Settings whose limits are AWS's, and where botocore's model of the API states them (the shape's
# min/max, or the range in the documentation of the attribute key the program sets).
AWS_SHAPE_LIMITS = {
    "service.healthCheck.interval": ("elbv2", "HealthCheckIntervalSeconds", None),
    "service.healthCheck.timeout": ("elbv2", "HealthCheckTimeoutSeconds", None),
    "service.healthCheck.healthyThreshold": ("elbv2", "HealthCheckThresholdCount", None),
    "service.healthCheck.unhealthyThreshold": ("elbv2", "HealthCheckThresholdCount", None),
    "dns.failureThreshold": ("route53", "FailureThreshold", None),
    "cluster.targetCapacityPercent": ("ecs", "ManagedScaling", "targetCapacity"),
}
AWS_DOCUMENTED_RANGES = {
    "service.deregistrationDelay": ("TargetGroupAttribute", "deregistration_delay.timeout_seconds"),
    "loadBalancer.idleTimeout": ("LoadBalancerAttribute", "idle_timeout.timeout_seconds"),
}


@pytest.mark.parametrize("key", sorted(AWS_SHAPE_LIMITS))
def test_limits_taken_from_an_aws_api_are_the_api_s_own(key: str) -> None:
    """botocore/data/<service>/<version>/service-2.json: the shape's min and max."""
    import botocore.session

    service, shape_name, member = AWS_SHAPE_LIMITS[key]
    shape = botocore.session.get_session().get_service_model(service).shape_for(shape_name)
    if member is not None:
        shape = shape.members[member]  # type: ignore[attr-defined]
    low, high, _, _ = LIMITS[key]
    assert (low, high) == (shape.metadata["min"], shape.metadata["max"]), key


@pytest.mark.parametrize("key", sorted(AWS_DOCUMENTED_RANGES))
def test_limits_of_elb_attributes_are_the_documented_ranges(key: str) -> None:
    """botocore's elbv2 model documents each attribute key's range (``The range is 0-3600``)."""
    import re

    import botocore.session

    shape_name, attribute = AWS_DOCUMENTED_RANGES[key]
    model = botocore.session.get_session().get_service_model("elbv2")
    text = re.sub(r"<[^>]+>", "", model.shape_for(shape_name).members["Key"].documentation)  # type: ignore[attr-defined]
    found = re.search(
        re.escape(attribute) + r" - [^.]*\. The (?:valid )?range is (\d+)-(\d+)", text
    )
    assert found, f"{attribute}: no documented range"
    low, high, _, _ = LIMITS[key]
    assert (low, high) == (int(found[1]), int(found[2])), key
