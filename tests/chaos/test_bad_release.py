"""The bad-release experiment end to end on moto: ``python -m chaos.run`` releases the onebox with
the latency fault through the release pipeline's fault-release ``up``, played by
:class:`~tests.chaos.pulumi_on_moto.PulumiOnMoto` (the real program under the mock runtime, its
changes applied to moto ECS and SSM). moto's ECS never rolls back and its CloudWatch raises
NotImplementedError for DescribeAlarmHistory, so the test plays the deployment alarm and ECS's
rollback through the pause after the method, and the alarm probe judges on the states the method's
watch saw; the history path is tested with botocore's Stubber. The real ``pulumi up`` needs the
CLI and a deployed stack (skipped here, see the last test)."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chaos import bad_release
from chaos import run as chaos_run
from chaos.runner import load_experiment, validate_experiment
from ops.release.pipeline import Pipeline, PipelineOptions
from tests.chaos.moto_world import REGION
from tests.chaos.pulumi_on_moto import PulumiOnMoto

FAULT_ENV = {"FAULT_LATENCY_MS": "6000", "APP_ALLOW_FAULTS": "true"}


@pytest.fixture
def deployed(moto, fresh_loop, monkeypatch):
    """prod, deployed on moto; the experiment's pipeline runs on it."""
    stack = PulumiOnMoto(
        "prod",
        boto3.client("ecs", region_name=REGION),
        boto3.client("ssm", region_name=REGION),
        boto3.client("cloudwatch", region_name=REGION),
    )

    def no_watcher(_region):
        raise AssertionError("the fault-release up watches nothing: ECS is under test")

    def pipeline(name: str) -> Pipeline:
        assert name == "prod"
        return Pipeline(stack, no_watcher, PipelineOptions(namespace="steadystate"))

    monkeypatch.setattr(bad_release, "make_pipeline", pipeline)
    return stack


def names(stack: PulumiOnMoto) -> dict[str, str]:
    return dict(stack._outputs["serviceNames"])


def task_definition(stack: PulumiOnMoto, key: str) -> str:
    found = stack.ecs.describe_services(cluster=stack.cluster_name, services=[names(stack)[key]])
    return found["services"][0]["taskDefinition"]


def run(stack, tmp_path, sleep):
    journal = tmp_path / "journal.json"
    out = io.StringIO()
    argv = ["--experiment", "bad-release", "--stack", "prod", "--var", "poll_interval=0.05",
            "--var", "rollback_within=0.3", "--var", "restore_within=0.3", "--var",
            "alarm_within=0.3", "--no-metric", "--engine", "builtin", "--journal", str(journal)]  # fmt: skip
    outputs = dict(stack._outputs)
    code = chaos_run.main(argv, out=out, sleep=sleep, read_outputs=lambda _s: outputs)
    return code, out.getvalue(), json.loads(journal.read_text())


def alarm(stack: PulumiOnMoto, key: str, state: str = "ALARM") -> str:
    name = stack._outputs["deploymentAlarmNames"][key][0]
    reason = "p90 TargetResponseTime 6.0 > 3.0 in 3 of 4 minutes"
    stack.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    return name


def pin(stack: PulumiOnMoto, key: str) -> dict:
    value = stack.ssm.get_parameter(Name=f"/steadystate/prod/release/{key}")["Parameter"]["Value"]
    return json.loads(value)


def test_the_alarm_fires_ecs_rolls_the_onebox_back_and_the_fleet_never_moves(deployed, tmp_path):
    stack = deployed
    good, fleet = task_definition(stack, "blue-onebox"), task_definition(stack, "blue-fleet")
    seen = {}

    def the_alarm_fires_and_ecs_rolls_back(_seconds: float) -> None:
        onebox = names(stack)["blue-onebox"]
        seen["onebox"] = stack.environment(onebox)
        seen["fleet"] = stack.environment(names(stack)["blue-fleet"])
        seen["green"] = stack.environment(names(stack)["green-onebox"])
        seen["pin"] = pin(stack, "blue-onebox")
        bad = task_definition(stack, "blue-onebox")
        seen["tags"] = stack.ecs.list_tags_for_resource(resourceArn=bad)["tags"]
        seen["alarm"] = alarm(stack, "blue-onebox")
        stack.roll_back(onebox, good)

    code, log, journal = run(stack, tmp_path, the_alarm_fires_and_ecs_rolls_back)
    assert code == 0, log
    # the release went through the pipeline's fault-release up: the onebox alone got the fault
    assert seen["onebox"].items() >= FAULT_ENV.items()
    assert not FAULT_ENV.keys() & (seen["fleet"].keys() | seen["green"].keys())
    assert seen["pin"]["faults"] == {"latencyMs": 6000}
    assert {"key": "FaultSwitch", "value": "latencyMs=6000"} in seen["tags"]
    fault_run, put_back = stack.runs
    assert (
        fault_run["faults"] == {"blue-onebox": {"latencyMs": 6000}} and fault_run["rollout"] == []
    )
    assert "faults" not in put_back and set(put_back["pins"]) == {"blue-onebox"}
    output = journal["run"][0]["output"]
    assert output["good"] == good and output["bad"] != good and output["key"] == "blue-onebox"
    assert set(journal["run"][1]["output"]["alarmed"]) == {seen["alarm"]}
    assert "alarm history unreadable" in log  # moto: judged on the state seen during the method
    assert f"deployment alarm {seen['alarm']} seen in ALARM during the method" in log
    assert f"rolled back to {good}" in log
    assert f"fleet {names(stack)['blue-fleet']} still on {fleet}" in log
    # the rollback was the pipeline's put-back: the pin and the onebox are without the fault
    assert journal["rollbacks"][0]["status"] == "succeeded", log
    assert "faults" not in pin(stack, "blue-onebox")
    assert not FAULT_ENV.keys() & stack.environment(names(stack)["blue-onebox"]).keys()
    assert task_definition(stack, "blue-fleet") == fleet
    assert bad_release.RELEASED == {} and bad_release.ALARMED == {}


def test_no_alarm_and_no_rollback_deviates_and_the_pin_is_put_back(deployed, tmp_path):
    stack = deployed
    good = task_definition(stack, "blue-onebox")
    code, log, journal = run(stack, tmp_path, lambda _s: None)
    assert code == 1 and "outcome: deviated" in log, log
    assert "no deployment alarm reached ALARM after the release" in log
    assert journal["steady_states"]["after"]["probes"][0]["tolerance_met"] is False
    assert journal["rollbacks"][0]["status"] == "succeeded", log
    assert "faults" not in pin(stack, "blue-onebox")
    assert not FAULT_ENV.keys() & stack.environment(names(stack)["blue-onebox"]).keys()
    assert task_definition(stack, "blue-onebox") != good  # a new revision, same content as good


def test_an_alarm_without_ecs_rolling_back_deviates(deployed, tmp_path):
    stack = deployed
    good = task_definition(stack, "blue-onebox")
    code, log, _ = run(stack, tmp_path, lambda _s: alarm(stack, "blue-onebox"))
    assert code == 1 and "outcome: deviated" in log, log
    assert f"expected {good} COMPLETED" in log


def test_a_fleet_that_moves_deviates(deployed, tmp_path):
    stack = deployed
    good = task_definition(stack, "blue-onebox")
    fleet = names(stack)["blue-fleet"]
    other = stack.ecs.register_task_definition(
        family="other", containerDefinitions=[{"name": "app", "image": "x", "memory": 64}]
    )["taskDefinition"]["taskDefinitionArn"]

    def ecs_rolls_back_but_the_fleet_moves(_seconds: float) -> None:
        alarm(stack, "blue-onebox")
        stack.roll_back(names(stack)["blue-onebox"], good)
        stack.ecs.update_service(cluster=stack.cluster_name, service=fleet, taskDefinition=other)

    code, log, _ = run(stack, tmp_path, ecs_rolls_back_but_the_fleet_moves)
    assert code == 1 and "outcome: deviated" in log, log
    assert f"fleet {fleet} moved: {other}" in log


def test_a_onebox_already_in_alarm_aborts_before_anything_is_released(deployed, tmp_path):
    stack = deployed
    alarm(stack, "blue-onebox")
    code, log, journal = run(stack, tmp_path, lambda _s: None)
    assert code == 1 and "outcome: aborted" in log, log
    assert "already in ALARM" in log
    assert "up" not in stack.calls and journal["run"] == []


# -- the history path (moto does not implement DescribeAlarmHistory) -------------------------------
def stubbed_cloudwatch():
    cloudwatch = boto3.client(
        "cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return cloudwatch, Stubber(cloudwatch)


def released(started: datetime) -> None:
    bad_release.RELEASED["c/onebox"] = {"started": started, "alarmNames": ["onebox-latency"]}


def history(*items: tuple[str, datetime]) -> dict:
    return {
        "AlarmHistoryItems": [
            {"AlarmName": "onebox-latency", "Timestamp": stamp, "HistoryItemType": "StateUpdate",
             "HistorySummary": summary} for summary, stamp in items
        ]
    }  # fmt: skip


def test_the_history_shows_the_alarm_fired_after_the_release():
    started = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    released(started)
    cloudwatch, stub = stubbed_cloudwatch()
    expected = {"AlarmName": "onebox-latency", "HistoryItemType": "StateUpdate",
                "StartDate": started, "EndDate": ANY}  # fmt: skip
    stub.add_response(
        "describe_alarm_history",
        history(("Alarm updated from OK to ALARM", started + timedelta(minutes=4))),
        expected,
    )
    with stub:
        assert bad_release.deployment_alarm_fired(["onebox-latency"], cloudwatch=cloudwatch)
    stub.assert_no_pending_responses()


def test_a_history_without_alarm_after_the_release_is_a_deviation():
    started = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    released(started)
    cloudwatch, stub = stubbed_cloudwatch()
    stub.add_response(
        "describe_alarm_history",
        history(
            ("Alarm updated from ALARM to OK", started + timedelta(minutes=1)),
            ("Alarm updated from OK to ALARM", started - timedelta(minutes=30)),  # before
        ),
    )
    with stub:
        assert not bad_release.deployment_alarm_fired(["onebox-latency"], cloudwatch=cloudwatch)


# -- the experiment file and the real pulumi up ---------------------------------------------------
def test_the_experiment_validates_and_releases_through_the_pipeline():
    _, experiment = load_experiment("bad-release")
    validate_experiment(experiment)
    action = experiment["method"][0]["provider"]
    assert (action["module"], action["func"]) == ("chaos.bad_release", "release_onebox_with_fault")
    rollback = experiment["rollbacks"][0]["provider"]
    assert rollback["func"] == "restore_onebox"


def test_without_the_pulumi_cli_the_release_says_what_it_needs(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(RuntimeError, match="needs the pulumi CLI on PATH"):
        bad_release.automation_pipeline("prod")
