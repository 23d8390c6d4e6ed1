"""Release state lives with the stack: each service runs what its release pin recorded.

The engine keeps an ``ignore_changes`` property at the value in the stack's state; the mock runtime
has no state, so these tests play the engine: a holding pin (``ignoreChanges: [insecureValue]``)
answers with the value "the last deployment recorded" and the services must follow that answer,
not the freshly built image.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from typing import Any

import pytest

from components.release_pins import pin_document
from ops.synth import mocks as mocks_module
from ops.synth.runner import Recording, _program_context, run_under_mocks
from ops.synth.stack_config import load_stack_config
from settings import SettingsError, load_settings
from tests.ops.release.test_pipeline import OLD

REPO = mocks_module.__file__.rsplit("/ops/", 1)[0]
PIN = "aws:ssm/parameter:Parameter"
TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.fixture
def recorded(monkeypatch) -> Iterator[dict[str, str]]:
    """Pins named here answer with this document, as the engine does for a held value."""
    previous: dict[str, str] = {}
    original = mocks_module.SteadyMocks.new_resource

    def new_resource(self, args):
        physical, state = original(self, args)
        key = args.name.removesuffix("-pin")
        if args.typ == PIN and key in previous:
            state = {**state, "insecureValue": previous[key]}
        return physical, state

    monkeypatch.setattr(mocks_module.SteadyMocks, "new_resource", new_resource)
    yield previous


def synth(stack: str, **release: Any) -> Recording:
    from pathlib import Path

    config = load_stack_config(Path(REPO), stack)
    values = dict(config.values)
    merged = {**json.loads(values.get("steadystate:release", "{}")), **release}
    values["steadystate:release"] = json.dumps(merged)
    with _program_context(Path(REPO)):
        return run_under_mocks(
            lambda: runpy.run_path(f"{REPO}/__main__.py", run_name="__main__"),
            project=config.project,
            stack=stack,
            config=values,
            secret_keys=config.secret_keys,
            region=values.get("aws:region", "us-east-2"),
        )


def pins(rec: Recording) -> dict[str, Any]:
    return {r.name.removesuffix("-pin"): r for r in rec.of_type(PIN) if r.name.endswith("-pin")}


def running(rec: Recording) -> dict[str, tuple[str, str]]:
    """Task definition family suffix (``blue-fleet``) -> (image, APP_VERSION) of the app."""
    out = {}
    for task in rec.of_type(TASKDEF):
        app = json.loads(task.inputs["containerDefinitions"])[0]
        env = {e["name"]: e["value"] for e in app["environment"]}
        if "APP_VERSION" not in env:
            continue  # not a serving task (the database bootstrap)
        key = task.name.removesuffix("-taskdef")
        out[key] = (app["image"], env["APP_VERSION"])
    return out


def test_prod_fleets_hold_and_oneboxes_follow_by_default(fresh_loop):
    rec = synth("prod")
    found = pins(rec)
    assert sorted(found) == ["blue-fleet", "blue-onebox", "green-fleet", "green-onebox"]
    for key, pin in found.items():
        held = key.endswith("-fleet")
        assert pin.options["ignoreChanges"] == (["insecureValue"] if held else []), key
        assert pin.inputs["name"] == f"/steadystate/prod/release/{key}"
        assert pin.inputs["type"] == "String"
    assert set(rec.outputs["releasePins"]) == set(found)


def test_a_plain_up_after_the_first_moves_only_the_oneboxes(fresh_loop, recorded):
    recorded["blue-fleet"] = recorded["green-fleet"] = pin_document(OLD, "old-tag")
    rec = synth("prod")
    fresh, tag = rec.outputs["imageRef"], rec.outputs["imageVersion"]
    assert fresh != OLD
    assert running(rec) == {
        "blue-fleet": (OLD, "old-tag"),
        "green-fleet": (OLD, "old-tag"),
        "blue-onebox": (fresh, tag),
        "green-onebox": (fresh, tag),
    }
    assert rec.outputs["releasePins"]["blue-fleet"] == {"image": OLD, "version": "old-tag"}


def test_the_first_deploy_brings_every_service_up_on_the_fresh_image(fresh_loop):
    rec = synth("prod")  # nothing recorded yet: every pin is created from this run's image
    fresh, tag = rec.outputs["imageRef"], rec.outputs["imageVersion"]
    assert set(running(rec).values()) == {(fresh, tag)}


def test_dev_without_onebox_moves_its_fleet(fresh_loop):
    rec = synth("dev")
    assert {k: p.options["ignoreChanges"] for k, p in pins(rec).items()} == {"blue-fleet": []}


def test_rollout_names_exactly_the_services_that_move(fresh_loop):
    rec = synth("prod", rollout=["blue-onebox", "blue-fleet"])
    held = {k for k, p in pins(rec).items() if p.options["ignoreChanges"]}
    assert held == {"green-onebox", "green-fleet"}


def test_pins_set_a_service_to_a_given_release(fresh_loop, recorded):
    recorded["green-fleet"] = pin_document(f"{OLD[:-1]}c", "bad-tag")
    rec = synth("prod", pins={"green-fleet": {"image": OLD, "version": "old-tag"}})
    pin = pins(rec)["green-fleet"]
    assert pin.options["ignoreChanges"] == []
    assert json.loads(pin.inputs["insecureValue"]) == {"image": OLD, "version": "old-tag"}


def _problems(release: dict) -> str:
    raw = {
        "steadystate:environments": json.dumps(["blue", "green"]),
        "steadystate:release": json.dumps({"onebox": True, **release}),
    }
    with pytest.raises(SettingsError) as err:
        load_settings(raw)
    return str(err.value)


def test_the_old_committed_fleet_image_key_is_refused_with_the_reason():
    message = _problems({"fleetImage": OLD})
    assert "steadystate:release.fleetImage" in message
    assert "lives with the stack now (its release pin), not in Pulumi.<stack>.yaml" in message


def test_rollout_and_pins_must_name_services_of_the_stack():
    assert "release.rollout" in _problems({"rollout": ["purple-onebox"]})
    assert "names no service of this stack" in _problems({"rollout": ["purple-onebox"]})
    assert "blue-fleet.image must be pinned by digest" in _problems(
        {"pins": {"blue-fleet": {"image": "app:latest", "version": "x"}}}
    )


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_deployment_alarms_have_a_verdict_in_a_quiet_minute(fresh_loop, stack):
    """The ALB publishes its counts only when requests flow and 5xx only when nonzero (ELB user
    guide, "CloudWatch metrics for your Application Load Balancer"), so a healthy minute may have
    no datapoint: missing data is no failing request, and the 5xx counts are FILLed with 0."""
    rec = synth(stack)
    alarms = [
        r
        for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.name.endswith(("-latency", "-5xx-rate"))
    ]
    assert alarms and {a.inputs["treatMissingData"] for a in alarms} == {"notBreaching"}
    for alarm in (a for a in alarms if a.name.endswith("-5xx-rate")):
        (expression,) = [
            q["expression"] for q in alarm.inputs["metricQueries"] if q.get("expression")
        ]
        assert "FILL(errors, 0)" in expression and "FILL(requests" not in expression


# -- a fault switch on a onebox pin ----------------------------------------------------------------
def app_environment(rec: Recording) -> dict[str, dict[str, str]]:
    """Task definition family suffix -> the app container's environment."""
    out = {}
    for task in rec.of_type(TASKDEF):
        app = json.loads(task.inputs["containerDefinitions"])[0]
        env = {e["name"]: e["value"] for e in app["environment"]}
        if "APP_VERSION" in env:
            out[task.name.removesuffix("-taskdef")] = env
    return out


FAULT_KEYS = {"FAULT_LATENCY_MS", "APP_ALLOW_FAULTS"}


def test_a_fault_pin_turns_the_fault_on_for_that_onebox_only(fresh_loop):
    rec = synth("prod", rollout=["blue-onebox"], faults={"blue-onebox": {"latencyMs": 6000}})
    envs = app_environment(rec)
    assert envs["blue-onebox"]["FAULT_LATENCY_MS"] == "6000"
    assert envs["blue-onebox"]["APP_ALLOW_FAULTS"] == "true"
    assert envs["blue-onebox"]["APP_STAGE"] == "prod"  # the prod app refuses faults without it
    for key in ("blue-fleet", "green-onebox", "green-fleet"):
        assert not FAULT_KEYS & set(envs[key]), key
    pin = pins(rec)["blue-onebox"]
    assert json.loads(pin.inputs["insecureValue"])["faults"] == {"latencyMs": 6000}
    # visible: the pin, the onebox's task definition and its service are tagged
    assert pin.inputs["tags"] == {"FaultSwitch": "latencyMs=6000"}
    tagged = {
        r.name
        for r in rec.records
        if r.type in (TASKDEF, "aws:ecs/service:Service")
        and (r.inputs.get("tags") or {}).get("FaultSwitch") == "latencyMs=6000"
    }
    assert tagged == {"blue-onebox-taskdef", "blue-onebox-service"}
    assert "tags" not in pins(rec)["green-onebox"].inputs


def test_a_fault_pin_with_a_pinned_release_keeps_its_image(fresh_loop):
    rec = synth(
        "prod",
        rollout=[],
        pins={"blue-onebox": {"image": OLD, "version": "old-tag"}},
        faults={"blue-onebox": {"latencyMs": 250}},
    )
    env = app_environment(rec)["blue-onebox"]
    assert env["FAULT_LATENCY_MS"] == "250" and env["APP_VERSION"] == "old-tag"
    assert json.loads(pins(rec)["blue-onebox"].inputs["insecureValue"]) == {
        "image": OLD,
        "version": "old-tag",
        "faults": {"latencyMs": 250},
    }


def test_without_a_fault_pin_no_service_has_the_fault_environment(fresh_loop):
    rec = synth("prod")
    assert all(not FAULT_KEYS & set(env) for env in app_environment(rec).values())
    assert all("FaultSwitch" not in (r.inputs.get("tags") or {}) for r in rec.records)


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ({"faults": {"blue-fleet": {"latencyMs": 6000}}}, "blue-fleet is not a onebox"),
        ({"faults": {"blue-onebox": {"latencyMs": 0}}}, "latencyMs must be a whole number"),
        ({"faults": {"blue-onebox": {"latencyMs": "6000"}}}, "latencyMs must be a whole number"),
        ({"faults": {"blue-onebox": {"errorRate": 0.5}}}, "unknown fault errorRate"),
        ({"faults": {"purple-onebox": {"latencyMs": 1}}}, "names no onebox of this stack"),
        (
            {"rollout": ["blue-fleet"], "faults": {"blue-onebox": {"latencyMs": 6000}}},
            "its pin does not move in this up",
        ),
    ],
)
def test_a_bad_fault_switch_is_refused_naming_the_setting(release, expected):
    message = _problems(release)
    assert "release.faults" in message and expected in message, message
