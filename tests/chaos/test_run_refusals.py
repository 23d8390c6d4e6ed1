"""Runs that cannot start — a misspelled activity, no AWS credentials or region, an unreachable
stack, a --cluster of another stack — exit with their own code and one line, touch nothing, and
are recorded as aborted: a journal with the reason, and the aborted metric when CloudWatch can be
reached. Once as real subprocesses, to prove no traceback reaches the terminal."""

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
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError, StackNotFoundError

from chaos import run as chaos_run
from chaos.metrics import NAMESPACE, OUTCOME_METRICS
from chaos.runner import EXPERIMENTS_DIR, chaoslib_available, verdict
from tests.chaos.moto_world import REGION

REPO = Path(__file__).resolve().parents[2]
ENGINES = ["builtin", pytest.param("chaostoolkit", marks=pytest.mark.skipif(
    not chaoslib_available(), reason="chaostoolkit-lib not installed (see requirements-dev.txt)"
))]  # fmt: skip
ABORTED_METRIC = OUTCOME_METRICS["aborted"]


def misspelled(tmp_path: Path, **provider: str) -> Path:
    """kill-one-task with the kill action's provider changed (``func=...``, ``module=...``)."""
    experiment = json.loads((EXPERIMENTS_DIR / "kill-one-task.json").read_text())
    experiment["method"][1]["provider"].update(provider)
    path = tmp_path / "kill-one-task-typo.json"
    path.write_text(json.dumps(experiment))
    return path


def no_aws_at_all(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks: environment, files, container or instance role."""
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def the_journal(directory: Path, stack: str, experiment: str) -> dict:
    (path,) = (directory / stack).glob(f"*-{experiment}.json")
    return json.loads(path.read_text())


def aborted_sums(experiment: str, stack: str) -> list[float]:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=ABORTED_METRIC,
        Dimensions=[{"Name": "Experiment", "Value": experiment}, {"Name": "Stack", "Value": stack}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=3600,
        Statistics=["Sum"],
    )
    return [point["Sum"] for point in answer["Datapoints"]]


KILL = ["--experiment", "kill-one-task"]


def target(world, url="http://127.0.0.1:9"):
    return ["--experiment", "kill-one-task", "--cluster", world.cluster, "--service", world.service,
            "--url", url]  # fmt: skip


# -- a misspelled activity ------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ({"func": "stop_randm_task"}, "chaosaws.ecs.actions.stop_randm_task is not a function"),
        ({"module": "chaos.actionz"}, "cannot import 'chaos.actionz'"),
    ],
)
def test_a_misspelled_activity_is_refused_before_anything_runs(
    world, tmp_path, journals_in_tmp, engine, provider, message
):
    path = misspelled(tmp_path, **provider)
    out = io.StringIO()
    code = chaos_run.main([*target(world), "--experiment", str(path), "--engine", engine], out=out)
    log = out.getvalue()
    assert code == chaos_run.EXIT_BAD_EXPERIMENT == 4, log
    errors = [line for line in log.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0] and "stop-one-random-task" in errors[0]
    assert "Traceback" not in log and "experiment kill-one-task-typo on" not in log
    assert len(world.running()) == 3  # nothing was stopped
    journal = the_journal(journals_in_tmp, "dev", "kill-one-task-typo")
    assert journal["status"] == "aborted" and message in journal["reason"]
    assert verdict(journal) == "aborted" and journal["run"] == []
    summary = journal["steadystate"]
    assert (summary["outcome"], summary["exit_code"], summary["refused"]) == (
        "aborted",
        4,
        "bad-experiment",
    )
    assert summary["metric"] == "published"
    assert aborted_sums("kill-one-task-typo", "dev") == [1.0]


@pytest.mark.skipif(not chaoslib_available(), reason="chaostoolkit-lib not installed")
def test_what_only_chaoslib_validates_is_a_bad_experiment_too(tmp_path):
    """A process provider is chaoslib's to check (the pre-check reads python ones): its
    InvalidActivity comes back as ExperimentError, one line, exit 4 from chaos.run."""
    from chaos.runner import ExperimentError, run_experiment

    experiment = json.loads((EXPERIMENTS_DIR / "kill-one-task.json").read_text())
    experiment["method"][1]["provider"] = {"type": "process", "path": "no-such-binary-here"}
    overrides = {"cluster": "c", "service": "s", "url": "http://x", "region": REGION}
    with pytest.raises(ExperimentError, match="no-such-binary-here"):
        run_experiment(experiment, overrides, engine="chaostoolkit")


def test_an_unknown_experiment_is_journaled_but_not_published_under_a_made_up_name(
    moto, journals_in_tmp
):
    out = io.StringIO()
    code = chaos_run.main(["--experiment", "kill-evrything", "--cluster", "c"], out=out)
    assert code == chaos_run.EXIT_BAD_EXPERIMENT
    assert "no experiment 'kill-evrything' (known: bad-release" in out.getvalue()
    assert "no journal written: there is no experiment 'kill-evrything'" in out.getvalue()
    assert not list(journals_in_tmp.rglob("*.json"))  # so the report never shows it
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"] == []


# -- no credentials, no region --------------------------------------------------------------------
def test_no_credentials_is_exit_5_and_the_journal_alone_records_it(
    monkeypatch, tmp_path, journals_in_tmp
):
    no_aws_at_all(monkeypatch, tmp_path)
    out = io.StringIO()
    code = chaos_run.main([*KILL, "--cluster", "c", "--service", "s", "--url", "http://x"], out=out)
    log = out.getvalue()
    assert code == chaos_run.EXIT_NO_CREDENTIALS == 5, log
    assert "error: no AWS credentials: set AWS_PROFILE" in log
    assert "ExperimentAborted not published: no AWS credentials, so the journal alone" in log
    journal = the_journal(journals_in_tmp, "dev", "kill-one-task")
    assert journal["status"] == "aborted" and "no AWS credentials" in journal["reason"]
    assert journal["steadystate"]["refused"] == "no-credentials"


def test_no_region_is_exit_5(monkeypatch, tmp_path):
    no_aws_at_all(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    out = io.StringIO()
    monkeypatch.setattr(chaos_run, "stack_region", lambda _stack: None)  # a file without one
    argv = [*KILL, "--cluster", "c", "--service", "s", "--url", "http://x"]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_NO_CREDENTIALS
    assert "error: no AWS region: pass --region" in out.getvalue()


def test_credentials_aws_refuses_are_exit_5(world, journals_in_tmp):
    from botocore.exceptions import ClientError

    class Refusing:
        def describe_clusters(self, **_kwargs):
            error = {"Code": "UnrecognizedClientException", "Message": "invalid token"}
            raise ClientError({"Error": error}, "DescribeClusters")

    out = io.StringIO()
    code = chaos_run.main(target(world), out=out, ecs=Refusing())
    assert code == chaos_run.EXIT_NO_CREDENTIALS
    assert "AWS refused the credentials: UnrecognizedClientException: invalid token" in (
        out.getvalue()
    )


# -- an unreachable stack --------------------------------------------------------------------------
def _not_found(_stack):
    raise StackNotFoundError(CommandResult("", "error: no stack named 'qa' found", 255))


def _backend_down(_stack):
    result = CommandResult("", "warning: x\nerror: failed to log in: connection refused\n", 255)
    raise CommandError(result)


@pytest.mark.parametrize(
    ("reader", "message"),
    [
        (_not_found, "no stack 'dev' in the selected Pulumi backend"),
        (_backend_down, "through the Automation API: failed to log in: connection refused"),
        (lambda _stack: {"serviceNames": {"blue-fleet": "svc"}}, "lack clusterName or url"),
    ],
)
def test_an_unreachable_stack_is_exit_6(moto, journals_in_tmp, reader, message):
    out = io.StringIO()
    code = chaos_run.main(["--stack", "dev", *KILL], out=out, read_outputs=reader)
    log = out.getvalue()
    assert code == chaos_run.EXIT_STACK_UNREACHABLE == 6, log
    (error,) = [line for line in log.splitlines() if "error:" in line]
    assert message in error and "code: 255" not in log
    assert the_journal(journals_in_tmp, "dev", "kill-one-task")["steadystate"]["refused"] == (
        "stack-unreachable"
    )
    assert aborted_sums("kill-one-task", "dev") == [1.0]


def test_a_cluster_that_does_not_exist_is_exit_6(world):
    out = io.StringIO()
    argv = [*KILL, "--cluster", "steadystate-gone", "--service", "web", "--url", "http://x"]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_STACK_UNREACHABLE
    assert "no ECS cluster 'steadystate-gone' in this region (MISSING)" in out.getvalue()


# -- --stack must match the targets --------------------------------------------------------------
def test_a_cluster_of_another_stack_is_refused_with_exit_7(world, journals_in_tmp):
    world.tag_stack("prod")
    out = io.StringIO()
    code = chaos_run.main(["--stack", "dev", *target(world)], out=out)
    log = out.getvalue()
    assert code == chaos_run.EXIT_WRONG_STACK == 7, log
    assert "ECS cluster 'steadystate-test' is tagged Stack=prod, not Stack=dev of --stack dev" in (
        log
    )
    assert len(world.running()) == 3
    assert the_journal(journals_in_tmp, "dev", "kill-one-task")["steadystate"]["refused"] == (
        "wrong-stack"
    )
    assert aborted_sums("kill-one-task", "dev") == [1.0]


def test_an_untagged_cluster_is_refused_too(moto):
    from tests.chaos.moto_world import make_world

    world = make_world(stack=None)
    out = io.StringIO()
    assert chaos_run.main(target(world), out=out) == chaos_run.EXIT_WRONG_STACK
    assert "has no Stack tag: it is not a cluster of stack 'dev'" in out.getvalue()


def test_the_expected_tag_comes_from_the_stack_defaults():
    from chaos.preflight import expected_stack_tag

    assert expected_stack_tag(REPO, "prod") == "prod"
    assert expected_stack_tag(REPO, "dev") == "dev"
    assert expected_stack_tag(REPO, "nowhere") == "nowhere"


def test_the_cluster_of_the_stack_passes_the_check(world, server):
    url, _ = server
    world.tag_stack("prod")
    out = io.StringIO()
    argv = ["--stack", "prod", *target(world, url), "--engine", "builtin", "--no-metric",
            "--var", "recovery_timeout=0", "--var", "pause_after_fault=0",
            "--var", "sample_seconds=0.3", "--var", "load_rate=20"]  # fmt: skip
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_NOT_STEADY  # ran, deviated
    assert "outcome: deviated" in out.getvalue()


# -- the real command line ------------------------------------------------------------------------
def subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        pytest.param(
            ["--engine", "chaostoolkit", "--experiment", "TYPO"],
            4,
            "chaosaws.ecs.actions.stop_randm_task is not a function",
            marks=pytest.mark.skipif(not chaoslib_available(), reason="no chaostoolkit-lib"),
            id="misspelled-activity-with-chaoslib",
        ),
        pytest.param(
            ["--experiment", "kill-one-task"], 5, "error: no AWS credentials", id="no-credentials"
        ),
    ],
)
def test_the_cli_prints_one_line_and_no_traceback(tmp_path, argv, code, message):
    typo = misspelled(tmp_path, func="stop_randm_task")
    argv = [str(typo) if arg == "TYPO" else arg for arg in argv]
    done = subprocess.run(
        [sys.executable, "-m", "chaos.run", "--cluster", "c", "--service", "s", "--url",
         "http://127.0.0.1:9", "--journal-dir", str(tmp_path / "journals"), *argv],
        cwd=REPO, env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stderr == ""
    assert "Traceback" not in done.stdout
    (error,) = [line for line in done.stdout.splitlines() if "error:" in line]
    assert message in error
    (journal,) = (tmp_path / "journals" / "dev").glob("*.json")
    assert json.loads(journal.read_text())["status"] == "aborted"


def test_an_unexpected_failure_is_one_line_too(world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(chaos_run, "run_experiment", broken)
    out = io.StringIO()
    assert chaos_run.main([*target(world), "--no-metric"], out=out) == chaos_run.EXIT_NOT_STEADY
    assert "error: unexpected failure (please report it): KeyError: 'a bug'" in out.getvalue()
