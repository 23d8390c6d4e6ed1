"""Host pins: which AMI, instance type and user data one capacity group's hosts run, kept with the
stack and moved one environment at a time, like the release pins (``components/release_pins.py``).

One SSM ``String`` parameter per capacity group (``/<project>/<stack>/hosts/<group>``) holds
``{"imageId": "ami-…", "instanceType": "t3.medium", "userData": "<base64>"}``; the group's launch
template takes its inputs from the parameter's value *as recorded in the stack's state*.

* A pin that **follows** takes this run's host settings (the AMI AWS recommends today, the
  configured instance type, the user data this checkout renders).
* A pin that **holds** has ``ignore_changes`` on its value: Pulumi keeps what it recorded at the
  last deployment, so a plain ``pulumi up`` never moves that group's launch template (and never
  starts an instance refresh there). ``ignore_changes`` does not apply when a resource is created:
  a new group starts on this run's settings.

The release pipeline's host step moves the first environment's pin, waits until its hosts are
replaced, its tasks healthy and its alarms quiet, then moves the next (``release.hostRollout``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PIN_VALUE = "insecureValue"
"""The engine's name of the property ``ignore_changes`` holds (``insecure_value`` in Python)."""

HOST_PIN_KEYS = ("imageId", "instanceType", "userData")


@dataclass(frozen=True)
class HostSettings:
    """What a capacity group's launch template is built from."""

    image_id: str
    instance_type: str
    user_data: str
    """Base64, as the launch template takes it."""


def host_pin_document(settings: HostSettings) -> str:
    """The parameter value for ``settings`` (sorted keys: the same settings, the same text)."""
    return json.dumps(
        {
            "imageId": settings.image_id,
            "instanceType": settings.instance_type,
            "userData": settings.user_data,
        },
        sort_keys=True,
    )


def read_host_pin(document: str) -> HostSettings:
    """The host settings a pin records; ValueError naming what is missing or wrong."""
    try:
        data = json.loads(document)
    except json.JSONDecodeError as err:
        raise ValueError(f"host pin {document!r} is not JSON: {err}") from err
    if not isinstance(data, dict) or set(data) != set(HOST_PIN_KEYS):
        raise ValueError(f"host pin {document!r} must hold exactly {', '.join(HOST_PIN_KEYS)}")
    if not all(isinstance(data[k], str) and data[k] for k in HOST_PIN_KEYS):
        raise ValueError(f"host pin {document!r}: every value must be a non-empty string")
    return HostSettings(data["imageId"], data["instanceType"], data["userData"])


@dataclass(frozen=True)
class HostPinArgs:
    group: str
    """The capacity group (an environment, or ``shared``): the parameter is
    ``/<project>/<stack>/hosts/<group>``."""
    image_id: pulumi.Input[str]
    """This run's AMI."""
    instance_type: str
    """This run's instance type."""
    user_data: pulumi.Input[str]
    """This run's user data, base64."""
    follow: bool
    """True: take this run's host settings; False: keep what the last deployment recorded."""


@dataclass(frozen=True)
class HostPin:
    """The host settings one capacity group runs until the pipeline moves them.

    Guarantees: a pin that holds never changes its group's launch template, whatever this
    checkout renders or AWS recommends; the first deploy of a group takes this run's settings.
    """

    image_id: pulumi.Output[str]
    instance_type: pulumi.Output[str]
    user_data: pulumi.Output[str]
    parameter: aws.ssm.Parameter


def host_pin(name: str, args: HostPinArgs, parent: pulumi.Resource) -> HostPin:
    """The SSM parameter ``name`` (a child of ``parent``, the cluster) holding ``args.group``'s
    host settings, and those settings as the stack recorded them."""
    value = pulumi.Output.all(args.image_id, args.user_data).apply(
        lambda v: host_pin_document(HostSettings(str(v[0]), args.instance_type, str(v[1])))
    )
    parameter = aws.ssm.Parameter(
        name,
        aws.ssm.ParameterArgs(
            name=f"/{pulumi.get_project()}/{pulumi.get_stack()}/hosts/{args.group}",
            type="String",
            tier="Standard",
            description=f"AMI, instance type and user data of the {args.group} hosts; moved "
            "only by a release",
            insecure_value=value,
        ),
        opts=pulumi.ResourceOptions(
            parent=parent, ignore_changes=[] if args.follow else [PIN_VALUE]
        ),
    )
    pinned = parameter.insecure_value.apply(lambda doc: read_host_pin(str(doc)))
    return HostPin(
        image_id=pinned.apply(lambda p: p.image_id),
        instance_type=pinned.apply(lambda p: p.instance_type),
        user_data=pinned.apply(lambda p: p.user_data),
        parameter=parameter,
    )
