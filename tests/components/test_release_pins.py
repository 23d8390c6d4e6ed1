"""ReleasePin under the mock runtime: the fault switch a onebox pin may carry, and where it ends up
(the onebox's task definition and tags, never the fleet's)."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.environment import OneboxSpec, ServiceEnvironment
from components.release_pins import PinnedRelease, ReleasePin, ReleasePinArgs, read_pin
from tests.components.test_environment import env_args

IMAGE = "repo@sha256:" + "d" * 64
FAULT = {"latencyMs": 6000}
FAULT_ENV = {"FAULT_LATENCY_MS": "6000", "APP_ALLOW_FAULTS": "true"}


def pin_args(**overrides) -> ReleasePinArgs:
    base = {"fresh_image": IMAGE, "fresh_version": "v2", "follow": True}
    return ReleasePinArgs(**{**base, **overrides})


def environment(rec, name: str) -> dict[str, str]:
    app = json.loads(rec.named(name).inputs["containerDefinitions"])[0]
    return {e["name"]: e["value"] for e in app["environment"]}


def test_a_onebox_pin_with_faults_records_them_and_yields_the_fault_environment(mocked) -> None:
    def program() -> None:
        pin = ReleasePin("blue-onebox", pin_args(faults=FAULT))
        pulumi.export("env", pin.fault_environment)
        pulumi.export("tags", pin.fault_tags)

    rec = mocked(program)
    parameter = rec.named("blue-onebox-pin")
    assert json.loads(parameter.inputs["insecureValue"]) == {
        "image": IMAGE,
        "version": "v2",
        "faults": FAULT,
    }
    assert parameter.inputs["tags"] == {"FaultSwitch": "latencyMs=6000"}
    assert rec.outputs["env"] == FAULT_ENV
    assert rec.outputs["tags"] == {"FaultSwitch": "latencyMs=6000"}


def test_a_pin_without_faults_has_no_fault_environment(mocked) -> None:
    def program() -> None:
        pin = ReleasePin("blue-onebox", pin_args())
        pulumi.export("env", pin.fault_environment)

    rec = mocked(program)
    assert json.loads(rec.named("blue-onebox-pin").inputs["insecureValue"]) == {
        "image": IMAGE,
        "version": "v2",
    }
    assert rec.outputs["env"] == {} and "tags" not in rec.named("blue-onebox-pin").inputs


def test_an_override_keeps_its_image_and_carries_the_fault(mocked) -> None:
    override = PinnedRelease("repo@sha256:" + "a" * 64, "v1")
    rec = mocked(lambda: ReleasePin("green-onebox", pin_args(override=override, faults=FAULT)))
    document = json.loads(rec.named("green-onebox-pin").inputs["insecureValue"])
    assert document == {"image": override.image, "version": "v1", "faults": FAULT}


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("blue-fleet", pin_args(faults=FAULT), "blue-fleet is not a onebox"),
        ("blue-onebox", pin_args(faults={"latencyMs": -1}), "latencyMs must be a whole number"),
        ("blue-onebox", pin_args(follow=False, faults=FAULT), "faults need a pin that moves"),
    ],
)
def test_a_fault_the_pin_cannot_carry_is_refused(mocked, name, args, message) -> None:
    with pytest.raises(ValueError, match=message):
        mocked(lambda: ReleasePin(name, args))


def test_a_recorded_document_with_a_bad_fault_is_refused() -> None:
    doc = json.dumps({"image": IMAGE, "version": "v2", "faults": {"latencyMs": 10**6}})
    with pytest.raises(ValueError, match="faults latencyMs must be a whole number"):
        read_pin(doc)
    assert read_pin(json.dumps({"image": IMAGE, "version": "v2"})).faults is None


def test_the_pins_fault_environment_reaches_the_onebox_only(mocked) -> None:
    def program() -> None:
        pin = ReleasePin("blue-onebox", pin_args(faults=FAULT))
        onebox = OneboxSpec(
            image=pin.image,
            version=pin.version,
            release_environment=pin.fault_environment,
            release_tags=pin.fault_tags,
        )
        ServiceEnvironment("blue", env_args(onebox=onebox))

    rec = mocked(program)
    onebox, fleet = environment(rec, "blue-onebox-taskdef"), environment(rec, "blue-fleet-taskdef")
    assert onebox.items() >= FAULT_ENV.items() and onebox["APP_VERSION"] == "v2"
    assert not FAULT_ENV.keys() & fleet.keys()
    for name in ("blue-onebox-taskdef", "blue-onebox-service"):
        assert rec.named(name).inputs["tags"]["FaultSwitch"] == "latencyMs=6000"
        assert rec.named(name).inputs["tags"]["Role"] == "onebox"
    for name in ("blue-fleet-taskdef", "blue-fleet-service"):
        assert "FaultSwitch" not in rec.named(name).inputs["tags"]
