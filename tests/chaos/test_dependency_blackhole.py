"""The dependency-blackhole experiments (db and cdn) end to end: ``python -m chaos.run`` against
moto (FIS and CloudWatch; moto implements both), two real app processes on 127.0.0.1 behind a
loopback front door, and a background "CloudWatch + Route 53" that flips the
``<dep>-connectivity`` alarm while the FIS experiment runs and routes to green while it is in
ALARM (and back to blue once it is OK, unless the test says Route 53 does not fail back); "holds",
"deviates" and "the rollback does not bring blue back". The background also plays the primary's
prober: its ``<dep>-connectivity`` samples fail while the experiment runs (the cut held), or
keep succeeding (the cut leaked), or never arrive — the last two fail the run."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.moto_api import state_manager

from chaos import dependency_blackhole
from chaos import run as chaos_run
from chaos.runner import load_experiment, validate_experiment
from tests.chaos import test_environment_loss
from tests.chaos.moto_world import REGION

apps = test_environment_loss.apps  # the two app processes and their front door, as fixtures
front_door = test_environment_loss.front_door
ALARM = "steadystate-test-blue-db"
ACTIVE = ("pending", "initiating", "running")
ACTIONS = {
    "db": {"actionId": "aws:network:disrupt-connectivity",
           "parameters": {"duration": "PT10M", "scope": "all"}},
    "cdn": {"actionId": "aws:ssm:send-command",
            "parameters": {"duration": "PT10M", "documentArn": "arn:aws:ssm:us-east-2:"
                           "123456789012:document/blackhole"}},
}  # fmt: skip


@pytest.fixture(params=["db"])
def dependency(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fis_world(moto: None, dependency: str) -> Iterator[dict[str, Any]]:
    """A dependency-<dep> template and a 1 s-period <dep>-connectivity alarm (1 of 2
    datapoints)."""
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 10**9}
    )
    fis = boto3.client("fis", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, Namespace="steadystate/connectivity", MetricName="db-connectivity",
        Dimensions=[{"Name": "Host", "Value": "blue"}], Statistic="Minimum", Period=1,
        EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1,
        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test start")
    template = fis.create_experiment_template(
        clientToken="t", description=f"cut {dependency}",
        roleArn="arn:aws:iam::123456789012:role/fis", stopConditions=[{"source": "none"}],
        actions={"cut": ACTIONS[dependency]},
    )["experimentTemplate"]  # fmt: skip
    try:
        yield {"fis": fis, "cloudwatch": cloudwatch, "template_id": template["id"]}
    finally:
        state_manager.unset_transition("fis::experiment")


def fault_running(fis: Any) -> bool:
    experiments = fis.list_experiments()["experiments"]
    return any(e["state"]["status"] in ACTIVE for e in experiments)


@pytest.fixture
def aws_plays(fis_world, front_door) -> Iterator[dict[str, bool]]:
    """While ``acts["alarm"]``: the alarm is ALARM exactly while a FIS experiment runs; Route 53
    answers green while the alarm is ALARM (when ``acts["failover"]``) and blue once it is OK
    (unless ``acts["failback"]`` is off: then it stays on green)."""
    acts = {"alarm": True, "failover": True, "failback": True, "prober": True, "leak": False}
    _, route = front_door
    done = threading.Event()
    fis, cloudwatch = fis_world["fis"], fis_world["cloudwatch"]

    def play() -> None:
        while not done.wait(0.05):
            running = fault_running(fis)
            if acts["prober"]:
                reached = 1.0 if acts["leak"] or not running else 0.0
                cloudwatch.put_metric_data(
                    Namespace="steadystate/connectivity",
                    MetricData=[{"MetricName": "db-connectivity", "Value": reached,
                                 "Dimensions": [{"Name": "Host", "Value": "blue"}],
                                 "Timestamp": datetime.now(UTC)}],
                )  # fmt: skip
            if acts["alarm"]:
                state = "ALARM" if running else "OK"
                cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="t")
            alarm = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
            failed_over = acts["failover"] and alarm["StateValue"] == "ALARM"
            stays = not acts["failback"] and route["to"] == "green"
            route["to"] = "green" if failed_over or stays else "blue"

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    yield acts
    done.set()
    thread.join()


def run(url, template_id, tmp_path, outputs_extra=None, dependency="db"):
    journal = tmp_path / "journal.json"
    out = io.StringIO()
    outputs = {"clusterName": "steadystate-test", "dnsPrimary": "blue", "url": url,
               "serviceNames": {"blue-fleet": "blue", "green-fleet": "green"},
               "fisTemplateIds": {"stop-task": "EXTnope", f"dependency-{dependency}": template_id},
               "connectivityAlarmNames": {"blue": {dependency: ALARM},
                                          "green": {dependency: "other"}},
               **(outputs_extra or {})}  # fmt: skip
    argv = ["--experiment", f"dependency-blackhole-{dependency}", "--stack", "prod",
            "--var", "poll_interval=0.1", "--var", "alarm_lag=0", "--var", "pause_after_fault=0",
            "--var", "prober_sample_interval=1", "--var", "cut_check_settle=0",
            "--var", "cut_check_period=1", "--no-metric", "--engine", "builtin",
            "--journal", str(journal)]  # fmt: skip
    code = chaos_run.main(argv, out=out, read_outputs=lambda _s: outputs,
                          failover_seconds=lambda _s: 3.0)  # fmt: skip
    return code, out.getvalue(), json.loads(journal.read_text())


def experiments(fis: Any) -> list[dict[str, Any]]:
    return fis.list_experiments()["experiments"]


BOTH = pytest.mark.parametrize("dependency", ["db", "cdn"], indirect=True)


@BOTH
def test_the_cut_fires_the_alarm_fails_over_and_the_rollback_brings_blue_back(
    dependency, fis_world, aws_plays, front_door, tmp_path
):
    url, route = front_door
    code, log, journal = run(url, fis_world["template_id"], tmp_path, dependency=dependency)
    assert code == 0, log
    started = journal["run"][0]["output"]
    assert started["templateId"] == fis_world["template_id"]
    assert f"alarm {ALARM} is ALARM within its 2s window" in log  # 1 s sample + 1 x 1 s period
    assert f"GET {url}/version: environment green, as expected" in log
    stop, again = journal["rollbacks"]
    assert stop["status"] == "succeeded" and stop["output"]["alarm"] == "OK", log
    assert again["activity"]["provider"]["func"] == "primary_serves_again"
    assert again["status"] == "succeeded" and again["output"] == {"environment": "blue"}, log
    assert route["to"] == "blue"
    [experiment] = experiments(fis_world["fis"])
    assert experiment["id"] == started["experimentId"]
    assert experiment["state"]["status"] == "stopping"  # the rollback stopped it
    assert experiment["tags"]["steadystate:dependency"] == dependency
    assert dependency_blackhole.RUNNING == {}


@BOTH
def test_an_alarm_that_never_fires_deviates_and_fis_is_still_stopped(
    dependency, fis_world, aws_plays, front_door, tmp_path
):
    url, _ = front_door
    aws_plays["alarm"] = False  # the prober does not notice the cut
    code, log, journal = run(url, fis_world["template_id"], tmp_path, dependency=dependency)
    assert code == 1, log
    assert "outcome: deviated" in log
    assert f"alarm {ALARM} is OK after its 2s window, expected ALARM" in log
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded", "succeeded"], log
    assert [e["state"]["status"] for e in experiments(fis_world["fis"])] == ["stopping"]


def running_in_fis(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's experiments stay ``pending`` here (the fixture holds them there); FIS's would be
    ``running`` by the time the cut is checked: report them so to ``cut_held``."""
    from chaosaws.fis import probes

    real = probes.get_experiment

    def running(experiment_id: str, configuration: Any = None) -> Any:
        answer = real(experiment_id, configuration=configuration)
        if answer["experiment"]["state"]["status"] == "pending":
            answer["experiment"]["state"]["status"] = "running"
        return answer

    monkeypatch.setattr(probes, "get_experiment", running)


@BOTH
def test_a_cut_that_leaked_fails_the_run_although_the_alarm_fired(
    dependency, fis_world, aws_plays, front_door, tmp_path, monkeypatch
):
    """The alarm fires and /version fails over, yet blue's prober kept reaching the dependency:
    whatever fired the alarm, the cut did not hold, so nothing was tested — failed, not
    succeeded (and not deviated)."""
    url, _ = front_door
    aws_plays["leak"] = True
    running_in_fis(monkeypatch)
    code, log, journal = run(url, fis_world["template_id"], tmp_path, dependency=dependency)
    assert code == 1, log
    assert "outcome: failed" in log
    assert "the fault did not take effect, nothing was tested" in log and "the cut leaked" in log
    check = journal["run"][1]
    assert check["activity"]["provider"]["func"] == "cut_held"
    assert check["status"] == "failed"
    assert "CutLeaked" in check["exception"][-1]
    assert journal["steadystate"]["fault_not_held"].endswith(
        "while FIS experiment " + journal["run"][0]["output"]["experimentId"] + " was running"
    )
    # the rollback still stopped the experiment
    assert [e["state"]["status"] for e in experiments(fis_world["fis"])] == ["stopping"]


def test_a_prober_that_publishes_nothing_leaves_the_cut_unverified(
    fis_world, aws_plays, front_door, tmp_path
):
    """Missing data fires the alarm (treated as breaching) but proves no cut."""
    url, _ = front_door
    aws_plays["prober"] = False
    code, log, journal = run(url, fis_world["template_id"], tmp_path)
    assert code == 1 and "outcome: failed" in log, log
    assert "CutUnverified" in journal["run"][1]["exception"][-1]
    assert "the cut could not be checked" in log


def test_cut_held_checks_whole_periods_from_the_settle_time(fis_world):
    """The query names the alarm's own metric, from the first whole period ``settle`` seconds
    after the start, for ``periods`` periods."""
    seen: dict[str, Any] = {}

    class Recorder:
        def describe_alarms(self, **kwargs):
            return fis_world["cloudwatch"].describe_alarms(**kwargs)

        def get_metric_statistics(self, **kwargs):
            seen.update(kwargs)
            start = kwargs["StartTime"]
            return {
                "Datapoints": [
                    {"Timestamp": start, "Maximum": 0.0, "SampleCount": 6.0},
                    {"Timestamp": start, "Maximum": 0.0, "SampleCount": 6.0},
                ]
            }

    started = fis_world["fis"].start_experiment(
        clientToken="c", experimentTemplateId=fis_world["template_id"]
    )["experiment"]["id"]
    dependency_blackhole.RUNNING[started] = "dependency-db"
    dependency_blackhole.STARTED[started] = 1_000_000_010.0  # 10 s past a whole minute
    try:
        result = dependency_blackhole.cut_held(
            ALARM, settle=30, periods=2, period=60, region=REGION, cloudwatch=Recorder(),
            now=lambda: 0.0, sleep=lambda _s: None,
        )  # fmt: skip
    finally:
        dependency_blackhole.RUNNING.clear()
        dependency_blackhole.STARTED.clear()
    assert result == {"held": True, "periods": 2, "samples": 12}
    assert seen["StartTime"].timestamp() == 1_000_000_080  # first whole minute after +30 s
    assert seen["EndTime"].timestamp() == 1_000_000_200
    assert (seen["Namespace"], seen["MetricName"], seen["Period"]) == (
        "steadystate/connectivity", "db-connectivity", 60,
    )  # fmt: skip
    assert seen["Dimensions"] == [{"Name": "Host", "Value": "blue"}]
    assert "Maximum" in seen["Statistics"]


@BOTH
def test_blue_not_serving_again_after_the_alarm_ok_fails_the_run(
    dependency, fis_world, aws_plays, front_door, tmp_path
):
    url, route = front_door
    aws_plays["failback"] = False  # Route 53 keeps answering green after the alarm's OK
    code, log, journal = run(url, fis_world["template_id"], tmp_path, dependency=dependency)
    assert code == 1, log
    assert "outcome: failed" in log
    stop, again = journal["rollbacks"]
    assert stop["status"] == "succeeded" and again["status"] == "failed", log
    assert f"{url}/version does not answer from blue 3.0s after the alarm's OK" in log
    assert route["to"] == "green"
    assert [e["state"]["status"] for e in experiments(fis_world["fis"])] == ["stopping"]


def test_no_failover_deviates_on_version(fis_world, aws_plays, front_door, tmp_path):
    url, _ = front_door
    aws_plays["failover"] = False  # Route 53 keeps answering blue
    code, log, _ = run(url, fis_world["template_id"], tmp_path)
    assert code == 1 and "outcome: deviated" in log, log
    assert "environment blue after 3s, expected environment green" in log


def test_an_alarm_still_in_alarm_aborts_before_cutting_anything(fis_world, front_door, tmp_path):
    url, _ = front_door
    fis_world["cloudwatch"].set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="t")
    code, log, _ = run(url, fis_world["template_id"], tmp_path)
    assert code == 1 and "outcome: aborted" in log, log
    assert experiments(fis_world["fis"]) == []


def test_a_stack_without_the_template_is_a_clear_error(fis_world, front_door, tmp_path):
    url, _ = front_door
    code, log, _ = run(url, fis_world["template_id"], tmp_path,
                       {"fisTemplateIds": {"stop-task": "EXT1"}})  # fmt: skip
    assert code == 1, log
    assert "no FIS template 'dependency-db' in the stack outputs (known: stop-task)" in log


def test_the_windows_come_from_the_alarm_configuration():
    alarm = {"Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2}
    assert dependency_blackhole.alarm_window_seconds(alarm, "ALARM", lag=60) == 10 + 120 + 60
    assert dependency_blackhole.alarm_window_seconds(alarm, "OK") == 10 + 180
    _, experiment = load_experiment("dependency-blackhole-db")
    validate_experiment(experiment)


def test_the_cdn_experiment_mirrors_the_db_one():
    _, db = load_experiment("dependency-blackhole-db")
    _, cdn = load_experiment("dependency-blackhole-cdn")
    validate_experiment(cdn)
    assert cdn["configuration"] == {**db["configuration"], "dependency": "cdn"}
    activities = ("steady-state-hypothesis", "method", "rollbacks")

    def funcs(e):
        return [[a["provider"]["func"] for a in (e[k]["probes"] if k.startswith("steady")
                 else e[k])] for k in activities]  # fmt: skip

    assert funcs(cdn) == funcs(db)
    assert funcs(cdn)[2] == ["stop_dependency_fault", "primary_serves_again"]
    assert cdn["rollbacks"] == db["rollbacks"]
