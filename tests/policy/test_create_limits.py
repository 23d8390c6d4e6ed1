"""What AWS rejects at create time: the generated botocore table, the pack's rule, the settings.

Sources: botocore's service models (`botocore/data/<service>/<version>/service-2.json`, through
ops/docs/api_limits.py); the cross-field rules are cited in policy/guardrails/create_limits.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

import pytest
from policy_harness import run_resource

from ops.docs import api_limits
from ops.synth.runner import synthesize
from policy.guardrails import limits
from policy.guardrails.create_time import table, value_problem
from settings import Settings, SettingsError, load_settings
from settings.fields import Rule, camel
from tests.support.sdk_properties import declared_inputs

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
AUTONAME_SUFFIX = len("-") + 7
"""pulumi-aws autonames a target group or load balancer `<logical name>-<7 random hex>`:
pulumi/pulumi-aws provider/resources.go (`"name": tfbridge.AutoName("name", 32, "-")`) and
pulumi/pulumi-terraform-bridge `AutoName` (`Randlen: 7`)."""


def test_the_table_is_what_the_installed_botocore_says() -> None:
    """api_limits.json is generated; regenerate with `python -m ops.docs.api_limits`."""
    assert api_limits.OUTPUT.read_text() == api_limits.render()
    assert api_limits.main(["--check"]) == 0


@pytest.mark.parametrize("field", api_limits.FIELDS, ids=lambda f: f"{f.resource_type}.{f.prop}")
def test_every_mapped_property_is_a_pulumi_aws_input(field: api_limits.Field) -> None:
    """The mapping's left side is a real input of the resource (pulumi-aws's Args class)."""
    assert field.prop.split(".")[0].removesuffix("[]") in declared_inputs(field.resource_type)


def test_documented_limits_are_read_from_the_models_words() -> None:
    """Limits AWS states only in a member's documentation reach the table."""
    resources = table()
    assert resources[LOG_GROUP]["retentionInDays"]["enum"][:4] == [1, 3, 5, 7]
    assert resources[ALARM]["period"]["values"] == [10, 20, 30]
    assert resources[ALARM]["period"]["multipleOf"] == 60
    assert resources[TARGET_GROUP]["name"]["max"] == 32
    assert set(resources[ALARM]["treatMissingData"]["enum"]) == {
        "breaching",
        "notBreaching",
        "ignore",
        "missing",
    }


@pytest.mark.parametrize(
    ("resource_type", "prop", "value", "problem"),
    [
        (ALARM, "period", 45, "must be 10, 20, 30 or a multiple of 60 (got 45)"),
        (ALARM, "period", 20.0, None),
        (ALARM, "period", 120, None),
        (ALARM, "alarmActions", ["a"] * 6, "may hold at most 5 items (got 6)"),
        (LOG_GROUP, "retentionInDays", 45, "must be one of 1, 3, 5, 7, 14, 30, 60"),
        (LOG_GROUP, "name", "/ecs/app logs", "must match"),
        (TARGET_GROUP, "name", "-leading-hyphen", "must match"),
        (TARGET_GROUP, "name", "x" * 33, "must be at most 32 characters long (got 33"),
        (TARGET_GROUP, "name", "x" * 32, None),
        (TARGET_GROUP, "healthCheck.interval", 4, "must be at least 5 (got 4)"),
        (TARGET_GROUP, "port", 8080.5, "must be a whole number"),
        (TARGET_GROUP, "port", "8080", "must be a number"),
        (HEALTH_CHECK, "failureThreshold", 11, "must be at most 10 (got 11)"),
        (LOAD_BALANCER, "idleTimeout", 4001, "must be at most 4000 (got 4001)"),
        (TARGET_GROUP, "deregistrationDelay", 0, None),
    ],
)
def test_values_at_and_past_each_kind_of_limit(
    resource_type: str, prop: str, value: object, problem: str | None
) -> None:
    found = value_problem(table()[resource_type][prop], value)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def _messages(resource_type: str, props: dict) -> list[str]:
    return run_resource("aws-create-time-limits", resource_type, props, name="planted").messages


def test_the_pack_refuses_planted_values_aws_rejects() -> None:
    """Planted: an alarm with datapointsToAlarm > evaluationPeriods, a log group kept 45 days,
    a target group named with 40 characters, a health check timeout equal to its interval."""
    alarm = {"evaluationPeriods": 2, "datapointsToAlarm": 3, "period": 60}
    assert _messages(ALARM, alarm) == [
        'aws:cloudwatch/metricAlarm "planted": datapointsToAlarm (3) must be at most '
        "evaluationPeriods (2): it is the M of an M-out-of-N alarm; AWS rejects it. Fix: change "
        "datapointsToAlarm."
    ]
    assert _messages(LOG_GROUP, {"retentionInDays": 45}) == [
        'aws:cloudwatch/logGroup "planted": retentionInDays must be one of 1, 3, 5, 7, 14, 30, '
        "60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 "
        "(got 45); AWS rejects it (logs PutRetentionPolicy retentionInDays). Fix: set "
        "retentionInDays to a value the API accepts."
    ]
    name = "blue-onebox-target-group-4f1c2ab9e0d3xyz"
    assert len(name) == 40
    assert _messages(TARGET_GROUP, {"name": name}) == [
        f'aws:lb/targetGroup "planted": name must be at most 32 characters long (got 40: '
        f'"{name}"); AWS rejects it (elbv2 CreateTargetGroup Name). Fix: set name to a value '
        "the API accepts."
    ]
    health = {"healthCheck": {"interval": 5, "timeout": 5}}
    assert _messages(TARGET_GROUP, health) == [
        'aws:lb/targetGroup "planted": healthCheck.timeout (5) must be less than '
        "healthCheck.interval (5); AWS rejects it. Fix: change healthCheck.timeout."
    ]


def test_list_items_are_checked_one_by_one_and_unknowns_are_skipped() -> None:
    from policy_harness import UNKNOWN_NUMBER

    queries = [
        {"id": "m1", "metric": {"period": 60, "metricName": "x", "namespace": "ns"}},
        {"id": "e1", "expression": "m1 * 2", "period": 90},
        {"id": "m2", "metric": {"period": UNKNOWN_NUMBER}},
    ]
    outcome = run_resource(
        "aws-create-time-limits", ALARM, {"metricQueries": queries}, name="planted"
    )
    assert outcome.messages == [
        'aws:cloudwatch/metricAlarm "planted": metricQueries[1].period must be 10, 20, 30 or a '
        "multiple of 60 (got 90); AWS rejects it (cloudwatch PutMetricAlarm Metrics[].Period). "
        "Fix: set metricQueries[1].period to a value the API accepts."
    ]
    unknown = run_resource("aws-create-time-limits", ALARM, {"metricQueries": queries[2:]})
    assert unknown.messages == []
    assert "metricQueries[0].metric.period is unknown during preview" in str(unknown.not_applicable)


# -- settings: every setting that becomes one of these API members stays inside AWS's limits ------
SETTING_MEMBERS: dict[str, tuple[str, str]] = {
    "service.healthCheck.interval": (TARGET_GROUP, "healthCheck.interval"),
    "service.healthCheck.timeout": (TARGET_GROUP, "healthCheck.timeout"),
    "service.healthCheck.healthyThreshold": (TARGET_GROUP, "healthCheck.healthyThreshold"),
    "service.healthCheck.unhealthyThreshold": (TARGET_GROUP, "healthCheck.unhealthyThreshold"),
    "service.containerPort": (TARGET_GROUP, "port"),
    "dns.healthCheckInterval": (HEALTH_CHECK, "requestInterval"),
    "dns.failureThreshold": (HEALTH_CHECK, "failureThreshold"),
    "release.latencyDatapoints": (ALARM, "datapointsToAlarm"),
    "release.latencyEvaluationPeriods": (ALARM, "evaluationPeriods"),
    "release.errorDatapoints": (ALARM, "datapointsToAlarm"),
    "release.errorEvaluationPeriods": (ALARM, "evaluationPeriods"),
    "service.fastScaleOut.datapoints": (ALARM, "datapointsToAlarm"),
    "connectivity.namespace": (ALARM, "namespace"),
    "loadBalancer.idleTimeout": (LOAD_BALANCER, "idleTimeout"),
    "service.deregistrationDelay": (TARGET_GROUP, "deregistrationDelay"),
}
"""Setting (as written in Pulumi.<stack>.yaml) → the resource property its value becomes."""

RETENTION_SETTINGS = (
    "service.logRetentionDays",
    "network.flowLogRetentionDays",
    "dns.queryLogRetentionDays",
)


def _rule(key: str) -> Rule:
    cls: type = Settings
    *groups, last = key.split(".")
    for group in groups:
        field = next(f for f in dataclasses.fields(cls) if camel(f.name) == group)
        cls = field.default_factory  # type: ignore[assignment]
    field = next(f for f in dataclasses.fields(cls) if camel(f.name) == last)
    return field.metadata["rule"]


@pytest.mark.parametrize("key", sorted(SETTING_MEMBERS))
def test_settings_bounds_lie_inside_what_aws_accepts(key: str) -> None:
    rule = _rule(key)
    entry = table()[SETTING_MEMBERS[key][0]][SETTING_MEMBERS[key][1]]
    allowed = [*rule.choices, rule.minimum, rule.maximum]
    if rule.kind is str:
        allowed = [Settings().connectivity.namespace]
    for value in [v for v in allowed if v is not None]:
        assert value_problem(entry, value) is None, f"{key} allows {value}: {entry['api']}"


def test_every_retention_the_settings_accept_is_one_cloudwatch_offers() -> None:
    """The settings' retention keys accept `limits.CLOUDWATCH_RETENTION_DAYS` (at or above the
    minimum); each of those must be in PutRetentionPolicy's documented list."""
    offered = table()[LOG_GROUP]["retentionInDays"]["enum"]
    assert set(limits.CLOUDWATCH_RETENTION_DAYS) <= set(offered)
    for key in RETENTION_SETTINGS:
        rule = _rule(key)
        assert rule.check is not None and rule.check(45) is not None


def _problems(groups: dict[str, object]) -> list[str]:
    raw = {f"steadystate:{k}": json.dumps(v) for k, v in groups.items()}
    with pytest.raises(SettingsError) as caught:
        load_settings(raw)
    return [str(p) for p in caught.value.problems]


def test_settings_refuse_planted_values_aws_rejects_naming_the_key() -> None:
    assert _problems({"release": {"errorDatapoints": 3, "errorEvaluationPeriods": 2}}) == [
        "steadystate:release.errorDatapoints = 3: must not exceed "
        "release.errorEvaluationPeriods (2)"
    ]
    retention = _problems({"service": {"logRetentionDays": 45}})
    assert len(retention) == 1
    assert retention[0].startswith(
        "steadystate:service.logRetentionDays = 45: must be one of CloudWatch's retention values"
    )
    assert _problems({"service": {"healthCheck": {"interval": 5, "timeout": 5}}}) == [
        "steadystate:service.healthCheck.timeout = 5: must be less than "
        "service.healthCheck.interval (5)"
    ]
    too_long = _problems({"environments": ["bluebluebluex"]})
    assert too_long == [
        "steadystate:environments = [\"bluebluebluex\"]: item 0 ('bluebluebluex') must be "
        "lower-case letters/digits, at most 10 characters"
    ]


def test_the_longest_environment_name_keeps_autonamed_names_inside_aws_limits() -> None:
    """Target group and load balancer names are `<logical name>-<7 hex>` (AUTONAME_SUFFIX) and
    start with the environment name; with the longest name the settings accept (10 characters,
    settings/model.py `_environment_names`) they stay within CreateTargetGroup's and
    CreateLoadBalancer's 32 characters."""
    longest = "x" * 10
    assert _rule("environments").check([longest]) is None
    assert _rule("environments").check([longest + "x"]) is not None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    prod = synthesize("prod")
    loop.close()
    asyncio.set_event_loop(None)
    for resource_type in (TARGET_GROUP, LOAD_BALANCER):
        records = prod.of_type(resource_type)
        assert records
        for record in records:
            logical = re.sub(r"^(blue|green)", longest, record.name)
            name = logical + "-" + "a" * (AUTONAME_SUFFIX - 1)
            assert value_problem(table()[resource_type]["name"], name) is None, name


@pytest.mark.parametrize(
    ("namespace", "problem"),
    [
        (":steadystate", 'must match [^:].* (got ":steadystate")'),
        ("s" * 256, "must be at most 255 characters long (got 256"),
        ("AWS/ECS", "must not begin with AWS/"),
    ],
)
def test_settings_refuse_a_metric_namespace_cloudwatch_rejects(
    namespace: str, problem: str
) -> None:
    """connectivity.namespace becomes the alarms' Namespace (cloudwatch PutMetricAlarm; botocore:
    1..255 characters, pattern `[^:].*`) and the prober's PutMetricData Namespace, whose
    documentation reserves namespaces beginning with AWS/ for AWS."""
    (found,) = _problems({"connectivity": {"namespace": namespace}})
    assert found.startswith("steadystate:connectivity.namespace = ")
    assert problem in found
    assert load_settings({"steadystate:connectivity": json.dumps({"namespace": "team/app"})})
