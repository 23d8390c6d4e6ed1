"""python -m chaos.run: target resolution, the run itself against moto + a local endpoint, the
journal, and the CloudWatch outcome metric — in process, and once as a real subprocess against
moto_server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.moto_api import state_manager
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from chaos import run as chaos_run
from chaos.metrics import (
    ERROR_RATE_METRIC,
    METRIC,
    NAMESPACE,
    OUTCOME_METRICS,
    RECOVERY_METRIC,
    outcome_metric_data,
    publish_outcome,
)
from chaos.runner import chaoslib_available
from tests.chaos.moto_world import REGION, TASKS_STAY_PUT, make_world

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--var", "recovery_timeout=0", "--var", "poll_interval=1", "--var", "pause_after_fault=0",
         "--var", "sample_seconds=0.3", "--var", "load_rate=20"]  # fmt: skip
ENGINES = ["builtin", pytest.param("chaostoolkit", marks=pytest.mark.skipif(
    not chaoslib_available(), reason="chaostoolkit-lib not installed (see requirements-dev.txt)"
))]  # fmt: skip


def _stats(cloudwatch, dimensions):
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=dimensions,
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=60,
        Statistics=["Sum", "SampleCount"],
    )
    return [(p["Sum"], p["SampleCount"]) for p in answer["Datapoints"]]


def published(cloudwatch, experiment, stack):
    """What reached CloudWatch: the dimension sets, and (sum, count) per set. moto matches query
    dimensions as a subset (CloudWatch matches them exactly), so its Experiment-only answer also
    counts the Experiment+Stack datum: one run shows there as count 2."""
    sets = sorted(
        tuple(sorted(d["Name"] for d in m["Dimensions"]))
        for m in cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=METRIC)["Metrics"]
    )
    experiment_only = [{"Name": "Experiment", "Value": experiment}]
    with_stack = [*experiment_only, {"Name": "Stack", "Value": stack}]
    return sets, _stats(cloudwatch, experiment_only), _stats(cloudwatch, with_stack)


BOTH_SETS = [("Experiment",), ("Experiment", "Stack")]


def target_args(world, url):
    return ["--experiment", "kill-one-task", "--cluster", world.cluster, "--service", world.service,
            "--url", url]  # fmt: skip


# -- runs against moto -------------------------------------------------------------------------------
def test_recovered_service_succeeds_and_publishes_1(world, server, fake_time, journals_in_tmp):
    url, handler = server
    # ECS (the test) starts the replacement while the runner pauses after the kill
    fake_time.at(10, lambda: world.start_tasks(1))
    out = io.StringIO()
    argv = [*target_args(world, url), *QUICK, "--var", "pause_after_fault=10"]
    code = chaos_run.main([*argv, "--engine", "builtin"], out=out, sleep=fake_time.sleep)
    log = out.getvalue()
    assert code == 0, log
    assert "outcome: succeeded (engine built-in" in log
    assert f"published {NAMESPACE}/{METRIC}=1" in log
    health = [path for path in handler.paths if path == "/health"]
    assert health == ["/health", "/health"]  # before and after the method
    assert handler.paths.count("/api") >= 2  # the sample before, the load during the method
    assert len(world.running()) == 3
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    assert published(cloudwatch, "kill-one-task", "dev") == (BOTH_SETS, [(2.0, 2.0)], [(1.0, 1.0)])
    rates = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=ERROR_RATE_METRIC)["Metrics"]
    assert sorted(len(m["Dimensions"]) for m in rates) == [1, 2]  # measured during the fault
    # every run is journaled under the stack, with the time to recover it published
    (path,) = (journals_in_tmp / "dev").glob("*-kill-one-task.json")
    assert f"journal written to {path}" in log
    journal = json.loads(path.read_text())
    recovery = journal["time_to_recover"]
    stop = next(r for r in journal["run"] if r["activity"]["name"] == "stop-one-random-task")
    assert recovery["fault_ended"] == datetime.fromisoformat(stop["end"]).isoformat()
    summary = journal["steadystate"]
    assert summary["time_to_recover"] == recovery["seconds"] >= 0
    assert (summary["outcome"], summary["exit_code"], summary["stack"]) == ("succeeded", 0, "dev")
    assert f"time to recover {recovery['seconds']:.1f}s" in log
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE, MetricName=RECOVERY_METRIC,
        Dimensions=[{"Name": "Experiment", "Value": "kill-one-task"},
                    {"Name": "Stack", "Value": "dev"}],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1), Period=3600, Statistics=["Maximum"],
    )  # fmt: skip
    assert [p["Maximum"] for p in answer["Datapoints"]] == [recovery["seconds"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_replacement_is_detected_as_deviated_and_publishes_0(world, server, engine, tmp_path):
    url, _ = server
    world.tag_stack("prod")
    out = io.StringIO()
    journal_file = tmp_path / "journal.json"
    code = chaos_run.main(
        [*target_args(world, url), *QUICK, "--engine", engine, "--stack", "prod",
         "--journal", str(journal_file)],
        out=out,
    )  # fmt: skip
    log = out.getvalue()
    assert code == 1, log
    assert "outcome: deviated" in log
    assert len(world.running()) == 2  # moto never replaced the stopped task
    journal = json.loads(journal_file.read_text())
    assert journal["deviated"] is True
    (stopped,) = [task["Task_Id"] for task in journal["run"][1]["output"]]  # chaosaws's answer
    assert journal["run"][3]["output"]["error_rate"] == 0  # 2 of 3 tasks still served
    assert stopped not in world.running()
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    assert published(cloudwatch, "kill-one-task", "prod") == (BOTH_SETS, [(0.0, 2.0)], [(0.0, 1.0)])


def test_unhealthy_endpoint_aborts_before_killing_anything(world, server):
    url, handler = server
    handler.statuses = [503]
    out = io.StringIO()
    code = chaos_run.main([*target_args(world, url), *QUICK, "--engine", "builtin"], out=out)
    assert code == 1
    assert "outcome: aborted" in out.getvalue()
    assert len(world.running()) == 3  # nothing was stopped


def test_kill_half_the_tasks_runs_the_same_way(world, server):
    url, _ = server
    world.start_tasks(1)
    world.ecs.update_service(cluster=world.cluster, service=world.service, desiredCount=4)
    out = io.StringIO()
    argv = [*target_args(world, url), *QUICK, "--experiment", "kill-half-the-tasks", "--no-metric"]
    assert chaos_run.main([*argv, "--engine", "builtin"], out=out) == 1
    assert len(world.running()) == 2
    assert "published" not in out.getvalue()


def test_metric_failure_is_exit_3_only_when_the_experiment_succeeded(world, server):
    url, _ = server

    class Broken:
        def put_metric_data(self, **_kwargs):
            raise RuntimeError("AccessDenied")

    out = io.StringIO()
    argv = [*target_args(world, url), *QUICK, "--engine", "builtin"]
    assert chaos_run.main(argv, out=out, cloudwatch=Broken()) == 1  # deviated wins
    world.start_tasks(1)
    argv = [*argv, "--experiment", "kill-one-task", "--var", "pause_after_fault=5"]
    code = chaos_run.main(argv, out=out, cloudwatch=Broken(), sleep=lambda _s: world.start_tasks(1))
    assert code == 3
    assert "could not publish steadystate/chaos/ExperimentSucceeded: AccessDenied" in out.getvalue()


# -- target resolution -------------------------------------------------------------------------------
OUTPUTS = {
    "clusterName": "cluster-1",
    "url": "https://api.example.com/",
    "dnsPrimary": "green",
    "serviceNames": {
        "blue-fleet": "svc-blue",
        "blue-onebox": "svc-blue-1box",
        "green-fleet": "svc-green",
        "green-onebox": "svc-green-1box",
    },
}


def test_target_from_stack_outputs_defaults_to_the_primary_fleet():
    args = chaos_run.parse_args(["--stack", "prod", "--experiment", "kill-one-task"])
    assert chaos_run.resolve_target(args, lambda stack: OUTPUTS) == (
        "cluster-1",
        "svc-green",
        "https://api.example.com",
    )
    args = chaos_run.parse_args(
        ["--experiment", "kill-one-task", "--service-key", "blue-onebox", "--url", "http://x"]
    )
    assert chaos_run.resolve_target(args, lambda stack: OUTPUTS)[1:] == (
        "svc-blue-1box",
        "http://x",
    )


def test_without_pulumi_cli_the_flags_are_required(monkeypatch):
    monkeypatch.setattr(chaos_run.shutil, "which", lambda _name: None)
    out = io.StringIO()
    code = chaos_run.main(
        ["--stack", "dev", "--experiment", "kill-one-task", "--cluster", "c"], out=out
    )
    assert code == chaos_run.EXIT_STACK_UNREACHABLE == 6
    assert (
        "no pulumi CLI on PATH to read the stack outputs: pass --cluster, --service and --url"
        in (out.getvalue())
    )


def test_an_unknown_service_key_is_a_usage_error_and_an_unknown_experiment_a_bad_one():
    out = io.StringIO()
    code = chaos_run.main(
        ["--experiment", "kill-one-task", "--service-key", "red-fleet"],
        out=out,
        read_outputs=lambda stack: OUTPUTS,
    )
    assert code == chaos_run.EXIT_USAGE == 2
    assert "no service for key 'red-fleet'" in out.getvalue()
    code = chaos_run.main(["--experiment", "nope", "--cluster", "c"], out=out)
    assert code == chaos_run.EXIT_BAD_EXPERIMENT == 4
    known = (
        "known: bad-release, dependency-blackhole-cdn, dependency-blackhole-db, environment-loss"
    )
    assert known in out.getvalue()


def test_metric_data_shape():
    when = datetime(2025, 1, 1, tzinfo=UTC)
    data = outcome_metric_data("kill-one-task", "deviated", "prod", when)
    experiment = [{"Name": "Experiment", "Value": "kill-one-task"}]
    by_stack = [*experiment, {"Name": "Stack", "Value": "prod"}]
    assert data == [
        {"MetricName": metric, "Value": value, "Unit": "Count", "Timestamp": when,
         "Dimensions": dims}
        for metric, value in (("ExperimentSucceeded", 0.0), ("ExperimentDeviated", 1.0),
                              ("ExperimentAborted", 0.0), ("ExperimentFailed", 0.0))
        for dims in (experiment, by_stack)
    ]  # fmt: skip
    assert len(outcome_metric_data("x", "succeeded", None)) == len(OUTCOME_METRICS)
    measured = outcome_metric_data("x", "aborted", "dev", error_rate=0.025, recovery_seconds=42)
    assert [(d["MetricName"], d["Value"], d.get("Unit")) for d in measured][8:] == [
        (ERROR_RATE_METRIC, 2.5, "Percent"),
        (ERROR_RATE_METRIC, 2.5, "Percent"),
        (RECOVERY_METRIC, 42.0, "Seconds"),
        (RECOVERY_METRIC, 42.0, "Seconds"),
    ]


def test_metric_data_refuses_an_unknown_outcome():
    with pytest.raises(ValueError, match="outcome must be one of succeeded, deviated, aborted"):
        outcome_metric_data("x", "passed", "dev")


def test_publish_outcome_lands_in_cloudwatch(moto):
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    publish_outcome(cloudwatch, "kill-a-container-host", "succeeded", "dev")
    metrics = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert sorted(len(m["Dimensions"]) for m in metrics) == sorted([1, 2] * len(OUTCOME_METRICS))
    assert {m["MetricName"] for m in metrics} == set(OUTCOME_METRICS.values())


# -- the real command line against moto_server ----------------------------------------------------------
@pytest.mark.slow
def test_cli_subprocess_against_moto_server(server, aws_env, monkeypatch, tmp_path):
    url, _ = server
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    state_manager.set_transition(model_name="ecs::task", transition=TASKS_STAY_PUT)
    try:
        host, port = moto_server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        world = make_world()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_ENDPOINT_URL=endpoint,
            PYTHONPATH=str(REPO),
        )
        argv = [sys.executable, "-m", "chaos.run", "--stack", "dev", "--experiment",
                "kill-one-task", *target_args(world, url), *QUICK,
                "--journal-dir", str(tmp_path)]  # fmt: skip
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "outcome: deviated" in done.stdout
        assert "published steadystate/chaos/ExperimentDeviated=1" in done.stdout
        (journal_file,) = (tmp_path / "dev").glob("*-kill-one-task.json")
        summary = json.loads(journal_file.read_text())["steadystate"]
        assert (summary["outcome"], summary["exit_code"]) == ("deviated", 1)
        assert summary["time_to_recover"] is None  # it never recovered
        assert len(world.running()) == 2
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        assert published(cloudwatch, "kill-one-task", "dev") == (
            BOTH_SETS,
            [(0.0, 2.0)],
            [(0.0, 1.0)],
        )
    finally:
        state_manager.unset_transition("ecs::task")
        moto_server.stop()
