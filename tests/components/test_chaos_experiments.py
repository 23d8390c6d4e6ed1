"""ChaosExperiments under the SDK mock runtime: FIS templates with alarm stop conditions, a
least-privilege FIS role, schedules on the universal StartExperiment target at most 35 days apart,
and clear errors for bad arguments."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.chaos_experiments import (
    START_EXPERIMENT_TARGET,
    ChaosExperiments,
    ChaosExperimentsArgs,
    max_days_between_runs,
    schedule_expression,
)

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"


def chaos_args(**change) -> ChaosExperimentsArgs:
    base = ChaosExperimentsArgs(
        cluster_name="steady-cluster",
        service_name="svc-blue",
        asg_name="steady-asg",
        load_balancer_arn_suffix="app/steady/123",
        alarm_topic_arn="arn:aws:sns:us-east-2:123456789012:alerts",
        database_subnet_ids=["subnet-a", "subnet-b"],
    )
    return dataclasses.replace(base, **change)


def by_name(records):
    return {r.name: r for r in records}


def test_templates_stop_on_alarms_and_target_only_the_stack(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args()))
    templates = by_name(rec.of_type(TEMPLATE))
    assert sorted(templates) == ["chaos-dependency-db", "chaos-stop-task", "chaos-terminate-host"]
    guards = {a.name for a in rec.of_type(ALARM)}
    assert guards == {"chaos-guard-elb-5xx", "chaos-guard-target-5xx"}
    for template in templates.values():
        conditions = template.inputs["stopConditions"]
        assert len(conditions) == 2
        assert {c["source"] for c in conditions} == {"aws:cloudwatch:alarm"}
        assert all(c["value"] for c in conditions)
        assert template.inputs["logConfiguration"]["logSchemaVersion"] == 2
    task = templates["chaos-stop-task"].inputs
    assert task["actions"][0]["actionId"] == "aws:ecs:stop-task"
    assert task["targets"][0]["parameters"] == {"cluster": "steady-cluster", "service": "svc-blue"}
    assert task["targets"][0]["selectionMode"] == "COUNT(1)"
    host = templates["chaos-terminate-host"].inputs
    assert host["actions"][0]["actionId"] == "aws:ec2:terminate-instances"
    assert host["targets"][0]["resourceTags"] == [
        {"key": "aws:autoscaling:groupName", "value": "steady-asg"}
    ]
    db = templates["chaos-dependency-db"].inputs
    assert db["actions"][0]["actionId"] == "aws:network:disrupt-connectivity"
    assert {p["key"]: p["value"] for p in db["actions"][0]["parameters"]} == {
        "duration": "PT5M",
        "scope": "all",
    }
    assert [arn.rsplit("/", 1)[1] for arn in db["targets"][0]["resourceArns"]] == [
        "subnet-a",
        "subnet-b",
    ]


def test_the_network_fault_may_only_touch_acls_fis_tagged(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args()))
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-fis"].inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["TemporaryDenyAcl"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/managedByFIS": "true"}
    }
    assert by_sid["TemporaryDenyAclInTheVpc"]["Resource"][0].endswith(":vpc/*")
    assert by_sid["OnlyTheTemporaryAcl"]["Condition"] == {
        "StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}
    }


def test_the_fis_role_is_least_privilege(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(database_subnet_ids=None)))
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-fis"].inputs["policy"])
    actions = sorted(a for s in policy["Statement"] for a in s["Action"])
    assert not any(a.endswith("*") for a in actions)
    assert "ec2:CreateNetworkAcl" not in actions  # no dependency template, no ACL rights
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["StopTasksOfTheCluster"]["Condition"]["ArnEquals"]["ecs:cluster"].endswith(
        ":cluster/steady-cluster"
    )
    assert by_sid["TerminateClusterHosts"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": "steady-asg"}
    }
    trust = json.loads(by_name(rec.of_type(ROLE))["chaos-fis"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "fis.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Statement"][0]["Condition"]["StringEquals"]
    assert sorted(t.name for t in rec.of_type(TEMPLATE)) == [
        "chaos-stop-task",
        "chaos-terminate-host",
    ]


def test_schedules_start_each_template_in_business_hours(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args(timezone="Europe/Berlin")))
    schedules = by_name(rec.of_type(SCHEDULE))
    templates = by_name(rec.of_type(TEMPLATE))
    assert sorted(schedules) == sorted(templates)
    expressions = sorted(s.inputs["scheduleExpression"] for s in schedules.values())
    assert expressions == ["cron(0 10 ? * TUE#1 *)", "cron(0 10 ? * TUE#2 *)",
                           "cron(0 10 ? * TUE#3 *)"]  # fmt: skip
    for name, schedule in schedules.items():
        target = schedule.inputs["target"]
        assert target["arn"] == START_EXPERIMENT_TARGET
        body = json.loads(target["input"])
        assert body["ExperimentTemplateId"] == templates[name].outputs["id"]
        assert body["ClientToken"] == "<aws.scheduler.execution-id>"
        assert schedule.inputs["state"] == "ENABLED"
        assert schedule.inputs["scheduleExpressionTimezone"] == "Europe/Berlin"
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-scheduler"].inputs["policy"])
    start = next(s for s in policy["Statement"] if s["Sid"] == "StartTheStacksTemplates")
    assert start["Action"] == ["fis:StartExperiment"]
    assert len(start["Resource"]) == 4  # the three templates and the experiments they create


def test_cadence_keeps_runs_at_most_35_days_apart() -> None:
    assert schedule_expression("weekly", "MON", 9, 1) == "cron(0 9 ? * MON *)"
    assert schedule_expression("weekly", "MON", 9, 2) == "cron(15 9 ? * MON *)"  # not together
    assert schedule_expression("monthly", "FRI", 15, 3) == "cron(0 15 ? * FRI#3 *)"
    assert max(max_days_between_runs(c) for c in ("weekly", "monthly")) <= 35


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"cadence": "yearly"}, "cadence"),
        ({"weekday": "SUN"}, "weekday"),
        ({"hour": 3}, "hour"),
        ({"fault_duration": "5 minutes"}, "fault_duration"),
        ({"guard_5xx_per_minute": 0}, "guard_5xx_per_minute"),
    ],
)
def test_bad_arguments_name_the_argument(change, arg) -> None:
    with pytest.raises(ValueError, match=rf"ChaosExperimentsArgs\.{arg} must be"):
        ChaosExperiments("chaos", chaos_args(**change))
