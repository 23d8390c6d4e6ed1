"""FisRunRecorder under the SDK mock runtime: a rule on FIS's terminal state changes of the
stack's templates only, a Lambda function allowed to be invoked by that rule alone, a
least-privilege role, its own log group, and a package that runs without the checkout."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from chaos import fis_record
from components.chaos_records import HANDLER, FisRunRecorder, FisRunRecorderArgs

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:us-east-2:123456789012:alerts"
GUARDS = [
    "arn:aws:cloudwatch:us-east-2:123456789012:alarm:chaos-guard-elb-5xx",
    "arn:aws:cloudwatch:us-east-2:123456789012:alarm:chaos-guard-target-5xx",
]


def recorder_args(**change) -> FisRunRecorderArgs:
    base = FisRunRecorderArgs(
        template_ids={"stop-task": "EXTstop", "terminate-host": "EXTterm"},
        guard_alarm_arns=GUARDS,
        load_balancer_arn_suffix="app/steady/123",
        stack="prod",
        alarm_topic_arn=TOPIC,
        log_retention_days=30,
    )
    return dataclasses.replace(base, **change)


def only(rec, type_token: str):
    (record,) = rec.of_type(type_token)
    return record


def test_the_rule_matches_terminal_fis_states_of_the_stacks_templates(mocked) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    pattern = json.loads(only(rec, RULE).inputs["eventPattern"])
    assert pattern == {
        "source": ["aws.fis"],
        "detail-type": ["FIS Experiment State Change"],
        "detail": {
            "experiment-template-id": ["EXTstop", "EXTterm"],
            "new-state": {"status": ["completed", "stopped", "failed", "cancelled"]},
        },
    }
    function = only(rec, FUNCTION)
    target = only(rec, TARGET)
    assert target.inputs["rule"] == only(rec, RULE).outputs["name"]
    assert target.inputs["arn"] == function.outputs["arn"]
    permission = only(rec, PERMISSION).inputs
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function"] == function.outputs["name"]
    assert permission["sourceArn"] == only(rec, RULE).outputs["arn"]
    assert permission["sourceAccount"] == "123456789012"


def test_the_function_runs_the_handler_with_stack_and_load_balancer(mocked) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    function = only(rec, FUNCTION).inputs
    assert function["handler"] == HANDLER == "chaos.fis_record.handler"
    assert function["runtime"] in ("python3.12", "python3.13")
    assert function["environment"]["variables"] == {
        "STACK": "prod",
        "LOAD_BALANCER": "app/steady/123",
    }
    # nothing reserved: a new account's 10-execution quota would refuse the function
    assert "reservedConcurrentExecutions" not in function
    logs = only(rec, LOG_GROUP)
    assert logs.inputs["retentionInDays"] == 30
    assert function["loggingConfig"]["logGroup"] == logs.outputs["name"]
    assert function["role"] == only(rec, ROLE).outputs["arn"]


def test_reserved_concurrency_can_serialize_deliveries(mocked) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args(reserved_concurrency=1)))
    assert only(rec, FUNCTION).inputs["reservedConcurrentExecutions"] == 1


def test_the_role_is_least_privilege(mocked) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    trust = json.loads(only(rec, ROLE).inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = json.loads(only(rec, ROLE_POLICY).inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    actions = sorted(a for s in policy["Statement"] for a in s["Action"])
    assert actions == [
        "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricStatistics", "cloudwatch:PutMetricData",
        "fis:GetExperiment", "fis:GetExperimentTemplate", "logs:CreateLogStream",
        "logs:PutLogEvents", "sqs:SendMessage",
    ]  # fmt: skip
    assert by_sid["OnFailureDestination"]["Resource"] == [only(rec, QUEUE).outputs["arn"]]
    assert by_sid["PublishChaosMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "steadystate/chaos"}
    }
    assert by_sid["ReadGuardAlarms"]["Resource"] == GUARDS
    assert by_sid["ReadExperiments"]["Resource"] == [
        "arn:aws:fis:us-east-2:123456789012:experiment/*"
    ]
    assert by_sid["ReadTheStacksTemplates"]["Resource"] == [
        "arn:aws:fis:us-east-2:123456789012:experiment-template/EXTstop",
        "arn:aws:fis:us-east-2:123456789012:experiment-template/EXTterm",
    ]
    log_arn = only(rec, LOG_GROUP).outputs["arn"]
    assert by_sid["OwnLogGroup"]["Resource"] == [f"{log_arn}:*"]
    wildcards = [s["Sid"] for s in policy["Statement"] if s["Resource"] == ["*"]]
    assert wildcards == ["PublishChaosMetrics", "ReadMetrics"]  # no resource-level permissions


def test_the_package_is_the_handler_and_the_schema_as_text(mocked, tmp_path: Path) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    code = only(rec, FUNCTION).inputs["code"]
    assert isinstance(code, pulumi.AssetArchive)
    assert sorted(code.assets) == ["chaos/__init__.py", "chaos/fis_record.py", "chaos/metrics.py"]
    texts = {n: a.text for n, a in code.assets.items() if isinstance(a, pulumi.StringAsset)}
    assert sorted(texts) == sorted(code.assets)  # inline text only, no file paths
    assert texts["chaos/fis_record.py"] == Path(fis_record.__file__).read_text()
    for name, text in texts.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # a fresh interpreter that sees only the package (and the runtime's boto3) loads the handler
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import chaos.fis_record as f; "
        "assert f.__file__.startswith(sys.path[0]), f.__file__; print(callable(f.handler))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"template_ids": {}}, "template_ids"),
        ({"stack": ""}, "stack"),
        ({"memory_mb": 64}, "memory_mb"),
        ({"timeout_seconds": 1000}, "timeout_seconds"),
        ({"reserved_concurrency": 0}, "reserved_concurrency"),
    ],
)
def test_bad_arguments_name_the_argument(change, arg) -> None:
    with pytest.raises(ValueError, match=rf"FisRunRecorderArgs\.{arg} must be"):
        FisRunRecorder("fis-runs", recorder_args(**change))


def test_a_run_that_could_not_be_recorded_lands_in_an_alarmed_dead_letter_queue(mocked) -> None:
    """EventBridge invokes the function asynchronously: Lambda's own failures go to the
    on-failure destination (sent with the execution role), EventBridge's delivery failures to the
    target's dead-letter queue (allowed by the queue policy for this rule only) — Lambda
    developer guide "Capturing records of Lambda asynchronous invocations", EventBridge user
    guide "Using dead-letter queues to process undelivered events"."""
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    queue = only(rec, QUEUE)
    queue_arn = queue.outputs["arn"]
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 1209600
    assert "fifoQueue" not in queue.inputs  # none of the senders accepts a FIFO queue
    config = only(rec, INVOKE_CONFIG)
    assert config.inputs["functionName"] == only(rec, FUNCTION).outputs["name"]
    assert config.inputs["destinationConfig"] == {"onFailure": {"destination": queue_arn}}
    assert config.inputs["maximumRetryAttempts"] == 2
    # Lambda checks the role's access to the destination when the config is written
    assert only(rec, ROLE_POLICY).urn in config.dependencies
    target = only(rec, TARGET)
    assert target.inputs["deadLetterConfig"] == {"arn": queue_arn}
    assert only(rec, QUEUE_POLICY).urn in target.dependencies
    policy = only(rec, QUEUE_POLICY).inputs
    assert policy["queueUrl"] == queue.outputs["url"]
    [grant] = json.loads(policy["policy"])["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert grant["Action"] == ["sqs:SendMessage"]
    assert grant["Resource"] == [queue_arn]
    assert grant["Condition"] == {"ArnEquals": {"aws:SourceArn": only(rec, RULE).outputs["arn"]}}
    alarm = only(rec, ALARM).inputs
    assert (alarm["namespace"], alarm["metricName"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible",
    )  # fmt: skip
    assert alarm["dimensions"] == {"QueueName": queue.outputs["name"]}
    assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"]) == ("Maximum", 300, 1)
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0.0)
    # SQS stops publishing for a queue idle six hours, dead letter or not: keep the last state
    assert alarm["treatMissingData"] == "ignore"
    assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]


def test_every_child_is_parented_under_the_recorder(mocked) -> None:
    rec = mocked(lambda: FisRunRecorder("fis-runs", recorder_args()))
    [component] = rec.of_type("steadystate:chaos:FisRunRecorder")
    children = {r.urn for r in rec.children_of(component)}
    others = {r.urn for r in rec.records if r is not component}
    assert others and others == children


def test_with_the_prober_settings_the_function_checks_dependency_cuts(mocked) -> None:
    rec = mocked(
        lambda: FisRunRecorder(
            "fis-runs", recorder_args(probe_namespace="steadystate", primary_environment="blue")
        )
    )
    assert only(rec, FUNCTION).inputs["environment"]["variables"] == {
        "STACK": "prod",
        "LOAD_BALANCER": "app/steady/123",
        "PROBE_NAMESPACE": "steadystate",
        "PRIMARY": "blue",
    }
    with pytest.raises(ValueError, match="probe_namespace and primary_environment"):
        FisRunRecorder("x", recorder_args(probe_namespace="steadystate"))
