"""Every exit code of the release pipeline, reached from each step that can produce it.

The harness (fake stack, ECS/CloudWatch in moto, each environment served on 127.0.0.1) is the one
of ``test_pipeline.py``. The steps: preview, the FIRST ``up`` (the stack may already have changed:
an ``up`` that fails can leave it partly updated), watch, smoke (onebox and fleet), bake (alarms,
silent alarms, no answered request), put back, and the outputs read after an ``up``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation import CommandResult

from ops.release import pipeline as pipeline_module
from ops.release.pipeline import (
    EXIT_AWS_AFTER,
    EXIT_DEPLOY_FAILED,
    EXIT_MEANINGS,
    EXIT_SMOKE,
    EXIT_UP_FAILED,
    EXIT_USAGE,
    Pipeline,
    PipelineOptions,
)
from tests.ops.release.test_pipeline import KEYS, OLD, make  # noqa: F401  (the fixture)

THROTTLED = "error: update failed: aws:ecs:Service svc-blue-onebox: ThrottlingException"


def command_error(stderr: str = THROTTLED) -> auto.CommandError:
    return auto.CommandError(CommandResult(stdout="", stderr=stderr, code=1))


@pytest.mark.parametrize(
    ("stack", "release", "first", "keys", "skip_preview"),
    [
        ("prod", {"onebox": True}, False, KEYS, False),
        ("prod", {"onebox": True}, False, KEYS, True),
        ("prod", {"onebox": True}, True, KEYS, False),
        ("dev", {"onebox": False}, False, ("blue-fleet",), False),
    ],
    ids=["prod", "prod-skip-preview", "prod-first-release", "dev"],
)
def test_the_first_up_failing_is_exit_12_not_nothing_changed(
    make,  # noqa: F811
    stack,
    release,
    first,
    keys,
    skip_preview,
) -> None:
    """The first ``up`` can fail half way: its exit code must say the stack may have changed
    (12), never "nothing changed" (3), and nothing is watched, smoked or baked after it."""
    h = make(stack, release, first=first, keys=keys)
    h.stack.fail[("up", 1)] = command_error()
    assert h.run(skip_preview=skip_preview) == EXIT_UP_FAILED, h.log
    assert h.stack.names() == ([] if skip_preview else ["preview"]) + ["up"]
    assert h.last.summary.changed is True
    assert "ThrottlingException" in h.log
    assert "the stack may be partly updated" in h.log
    assert "[watch" not in h.log and "[smoke" not in h.log and "[bake" not in h.log
    assert h.log.splitlines()[-1].split("] ", 1)[1].startswith("exit 12 (pulumi up failed")


def test_a_bake_where_no_request_got_an_answer_fails_while_the_alarms_stay_quiet(
    make,  # noqa: F811
) -> None:
    """The service answered the smoke test, then nothing during the bake (every /api request
    unanswered) while every deployment alarm stayed OK: nothing measured the release, so the bake
    fails and the onebox goes back."""
    h = make("prod", {"onebox": True})

    def unanswered_api(url: str, timeout: float) -> tuple[int, bytes]:
        if url.endswith("/api"):
            raise ConnectionRefusedError(f"{url}: connection refused")
        return pipeline_module.http_get(url, timeout)

    log = pipeline_module.Log(h.out)
    options = PipelineOptions(bake_seconds=300, rollout_timeout=900, load_rate=50)
    h.last = Pipeline(
        h.stack, h.watcher, options, log=log, clock=h.time.clock, fetch=unanswered_api
    )
    assert h.last.run() == EXIT_DEPLOY_FAILED, h.log
    alarms = h.cloudwatch.describe_alarms()["MetricAlarms"]
    assert {a["StateValue"] for a in alarms} == {"OK"}  # quiet all along
    assert "[bake blue onebox] FAILED: no request reached the service during the bake" in h.log
    assert h.ecs.images["svc-blue-onebox"] == OLD  # put back
    assert h.stack.runs[-1]["pins"] == {"blue-onebox": {"image": OLD, "version": "old-tag"}}
    bake = next(s for s in h.last.summary.stages if s["kind"] == "bake")
    assert bake["result"] == "failed" and bake["load"]["answered"] == 0


def test_a_failed_fleet_smoke_test_is_exit_11(make) -> None:  # noqa: F811
    """Smoke after the fleet's ``up`` (every answer must be the new version), not only the
    onebox's."""
    h = make("prod", {"onebox": True})
    original = h.serve_versions

    def stale_after_the_fleet() -> None:
        original()
        if "svc-blue-fleet" in {svc for svc, _ in h.ecs.rolled}:
            h.services["blue"].set_versions(["stale"])

    h.serve_versions = stale_after_the_fleet  # type: ignore[method-assign]
    assert h.run(bake_seconds=30) == EXIT_SMOKE, h.log
    assert "[smoke blue fleet] smoke blue: FAILED:" in h.log
    assert h.stack.pins["blue-fleet"] == OLD  # put back
    assert "green" not in " ".join(k for r in h.stack.rollouts() for k in r)


def test_a_put_back_whose_up_fails_is_exit_12(make) -> None:  # noqa: F811
    """The bake failed and the ``up`` putting the onebox back fails too: the stack is in an
    unknown state (12), not merely a failed deployment (10)."""
    h = make("prod", {"onebox": True})
    h.time.at(120, lambda: h.alarm("svc-blue-onebox-5xx", "ALARM", "5xx 12% > 5%"))
    h.stack.fail[("up", 2)] = command_error("error: update failed: put back")
    assert h.run() == EXIT_UP_FAILED, h.log
    assert "[put back blue-onebox] pulumi up (policy pack enforced)" in h.log


def test_a_failed_first_release_has_nothing_to_put_back_and_is_exit_10(make) -> None:  # noqa: F811
    h = make("prod", {"onebox": True}, first=True)
    h.ecs.behaviour["svc-blue-onebox"] = h.ecs.fail_after(45, "tasks failed to start")
    assert h.run() == EXIT_DEPLOY_FAILED, h.log
    assert "no previous release recorded for it: nothing to put back" in h.log
    assert h.stack.names() == ["preview", "up"]


def test_an_output_missing_after_the_first_up_is_exit_13(make) -> None:  # noqa: F811
    h = make("prod", {"onebox": True})
    original = h.stack.up

    def up_without_urls(**kwargs):
        result = original(**kwargs)
        h.stack._outputs.pop("environmentUrls")
        result.outputs = h.stack.outputs()
        return result

    h.stack.up = up_without_urls  # type: ignore[method-assign]
    assert h.run() == EXIT_AWS_AFTER, h.log
    assert "stack output 'environmentUrls' is missing after up" in h.log


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"load_rate": 0}, "--load-rate must be above 0"),
        ({"policy_config": Path("/nonexistent/prod.json")}, "policy config"),
    ],
)
def test_usage_errors_change_nothing_and_are_exit_2(make, options, message) -> None:  # noqa: F811
    h = make("prod", {"onebox": True})
    assert h.run(**options) == EXIT_USAGE, h.log
    assert "up" not in h.stack.names()
    assert message in h.log


def test_every_exit_code_is_asserted_by_a_pipeline_test() -> None:
    """A new exit code needs a test that reaches it (``== EXIT_...`` in tests/ops/release)."""
    names = {
        name: value
        for name, value in vars(pipeline_module).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert set(names.values()) == set(EXIT_MEANINGS)
    text = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    asserted = set(re.findall(r"==\s*(EXIT_[A-Z_]+)", text))
    missing = sorted(set(names) - asserted)
    assert not missing, f"exit codes no test reaches: {missing}"
