"""Release pins: which image (and version label) each service runs, kept with the stack, not in git.

One SSM ``String`` parameter per service (``/<project>/<stack>/release/<env>-<role>``) holds
``{"image": "<repo>@sha256:…", "version": "<tag>"}``; the service's task definition takes its image
and ``APP_VERSION`` from the parameter's value *as recorded in the stack's state*.

* A pin that **follows** gets this run's freshly built image.
* A pin that **holds** has ``ignore_changes`` on its value: Pulumi keeps the value it recorded at
  the last deployment, whatever this checkout built — so a plain ``pulumi up`` from a fresh clone
  never moves (or reverts) a held service. ``ignore_changes`` does not apply when a resource is
  created, so the first deploy of an empty stack gives every service the fresh image.
* An **override** sets the pin to a given image and version (the release pipeline's rollback).
* A pin that moves may carry a **fault switch** (``"faults": {"latencyMs": 6000}``,
  ``components/fault_switch.py``): the onebox whose pin carries it gets the app's fault
  environment, and only while the pin says so. It is never quiet: ``pulumi up`` warns, and the
  parameter, the task definition and the service are tagged ``FaultSwitch=latencyMs=6000``; the
  onebox's deployment alarms (and the release pipeline's bake) roll it back.

The parameter is also where an operator reads what runs: ``aws ssm get-parameter --name …``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.fault_switch import (
    TAG,
    fault_environment,
    fault_problem,
    fault_summary,
    key_problem,
)

PIN_VALUE = "insecureValue"
"""The engine's name of the property ``ignore_changes`` holds (``insecure_value`` in Python)."""


@dataclass(frozen=True)
class PinnedRelease:
    image: str
    version: str
    faults: Mapping[str, int] | None = None
    """The fault switch this release turns on (a onebox only); None: none."""

    @property
    def fault_environment(self) -> dict[str, str]:
        return fault_environment(self.faults)


@dataclass(frozen=True)
class ReleasePinArgs:
    fresh_image: pulumi.Input[str]
    """This run's image, pinned by digest."""
    fresh_version: pulumi.Input[str]
    """Its version label (the content tag)."""
    follow: bool
    """True: take this run's image; False: keep what the last deployment recorded."""
    override: PinnedRelease | None = None
    """Set the pin to exactly this (wins over ``follow``)."""
    faults: Mapping[str, int] | None = None
    """Turn these app faults on with the release the pin moves to (onebox pins only; refused on a
    pin that holds — a fault goes with a release)."""


def pin_document(image: str, version: str, faults: Mapping[str, int] | None = None) -> str:
    document: dict[str, object] = {"image": image, "version": version}
    if faults:
        document["faults"] = dict(faults)
    return json.dumps(document, sort_keys=True)


def read_pin(document: str) -> PinnedRelease:
    data = json.loads(document)
    faults = data.get("faults") or None
    if faults is not None and (problem := fault_problem(faults)):
        raise ValueError(f"release pin {document!r}: faults {problem}")
    return PinnedRelease(image=str(data["image"]), version=str(data["version"]), faults=faults)


class ReleasePin(pulumi.ComponentResource):
    """The image and version one service runs until the release moves it."""

    image: pulumi.Output[str]
    version: pulumi.Output[str]
    fault_environment: pulumi.Output[dict[str, str]]
    """The app's fault environment the pinned release turns on (empty: none)."""
    fault_tags: pulumi.Output[dict[str, str]]
    """``{"FaultSwitch": "latencyMs=6000"}`` while a fault is on, else empty."""
    parameter_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReleasePinArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:release:ReleasePin", name, None, opts)
        moves = args.follow or args.override is not None
        faults = dict(args.faults or (args.override.faults if args.override else None) or {})
        if faults and (problem := key_problem(name) or fault_problem(faults)):
            raise ValueError(f"ReleasePin {name}: faults {problem}")
        if faults and not moves:
            raise ValueError(
                f"ReleasePin {name}: faults need a pin that moves (follow or override): "
                "a fault switch goes with a release"
            )
        if faults:
            pulumi.log.warn(
                f"release pin {name} carries the fault switch {fault_summary(faults)}: "
                f"{', '.join(f'{k}={v}' for k, v in fault_environment(faults).items())} on "
                "this service only; its deployment alarms must roll it back"
            )
        if args.override is not None:
            value: pulumi.Input[str] = pin_document(
                args.override.image, args.override.version, faults
            )
        else:
            value = pulumi.Output.all(args.fresh_image, args.fresh_version).apply(
                lambda v: pin_document(str(v[0]), str(v[1]), faults)
            )
        parameter = aws.ssm.Parameter(
            f"{name}-pin",
            aws.ssm.ParameterArgs(
                name=f"/{pulumi.get_project()}/{pulumi.get_stack()}/release/{name}",
                type="String",
                tier="Standard",
                description=f"image and version {name} runs; moved only by a release",
                insecure_value=value,
                tags={TAG: fault_summary(faults)} if faults else None,
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if moves else [PIN_VALUE]),
        )
        pinned = parameter.insecure_value.apply(lambda doc: read_pin(str(doc)))
        self.image = pinned.apply(lambda p: p.image)
        self.version = pinned.apply(lambda p: p.version)
        self.fault_environment = pinned.apply(lambda p: p.fault_environment)
        self.fault_tags = pinned.apply(lambda p: {TAG: fault_summary(p.faults)} if p.faults else {})
        self.parameter_name = parameter.name
        self.register_outputs({"image": self.image, "version": self.version})


def pins_output(pins: Mapping[str, ReleasePin]) -> pulumi.Output[dict[str, dict[str, str]]]:
    """``{"blue-fleet": {"image": …, "version": …}, …}`` for the ``releasePins`` stack output."""
    return pulumi.Output.all(
        **{key: pulumi.Output.all(p.image, p.version) for key, p in pins.items()}
    ).apply(lambda v: {key: {"image": iv[0], "version": iv[1]} for key, iv in v.items()})
