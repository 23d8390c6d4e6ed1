"""ops.release.pipeline: the release decisions, with a fake stack and ECS/CloudWatch in moto.

The fake stack stands in for ``pulumi.automation.Stack`` (every call is checked against the real
method's signature) and, on ``up``, plays Pulumi + ECS: a service whose image changes gets a new
PRIMARY deployment, which the test's ECS then completes, fails or leaves hanging on the fake clock.
"""

from __future__ import annotations

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
    EXIT_DEPLOY_FAILED,
    EXIT_OK,
    EXIT_PULUMI,
    EXIT_USAGE,
    Pipeline,
    PipelineOptions,
)
from tests.chaos.moto_world import REGION, FakeTime, Rollouts, moto_sandbox

REPO = Path(__file__).resolve().parents[3]
CLUSTER = "steadystate-prod-cluster"
REPOSITORY = "123456789012.dkr.ecr.us-east-2.amazonaws.com/steadystate-app"
OLD = f"{REPOSITORY}@sha256:{'a' * 64}"
NEW = f"{REPOSITORY}@sha256:{'b' * 64}"
KEYS = ("blue-fleet", "blue-onebox", "green-fleet", "green-onebox")
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def outputs_for(image: str, keys: tuple[str, ...] = KEYS) -> dict[str, Any]:
    return {
        "url": "https://api.example.com",
        "clusterName": CLUSTER,
        "serviceNames": {key: f"svc-{key}" for key in keys},
        "imageRef": image,
        "alarmTopicArn": "arn:aws:sns:us-east-2:123456789012:alerts",
    }


class Ecs:
    """ECS as the tests script it: per service, what happens after Pulumi changes its image."""

    def __init__(self, rollouts: Rollouts, time: FakeTime, keys: tuple[str, ...]) -> None:
        self.rollouts = rollouts
        self.time = time
        self.images = {f"svc-{key}": OLD for key in keys}
        self.behaviour: dict[str, Callable[[str], None]] = {}
        self.rolled: list[str] = []

    def complete_after(self, seconds: float) -> Callable[[str], None]:
        return lambda svc: self.time.at(
            self.time.now + seconds, lambda: self.rollouts.complete(svc)
        )

    def fail_after(self, seconds: float, reason: str) -> Callable[[str], None]:
        return lambda svc: self.time.at(
            self.time.now + seconds, lambda: self.rollouts.fail(svc, reason)
        )

    def deploy(self, svc: str, image: str) -> None:
        if self.images[svc] == image:
            return
        self.images[svc] = image
        self.rolled.append(svc)
        self.rollouts.start(svc, task_definition=f"td-{svc}-{image[-4:]}")
        self.behaviour.get(svc, self.complete_after(60))(svc)


class FakeStack:
    """Records calls (validated against ``auto.Stack``); ``up`` plays the program + ECS."""

    def __init__(self, name: str, release: dict, previous: dict, ecs: Ecs, new_image: str = NEW):
        self.name = name
        self.release = dict(release)
        self._outputs = dict(previous)
        self.ecs = ecs
        self.new_image = new_image
        self.calls: list[tuple[str, dict]] = []
        self.fail: dict[Any, Exception] = {}  # method, or (method, nth call)

    def _record(self, method: str, *args: Any, **kwargs: Any) -> None:
        inspect.signature(getattr(auto.Stack, method)).bind(self, *args, **kwargs)
        self.calls.append((method, {"args": args, **kwargs}))
        nth = sum(1 for name, _ in self.calls if name == method)
        if method in self.fail or (method, nth) in self.fail:
            raise self.fail.get(method) or self.fail[(method, nth)]

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        self._record("get_all_config")
        return {
            "aws:region": auto.ConfigValue(REGION),
            "steadystate:release": auto.ConfigValue(json.dumps(self.release)),
        }

    def outputs(self) -> dict[str, auto.OutputValue]:
        self._record("outputs")
        return {k: auto.OutputValue(v, secret=False) for k, v in self._outputs.items()}

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self._record("set_config", key, value, path=path)
        assert (key, path, value.secret) == ("release.fleetImage", True, False)
        self.release["fleetImage"] = value.value

    def remove_config(self, key: str, *, path: bool = False) -> None:
        self._record("remove_config", key, path=path)
        self.release.pop("fleetImage", None)

    def preview(self, **kwargs: Any) -> Any:
        self._record("preview", **kwargs)
        return SimpleNamespace(change_summary={OpType.UPDATE: 2, OpType.SAME: 97})

    def up(self, **kwargs: Any) -> Any:
        self._record("up", **kwargs)
        outputs = outputs_for(self.new_image, self._keys())
        onebox = self.release.get("onebox") is True
        for key, svc in outputs["serviceNames"].items():
            fleet_image = (onebox and self.release.get("fleetImage")) or self.new_image
            self.ecs.deploy(svc, self.new_image if key.endswith("-onebox") else fleet_image)
        self._outputs = outputs
        return SimpleNamespace(
            outputs=self.outputs(),
            summary=SimpleNamespace(resource_changes={"update": 4, "same": 95}),
        )

    def _keys(self) -> tuple[str, ...]:
        return tuple(svc.removeprefix("svc-") for svc in self.ecs.images)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls if name not in ("get_all_config", "outputs")]

    def config_sets(self) -> list[str]:
        return [call["args"][1].value for name, call in self.calls if name == "set_config"]


class Harness:
    def __init__(self, stack_name: str, release: dict, previous: dict | None, keys=KEYS) -> None:
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
        self.stack = FakeStack(stack_name, release, previous or {}, self.ecs)
        self.out = io.StringIO()
        self.regions: list[str | None] = []

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

    def run(self, **options: Any) -> int:
        log = pipeline_module.Log(self.out, now=lambda: START + timedelta(seconds=self.time.now))
        opts = PipelineOptions(**{"bake_seconds": 300, "rollout_timeout": 900, **options})
        return Pipeline(self.stack, self.watcher, opts, log=log, clock=self.time.clock).run()

    @property
    def log(self) -> str:
        return self.out.getvalue()


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    with moto_sandbox(monkeypatch):
        yield


POLICY = {
    "policy_packs": [str(REPO / "policy")],
    "policy_pack_configs": [str(REPO / "policy" / "config" / "prod.json")],
}


def test_prod_release_pins_moves_onebox_bakes_then_promotes_the_fleet(aws):
    h = Harness("prod", {"onebox": True, "oneboxWeight": 1}, outputs_for(OLD))
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["set_config", "preview", "up", "set_config", "up"]
    assert h.stack.config_sets() == [OLD, NEW]  # pin the running digest, then promote
    for name, call in h.stack.calls:
        if name in ("preview", "up"):
            assert {k: call[k] for k in POLICY} == POLICY
            assert call["color"] == "never"
    first_up_rolled = h.ecs.rolled[:2]
    assert sorted(first_up_rolled) == ["svc-blue-onebox", "svc-green-onebox"]
    assert sorted(h.ecs.rolled[2:]) == ["svc-blue-fleet", "svc-green-fleet"]
    assert set(h.ecs.images.values()) == {NEW}
    assert h.regions == ["us-east-2"]
    # 60 s onebox rollout (polled every 15 s), 300 s bake, 60 s fleet rollout
    assert h.time.now == 60 + 300 + 60
    assert "[pin] release.fleetImage unset: pinning the fleet to the running image" in h.log
    assert "[bake] baking blue-onebox, green-onebox for 300s" in h.log
    assert (
        "[promote] release.fleetImage: steadystate-app@sha256:aaaaaaaaaaaa… -> "
        "steadystate-app@sha256:bbbbbbbbbbbb…" in h.log
    )
    assert "commit Pulumi.prod.yaml" in h.log
    assert h.log.splitlines()[-1] == "2026-03-02T09:37:00Z [done] exit 0 after 420s"


def test_onebox_rollback_stops_the_release_and_the_fleet_is_untouched(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    reason = "ECS deployment circuit breaker: tasks failed to start."
    h.ecs.behaviour["svc-blue-onebox"] = h.ecs.fail_after(45, reason)
    assert h.run() == EXIT_DEPLOY_FAILED
    assert h.stack.names() == ["preview", "up"]
    assert h.stack.release["fleetImage"] == OLD
    assert h.ecs.images["svc-blue-fleet"] == OLD and h.ecs.images["svc-green-fleet"] == OLD
    assert f"[watch onebox] FAILED: svc-blue-onebox: rolloutState FAILED: {reason}" in h.log
    assert "NOT promoting steadystate-app@sha256:bbbbbbbbbbbb…" in h.log
    assert "[bake]" not in h.log


def test_onebox_alarm_during_the_bake_stops_the_release(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.time.at(
        180,
        lambda: h.alarm("svc-green-onebox-latency", "ALARM", "p90 TargetResponseTime 6.1 > 3.0"),
    )
    assert h.run() == EXIT_DEPLOY_FAILED
    assert h.stack.names() == ["preview", "up"]
    assert "[bake] FAILED: alarm svc-green-onebox-latency is in ALARM (p90" in h.log
    assert "[bake] NOT promoting" in h.log
    assert h.time.now == 180


def test_a_fleet_alarm_is_not_the_onebox_s_business(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.alarm("svc-blue-fleet-latency", "ALARM", "old image is slow")  # before the release
    code = h.run(bake_seconds=30)
    assert "[watch onebox]" in h.log and "[bake] onebox healthy" in h.log
    assert code == EXIT_DEPLOY_FAILED  # ... but the fleet watch sees its own alarm
    assert "[watch fleet] FAILED: alarm svc-blue-fleet-latency is in ALARM" in h.log


def test_fleet_rollback_restores_the_previous_digest_in_the_config(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.ecs.behaviour["svc-green-fleet"] = h.ecs.fail_after(120, "alarm svc-green-fleet-5xx")
    assert h.run(bake_seconds=60) == EXIT_DEPLOY_FAILED
    assert h.stack.config_sets() == [NEW, OLD]
    assert h.stack.release["fleetImage"] == OLD
    assert "restored release.fleetImage to steadystate-app@sha256:aaaaaaaaaaaa…" in h.log


def test_preview_policy_violation_stops_before_any_up(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    stderr = "Policy Violations:\n    [mandatory]  steadystate-guardrails v0.1.0  ecs-service-deployment-alarms"
    h.stack.fail["preview"] = auto.CommandError(CommandResult(stdout="", stderr=stderr, code=255))
    assert h.run() == EXIT_PULUMI
    assert h.stack.names() == ["preview"]
    assert "[error] pulumi failed (CommandError); last lines:" in h.log
    assert "[mandatory]  steadystate-guardrails v0.1.0  ecs-service-deployment-alarms" in h.log
    assert h.ecs.rolled == []


def test_up_failure_is_exit_3(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.stack.fail["up"] = auto.CommandError(CommandResult(stdout="", stderr="boom", code=1))
    assert h.run(skip_preview=True) == EXIT_PULUMI
    assert h.stack.names() == ["up"]
    assert "[preview] skipped (--skip-preview)" in h.log


def test_a_failing_second_up_says_what_the_config_now_claims(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    stderr = "error: update failed: aws:ecs:Service svc-blue-fleet: ThrottlingException"
    h.stack.fail[("up", 2)] = auto.CommandError(CommandResult(stdout="", stderr=stderr, code=1))
    assert h.run(bake_seconds=30) == EXIT_PULUMI
    assert h.stack.names() == ["preview", "up", "set_config", "up"]
    assert "ThrottlingException" in h.log
    assert "release.fleetImage already says the new image in Pulumi.prod.yaml" in h.log
    assert f"set it back to {OLD}" in h.log


def test_preflight_stops_before_any_change_when_ecs_cannot_be_read(aws):
    previous = {**outputs_for(OLD), "clusterName": "gone-cluster"}
    h = Harness("prod", {"onebox": True}, previous)
    assert h.run() == EXIT_USAGE
    assert h.stack.names() == []  # no pin, no preview, no up
    assert "[error] cannot read ECS before releasing: describe_services on cluster" in h.log


def test_preflight_reports_what_it_sees(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.run(bake_seconds=0)
    assert "[preflight] ECS reachable: 4 ACTIVE service(s) in steadystate-prod-cluster" in h.log


def test_dev_without_onebox_is_one_up_and_a_fleet_watch(aws):
    h = Harness("dev", {"onebox": False}, outputs_for(OLD, ("blue-fleet",)), keys=("blue-fleet",))
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["preview", "up"]
    preview = dict(h.stack.calls)["preview"]
    assert preview["policy_pack_configs"] == [str(REPO / "policy" / "config" / "dev.json")]
    assert h.ecs.images == {"svc-blue-fleet": NEW}
    assert "[watch] steadystate-app@sha256:bbbbbbbbbbbb… is live on every service" in h.log
    assert "[bake]" not in h.log


def test_first_release_has_nothing_to_pin_and_rolls_everything_at_once(aws):
    h = Harness("prod", {"onebox": True}, previous=None)
    assert h.run() == EXIT_OK, h.log
    assert h.stack.names() == ["preview", "up"]
    assert sorted(h.ecs.rolled) == sorted(f"svc-{key}" for key in KEYS)
    assert "no previous imageRef (first release)" in h.log


def test_nothing_to_promote_when_the_fleet_already_runs_the_image(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": NEW}, outputs_for(NEW))
    h.ecs.images = dict.fromkeys(h.ecs.images, NEW)
    assert h.run(bake_seconds=30) == EXIT_OK
    assert h.stack.names() == ["preview", "up"]
    assert "the fleet already runs steadystate-app@sha256:bbbbbbbbbbbb…: no promotion" in h.log


def test_an_image_ref_without_digest_is_refused_before_watching(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.stack.new_image = f"{REPOSITORY}:latest"
    assert h.run() == EXIT_USAGE
    assert (
        "imageRef '123456789012.dkr.ecr.us-east-2.amazonaws.com/steadystate-app:latest' is not"
        in h.log
    )


def test_rollout_timeout_is_a_failed_release(aws):
    h = Harness("prod", {"onebox": True, "fleetImage": OLD}, outputs_for(OLD))
    h.ecs.behaviour["svc-blue-onebox"] = lambda svc: None  # ECS never finishes
    assert h.run(rollout_timeout=120) == EXIT_DEPLOY_FAILED
    assert "timed out after 120s waiting for svc-blue-onebox to reach COMPLETED" in h.log


# -- the command line ----------------------------------------------------------------------------------
def test_dry_run_prints_the_plan_from_the_files_alone(monkeypatch):
    monkeypatch.setattr(
        pipeline_module.shutil, "which", lambda _name: pytest.fail("looked for CLI")
    )
    out = io.StringIO()
    assert (
        pipeline_module.main(["--stack", "prod", "--dry-run", "--bake-seconds", "600"], out=out)
        == 0
    )
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == (
        "[dry-run] stack prod (project steadystate, region us-east-2): onebox on, "
        "release.fleetImage unset"
    )
    assert (
        "[dry-run] 3. pulumi preview --policy-pack policy --policy-pack-config policy/config/prod.json"
        in lines
    )
    assert "[dry-run] 6. bake 600s: onebox alarms stay out of ALARM, no rollback" in lines
    assert lines[-1] == "[dry-run] dry run: nothing selected, changed or deployed"


def known_stacks(project_dir: Path) -> list[str]:
    """The stacks of ``project_dir``, from its Pulumi.<stack>.yaml files (not a fixed list)."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def test_dry_run_for_an_unknown_stack_is_a_usage_error():
    out = io.StringIO()
    stack = "no-such-stack"
    assert stack not in known_stacks(REPO)
    assert pipeline_module.main(["--stack", stack, "--dry-run"], out=out) == EXIT_USAGE
    assert (
        f"stack '{stack}' has no Pulumi.{stack}.yaml; known stacks: "
        + ", ".join(known_stacks(REPO))
    ) in out.getvalue()


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
def test_a_release_of_a_new_stack_previews_with_its_stage_s_policy_config(aws, stage):
    h = Harness(
        "staging", {"onebox": False}, outputs_for(OLD, ("blue-fleet",)), keys=("blue-fleet",)
    )
    all_config = h.stack.get_all_config()
    h.stack.get_all_config = lambda: {  # type: ignore[method-assign]
        **all_config,
        "steadystate:stage": auto.ConfigValue(stage),
    }
    h.run()
    preview = next(kwargs for name, kwargs in h.stack.calls if name == "preview")
    assert preview["policy_pack_configs"] == [str(REPO / "policy" / "config" / f"{stage}.json")]
    assert f"using {stage}.json, the policy config of its stage ({stage})" in h.log


def test_without_the_pulumi_cli_the_pipeline_says_so(monkeypatch):
    monkeypatch.setattr(pipeline_module.shutil, "which", lambda _name: None)
    out = io.StringIO()
    assert pipeline_module.main(["--stack", "prod"], out=out) == EXIT_USAGE
    assert "needs the pulumi CLI on PATH (not installable from PyPI/apt here); try --dry-run" in (
        out.getvalue()
    )


def test_bad_numbers_are_rejected(capsys):
    with pytest.raises(SystemExit):
        pipeline_module.parse_args(["--stack", "prod", "--poll-interval", "0"])
    assert "--poll-interval must be positive" in capsys.readouterr().err
