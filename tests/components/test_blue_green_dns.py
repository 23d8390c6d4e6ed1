"""BlueGreenDns under mocks (health checks, failover records, switch-over) and alarm_math."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from components.alarm_math import (
    ELB_ALIAS_TTL_SECONDS,
    alarm_detection_seconds,
    alarm_recovery_seconds,
    endpoint_check_detection_seconds,
    failover_estimate,
    failover_seconds,
)
from components.blue_green_dns import (
    BlueGreenDns,
    BlueGreenDnsArgs,
    EnvironmentEndpoint,
    validate_args,
)
from components.connectivity_alarms import ConnectivityAlarms, ConnectivityAlarmsArgs
from tests.support.sdk_properties import declared_inputs

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ZONE = "aws:route53/zone:Zone"
QUERY_LOG = "aws:route53/queryLog:QueryLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"

ENVIRONMENTS = {
    env: EnvironmentEndpoint(
        alb_dns_name=f"{env}-alb-123.us-east-2.elb.amazonaws.com",
        alb_zone_id="Z3AADJGX6KTTL2",
        aggregate_alarm_name=f"{env}-all-connectivity",
        aggregate_alarm_fingerprint="0123456789abcdef",
    )
    for env in ("blue", "green")
}
ARGS = BlueGreenDnsArgs(
    zone_name="example.com",
    record_name="api",
    primary="blue",
    environments=ENVIRONMENTS,
    alarm_region="us-east-2",
)


def build(args: BlueGreenDnsArgs = ARGS) -> BlueGreenDns:
    dns = BlueGreenDns("dns", args)
    pulumi.export("fqdn", dns.fqdn)
    pulumi.export("zone_id", dns.zone_id)
    pulumi.export("health_check_ids", dns.health_check_ids)
    pulumi.export("primary", dns.primary)
    return dns


@pytest.fixture
def rec(mocked):
    return mocked(build)


def by_id(rec) -> dict[str, object]:
    return {r.id: r for r in rec.of_type(HEALTH_CHECK)}


# -- health checks --------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["blue", "green"])
def test_fast_http_check_targets_the_alb_health_path(rec, env: str) -> None:
    check = rec.named(f"dns-{env}-http").inputs
    assert check["type"] == "HTTP"
    assert check["fqdn"] == ENVIRONMENTS[env].alb_dns_name
    assert check["resourcePath"] == "/health"
    assert check["port"] == 80
    assert check["requestInterval"] == 10
    assert check["failureThreshold"] == 3


@pytest.mark.parametrize("env", ["blue", "green"])
def test_alarm_check_follows_the_aggregate_and_fails_closed(rec, env: str) -> None:
    check = rec.named(f"dns-{env}-alarm").inputs
    assert check["type"] == "CLOUDWATCH_METRIC"
    assert check["cloudwatchAlarmName"] == f"{env}-all-connectivity"
    assert check["cloudwatchAlarmRegion"] == "us-east-2"
    assert check["insufficientDataHealthStatus"] == "Unhealthy"


@pytest.mark.parametrize("env", ["blue", "green"])
def test_calculated_check_needs_both_children_healthy(rec, env: str) -> None:
    calculated = rec.named(f"dns-{env}-health")
    assert calculated.inputs["type"] == "CALCULATED"
    assert calculated.inputs["childHealthThreshold"] == 2
    children = [by_id(rec)[i].name for i in calculated.inputs["childHealthchecks"]]
    assert sorted(children) == [f"dns-{env}-alarm", f"dns-{env}-http"]
    assert rec.outputs["health_check_ids"][env] == calculated.id


def test_https_and_custom_interval(mocked) -> None:
    green = dataclasses.replace(
        ENVIRONMENTS["green"], protocol="HTTPS", port=443, health_path="/hc"
    )
    args = dataclasses.replace(
        ARGS,
        environments={**ENVIRONMENTS, "green": green},
        health_check_interval=30,
        failure_threshold=5,
    )
    check = mocked(lambda: build(args)).named("dns-green-http").inputs
    assert (check["type"], check["port"], check["resourcePath"]) == ("HTTPS", 443, "/hc")
    assert (check["requestInterval"], check["failureThreshold"]) == (30, 5)


def test_alarm_names_are_wired_from_connectivity_alarms(mocked) -> None:
    def program() -> None:
        alarms = ConnectivityAlarms(
            "conn",
            ConnectivityAlarmsArgs(
                environments=["blue", "green"],
                dependencies=["db"],
                namespace="steadystate",
                topic_arn="arn:aws:sns:us-east-2:123456789012:alerts",
            ),
        )
        environments = {
            env: dataclasses.replace(
                endpoint,
                aggregate_alarm_name=alarms.aggregate_alarm_names[env],
                aggregate_alarm_fingerprint=alarms.aggregate_alarm_fingerprints[env],
            )
            for env, endpoint in ENVIRONMENTS.items()
        }
        BlueGreenDns(
            "dns",
            dataclasses.replace(ARGS, environments=environments, alarm_region=alarms.region),
        )

    rec = mocked(program)
    for env in ("blue", "green"):
        check = rec.named(f"dns-{env}-alarm").inputs
        assert check["cloudwatchAlarmName"] == rec.named(f"conn-{env}-all").outputs["name"]
        assert check["cloudwatchAlarmRegion"] == "us-east-2"


# -- alarm checks follow their alarms ----------------------------------------------------------

CONNECTIVITY = ConnectivityAlarmsArgs(
    environments=["blue", "green"],
    dependencies=["db"],
    namespace="steadystate",
    topic_arn="arn:aws:sns:us-east-2:123456789012:alerts",
)


def alarms_and_dns(connectivity: ConnectivityAlarmsArgs):
    """A program wiring ConnectivityAlarms into BlueGreenDns as the stack does."""

    def program() -> None:
        alarms = ConnectivityAlarms("conn", connectivity)
        environments = {
            env: dataclasses.replace(
                endpoint,
                aggregate_alarm_name=alarms.aggregate_alarm_names[env],
                aggregate_alarm_fingerprint=alarms.aggregate_alarm_fingerprints[env],
            )
            for env, endpoint in ENVIRONMENTS.items()
        }
        BlueGreenDns("dns", dataclasses.replace(ARGS, environments=environments))

    return program


def replacement_keys(rec, env: str) -> dict[str, object]:
    """The inputs of the alarm check that force its replacement, with their values."""
    check = rec.named(f"dns-{env}-alarm")
    values = {"cloudwatchAlarmName": check.inputs["cloudwatchAlarmName"]}
    values["cloudwatchAlarmRegion"] = check.inputs["cloudwatchAlarmRegion"]
    values["tags.AlarmConfiguration"] = check.inputs["tags"].get("AlarmConfiguration")
    assert set(check.options["replaceOnChanges"]) == set(values)
    return values


def alarm_evaluation_inputs(rec, env: str) -> dict[str, object]:
    """What decides when the aggregate alarm fires (everything but words, actions and tags)."""
    alarm = rec.named(f"conn-{env}-all").inputs
    ignored = {"alarmDescription", "alarmActions", "okActions", "actionsEnabled", "tags"}
    return {k: v for k, v in alarm.items() if k not in ignored}


@pytest.mark.parametrize(
    "change",
    [
        {"period_seconds": 120},
        {"evaluation_periods": 3},
        {"datapoints_to_alarm": 1},
        {"namespace": "steadystate-v2"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_the_alarm_settings_replaces_its_route53_check(mocked, change) -> None:
    before = mocked(alarms_and_dns(CONNECTIVITY))
    after = mocked(alarms_and_dns(dataclasses.replace(CONNECTIVITY, **change)))

    for env in ("blue", "green"):
        assert alarm_evaluation_inputs(before, env) != alarm_evaluation_inputs(after, env)
        assert replacement_keys(before, env) != replacement_keys(after, env)
        # The endpoint and calculated checks, and the records, are not replaced.
        assert before.named(f"dns-{env}-http").inputs == after.named(f"dns-{env}-http").inputs
        assert before.named(f"dns-{env}-health").options["replaceOnChanges"] == []


def test_unchanged_alarm_settings_leave_the_check_alone(mocked) -> None:
    first = mocked(alarms_and_dns(CONNECTIVITY))
    second = mocked(alarms_and_dns(CONNECTIVITY))
    for env in ("blue", "green"):
        assert replacement_keys(first, env) == replacement_keys(second, env)
        assert len(str(replacement_keys(first, env)["tags.AlarmConfiguration"])) == 16


def test_alarm_checks_are_replaced_create_before_delete(rec) -> None:
    """Route 53 refuses to delete a check a calculated check still lists (HealthCheckInUse): the
    new alarm check must exist and be listed before the old one goes."""
    for env in ("blue", "green"):
        assert rec.named(f"dns-{env}-alarm").options["deleteBeforeReplace"] is False
        assert rec.named(f"dns-{env}-health").options["deleteBeforeReplace"] is False
    assert all(not r.options["deleteBeforeReplace"] for r in rec.of_type(RECORD))


def test_a_missing_alarm_fingerprint_is_refused() -> None:
    blue = dataclasses.replace(ENVIRONMENTS["blue"], aggregate_alarm_fingerprint="")
    args = dataclasses.replace(ARGS, environments={**ENVIRONMENTS, "blue": blue})
    with pytest.raises(ValueError, match=r"environments\['blue'\]\.aggregate_alarm_fingerprint"):
        validate_args(args)


# -- records ----------------------------------------------------------------------------------


def records_by_role(rec) -> dict[str, object]:
    return {r.inputs["failoverRoutingPolicies"][0]["type"]: r for r in rec.of_type(RECORD)}


def env_of(rec, record) -> str:
    return by_id(rec)[record.inputs["healthCheckId"]].name.split("-")[1]


def test_primary_and_secondary_alias_records(rec) -> None:
    roles = records_by_role(rec)
    assert sorted(roles) == ["PRIMARY", "SECONDARY"]
    for role, env in (("PRIMARY", "blue"), ("SECONDARY", "green")):
        record = roles[role]
        assert record.inputs["name"] == "api.example.com"
        assert record.inputs["type"] == "A"
        assert "ttl" not in record.inputs and "records" not in record.inputs
        (alias,) = record.inputs["aliases"]
        assert alias["name"] == ENVIRONMENTS[env].alb_dns_name
        assert alias["zoneId"] == "Z3AADJGX6KTTL2"
        assert alias["evaluateTargetHealth"] is True
        assert record.inputs["healthCheckId"] == rec.named(f"dns-{env}-health").id
        assert env_of(rec, record) == env
    assert rec.outputs["primary"] == "blue"
    assert rec.outputs["fqdn"] == "api.example.com"


def test_zone_is_looked_up_by_name(rec) -> None:
    assert "aws:route53/getZone:getZone" in rec.invokes
    assert not rec.of_type(ZONE)
    zone_id = rec.outputs["zone_id"]
    assert zone_id.startswith("Z")
    assert all(r.inputs["zoneId"] == zone_id for r in rec.of_type(RECORD))


def test_zone_is_created_when_asked(mocked) -> None:
    rec = mocked(lambda: build(dataclasses.replace(ARGS, create_zone=True)))
    (zone,) = rec.of_type(ZONE)
    assert zone.inputs["name"] == "example.com"
    assert "aws:route53/getZone:getZone" not in rec.invokes
    assert all(r.inputs["zoneId"] == zone.outputs["zoneId"] for r in rec.of_type(RECORD))


# -- DNS query logging of a created zone (FSBP Route53.2) --------------------------------------


@pytest.fixture
def created(mocked):
    return mocked(
        lambda: build(
            dataclasses.replace(
                ARGS, create_zone=True, query_log_retention_days=90, tags={"Owner": "sre"}
            )
        )
    )


def test_a_created_zone_logs_its_queries_to_us_east_1(created) -> None:
    (zone,) = created.of_type(ZONE)
    (log_group,) = created.of_type(LOG_GROUP)
    (query_log,) = created.of_type(QUERY_LOG)
    assert log_group.inputs["name"] == "/aws/route53/example.com"
    assert log_group.inputs["region"] == "us-east-1"
    assert log_group.inputs["retentionInDays"] == 90
    assert log_group.inputs["tags"] == {"Owner": "sre"}
    assert "kmsKeyId" not in log_group.inputs  # CloudWatch Logs' service key, like every group
    assert query_log.inputs["zoneId"] == zone.outputs["zoneId"]
    assert query_log.inputs["cloudwatchLogGroupArn"] == log_group.outputs["arn"]
    assert log_group.outputs["arn"].startswith("arn:aws:logs:us-east-1:123456789012:log-group:")
    assert created.outputs["zone_id"] == zone.outputs["zoneId"]


def test_the_resource_policy_admits_route53_for_this_zone_and_account_only(created) -> None:
    (zone,) = created.of_type(ZONE)
    (policy,) = created.of_type(LOG_RESOURCE_POLICY)
    assert policy.inputs["region"] == "us-east-1"
    assert policy.inputs["policyName"] == "route53-query-logging-example.com"
    (grant,) = json.loads(policy.inputs["policyDocument"])["Statement"]
    assert grant["Effect"] == "Allow"
    assert grant["Principal"] == {"Service": "route53.amazonaws.com"}
    assert sorted(grant["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert grant["Resource"] == ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/*"]
    assert grant["Condition"] == {
        "ArnLike": {"aws:SourceArn": zone.outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }
    assert zone.outputs["arn"] == f"arn:aws:route53:::hostedzone/{zone.outputs['zoneId']}"


def test_the_query_log_waits_for_the_resource_policy(created) -> None:
    """Route 53 checks the resource policy when the configuration is created."""
    (policy,) = created.of_type(LOG_RESOURCE_POLICY)
    (query_log,) = created.of_type(QUERY_LOG)
    assert policy.urn in query_log.dependencies
    assert policy.urn not in query_log.property_dependencies.get("cloudwatchLogGroupArn", [])


def test_query_logging_uses_the_stacks_provider_and_so_its_default_tags(created) -> None:
    """No explicit provider: the region is per resource (pulumi-aws 7), so the default provider,
    with the stack's credentials and aws:defaultTags, manages the us-east-1 resources too."""
    assert not [r for r in created.records if r.type.startswith("pulumi:providers:")]
    providers = {r.provider for r in created.records if r.custom}
    assert len(providers) == 1 and "::default_" in providers.pop()


def test_query_logging_is_parented_and_uses_only_declared_inputs(created) -> None:
    component = created.named("dns")
    for token in (LOG_GROUP, LOG_RESOURCE_POLICY, QUERY_LOG):
        (record,) = created.of_type(token)
        assert record.parent == component.urn
        assert set(record.inputs) <= declared_inputs(token), token


def test_a_looked_up_zone_gets_no_query_logging(rec) -> None:
    for token in (ZONE, LOG_GROUP, LOG_RESOURCE_POLICY, QUERY_LOG):
        assert not rec.of_type(token), token
    assert not [r for r in rec.records if r.type.startswith("pulumi:providers:")]


@pytest.mark.parametrize("days", [0, 45, True, "30"])
def test_query_log_retention_must_be_a_cloudwatch_value(days) -> None:
    with pytest.raises(ValueError, match=r"BlueGreenDnsArgs\.query_log_retention_days must be"):
        validate_args(dataclasses.replace(ARGS, query_log_retention_days=days))


def test_flipping_primary_swaps_targets_in_place(mocked) -> None:
    blue = mocked(build)
    green = mocked(lambda: build(dataclasses.replace(ARGS, primary="green")))

    def identity(rec) -> set[tuple[str, str, str, str]]:
        """What Route 53 keys a record set by (plus its role): must not change on a flip."""
        return {
            (
                r.name,
                r.inputs["name"],
                r.inputs["setIdentifier"],
                r.inputs["failoverRoutingPolicies"][0]["type"],
            )
            for r in rec.of_type(RECORD)
        }

    assert identity(blue) == identity(green)
    assert {r.name for r in blue.records} == {r.name for r in green.records}
    assert env_of(green, records_by_role(green)["PRIMARY"]) == "green"
    assert env_of(green, records_by_role(green)["SECONDARY"]) == "blue"
    assert records_by_role(green)["PRIMARY"].inputs["aliases"][0]["name"] == (
        ENVIRONMENTS["green"].alb_dns_name
    )
    assert green.outputs["primary"] == "green"


def test_children_are_parented(rec) -> None:
    component = rec.named("dns")
    assert component.type == "steadystate:blue_green_dns:BlueGreenDns"
    assert len(rec.children_of(component)) == len(rec.records) - 1


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"primary": "red"}, "primary"),
        ({"environments": {"blue": ENVIRONMENTS["blue"]}}, "environments"),
        (
            {"environments": {**ENVIRONMENTS, "red": ENVIRONMENTS["blue"]}},
            "environments",
        ),
        ({"health_check_interval": 20}, "health_check_interval"),
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": 11}, "failure_threshold"),
        ({"record_name": "api.v1"}, "record_name"),
        ({"zone_name": ""}, "zone_name"),
        (
            {
                "environments": {
                    **ENVIRONMENTS,
                    "blue": dataclasses.replace(ENVIRONMENTS["blue"], protocol="TCP"),
                }
            },
            r"environments\['blue'\]\.protocol",
        ),
        (
            {
                "environments": {
                    **ENVIRONMENTS,
                    "blue": dataclasses.replace(ENVIRONMENTS["blue"], health_path="health"),
                }
            },
            r"environments\['blue'\]\.health_path",
        ),
    ],
)
def test_invalid_args_raise_naming_the_argument(change: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"BlueGreenDnsArgs\.{arg} must be"):
        BlueGreenDns("dns", dataclasses.replace(ARGS, **change))


def test_validation_message_names_value_and_allowed() -> None:
    with pytest.raises(ValueError) as error:
        BlueGreenDns("dns", dataclasses.replace(ARGS, health_check_interval=20))
    assert "[10, 30]" in str(error.value) and "20" in str(error.value)


# -- alarm_math -------------------------------------------------------------------------------


def test_alarm_detection_two_of_two_minutes() -> None:
    assert alarm_detection_seconds(60, 2) == 10 + 120
    assert (
        alarm_detection_seconds(60, 2, sample_interval_seconds=60, evaluation_lag_seconds=30) == 210
    )


def test_alarm_recovery_needs_n_minus_m_plus_one_good_periods() -> None:
    assert alarm_recovery_seconds(60, 2, 2) == 60
    assert alarm_recovery_seconds(60, 3, 2) == 120
    with pytest.raises(ValueError, match="datapoints_to_alarm"):
        alarm_recovery_seconds(60, 2, 3)


def test_endpoint_check_detection() -> None:
    assert endpoint_check_detection_seconds(10, 3) == 30
    assert endpoint_check_detection_seconds(30, 10) == 300


def test_failover_is_slowest_child_plus_ttl() -> None:
    assert ELB_ALIAS_TTL_SECONDS == 60
    assert failover_seconds(10, 3, 60, 2) == max(30, 130) + 60 == 190
    assert failover_seconds(30, 10, 60, 1, dns_ttl=0) == 300
    estimate = failover_estimate(10, 3, 60, 2)
    assert (estimate.endpoint_check, estimate.alarm, estimate.detection) == (30, 130, 130)
    assert estimate.total == 190


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_alarm_math_rejects_non_positive_inputs(bad) -> None:
    with pytest.raises(ValueError, match="period_seconds"):
        alarm_detection_seconds(bad, 2)
