"""The az-power-interruption template (components.az_experiment) under the SDK mock runtime: one
zone's hosts stopped and launches there refused for the outage, its subnets cut for the
scenario's 2 minutes, the Multi-AZ database failed over when its primary is there; a role scoped
to that zone, those groups and that database; a schedule on its own day; clear errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.az_experiment import AzExperimentArgs, schedule_expression
from components.chaos_experiments import ChaosExperiments, ChaosExperimentsArgs
from settings import Settings, SettingsError, az_experiment_zone, load_settings

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ASG_ARN = "arn:aws:autoscaling:us-east-2:123456789012:autoScalingGroup:u-1:autoScalingGroupName/steady-asg"
DB_ARN = "arn:aws:rds:us-east-2:123456789012:db:steady-db"


def az_args(**change) -> AzExperimentArgs:
    base = AzExperimentArgs(
        zone="us-east-2b",
        asg_names=["steady-asg"],
        asg_arns=[ASG_ARN],
        subnet_ids=["subnet-pub-b", "subnet-priv-b", "subnet-iso-b"],
        database_arn=DB_ARN,
        outage_minutes=30,
    )
    return dataclasses.replace(base, **change)


def chaos_args(az: AzExperimentArgs | None, **change) -> ChaosExperimentsArgs:
    return ChaosExperimentsArgs(
        cluster_name="steady-cluster",
        service_name="svc-blue",
        asg_name="steady-asg",
        load_balancer_arn_suffix="app/steady/123",
        alarm_topic_arn="arn:aws:sns:us-east-2:123456789012:alerts",
        az_experiment=az,
        **change,
    )


def az_template(rec) -> dict:
    (template,) = [t for t in rec.of_type(TEMPLATE) if t.name == "chaos-az-power-interruption"]
    return template.inputs


def fis_policy(rec) -> dict[str, dict]:
    (policy,) = [p for p in rec.of_type(ROLE_POLICY) if p.name == "chaos-fis"]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def test_one_zone_loses_its_hosts_launches_network_and_database_primary(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(az_args())))
    template = az_template(rec)
    actions = {a["name"]: a for a in template["actions"]}
    targets = {t["name"]: t for t in template["targets"]}
    params = {
        n: {p["key"]: p["value"] for p in a.get("parameters") or []} for n, a in actions.items()
    }
    assert params == {
        "stop-zone-hosts": {
            "startInstancesAfterDuration": "PT30M",
            "completeIfInstancesTerminated": "true",
        },
        "refuse-launches-in-zone": {
            "availabilityZoneIdentifiers": "us-east-2b",
            "duration": "PT30M",
            "percentage": "100",
        },
        "cut-zone-subnets": {"duration": "PT2M", "scope": "all"},
        "fail-database-over": {"forceFailover": "true"},
    }
    hosts = targets["zone-hosts"]
    assert hosts["resourceTags"] == [{"key": "aws:autoscaling:groupName", "value": "steady-asg"}]
    assert {"path": "Placement.AvailabilityZone", "values": ["us-east-2b"]} in hosts["filters"]
    assert {"path": "State.Name", "values": ["running"]} in hosts["filters"]
    assert targets["host-groups"]["resourceArns"] == [ASG_ARN]
    assert targets["zone-subnets"]["resourceArns"] == [
        f"arn:aws:ec2:us-east-2:123456789012:subnet/{s}"
        for s in ("subnet-pub-b", "subnet-priv-b", "subnet-iso-b")
    ]
    database = targets["database-primary-in-zone"]
    assert database["resourceArns"] == [DB_ARN]
    assert database["filters"] == [{"path": "AvailabilityZone", "values": ["us-east-2b"]}]
    # a target that resolves empty (the primary elsewhere) is skipped, not a failed experiment
    assert template["experimentOptions"] == {"emptyTargetResolutionMode": "skip"}
    assert len(template["stopConditions"]) == 2
    assert template["tags"]["steadystate:experiment"] == "az-power-interruption"


def test_without_a_multi_az_database_nothing_fails_over(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(az_args(database_arn=None))))
    template = az_template(rec)
    assert "aws:rds:reboot-db-instances" not in {a["actionId"] for a in template["actions"]}
    assert not any(a.startswith("rds:") for s in fis_policy(rec).values() for a in s["Action"])


def test_the_role_stops_only_the_groups_hosts_in_that_zone(mocked) -> None:
    """SAR: ec2:StopInstances/StartInstances take aws:ResourceTag/${TagKey} and
    ec2:AvailabilityZone on instance; ec2:InjectApiError has no resource type and takes
    ec2:FisActionId and ec2:FisTargetArns (tests/stacks/test_iam_reference.py checks the keys)."""
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(az_args(database_arn=None))))
    by_sid = fis_policy(rec)
    stop = by_sid["StopAndStartTheZonesHosts"]
    assert stop["Action"] == ["ec2:StartInstances", "ec2:StopInstances"]
    assert stop["Resource"] == ["arn:aws:ec2:us-east-2:123456789012:instance/*"]
    assert stop["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/aws:autoscaling:groupName": ["steady-asg"],
            "ec2:AvailabilityZone": "us-east-2b",
        }
    }
    inject = by_sid["RefuseLaunchesOfTheHostGroups"]
    assert inject["Condition"] == {
        "StringEquals": {"ec2:FisActionId": "aws:ec2:asg-insufficient-instance-capacity-error"},
        "ForAllValues:ArnEquals": {"ec2:FisTargetArns": [ASG_ARN]},
        "Null": {"ec2:FisTargetArns": "false"},
    }
    # the subnet cut swaps ACLs: the network statements come with the AZ template even without
    # the database subnets' template
    assert "OnlyTheTemporaryAcl" in by_sid and "SwapSubnetAcls" in by_sid


@pytest.mark.parametrize(
    ("cadence", "weekday", "expected"),
    [
        ("monthly", "TUE", "cron(0 10 ? * WED#2 *)"),
        ("monthly", "FRI", "cron(0 10 ? * MON#2 *)"),
        ("weekly", "TUE", "cron(0 10 ? * WED *)"),
    ],
)
def test_the_schedule_runs_on_the_business_day_after_the_others(cadence, weekday, expected) -> None:
    assert schedule_expression(cadence, weekday, 10) == expected


def test_the_template_is_started_by_its_own_schedule(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(az_args(), cadence="monthly")))
    (schedule,) = [s for s in rec.of_type(SCHEDULE) if s.name == "chaos-az-power-interruption"]
    assert schedule.inputs["scheduleExpression"] == "cron(0 10 ? * WED#2 *)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"zone": "use2-az2"}, "zone must be a zone name like us-east-2a"),
        ({"outage_minutes": 4}, "outage_minutes must be 5-60"),
        ({"outage_minutes": 61}, "outage_minutes must be 5-60"),
        ({"asg_arns": []}, "asg_names and asg_arns must name the same groups"),
    ],
)
def test_bad_arguments_name_the_argument(change, message) -> None:
    with pytest.raises(ValueError, match=message):
        ChaosExperiments("chaos", chaos_args(az_args(**change)))


NAMES, IDS = ["us-east-2a", "us-east-2b", "us-east-2c"], ["use2-az1", "use2-az2", "use2-az3"]


def settings_with(zone: str | None, nat: str = "perAz") -> Settings:
    chaos = {"enabled": True, "azExperiment": True}
    if zone is not None:
        chaos["azExperimentZone"] = zone
    return load_settings(
        {
            "steadystate:chaos": json.dumps(chaos),
            "steadystate:network": json.dumps({"natStrategy": nat}),
        }
    )


@pytest.mark.parametrize(
    ("zone", "nat", "expected"),
    [
        (None, "perAz", "us-east-2a"),
        (None, "none", "us-east-2a"),
        (None, "single", "us-east-2b"),  # not the zone of the one NAT gateway (the first)
        ("us-east-2a", "single", "us-east-2a"),  # asked for: the NAT's zone it is
        ("us-east-2b", "perAz", "us-east-2b"),
        ("use2-az2", "perAz", "us-east-2b"),
    ],
)
def test_the_zone_is_the_setting_by_name_or_id_else_the_first_without_the_single_nat(
    zone, nat, expected
) -> None:
    assert az_experiment_zone(settings_with(zone, nat), NAMES[:2], NAMES, IDS) == expected


def test_one_zone_with_a_single_nat_is_still_that_zone() -> None:
    assert az_experiment_zone(settings_with(None, "single"), NAMES[:1], NAMES, IDS) == NAMES[0]


def test_a_zone_outside_the_stack_names_the_key_and_the_stacks_zones() -> None:
    with pytest.raises(SettingsError) as error:
        az_experiment_zone(settings_with("use2-az3"), NAMES[:2], NAMES, IDS)
    text = str(error.value)
    assert "steadystate:chaos.azExperimentZone" in text
    assert "us-east-2a (use2-az1), us-east-2b (use2-az2)" in text
