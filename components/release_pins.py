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

The parameter is also where an operator reads what runs: ``aws ssm get-parameter --name …``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PIN_VALUE = "insecureValue"
"""The engine's name of the property ``ignore_changes`` holds (``insecure_value`` in Python)."""


@dataclass(frozen=True)
class PinnedRelease:
    image: str
    version: str


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


def pin_document(image: str, version: str) -> str:
    return json.dumps({"image": image, "version": version}, sort_keys=True)


def read_pin(document: str) -> PinnedRelease:
    data = json.loads(document)
    return PinnedRelease(image=str(data["image"]), version=str(data["version"]))


class ReleasePin(pulumi.ComponentResource):
    """The image and version one service runs until the release moves it."""

    image: pulumi.Output[str]
    version: pulumi.Output[str]
    parameter_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReleasePinArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:release:ReleasePin", name, None, opts)
        if args.override is not None:
            value: pulumi.Input[str] = pin_document(args.override.image, args.override.version)
        else:
            value = pulumi.Output.all(args.fresh_image, args.fresh_version).apply(
                lambda v: pin_document(str(v[0]), str(v[1]))
            )
        moves = args.follow or args.override is not None
        parameter = aws.ssm.Parameter(
            f"{name}-pin",
            aws.ssm.ParameterArgs(
                name=f"/{pulumi.get_project()}/{pulumi.get_stack()}/release/{name}",
                type="String",
                tier="Standard",
                description=f"image and version {name} runs; moved only by a release",
                insecure_value=value,
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if moves else [PIN_VALUE]),
        )
        pinned = parameter.insecure_value.apply(lambda doc: read_pin(str(doc)))
        self.image = pinned.apply(lambda p: p.image)
        self.version = pinned.apply(lambda p: p.version)
        self.parameter_name = parameter.name
        self.register_outputs({"image": self.image, "version": self.version})


def pins_output(pins: Mapping[str, ReleasePin]) -> pulumi.Output[dict[str, dict[str, str]]]:
    """``{"blue-fleet": {"image": …, "version": …}, …}`` for the ``releasePins`` stack output."""
    return pulumi.Output.all(
        **{key: pulumi.Output.all(p.image, p.version) for key, p in pins.items()}
    ).apply(lambda v: {key: {"image": iv[0], "version": iv[1]} for key, iv in v.items()})
