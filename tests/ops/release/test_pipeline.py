"""ops.release.pipeline: the release decisions, with a fake stack, ECS/CloudWatch in moto and each
environment's URL served by a real HTTP server on 127.0.0.1.

The fake stack stands in for ``pulumi.automation.Stack`` (every call is checked against the real
method's signature) and, on ``up``, plays Pulumi + ECS: it reads the run's ``--config-file`` copy
(``release.rollout`` / ``release.pins``), moves the release pins the way the program does (held
pins keep their recorded value; a new pin starts on the fresh image), and every service whose image
changes gets a new PRIMARY deployment, which the test's ECS then completes, fails or leaves hanging
on the fake clock. The environment's HTTP server then answers ``/version`` like a weighted listener:
99 × the fleet's version, 1 × the onebox's.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from pulumi import automation as auto
from pulumi.automation import CommandResult, OpType

from ops.release import pipeline as pipeline_module
from ops.release.deployment_watch import DeploymentWatcher
from ops.release.pipeline import (
    EXIT_AWS_AFTER,
    EXIT_DEPLOY_FAILED,
    EXIT_OK,
    EXIT_PREFLIGHT,
    EXIT_PULUMI,
    EXIT_SMOKE,
    EXIT_UP_FAILED,
    EXIT_USAGE,
    Pipeline,
    PipelineOptions,
)
from ops.release.run_config import read_run_config
from tests.chaos.moto_world import REGION, FakeTime, Rollouts, moto_sandbox
from tests.ops.release.local_service import LocalService, serving

REPO = Path(__file__).resolve().parents[3]
CLUSTER = "steadystate-prod-cluster"
REPOSITORY = "123456789012.dkr.ecr.us-east-2.amazonaws.com/steadystate-app"
OLD = f"{REPOSITORY}@sha256:{'a' * 64}"
NEW = f"{REPOSITORY}@sha256:{'b' * 64}"
VERSION = {OLD: "old-tag", NEW: "new-tag"}
KEYS = ("blue-onebox", "blue-fleet", "green-onebox", "green-fleet")
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def outputs_for(
    pins: dict[str, str], urls: dict[str, str], image: str = NEW, keys: tuple[str, ...] = KEYS
) -> dict[str, Any]:
    return {
        "url": "https://api.example.com",
        "clusterName": CLUSTER,
        "serviceNames": {key: f"svc-{key}" for key in keys},
        "imageRef": image,
        "imageVersion": VERSION.get(image, "other-tag"),
        "releasePins": {
            k: {"image": v, "version": VERSION.get(v, "other-tag")} for k, v in pins.items()
        },
        "environmentUrls": urls,
        "alarmTopicArn": "arn:aws:sns:us-east-2:123456789012:alerts",
    }


class Ecs:
    """ECS as the tests script it: per service, what happens after Pulumi changes its image."""

    def __init__(self, rollouts: Rollouts, time: FakeTime, keys: tuple[str, ...]) -> None:
        self.rollouts = rollouts
        self.time = time
        self.images = {f"svc-{key}": OLD for key in keys}
        self.faults: dict[str, dict] = {}  # service -> the fault switch its release carries
        self.behaviour: dict[str, Callable[[str], None]] = {}
        self.rolled: list[tuple[str, str]] = []

    def complete_after(self, seconds: float) -> Callable[[str], None]:
        return lambda svc: self.time.at(
            self.time.now + seconds, lambda: self.rollouts.complete(svc)
        )

    def fail_after(self, seconds: float, reason: str) -> Callable[[str], None]:
        def fail(svc: str) -> None:
            previous = self.images_before[svc]

            def rollback() -> None:
                self.rollouts.fail(svc, reason)
                self.images[svc] = previous  # ECS rolled the service back
                self.faults.pop(svc, None)  # ... to the revision without the fault

            self.time.at(self.time.now + seconds, rollback)

        return fail

    def deploy(self, svc: str, image: str, faults: dict | None = None) -> None:
        if self.images[svc] == image and self.faults.get(svc) == (faults or None):
            return
        self.images_before = {**getattr(self, "images_before", {}), svc: self.images[svc]}
        self.images[svc] = image
        self.faults.pop(svc, None)
        if faults:
            self.faults[svc] = dict(faults)
        self.rolled.append((svc, image))
        self.rollouts.start(svc, task_definition=f"td-{svc}-{image[-4:]}")
        self.behaviour.pop(svc, self.complete_after(60))(svc)


class FakeStack:
    """Records calls (validated against ``auto.Stack``); ``up`` plays the program + ECS."""

    def __init__(self, harness: Harness, name: str, release: dict, first: bool) -> None:
        self.h = harness
        self.name = name
        self.release = dict(release)
        self.pins: dict[str, str] = {} if first else dict.fromkeys(harness.keys, OLD)
        self._outputs = {} if first else outputs_for(self.pins, harness.urls, OLD, harness.keys)
        self.new_image = NEW
        self.calls: list[tuple[str, dict]] = []
        self.runs: list[dict] = []  # the release object of each run's config file
        self.fail: dict[Any, Exception] = {}  # method, or (method, nth call)

    def _record(self, method: str, *args: Any, **kwargs: Any) -> None:
        inspect.signature(getattr(auto.Stack, method)).bind(self, *args, **kwargs)
        self.calls.append((method, {"args": args, **kwargs}))
        nth = sum(1 for name, _ in self.calls if name == method)
        if method in self.fail or (method, nth) in self.fail:
            raise self.fail.get(method) or self.fail[(method, nth)]

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        self._record("get_all_config")
        envs = sorted({key.split("-")[0] for key in self.h.keys})
        return {
            "aws:region": auto.ConfigValue(REGION),
            "steadystate:release": auto.ConfigValue(json.dumps(self.release)),
            "steadystate:environments": auto.ConfigValue(json.dumps(envs)),
            "steadystate:dns": auto.ConfigValue(
                json.dumps({"enabled": len(envs) == 2, "primary": "blue"})
            ),
        }

    def outputs(self) -> dict[str, auto.OutputValue]:
        self._record("outputs")
        return {k: auto.OutputValue(v, secret=False) for k, v in self._outputs.items()}

    def preview(self, **kwargs: Any) -> Any:
        self._record("preview", **kwargs)
        self.runs.append({"preview": read_run_config(Path(kwargs["config_file"]), "steadystate")})
        return SimpleNamespace(change_summary={OpType.UPDATE: 2, OpType.SAME: 97})

    def up(self, **kwargs: Any) -> Any:
        self._record("up", **kwargs)
        run = read_run_config(Path(kwargs["config_file"]), "steadystate")
        self.runs.append(run)
        for key in self.h.keys:
            override = (run.get("pins") or {}).get(key)
            if override:
                self.pins[key] = override["image"]
            elif key not in self.pins or key in run["rollout"]:
                self.pins[key] = self.new_image
        faults = run.get("faults") or {}
        for key in self.h.keys:
            self.h.ecs.deploy(f"svc-{key}", self.pins[key], faults.get(key))
        self.h.serve_versions()
        self._outputs = outputs_for(self.pins, self.h.urls, self.new_image, self.h.keys)
        return SimpleNamespace(
            outputs=self.outputs(),
            summary=SimpleNamespace(resource_changes={"update": 2, "same": 97}),
        )

    def names(self) -> list[str]:
        return [name for name, _ in self.calls if name not in ("get_all_config", "outputs")]

    def rollouts(self) -> list[list[str]]:
        return [run["rollout"] for run in self.runs if "rollout" in run]


class Harness:
    def __init__(
        self,
        exit_stack: contextlib.ExitStack,
        stack_name: str,
        release: dict,
        *,
        first: bool = False,
        keys: tuple[str, ...] = KEYS,
    ) -> None:
        self.keys = keys
        self.time = FakeTime()
        self.ecs_client = boto3.client("ecs", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.ecs_client.create_cluster(clusterName=CLUSTER)
        task_definition = self.ecs_client.register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 128}]
        )["taskDefinition"]["taskDefinitionArn"]
        self.rollouts = Rollouts(CLUSTER)
        for key in keys:
            svc = f"svc-{key}"
            self.ecs_client.create_service(
                cluster=CLUSTER, serviceName=svc, taskDefinition=task_definition, desiredCount=2
            )
            self.rollouts.settle(svc)
            self.alarm(f"{svc}-latency")
            self.alarm(f"{svc}-5xx")
            self.rollouts.set_alarms(svc, [f"{svc}-latency", f"{svc}-5xx"])
        self.ecs = Ecs(self.rollouts, self.time, keys)
        self.services = {
            env: exit_stack.enter_context(serving(LocalService([VERSION[OLD]])))
            for env in sorted({key.split("-")[0] for key in keys})
        }
        self.urls = {env: svc.url for env, svc in self.services.items()}
        self.stack = FakeStack(self, stack_name, release, first)
        self.out = io.StringIO()
        self.regions: list[str | None] = []

    def serve_versions(self) -> None:
        """Each environment answers like its weighted listener: 99 fleet, 1 onebox."""
        for env, service in self.services.items():
            fleet = VERSION.get(self.ecs.images[f"svc-{env}-fleet"], "other-tag")
            onebox_svc = f"svc-{env}-onebox"
            onebox = (
                VERSION.get(self.ecs.images[onebox_svc], "other")
                if onebox_svc in self.ecs.images
                else None
            )
            service.set_versions([fleet] * 99 + ([onebox] if onebox else [fleet]))

    def alarm(self, name: str, state: str = "OK", reason: str = "ok") -> None:
        if state == "OK":
            self.cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/ApplicationELB",
                MetricName="TargetResponseTime",
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=3.0,
                ComparisonOperator="GreaterThanThreshold",
            )
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

    def watcher(self, region: str | None) -> DeploymentWatcher:
        self.regions.append(region)
        return DeploymentWatcher(
            self.ecs_client,
            self.cloudwatch,
            poll_interval=15,
            clock=self.time.clock,
            sleep=self.time.sleep,
        )

    def pipeline(self, **options: Any) -> Pipeline:
        log = pipeline_module.Log(self.out, now=lambda: START + timedelta(seconds=self.time.now))
        opts = PipelineOptions(
            **{"bake_seconds": 300, "rollout_timeout": 900, "load_rate": 50, **options}
        )
        return Pipeline(self.stack, self.watcher, opts, log=log, clock=self.time.clock)

    def run(self, **options: Any) -> int:
        self.last = self.pipeline(**options)
        return self.last.run()

    @property
    def log(self) -> str:
        return self.out.getvalue()


@pytest.fixture
def make(monkeypatch) -> Iterator[Callable[..., Harness]]:
    with moto_sandbox(monkeypatch), contextlib.ExitStack() as exit_stack:
        yield lambda *args, **kwargs: Harness(exit_stack, *args, **kwargs)


POLICY = {
    "policy_packs": [str(REPO / "policy")],
    "policy_pack_configs": [str(REPO / "policy" / "config" / "prod.json")],
}


def test_prod_releases_blue_onebox_bake_fleet_then_green(make):
    h = make("prod", {"onebox": True})
    committed = (REPO / "Pulumi.prod.yaml").read_bytes()
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["preview", "up", "up", "up", "up"]
    assert h.stack.rollouts() == [
        ["blue-onebox"],
        ["blue-onebox", "blue-fleet"],
        ["blue-onebox", "blue-fleet", "green-onebox"],
        ["blue-onebox", "blue-fleet", "green-onebox", "green-fleet"],
    ]
    import yaml

    release = yaml.safe_load(committed)["config"]["steadystate:release"]
    assert h.stack.runs[0] == {"preview": {**release, "rollout": ["blue-onebox"]}}
    assert [svc for svc, _ in h.ecs.rolled] == [f"svc-{k}" for k in KEYS]
    assert set(h.ecs.images.values()) == {NEW}
    for name, call in h.stack.calls:
        if name in ("preview", "up"):
            assert {k: call[k] for k in POLICY} == POLICY
            assert call["color"] == "never"
            assert Path(call["config_file"]).parent != REPO  # a throwaway copy
    assert (REPO / "Pulumi.prod.yaml").read_bytes() == committed  # nothing to commit
    assert h.regions == ["us-east-2"]
    # per environment: 60 s onebox rollout, 300 s bake, 60 s fleet rollout
    assert h.time.now == 2 * (60 + 300 + 60)
    stages = [(s["step"], s["kind"], s["result"]) for s in h.last.summary.stages]
    assert stages == [
        ("blue onebox", "up", "same=97, update=2"),
        ("watch blue onebox", "watch", "ok"),
        ("smoke blue onebox", "smoke", "ok"),
        ("bake blue onebox", "bake", "ok"),
        ("blue fleet", "up", "same=97, update=2"),
        ("watch blue fleet", "watch", "ok"),
        ("smoke blue fleet", "smoke", "ok"),
        ("green onebox", "up", "same=97, update=2"),
        ("watch green onebox", "watch", "ok"),
        ("smoke green onebox", "smoke", "ok"),
        ("bake green onebox", "bake", "ok"),
        ("green fleet", "up", "same=97, update=2"),
        ("watch green fleet", "watch", "ok"),
        ("smoke green fleet", "smoke", "ok"),
    ]
    for env in ("blue", "green"):
        assert h.services[env].hits["/api"] >= 1  # the bake's load reached the environment
    summary = h.last.summary.to_json()
    assert summary["exitCode"] == 0 and summary["stackChanged"] is True
    assert summary["image"] == {"ref": NEW, "version": "new-tag"}
    bake = next(s for s in summary["stages"] if s["kind"] == "bake")
    assert bake["load"]["url"] == f"{h.urls['blue']}/api" and bake["load"]["answered"] >= 1
    assert "[smoke blue onebox] smoke blue: ok: /health 200, /version new-tag seen" in h.log
    assert "[smoke blue fleet] smoke blue: ok: /health 200, /version new-tag ×20" in h.log
    assert h.log.splitlines()[-1].endswith("[done] exit 0 (released (or nothing to do)) after 840s")


def test_an_alarm_during_the_bake_puts_the_onebox_back_and_stops(make):
    h = make("prod", {"onebox": True})
    h.time.at(
        180,
        lambda: h.alarm("svc-blue-onebox-latency", "ALARM", "p90 TargetResponseTime 6.1 > 3.0"),
    )
    assert h.run() == EXIT_DEPLOY_FAILED
    assert h.stack.names() == ["preview", "up", "up"]
    assert h.stack.runs[-1]["pins"] == {"blue-onebox": {"image": OLD, "version": "old-tag"}}
    assert h.ecs.images == {
        "svc-blue-onebox": OLD,
        "svc-blue-fleet": OLD,
        "svc-green-onebox": OLD,
        "svc-green-fleet": OLD,
    }
    assert "[bake blue onebox] FAILED: alarm svc-blue-onebox-latency is in ALARM (p90" in h.log
    assert (
        "[put back blue-onebox] blue-onebox runs steadystate-app@sha256:aaaaaaaaaaaa… again"
        in h.log
    )
    assert "exit 10" in h.log.splitlines()[-1]


def test_a_bake_nobody_measured_does_not_pass(make):
    h = make("prod", {"onebox": True})
    h.time.at(10, lambda: h.alarm("svc-blue-onebox-5xx", "INSUFFICIENT_DATA", "no datapoints"))
    assert h.run() == EXIT_DEPLOY_FAILED
    assert (
        "deployment alarm(s) svc-blue-onebox-5xx in INSUFFICIENT_DATA after the bake: nothing "
        "measured the new release" in h.log
    )
    assert h.ecs.images["svc-blue-onebox"] == OLD  # put back


def test_a_onebox_rollback_by_ecs_stops_the_release_with_the_fleet_untouched(make):
    h = make("prod", {"onebox": True})
    reason = "ECS deployment circuit breaker: tasks failed to start."
    h.ecs.behaviour["svc-blue-onebox"] = h.ecs.fail_after(45, reason)
    assert h.run() == EXIT_DEPLOY_FAILED
    assert h.stack.rollouts()[0] == ["blue-onebox"]
    assert h.stack.runs[-1]["pins"] == {"blue-onebox": {"image": OLD, "version": "old-tag"}}
    assert h.ecs.images["svc-blue-fleet"] == OLD and h.ecs.images["svc-green-fleet"] == OLD
    assert f"[watch blue onebox] FAILED: svc-blue-onebox: rolloutState FAILED: {reason}" in h.log
    assert "[bake" not in h.log


def test_a_fleet_rollback_sets_its_pin_back_and_green_is_never_touched(make):
    h = make("prod", {"onebox": True})
    h.ecs.behaviour["svc-blue-fleet"] = h.ecs.fail_after(120, "alarm svc-blue-fleet-5xx")
    assert h.run(bake_seconds=60) == EXIT_DEPLOY_FAILED
    assert h.stack.runs[-1]["pins"] == {"blue-fleet": {"image": OLD, "version": "old-tag"}}
    assert h.stack.pins["blue-fleet"] == OLD
    assert h.ecs.images["svc-green-onebox"] == OLD and h.ecs.images["svc-green-fleet"] == OLD


def test_a_failed_smoke_test_has_its_own_exit_code(make):
    h = make("prod", {"onebox": True})
    original = h.serve_versions
    h.serve_versions = lambda: (original(), h.services["blue"].set_versions(["stale"]))  # type: ignore[method-assign]
    assert h.run() == EXIT_SMOKE
    assert "[smoke blue onebox] smoke blue: FAILED:" in h.log and "reports 'stale'" in h.log
    assert "[bake" not in h.log
    assert "exit 11 (a smoke test failed after an up; the stack changed)" in h.log


def test_preview_policy_violation_stops_before_any_up(make):
    h = make("prod", {"onebox": True})
    stderr = "Policy Violations:\n    [mandatory]  steadystate-guardrails v0.1.0  ecs-service-deployment-alarms"
    h.stack.fail["preview"] = auto.CommandError(CommandResult(stdout="", stderr=stderr, code=255))
    assert h.run() == EXIT_PULUMI
    assert h.stack.names() == ["preview"]
    assert "[mandatory]  steadystate-guardrails v0.1.0  ecs-service-deployment-alarms" in h.log
    assert h.ecs.rolled == []


def test_an_up_failure_means_the_stack_may_have_changed(make):
    h = make("prod", {"onebox": True})
    stderr = "error: update failed: aws:ecs:Service svc-blue-fleet: ThrottlingException"
    h.stack.fail[("up", 2)] = auto.CommandError(CommandResult(stdout="", stderr=stderr, code=1))
    assert h.run(bake_seconds=30, skip_preview=True) == EXIT_UP_FAILED
    assert "ThrottlingException" in h.log
    assert "the stack may be partly updated; the release pins say what each service" in h.log


def test_preflight_stops_before_any_change_when_ecs_cannot_be_read(make):
    h = make("prod", {"onebox": True})
    h.stack._outputs["clusterName"] = "gone-cluster"
    assert h.run() == EXIT_PREFLIGHT
    assert h.stack.names() == []
    assert "[error] preflight: ECS DescribeServices on cluster 'gone-cluster' failed" in h.log


def test_preflight_checks_cloudwatch_too(make):
    from tests.ops.release.test_watch_retries import Flaky

    h = make("prod", {"onebox": True})
    h.cloudwatch = Flaky(h.cloudwatch, "describe_alarms", "AccessDenied", 99)  # type: ignore[assignment]
    assert h.run() == EXIT_PREFLIGHT
    assert h.stack.names() == []
    assert "[error] preflight: CloudWatch DescribeAlarms failed 5 times" in h.log
    assert "AccessDenied: AccessDenied from AWS; nothing changed" in h.log
    assert "Traceback" not in h.log


def test_aws_errors_after_the_stack_changed_are_exit_13_never_a_traceback(make):
    from tests.ops.release.test_watch_retries import Flaky

    h = make("prod", {"onebox": True})
    flaky = Flaky(h.ecs_client, "describe_services", "ThrottlingException", 0)
    h.ecs_client = flaky  # type: ignore[assignment]
    h.time.at(30, lambda: setattr(flaky, "times", 10**6))  # throttled from the watch on
    assert h.run() == EXIT_AWS_AFTER
    assert "cannot watch the deployment: ECS DescribeServices on cluster" in h.log
    assert "failed 5 times (backing off up to 20s): ThrottlingException" in h.log


def test_preflight_reports_what_it_sees(make):
    h = make("prod", {"onebox": True})
    h.run(bake_seconds=0)
    assert (
        "[preflight] ECS reachable: 4 ACTIVE service(s) in steadystate-prod-cluster; "
        "CloudWatch reachable: 8 deployment alarm(s)" in h.log
    )


def test_dev_without_onebox_is_one_up_watch_and_smoke_per_environment(make):
    h = make("dev", {"onebox": False}, keys=("blue-fleet",))
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["preview", "up"]
    assert h.stack.rollouts() == [["blue-fleet"]]
    preview = dict(h.stack.calls)["preview"]
    assert preview["policy_pack_configs"] == [str(REPO / "policy" / "config" / "dev.json")]
    assert h.ecs.images == {"svc-blue-fleet": NEW}
    assert "[smoke blue fleet] smoke blue: ok" in h.log and "[bake" not in h.log


def test_the_first_release_is_one_up_for_everything(make):
    h = make("prod", {"onebox": True}, first=True)
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["preview", "up"]
    assert h.stack.rollouts() == [list(KEYS)]
    assert sorted(svc for svc, _ in h.ecs.rolled) == sorted(f"svc-{k}" for k in KEYS)
    assert "[smoke everything] smoke blue: ok" in h.log
    assert "[smoke everything] smoke green: ok" in h.log


def test_an_image_ref_without_digest_is_refused_after_the_up(make):
    h = make("prod", {"onebox": True})
    h.stack.new_image = f"{REPOSITORY}:latest"
    assert h.run() == EXIT_AWS_AFTER
    assert (
        "imageRef '123456789012.dkr.ecr.us-east-2.amazonaws.com/steadystate-app:latest' is not"
        in h.log
    )


def test_rollout_timeout_is_a_failed_release(make):
    h = make("prod", {"onebox": True})
    h.ecs.behaviour["svc-blue-onebox"] = lambda svc: None  # ECS never finishes
    assert h.run(rollout_timeout=120) == EXIT_DEPLOY_FAILED
    assert "timed out after 120s waiting for svc-blue-onebox to reach COMPLETED" in h.log


# -- the command line ----------------------------------------------------------------------------------
def test_dry_run_prints_the_per_environment_plan(monkeypatch, tmp_path):
    monkeypatch.setattr(
        pipeline_module.shutil, "which", lambda _name: pytest.fail("looked for CLI")
    )
    out, err = io.StringIO(), io.StringIO()
    argv = ["--stack", "prod", "--dry-run", "--bake-seconds", "600", "--json"]
    assert pipeline_module.main(argv, out=out, stderr=err) == 0
    lines = [line.split(" ", 1)[1] for line in err.getvalue().splitlines()]  # --json: log on stderr
    assert lines[0].startswith("[dry-run] gate: ")  # tests/ops/release/test_plan_gate.py
    assert lines[1] == (
        "[dry-run] stack prod (project steadystate, region us-east-2): onebox on, environments "
        "blue then green"
    )
    order = [line for line in lines if "pulumi up" in line]
    every = "blue-onebox,blue-fleet,green-onebox,green-fleet"
    # prod has hosts per environment: application steps hold them, then blue's, then green's move
    assert [line.rsplit("release.rollout=", 1)[1] for line in order] == [
        "blue-onebox, release.hostRollout=>",
        "blue-onebox,blue-fleet, release.hostRollout=>",
        "blue-onebox,blue-fleet,green-onebox, release.hostRollout=>",
        f"{every}, release.hostRollout=>",
        f"{every}, release.hostRollout=blue>",
        f"{every}, release.hostRollout=blue,green>",
    ]
    text = "\n".join(lines)
    assert "smoke blue: /health 200, /version shows the new version" in text
    assert "bake blue onebox 600s with load 20 requests/s for 600s to the blue URL" in text
    assert lines[-1] == "[dry-run] dry run: nothing selected, changed or deployed"
    plan = json.loads(out.getvalue())
    assert plan["order"] == ["blue", "green"] and len(plan["steps"]) == 20
    assert plan["exitCodes"]["10"].startswith("a deployment failed")


def known_stacks(project_dir: Path) -> list[str]:
    """The stacks of ``project_dir``, from its Pulumi.<stack>.yaml files (not a fixed list)."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def test_dry_run_for_an_unknown_stack_is_a_usage_error():
    out = io.StringIO()
    stack = "no-such-stack"
    assert stack not in known_stacks(REPO)
    assert pipeline_module.main(["--stack", stack, "--dry-run"], out=out) == EXIT_USAGE
    assert f"unknown stack '{stack}' (no Pulumi.{stack}.yaml in " in out.getvalue()
    assert "known stacks: " + ", ".join(known_stacks(REPO)) in out.getvalue()


@pytest.fixture
def project_with_staging(tmp_path: Path) -> Path:
    """A copy of the project's stack files plus Pulumi.staging.yaml, copied from dev."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        (tmp_path / name).write_text((REPO / name).read_text())
    (tmp_path / "Pulumi.staging.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    (tmp_path / "policy" / "config").mkdir(parents=True)
    for name in ("dev.json", "prod.json"):
        (tmp_path / "policy" / "config" / name).write_text(
            (REPO / "policy" / "config" / name).read_text()
        )
    return tmp_path


def test_the_unknown_stack_message_lists_an_extra_stack(project_with_staging: Path):
    out = io.StringIO()
    args = ["--stack", "qa", "--dry-run", "--work-dir", str(project_with_staging)]
    assert pipeline_module.main(args, out=out) == EXIT_USAGE
    assert "known stacks: dev, prod, staging" in out.getvalue()


def test_dry_run_of_a_stack_copied_from_dev_uses_the_dev_policy_config(project_with_staging: Path):
    out = io.StringIO()
    args = ["--stack", "staging", "--dry-run", "--work-dir", str(project_with_staging)]
    assert pipeline_module.main(args, out=out) == EXIT_OK
    text = out.getvalue()
    assert (
        "[dry-run] policy: no staging.json for stack staging: using dev.json, the policy config "
        "of its stage (dev)"
    ) in text
    assert "pulumi preview --policy-pack policy --policy-pack-config policy/config/dev.json" in text


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_release_of_a_new_stack_previews_with_its_stage_s_policy_config(
    make, stage, project_with_staging: Path
):
    h = make("staging", {"onebox": False}, keys=("blue-fleet",))
    all_config = h.stack.get_all_config()
    h.stack.get_all_config = lambda: {  # type: ignore[method-assign]
        **all_config,
        "steadystate:stage": auto.ConfigValue(stage),
    }
    code = h.run(skip_preview=False, project_dir=project_with_staging)
    assert code == 0, h.log
    preview = next(kwargs for name, kwargs in h.stack.calls if name == "preview")
    assert preview["policy_pack_configs"] == [str(REPO / "policy" / "config" / f"{stage}.json")]
    assert f"using {stage}.json, the policy config of its stage ({stage})" in h.log


def test_dry_run_validates_the_settings_like_make_check(tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        (tmp_path / name).write_text((REPO / name).read_text())
    bad = (tmp_path / "Pulumi.prod.yaml").read_text().replace("fleetWeight: 99", "fleetWeight: 0")
    (tmp_path / "Pulumi.prod.yaml").write_text(bad)
    out = io.StringIO()
    argv = ["--stack", "prod", "--dry-run", "--work-dir", str(tmp_path)]
    assert pipeline_module.main(argv, out=out) == EXIT_USAGE
    assert "steadystate:release.fleetWeight" in out.getvalue()


def test_without_the_pulumi_cli_the_pipeline_says_so(monkeypatch):
    monkeypatch.setattr(pipeline_module.shutil, "which", lambda _name: None)
    out = io.StringIO()
    assert pipeline_module.main(["--stack", "prod"], out=out) == EXIT_USAGE
    text = out.getvalue()
    assert "needs the pulumi CLI on PATH" in text
    assert "https://www.pulumi.com/docs/iac/download-install/" in text
    assert "try --dry-run" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--poll-interval", "0"], "--poll-interval must be positive"),
        (["--load-rate", "1000"], "--load-rate must be above 0 and at most 200"),
        (["--load-seconds", "99999"], "--load-seconds must be above 0 and at most 3600"),
    ],
)
def test_bad_numbers_are_rejected(capsys, argv, message):
    with pytest.raises(SystemExit):
        pipeline_module.parse_args(["--stack", "prod", *argv])
    assert message in capsys.readouterr().err


def test_https_environments_are_called_under_the_service_s_public_name(make):
    h = make("prod", {"onebox": True})
    pipeline = h.pipeline()
    pipeline.service_url = "https://api.example.com"
    assert pipeline._fetch_for("http://127.0.0.1:8080") is pipeline.fetch
    named = pipeline._fetch_for("https://steadystate-blue-1.us-east-2.elb.amazonaws.com")
    assert named is not pipeline.fetch and named.__qualname__.startswith("fetch_for")


def test_a_bake_too_short_for_its_alarms_is_lengthened_from_their_replay(make):
    """The bake's length comes from ops.alarm_replay over the alarms DescribeAlarms returns."""
    h = make("prod", {"onebox": True})
    assert h.run(bake_seconds=60) == EXIT_OK, h.log
    assert (
        "[bake blue onebox] alarm svc-blue-onebox-latency: ALARM 130 s after a failing release "
        "starts (replay 'a failing release')" in h.log
    )
    assert "[bake blue onebox] bake lengthened from 60 s to 130 s so every alarm can fire" in h.log
    assert "baking blue-onebox for 130s" in h.log
    bakes = [s for s in h.last.summary.stages if s["kind"] == "bake"]
    assert bakes and all(s["alarm_replays"] for s in bakes)
