"""An `up` during an AZ event moves nothing: the real program, run for each stack while the mocked
region reports one zone `impaired` (or `unavailable`), registers the same subnets in the same zones
as on a calm day, and never asks DescribeAvailabilityZones for `available` zones only.

AWS reports a zone's `State` as `available | information | impaired | unavailable | constrained`
(botocore `ec2/2016-11-15`, shape `AvailabilityZoneState`); the provider filters on it only when
`state` is given (terraform-provider-aws `internal/service/ec2/ec2_availability_zones_data_source.go`,
`dataSourceAvailabilityZonesRead`), which the mocks reproduce.
"""

from __future__ import annotations

import asyncio

import pytest

from ops.synth.mocks import SteadyMocks
from ops.synth.runner import Synthesis, synthesize

ZONES_INVOKE = "aws:index/getAvailabilityZones:getAvailabilityZones"


def placement(run: Synthesis) -> dict[str, object]:
    """Every subnet with its zone and CIDR, every NAT gateway, and the DB subnet group's subnets."""
    placed: dict[str, object] = {}
    for rec in run.records:
        if rec.type == "aws:ec2/subnet:Subnet":
            placed[rec.name] = (rec.inputs["availabilityZone"], rec.inputs["cidrBlock"])
        elif rec.type in ("aws:ec2/natGateway:NatGateway", "aws:rds/subnetGroup:SubnetGroup"):
            placed[rec.name] = rec.inputs.get("subnetId") or rec.inputs.get("subnetIds")
        elif rec.type == "aws:autoscaling/group:Group":
            placed[rec.name] = rec.inputs["vpcZoneIdentifiers"]
    return placed


def zone_lookups(mocks: SteadyMocks) -> list[dict]:
    return [args for token, args in mocks.invoke_args if token == ZONES_INVOKE]


def synthesize_on_a_fresh_loop(stack: str, mocks: SteadyMocks | None = None) -> Synthesis:
    """The Pulumi runtime keeps state on the current event loop: one loop per run."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize(stack, mocks=mocks)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module")
def calm() -> dict[str, Synthesis]:
    return {stack: synthesize_on_a_fresh_loop(stack) for stack in ("dev", "prod")}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("state", ["impaired", "unavailable"])
def test_an_up_while_a_zone_is_down_moves_nothing(calm, stack: str, state: str) -> None:
    mocks = SteadyMocks(zone_states={"us-east-2a": state})
    during = synthesize_on_a_fresh_loop(stack, mocks)
    before = placement(calm[stack])
    assert before, "the stack places subnets"
    assert placement(during) == before
    lookups = zone_lookups(mocks)
    assert lookups, "the program looks the region's zones up"
    assert all("state" not in args for args in lookups)
    assert all(f.get("name") != "state" for args in lookups for f in args.get("filters") or [])
