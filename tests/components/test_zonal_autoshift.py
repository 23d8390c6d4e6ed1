"""ZonalAutoshift under the SDK mock runtime, its pure helpers, and the prod stack's wiring.

What AWS requires, pinned here (sources in ``components/zonal_autoshift.py``): an autoshift
configuration needs an outcome alarm (botocore ``arc-zonal-shift`` ``OutcomeAlarms`` min 1, type
``CLOUDWATCH``); allowed windows are ``Day:HH:MM-Day:HH:MM`` (``AllowedWindow`` pattern, UTC, same
day); the load balancer needs ``enableZonalShift`` (ELB attribute ``zonal_shift.config.enabled``).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from components.load_balancer import PublicLoadBalancer, PublicLoadBalancerArgs, WeightedTarget
from components.zonal_autoshift import (
    ARC_WINDOW,
    ZonalAutoshift,
    ZonalAutoshiftArgs,
    default_practice_days,
    practice_windows,
    zone_lost_expression,
)
from ops.alarm_replay import metric_math
from ops.synth.runner import synthesize

CONFIG = "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALB = "aws:lb/loadBalancer:LoadBalancer"
ZONES = ["us-east-2a", "us-east-2b", "us-east-2c"]
WINDOWS = ["Mon:09:00-Mon:17:00", "Wed:09:00-Wed:17:00"]
BLOCKING = [
    "arn:aws:cloudwatch:us-east-2:123456789012:alarm:blue-fleet-5xx-rate",
    "arn:aws:cloudwatch:us-east-2:123456789012:alarm:connectivity-blue-all",
]


def args(**changes) -> ZonalAutoshiftArgs:
    base = {
        "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-2:1:loadbalancer/app/blue/1",
        "load_balancer_arn_suffix": "app/blue/1",
        "zones": ZONES,
        "alarm_topic_arn": "arn:aws:sns:us-east-2:123456789012:alerts",
        "allowed_windows": WINDOWS,
        "blocking_alarm_arns": BLOCKING,
        "fleet_target_group_arn_suffix": "targetgroup/blue-fleet/1",
    }
    return ZonalAutoshiftArgs(**{**base, **changes})


def only(rec, type_token: str):
    (record,) = rec.of_type(type_token)
    return record


# pure helpers ---------------------------------------------------------------------------------


def test_practice_windows_are_arcs_same_day_utc_windows() -> None:
    windows = practice_windows(["MON", "THU"], 9, 17)
    assert windows == ["Mon:09:00-Mon:17:00", "Thu:09:00-Thu:17:00"]
    assert all(ARC_WINDOW.fullmatch(w) and len(w) == 19 for w in windows)


@pytest.mark.parametrize(
    ("days", "start", "end", "message"),
    [
        ([], 9, 17, "at least one day"),
        (["SAT"], 9, 17, "'SAT': must be one of MON"),
        (["MON"], 17, 9, "start < end"),
        (["MON"], 9, 24, "start < end <= 23"),
    ],
)
def test_practice_windows_refuse_what_arc_would(days, start, end, message) -> None:
    with pytest.raises(ValueError, match=message):
        practice_windows(days, start, end)


def test_the_default_practice_days_skip_the_chaos_day() -> None:
    assert default_practice_days(["TUE"]) == ["MON", "WED", "THU", "FRI"]
    assert default_practice_days(["TUE", "WED"]) == ["MON", "THU", "FRI"]
    assert default_practice_days([]) == ["MON", "TUE", "WED", "THU", "FRI"]


def _lost(hosts: dict[str, float]) -> float:
    """The zone alarm's expression over one minute, evaluated as the alarm replay evaluates it."""
    ids = list(hosts)
    value = metric_math.evaluate(
        metric_math.parse(zone_lost_expression(ids)), lambda q: {0: hosts[q]}, [0]
    )
    return value[0] if isinstance(value, dict) else value


def test_the_zone_expression_fires_for_one_empty_zone_only() -> None:
    assert _lost({"zone0": 0, "zone1": 1, "zone2": 1}) == 1
    assert _lost({"zone0": 0, "zone1": 0, "zone2": 2}) == 1  # two zones lost, one still serving
    assert _lost({"zone0": 1, "zone1": 1, "zone2": 1}) == 0  # every zone serving
    assert _lost({"zone0": 0, "zone1": 0, "zone2": 0}) == 0  # no host anywhere: not zonal


def test_the_zone_expression_needs_two_zones() -> None:
    with pytest.raises(ValueError, match="at least two"):
        zone_lost_expression(["zone0"])


# the component --------------------------------------------------------------------------------


@pytest.fixture
def rec(mocked):
    return mocked(lambda: ZonalAutoshift("blue-zonal", args()), stack="prod")


def test_autoshift_is_enabled_with_both_outcome_alarms_the_blocking_alarms_and_windows(rec) -> None:
    config = only(rec, CONFIG).inputs
    outcomes = {a.name: a for a in rec.of_type(ALARM) if "-5xx-rate" in a.name}
    assert sorted(outcomes) == ["blue-zonal-lb-elb-5xx-rate", "blue-zonal-lb-target-5xx-rate"]
    assert config["resourceArn"] == args().load_balancer_arn
    assert config["zonalAutoshiftStatus"] == "ENABLED"
    assert sorted(a["alarmIdentifier"] for a in config["outcomeAlarms"]) == sorted(
        a.outputs["arn"] for a in outcomes.values()
    )
    assert [a["alarmIdentifier"] for a in config["blockingAlarms"]] == BLOCKING
    assert {a["type"] for a in config["outcomeAlarms"] + config["blockingAlarms"]} == {"CLOUDWATCH"}
    assert config["allowedWindows"] == WINDOWS
    assert "blockedWindows" not in config  # ARC (and the provider) refuse both kinds together


def test_the_outcome_alarms_read_the_whole_load_balancer_and_notify(rec) -> None:
    for alarm in (a for a in rec.of_type(ALARM) if "-5xx-rate" in a.name):
        metrics = [q["metric"] for q in alarm.inputs["metricQueries"] if q.get("metric")]
        assert {m["dimensions"]["LoadBalancer"] for m in metrics} == {"app/blue/1"}
        assert all(set(m["dimensions"]) == {"LoadBalancer"} for m in metrics)
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [args().alarm_topic_arn]
        assert alarm.inputs["treatMissingData"] == "notBreaching"


def test_the_zone_alarm_reads_each_zones_healthy_fleet_hosts(rec) -> None:
    alarm = next(a for a in rec.of_type(ALARM) if a.name == "blue-zonal-zone-lost")
    metrics = [q["metric"] for q in alarm.inputs["metricQueries"] if q.get("metric")]
    assert [m["dimensions"]["AvailabilityZone"] for m in metrics] == ZONES
    assert {m["metricName"] for m in metrics} == {"HealthyHostCount"}
    assert {m["stat"] for m in metrics} == {"Minimum"}
    assert {m["dimensions"]["TargetGroup"] for m in metrics} == {"targetgroup/blue-fleet/1"}
    assert "FILL" not in json.dumps(alarm.inputs["metricQueries"])


def test_without_autoshift_or_a_fleet_covering_every_zone_only_the_outcome_alarms(mocked) -> None:
    rec = mocked(
        lambda: ZonalAutoshift(
            "blue-zonal", args(autoshift=False, fleet_target_group_arn_suffix=None)
        ),
        stack="dev",
    )
    assert rec.of_type(CONFIG) == []
    assert sorted(a.name for a in rec.of_type(ALARM)) == [
        "blue-zonal-lb-elb-5xx-rate",
        "blue-zonal-lb-target-5xx-rate",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"blocking_alarm_arns": ["arn"] * 11}, "at most 10 blocking alarms"),
        ({"allowed_windows": ["Tue-09:00-Tue:17:00"]}, "not Day:HH:MM-Day:HH:MM"),
        ({"zones": ["us-east-2a"]}, "at least two"),
    ],
)
def test_arguments_arc_would_refuse_are_refused_before_anything_registers(
    mocked, changes, message
) -> None:
    with pytest.raises(ValueError, match=message):
        mocked(lambda: ZonalAutoshift("blue-zonal", args(**changes)), stack="prod")


def test_the_load_balancer_turns_zonal_shift_on_when_asked(mocked) -> None:
    def program(zonal_shift: bool):
        return lambda: PublicLoadBalancer(
            "blue",
            PublicLoadBalancerArgs(
                vpc_id="vpc-1",
                public_subnet_ids=["subnet-a", "subnet-b"],
                targets=[WeightedTarget("arn:tg", 1)],
                host_security_group_id="sg-1",
                access_logs=False,
                zonal_shift=zonal_shift,
            ),
        )

    assert only(mocked(program(True)), ALB).inputs["enableZonalShift"] is True
    assert only(mocked(program(False)), ALB).inputs["enableZonalShift"] is False


# the prod stack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize("prod").records
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_prod_puts_both_load_balancers_under_autoshift_blocked_by_their_own_alarms(prod) -> None:
    configs = {r.name: r.inputs for r in prod if r.type == CONFIG}
    assert sorted(configs) == ["blue-zonal-autoshift", "green-zonal-autoshift"]
    arns = {r.name: r.outputs.get("arn") for r in prod if r.type == ALARM}
    for env in ("blue", "green"):
        config = configs[f"{env}-zonal-autoshift"]
        blocking = {a["alarmIdentifier"] for a in config["blockingAlarms"]}
        expected = {
            arn
            for name, arn in arns.items()
            if name.startswith(f"{env}-")
            and name.endswith(("-5xx-rate", "-latency"))
            and "-zonal-" not in name
        } | {arns[f"connectivity-{env}-all"]}
        assert blocking == expected and len(expected) == 5  # onebox + fleet: 2 each, connectivity
        # chaos runs on TUE and the AZ experiment on WED (Pulumi.prod.yaml): practice runs never do
        assert [w[:3] for w in config["allowedWindows"]] == [
            "Mon",
            "Thu",
            "Fri",
        ]  # not TUE (chaos), nor WED (the AZ experiment)
    assert all(
        r.inputs["enableZonalShift"] is True
        for r in prod
        if r.type == ALB and r.inputs.get("loadBalancerType") == "application"
    )
