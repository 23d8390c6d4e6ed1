"""ChaosExperiments under the SDK mock runtime: FIS templates with alarm stop conditions, a
least-privilege FIS role, schedules on the universal StartExperiment target at most 35 days apart,
and clear errors for bad arguments."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.chaos_experiments import (
    SCHEDULE_MAX_EVENT_AGE_SECONDS,
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
QUEUE = "aws:sqs/queue:Queue"


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
    alarms = {a.name for a in rec.of_type(ALARM)}
    assert alarms == {"chaos-guard-elb-5xx", "chaos-guard-target-5xx", "chaos-schedule-dlq"}
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
    # listing and describing tasks only in the stack's cluster (Service Authorization
    # Reference, Amazon ECS: both take ecs:cluster; DescribeTasks is resource-level on tasks)
    cluster = "arn:aws:ecs:us-east-2:123456789012:cluster/steady-cluster"
    assert by_sid["DescribeTasksOfTheCluster"]["Action"] == ["ecs:DescribeTasks"]
    assert by_sid["DescribeTasksOfTheCluster"]["Resource"] == [
        "arn:aws:ecs:us-east-2:123456789012:task/steady-cluster/*"
    ]
    assert by_sid["ListTasksOfTheCluster"]["Action"] == ["ecs:ListTasks"]
    for sid in ("DescribeTasksOfTheCluster", "ListTasksOfTheCluster", "StopTasksOfTheCluster"):
        assert by_sid[sid]["Condition"] == {"ArnEquals": {"ecs:cluster": cluster}}, sid
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


def test_a_failed_scheduled_start_is_retried_then_dead_lettered_and_alarmed(mocked) -> None:
    """EventBridge Scheduler user guide, "Configuring a schedule's dead-letter queue": the
    schedule's execution role sends the dead-letter event (sqs:SendMessage), the queue needs no
    policy; FIS creates AWSServiceRoleForFIS on an account's first StartExperiment, a dependent
    action (iam:CreateServiceLinkedRole) of fis:StartExperiment in the Service Authorization
    Reference."""
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args()))
    [queue] = rec.of_type(QUEUE)
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert "fifoQueue" not in queue.inputs  # Scheduler refuses a FIFO dead-letter queue
    assert not rec.of_type("aws:sqs/queuePolicy:QueuePolicy")
    for schedule in rec.of_type(SCHEDULE):
        target = schedule.inputs["target"]
        assert target["deadLetterConfig"] == {"arn": queue.outputs["arn"]}
        assert target["retryPolicy"] == {
            "maximumRetryAttempts": 3,
            "maximumEventAgeInSeconds": SCHEDULE_MAX_EVENT_AGE_SECONDS,
        }
    # the last retry of the latest weekly start (16:45) still begins before business hours end
    assert 16 * 3600 + 45 * 60 + SCHEDULE_MAX_EVENT_AGE_SECONDS < 17 * 3600
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-scheduler"].inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DeadLetterFailedStarts"]["Action"] == ["sqs:SendMessage"]
    assert by_sid["DeadLetterFailedStarts"]["Resource"] == [queue.outputs["arn"]]
    slr = by_sid["CreateFisServiceLinkedRoleOnFirstUse"]
    assert slr["Action"] == ["iam:CreateServiceLinkedRole"]
    assert slr["Resource"] == [
        "arn:aws:iam::123456789012:role/aws-service-role/fis.amazonaws.com/AWSServiceRoleForFIS"
    ]
    assert slr["Condition"] == {"StringEquals": {"iam:AWSServiceName": "fis.amazonaws.com"}}
    alarm = by_name(rec.of_type(ALARM))["chaos-schedule-dlq"].inputs
    assert (alarm["namespace"], alarm["metricName"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible",
    )  # fmt: skip
    assert alarm["dimensions"] == {"QueueName": queue.outputs["name"]}
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0.0)
    assert alarm["treatMissingData"] == "ignore"  # see components.dead_letters
    assert alarm["alarmActions"] == ["arn:aws:sns:us-east-2:123456789012:alerts"]


def test_every_child_is_parented_under_the_component(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", with_cdn()))
    [component] = rec.of_type("steadystate:chaos:ChaosExperiments")
    children = {r.urn for r in rec.children_of(component)}
    assert children and children == {r.urn for r in rec.records if r is not component}


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


DOCUMENT = "aws:ssm/document:Document"
FAMILIES = ["steadystate-prod-blue-fleet", "steadystate-prod-blue-1box"]


def with_cdn(**change) -> ChaosExperimentsArgs:
    return chaos_args(
        blackhole_hosts={"cdn": "aws.amazon.com"}, blackhole_families=FAMILIES, **change
    )


def test_the_cdn_cut_sends_the_stacks_document_to_every_cluster_host(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", with_cdn()))
    [doc] = rec.of_type(DOCUMENT)
    assert doc.inputs["documentType"] == "Command"
    assert doc.inputs["documentFormat"] == "JSON"
    content = json.loads(doc.inputs["content"])
    assert content["schemaVersion"] == "2.2"
    assert content["mainSteps"][0]["action"] == "aws:runShellScript"
    assert all("allowedPattern" in p for p in content["parameters"].values())
    template = by_name(rec.of_type(TEMPLATE))["chaos-dependency-cdn"].inputs
    [action] = template["actions"]
    assert action["actionId"] == "aws:ssm:send-command"
    parameters = {p["key"]: p["value"] for p in action["parameters"]}
    assert parameters["documentArn"] == doc.outputs["arn"]
    assert parameters["duration"] == "PT5M"
    assert json.loads(parameters["documentParameters"]) == {
        "Families": ",".join(FAMILIES),
        "Host": "aws.amazon.com",
        "DurationSeconds": "300",
        "ResolveEverySeconds": "5",
    }
    [target] = template["targets"]
    assert target["resourceType"] == "aws:ec2:instance"
    assert target["selectionMode"] == "ALL"  # blue's tasks may run on any host
    assert target["resourceTags"] == [{"key": "aws:autoscaling:groupName", "value": "steady-asg"}]
    assert target["filters"] == [{"path": "State.Name", "values": ["running"]}]
    assert len(template["stopConditions"]) == 2


def test_the_fis_role_may_send_only_the_document_and_only_to_cluster_hosts(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", with_cdn()))
    [doc] = rec.of_type(DOCUMENT)
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-fis"].inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    send = [s for s in policy["Statement"] if "ssm:SendCommand" in s["Action"]]
    assert {s["Sid"] for s in send} == {"SendTheBlackholeDocument", "SendCommandsToClusterHosts"}
    assert by_sid["SendTheBlackholeDocument"]["Resource"] == [doc.outputs["arn"]]
    hosts = by_sid["SendCommandsToClusterHosts"]
    assert hosts["Resource"][0].endswith(":instance/*")
    assert hosts["Condition"] == {
        "StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": "steady-asg"}
    }
    assert by_sid["FollowCommands"]["Action"] == ["ssm:CancelCommand", "ssm:ListCommands"]
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not any(a.endswith("*") for a in actions)
    # without a host dependency there is no document and no SSM right at all
    rec = mocked(lambda: ChaosExperiments("chaos", chaos_args()))
    assert rec.of_type(DOCUMENT) == []
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-fis"].inputs["policy"])
    assert not [a for s in policy["Statement"] for a in s["Action"] if a.startswith("ssm:")]


def test_four_templates_run_on_the_first_to_fourth_weekday(mocked) -> None:
    rec = mocked(lambda: ChaosExperiments("chaos", with_cdn()))
    schedules = by_name(rec.of_type(SCHEDULE))
    assert sorted(schedules) == sorted(t.name for t in rec.of_type(TEMPLATE))
    assert schedules["chaos-dependency-cdn"].inputs["scheduleExpression"] == (
        "cron(0 10 ? * TUE#4 *)"
    )
    policy = json.loads(by_name(rec.of_type(ROLE_POLICY))["chaos-scheduler"].inputs["policy"])
    start = next(s for s in policy["Statement"] if s["Sid"] == "StartTheStacksTemplates")
    assert len(start["Resource"]) == 5


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"blackhole_hosts": {"cdn": "aws.amazon.com;reboot"}}, "blackhole_hosts"),
        ({"blackhole_hosts": {"db": "db.example.com"}}, "blackhole_hosts"),
        ({"blackhole_hosts": {"cdn": "aws.amazon.com"}}, "blackhole_families"),
        ({"blackhole_hosts": {"cdn": "a.example.com", "img": "b.example.com"},
          "blackhole_families": FAMILIES}, "blackhole_hosts"),  # 5 templates, monthly
    ],
)  # fmt: skip
def test_bad_blackhole_arguments_name_the_argument(change, arg) -> None:
    with pytest.raises(ValueError, match=rf"ChaosExperimentsArgs\.{arg} must be"):
        ChaosExperiments("chaos", chaos_args(**change))
