"""``--fault latency=MS``: a fault release re-releases the active onebox on the release it runs
with the app's latency fault switch on, and nothing else moves. Played with the fake stack, moto
ECS/CloudWatch and local HTTP servers of ``test_pipeline``; the refusals through the CLI."""

from __future__ import annotations

import io

import pytest

from ops.release import pipeline as pipeline_module
from ops.release.pipeline import (
    EXIT_DEPLOY_FAILED,
    EXIT_FAULT_MISSED,
    EXIT_USAGE,
    PipelineError,
    ReleaseConfig,
    fault_step,
)
from tests.ops.release.test_pipeline import OLD, make  # noqa: F401  (the fixture)

FAULT = {"latencyMs": 6000}
OLD_PIN = {"image": OLD, "version": "old-tag"}


def release_keys(run: dict) -> dict:
    """The per-``up`` keys of a run config's release object."""
    return {k: v for k, v in run.items() if k in ("rollout", "pins", "faults")}


def test_the_alarm_catches_the_fault_and_the_onebox_is_put_back_without_it(make):  # noqa: F811
    h = make("prod", {"onebox": True})
    h.time.at(
        120, lambda: h.alarm("svc-blue-onebox-latency", "ALARM", "p90 TargetResponseTime 6.0 > 3")
    )
    assert h.run(faults=FAULT) == EXIT_DEPLOY_FAILED, h.log
    assert h.stack.names() == ["preview", "up", "up"]
    preview, fault_up, put_back = h.stack.runs
    assert release_keys(fault_up) == {
        "rollout": [],
        "pins": {"blue-onebox": OLD_PIN},
        "faults": {"blue-onebox": FAULT},
    }
    assert preview["preview"] == fault_up
    assert release_keys(put_back) == {"rollout": [], "pins": {"blue-onebox": OLD_PIN}}
    # only the onebox was deployed (twice: the fault, then without it); nothing else moved
    assert [svc for svc, _ in h.ecs.rolled] == ["svc-blue-onebox", "svc-blue-onebox"]
    assert h.ecs.faults == {}
    assert "FAULT RELEASE: blue-onebox gets FAULT_LATENCY_MS=6000, APP_ALLOW_FAULTS=true" in h.log
    assert "[bake blue onebox fault latencyMs=6000] FAILED: alarm svc-blue-onebox-latency" in h.log
    assert "the fault was caught (exit 10); the onebox was put back" in h.log


def test_ecs_rolling_the_fault_back_during_the_watch_is_caught(make):  # noqa: F811
    h = make("prod", {"onebox": True})
    h.ecs.behaviour["svc-blue-onebox"] = h.ecs.fail_after(90, "alarm svc-blue-onebox-latency")
    assert h.run(faults=FAULT) == EXIT_DEPLOY_FAILED, h.log
    assert "[bake" not in h.log
    assert "rolloutState FAILED: alarm svc-blue-onebox-latency" in h.log
    assert h.stack.runs[-1]["pins"] == {"blue-onebox": OLD_PIN}
    assert "faults" not in h.stack.runs[-1]


def test_a_fault_the_bake_misses_is_put_back_and_has_its_own_exit_code(make):  # noqa: F811
    h = make("prod", {"onebox": True})
    assert h.run(faults=FAULT, bake_seconds=60) == EXIT_FAULT_MISSED, h.log
    assert release_keys(h.stack.runs[-1]) == {"rollout": [], "pins": {"blue-onebox": OLD_PIN}}
    assert h.ecs.faults == {} and h.ecs.images["svc-blue-fleet"] == OLD
    assert "the fault release PASSED the bake: its deployment alarms missed it" in h.log
    assert "exit 14 (a fault release passed the bake" in h.log.splitlines()[-1]


def test_the_experiment_entry_points_do_one_up_each(make):  # noqa: F811
    h = make("prod", {"onebox": True})
    pipeline = h.pipeline()
    released = pipeline.release_onebox_with_fault(FAULT)
    assert released["key"] == "blue-onebox" and released["previous"] == OLD_PIN
    assert h.ecs.faults == {"svc-blue-onebox": FAULT}
    pipeline.set_pin_back("blue-onebox", released["previous"])
    assert h.ecs.faults == {}
    assert h.stack.names() == ["up", "up"]


CONFIG = ReleaseConfig(onebox=True, region=None, environments=("blue", "green"), primary="green")


def test_the_fault_step_targets_the_active_onebox_on_its_own_release():
    pins = {"green-onebox": OLD_PIN, "blue-onebox": OLD_PIN}
    step = fault_step(CONFIG, pins, FAULT)
    assert (step.key, step.rollout, step.pins, step.faults) == (
        "green-onebox",
        (),
        {"green-onebox": OLD_PIN},
        {"green-onebox": FAULT},
    )


@pytest.mark.parametrize(
    ("config", "pins", "key", "message"),
    [
        (ReleaseConfig(onebox=False, region=None), {}, None, "this stack has none"),
        (CONFIG, {"green-onebox": OLD_PIN}, "green-fleet", "green-fleet is not a onebox"),
        (CONFIG, {}, "purple-onebox", "names no onebox of this stack"),
        (CONFIG, {}, None, "no release recorded for green-onebox"),
    ],
)
def test_the_fault_step_refuses_what_it_cannot_do(config, pins, key, message):
    with pytest.raises(PipelineError, match=message):
        fault_step(config, pins, FAULT, key)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "latency=abc"], "--fault: latencyMs must be a whole number of milliseconds"),
        (["--fault", "latency=0"], "in 1..60000, got 0"),
        (["--fault", "latency=60001"], "in 1..60000, got 60001"),
        (["--fault", "errors=0.5"], "--fault: expected latency=MS (e.g. latency=6000)"),
        (["--fault", "latency=100", "--fault-service", "blue-fleet"], "blue-fleet is not a onebox"),
        (["--fault-service", "blue-onebox"], "--fault-service needs --fault"),
    ],
)
def test_cli_refuses_a_bad_fault_with_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        pipeline_module.main(["--stack", "prod", "--dry-run", *argv], out=io.StringIO())
    assert exit_info.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_dry_run_shows_the_fault_release_and_refuses_it_without_onebox():
    out = io.StringIO()
    argv = ["--stack", "prod", "--dry-run", "--fault", "latency=6000"]
    assert pipeline_module.main(argv, out=out) == 0, out.getvalue()
    text = out.getvalue()
    assert "FAULT RELEASE: blue-onebox gets FAULT_LATENCY_MS=6000, APP_ALLOW_FAULTS=true" in text
    assert "rollout=blue-onebox,blue-fleet" not in text  # the fleet is never in the plan
    out = io.StringIO()
    argv = ["--stack", "dev", "--dry-run", "--fault", "latency=6000"]
    assert pipeline_module.main(argv, out=out) == EXIT_USAGE
    assert "a fault release goes to a onebox, and this stack has none" in out.getvalue()
