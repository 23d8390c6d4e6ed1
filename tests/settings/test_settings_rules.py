"""Each cross-key rule of settings/loader.py and each refusal of a custom check in
settings/model.py: the bad value is reported with the exact message, and the value just inside
the rule is accepted."""

from __future__ import annotations

import dataclasses
import json

import pytest

from settings import Settings, SettingsError, load_settings
from settings.loader import consistency_problems

ARN = "arn:aws:acm:us-east-2:123456789012:certificate/abc"
# A prod stack the settings accept over the default two zones: it rides out a zone's loss
# (settings/loader.py zone_loss_group: two hosts, managed scaling and the CPU target at most half)
# and has what prod's mandatory policies need beside the defaults (dev's).
PROD_LB = {"deletionProtection": True, "certificateDomain": "api.example.com"}
PROD = {
    "stage": "prod",
    "service": {"minTasks": 2, "cpuTarget": 50},
    "connectivity": {"alarmEmails": ["o@x.io"]},
    "cluster": {
        "minInstances": 2,
        "targetCapacityPercent": 50,
        "managedTerminationProtection": True,
    },
    "loadBalancer": PROD_LB,
}
PROD_DB = {"enabled": True, "deletionProtection": True, "multiAz": True}


def raw(groups: dict[str, object]) -> dict[str, str]:
    return {
        f"steadystate:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in groups.items()
    }


def problems(groups: dict[str, object]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw(groups))
    return [str(p) for p in caught.value.problems]


# name: (bad config, the one problem it must produce, the nearest config that is fine)
CROSS_KEY_RULES: dict[str, tuple[dict[str, object], str, dict[str, object]]] = {
    "cluster min above max": (
        {"cluster": {"minInstances": 3, "maxInstances": 2}},
        "steadystate:cluster.minInstances = 3: must not exceed cluster.maxInstances (2)",
        {"cluster": {"minInstances": 2, "maxInstances": 2}},
    ),
    "latency datapoints above periods": (
        {"release": {"latencyDatapoints": 5, "latencyEvaluationPeriods": 4}},
        "steadystate:release.latencyDatapoints = 5: must not exceed release.latencyEvaluationPeriods (4)",
        {"release": {"latencyDatapoints": 4, "latencyEvaluationPeriods": 4}},
    ),
    "error datapoints above periods": (
        {"release": {"errorDatapoints": 3, "errorEvaluationPeriods": 2}},
        "steadystate:release.errorDatapoints = 3: must not exceed release.errorEvaluationPeriods (2)",
        {"release": {"errorDatapoints": 2, "errorEvaluationPeriods": 2}},
    ),
    "certificate ARN and domain": (
        {"loadBalancer": {"certificateArn": ARN, "certificateDomain": "example.com"}},
        "steadystate:loadBalancer.certificateDomain = example.com: set either "
        "loadBalancer.certificateArn or loadBalancer.certificateDomain, not both",
        {"loadBalancer": {"certificateArn": ARN}},
    ),
    "DNS with one environment": (
        {"environments": ["blue"], "dns": {"enabled": True}},
        "steadystate:dns.enabled = true: needs exactly two environments, got ['blue']",
        {"environments": ["blue", "green"], "dns": {"enabled": True}},
    ),
    "storage ceiling below storage": (
        {"database": {"allocatedStorage": 50, "maxAllocatedStorage": 40}},
        "steadystate:database.maxAllocatedStorage = 40: must be at least database.allocatedStorage (50)",
        {"database": {"allocatedStorage": 50, "maxAllocatedStorage": 50}},
    ),
    "prod chaos with its schedules off": (
        {**PROD, "chaos": {"enabled": True, "schedulesEnabled": False}},
        "steadystate:chaos.schedulesEnabled = false: must be true in prod when chaos.enabled: the "
        "gate refuses a disabled prod chaos schedule (chaos-schedule-enabled-in-prod); set "
        "chaos.enabled false to remove the experiments instead",
        {**PROD, "chaos": {"enabled": False, "schedulesEnabled": False}},
    ),
    "prod database without scheduled rotation": (
        {**PROD, "database": {**PROD_DB, "rotationDays": None}},
        "steadystate:database.rotationDays = null: must be set in prod (1–30): the app's "
        "database credentials rotate at least every 30 days (the gate refuses a prod app secret "
        "without it, db-app-secret-rotation)",
        {**PROD, "database": {**PROD_DB, "rotationDays": 30}},
    ),
    "prod load balancers without zonal shift": (
        {**PROD, "zonalShift": {"enabled": False}},
        "steadystate:zonalShift.enabled = false: must be true in prod: every prod load balancer "
        "can be shifted out of an impaired zone (the gate refuses it otherwise, "
        "lb-zonal-shift-enabled)",
        {**PROD, "zonalShift": {"enabled": True}},
    ),
    "prod load balancers without zonal autoshift": (
        {**PROD, "zonalShift": {"autoshift": False}},
        "steadystate:zonalShift.autoshift = false: must not be false in prod: AWS shifts prod's "
        "load balancers out of an impaired zone and practises it weekly (the gate refuses it "
        "otherwise, lb-zonal-autoshift-practised)",
        {**PROD, "zonalShift": {"autoshift": None}},
    ),
    "autoshift without zonal shift": (
        {"zonalShift": {"enabled": False, "autoshift": True}},
        "steadystate:zonalShift.enabled = false: must be true when zonalShift.autoshift is: ARC "
        "shifts only load balancers with zonal shift enabled",
        {"zonalShift": {"enabled": False, "autoshift": None}},
    ),
    "practice window ending before it starts": (
        {"zonalShift": {"practiceStartHour": 12, "practiceEndHour": 12}},
        "steadystate:zonalShift.practiceStartHour = 12: must be before zonalShift.practiceEndHour (12)",
        {"zonalShift": {"practiceStartHour": 11, "practiceEndHour": 12}},
    ),
    "prod load balancers without WAF": (
        {**PROD, "loadBalancer": {**PROD_LB, "waf": False}},
        "steadystate:loadBalancer.waf = false: must be true in prod: the internet-facing load "
        "balancers stay behind AWS WAF (the gate refuses a prod ALB without a web ACL, "
        "lb-internet-facing-waf); set it false in dev stacks only",
        {"loadBalancer": {"waf": False}},
    ),
}


@pytest.mark.parametrize("case", sorted(CROSS_KEY_RULES))
def test_cross_key_rule_refuses_the_bad_pair(case: str) -> None:
    bad, expected, _ = CROSS_KEY_RULES[case]
    assert problems(bad) == [expected]


@pytest.mark.parametrize("case", sorted(CROSS_KEY_RULES))
def test_cross_key_rule_accepts_the_edge(case: str) -> None:
    _, _, fine = CROSS_KEY_RULES[case]
    load_settings(raw(fine))


def test_no_host_for_the_tasks() -> None:
    # cluster.maxInstances has a minimum of 1, so only a Settings built in code reaches this rule.
    settings = dataclasses.replace(
        Settings(),
        cluster=dataclasses.replace(Settings().cluster, max_instances=0, min_instances=0),
    )
    assert [str(p) for p in consistency_problems(settings)] == [
        "steadystate:cluster.maxInstances = 0: must allow at least one host for the tasks"
    ]
    no_tasks = dataclasses.replace(
        settings, service=dataclasses.replace(settings.service, min_tasks=0)
    )
    assert consistency_problems(no_tasks) == []


# name: (config, the start of the one problem it must produce)
CUSTOM_CHECK_REFUSALS: dict[str, tuple[dict[str, object], str]] = {
    "practice day on a weekend": (
        {"zonalShift": {"practiceDays": ["MON", "SAT"]}},
        'steadystate:zonalShift.practiceDays = ["MON", "SAT"]: item 1 (\'SAT\') is not one of '
        "MON, TUE, WED, THU, FRI",
    ),
    "practice day twice": (
        {"zonalShift": {"practiceDays": ["MON", "MON"]}},
        'steadystate:zonalShift.practiceDays = ["MON", "MON"]: must not repeat a day',
    ),
    "VPC prefix too long": (
        {"network": {"cidr": "10.0.0.0/24"}},
        "steadystate:network.cidr = 10.0.0.0/24: prefix length must be between /16 and /22",
    ),
    "avoided network not a CIDR": (
        {"network": {"avoidCidrs": ["10.1.0.0/16", "10.2.0.0/33"]}},
        'steadystate:network.avoidCidrs = ["10.1.0.0/16", "10.2.0.0/33"]: item 1 (\'10.2.0.0/33\') is not an IPv4 network',
    ),
    "instance type shape": (
        {"cluster": {"instanceType": "T3-small"}},
        "steadystate:cluster.instanceType = T3-small: must be an EC2 instance type like t3.small",
    ),
    "certificate ARN of another service": (
        {"loadBalancer": {"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}},
        "steadystate:loadBalancer.certificateArn = arn:aws:iam::123456789012:server-certificate/x: must be an ARN of acm",
    ),
    "certificate domain not a DNS name": (
        {"loadBalancer": {"certificateDomain": "localhost"}},
        "steadystate:loadBalancer.certificateDomain = localhost: must be a DNS name like example.com",
    ),
    "zone name not a DNS name": (
        {"dns": {"zoneName": "-bad-.com"}},
        "steadystate:dns.zoneName = -bad-.com: must be a DNS name like example.com",
    ),
    "record name with a dot": (
        {"dns": {"recordName": "api.v2"}},
        "steadystate:dns.recordName = api.v2: must be a single DNS label like api",
    ),
    "environment name with capitals": (
        {"environments": ["Blue"]},
        "steadystate:environments = [\"Blue\"]: item 0 ('Blue') must be lower-case letters/digits, at most 10 characters",
    ),
    "environment twice": (
        {"environments": ["blue", "blue"]},
        'steadystate:environments = ["blue", "blue"]: names must be unique',
    ),
    "three environments": (
        {"environments": ["blue", "green", "red"]},
        'steadystate:environments = ["blue", "green", "red"]: must name one environment, or two for blue/green',
    ),
    "dependency with an unknown field": (
        {"connectivity": {"dependencies": [{"name": "db", "port": 5432}]}},
        'steadystate:connectivity.dependencies = [{"name": "db", "port": 5432}]: item 0 must be an object with \'name\'',
    ),
    "dependency without a name": (
        {"connectivity": {"dependencies": [{"target": "tcp://db:5432"}]}},
        'steadystate:connectivity.dependencies = [{"target": "tcp://db:5432"}]: item 0 must be an object with \'name\'',
    ),
    "dependency name with a dash": (
        {"connectivity": {"dependencies": [{"name": "my-db"}]}},
        'steadystate:connectivity.dependencies = [{"name": "my-db"}]: item 0 name \'my-db\' must be lower-case letters/digits',
    ),
    "dependency target without a port": (
        {"connectivity": {"dependencies": [{"name": "db", "target": "tcp://db"}]}},
        'steadystate:connectivity.dependencies = [{"name": "db", "target": "tcp://db"}]: item 0 target \'tcp://db\' must look like tcp://host:port',
    ),
    "dependency twice": (
        {"connectivity": {"dependencies": [{"name": "db"}, {"name": "db"}]}},
        'steadystate:connectivity.dependencies = [{"name": "db"}, {"name": "db"}]: dependency names must be unique',
    ),
    "database class without db.": (
        {"database": {"instanceClass": "t4g.micro"}},
        "steadystate:database.instanceClass = t4g.micro: must start with db.",
    ),
}


@pytest.mark.parametrize("case", sorted(CUSTOM_CHECK_REFUSALS))
def test_custom_check_refuses_with_its_message(case: str) -> None:
    config, expected = CUSTOM_CHECK_REFUSALS[case]
    found = problems(config)
    assert len(found) == 1 and found[0].startswith(expected), found
