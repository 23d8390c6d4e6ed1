"""Prod's environments are failure domains: blue's and green's services never share a host, an Auto
Scaling group or a launch template, and host changes reach one environment per ``up``.

Like ``test_release_pins``, these tests play the engine for a held pin: its parameter answers with
the value "the last deployment recorded" (the mock runtime has no state).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from components.host_pins import HostSettings, host_pin_document, read_host_pin
from ops.synth import mocks as mocks_module
from ops.synth.runner import Recording, synthesize
from tests.stacks.test_release_pins import synth

PIN = "aws:ssm/parameter:Parameter"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"
PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
SERVICE = "aws:ecs/service:Service"
OLD_HOSTS = HostSettings("ami-0000000000000old0", "t3.medium", "IyEvYmluL2Jhc2gKb2xk")


@pytest.fixture
def recorded(monkeypatch) -> Iterator[dict[str, str]]:
    """Host pins named here answer with this document, as the engine does for a held value."""
    previous: dict[str, str] = {}
    original = mocks_module.SteadyMocks.new_resource

    def new_resource(self, args):
        physical, state = original(self, args)
        if args.typ == PIN and args.name in previous:
            state = {**state, "insecureValue": previous[args.name]}
        return physical, state

    monkeypatch.setattr(mocks_module.SteadyMocks, "new_resource", new_resource)
    yield previous


def named(rec: Recording, type_: str) -> dict[str, Any]:
    return {r.name: r for r in rec.of_type(type_)}


def host_pins(rec: Recording) -> dict[str, Any]:
    return {r.name: r for r in rec.of_type(PIN) if r.name.endswith("-host-settings")}


def test_prod_gives_each_environment_its_own_template_group_and_provider(fresh_loop) -> None:
    rec = synth("prod")
    assert sorted(named(rec, TEMPLATE)) == ["cluster-blue-hosts", "cluster-green-hosts"]
    assert sorted(named(rec, GROUP)) == ["cluster-blue-hosts", "cluster-green-hosts"]
    providers = named(rec, PROVIDER)
    assert sorted(providers) == ["cluster-blue-ec2", "cluster-green-ec2"]
    templates = named(rec, TEMPLATE)
    for env in ("blue", "green"):
        group = named(rec, GROUP)[f"cluster-{env}-hosts"]
        # Each group launches from its own template, and rolls its hosts when that one moves.
        assert (
            templates[f"cluster-{env}-hosts"].urn in group.property_dependencies["launchTemplate"]
        )
        assert group.inputs["instanceRefresh"]["strategy"] == "Rolling"
        assert {"key": "CapacityGroup", "value": env, "propagateAtLaunch": True} in group.inputs[
            "tags"
        ]
        assert (
            templates[f"cluster-{env}-hosts"].inputs["tagSpecifications"][0]["tags"][
                "CapacityGroup"
            ]
            == env
        )
    for service in rec.of_type(SERVICE):
        env = service.name.split("-", 1)[0]
        other = "green" if env == "blue" else "blue"
        assert providers[f"cluster-{env}-ec2"].urn in service.dependencies, service.name
        assert providers[f"cluster-{other}-ec2"].urn not in service.dependencies, service.name


def test_blue_adopts_the_shared_group_of_a_stack_deployed_before(fresh_loop) -> None:
    """An existing prod stack keeps its hosts: blue's template, group and provider alias the
    shared ones (cluster-hosts, cluster-ec2); green's are new."""
    rec = synth("prod")
    assert named(rec, TEMPLATE)["cluster-blue-hosts"].options["aliases"] == ["cluster-hosts"]
    assert named(rec, GROUP)["cluster-blue-hosts"].options["aliases"] == ["cluster-hosts"]
    assert named(rec, PROVIDER)["cluster-blue-ec2"].options["aliases"] == ["cluster-ec2"]
    assert named(rec, TEMPLATE)["cluster-green-hosts"].options["aliases"] == []


def test_a_plain_up_moves_blues_hosts_only(fresh_loop, recorded) -> None:
    recorded["cluster-green-host-settings"] = host_pin_document(OLD_HOSTS)
    rec = synth("prod")
    pins = host_pins(rec)
    assert {k: p.options["ignoreChanges"] for k, p in pins.items()} == {
        "cluster-blue-host-settings": [],
        "cluster-green-host-settings": ["insecureValue"],
    }
    assert pins["cluster-blue-host-settings"].inputs["name"] == "/steadystate/prod/hosts/blue"
    templates = named(rec, TEMPLATE)
    green = templates["cluster-green-hosts"].inputs
    assert (green["imageId"], green["userData"]) == (OLD_HOSTS.image_id, OLD_HOSTS.user_data)
    blue = templates["cluster-blue-hosts"].inputs
    fresh = read_host_pin(pins["cluster-blue-host-settings"].inputs["insecureValue"])
    assert (blue["imageId"], blue["instanceType"]) == (fresh.image_id, "t3.medium")
    assert blue["imageId"] != OLD_HOSTS.image_id


def test_the_host_step_moves_green_after_blue(fresh_loop, recorded) -> None:
    recorded["cluster-green-host-settings"] = host_pin_document(OLD_HOSTS)
    rec = synth("prod", hostRollout=["blue", "green"])
    assert all(p.options["ignoreChanges"] == [] for p in host_pins(rec).values())


def test_dev_keeps_one_shared_group_under_its_old_names(fresh_loop) -> None:
    rec = synth("dev")
    assert sorted(named(rec, GROUP)) == ["cluster-hosts"]
    assert sorted(named(rec, PROVIDER)) == ["cluster-ec2"]
    (pin,) = host_pins(rec).values()
    assert pin.options["ignoreChanges"] == []
    assert json.loads(pin.inputs["insecureValue"])["instanceType"] == "t3.small"
    assert named(rec, GROUP)["cluster-hosts"].inputs.get("instanceRefresh") is None


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_autoshift_practice_window_falls_on_a_chaos_day(stack: str, fresh_loop) -> None:
    """An ARC practice run takes a zone's traffic away for about 30 minutes: it must not meet a
    FIS experiment (the AZ experiment runs the business day after chaos.weekday)."""
    import re

    synthesis = synthesize(stack)
    chaos_days = {
        match[1]
        for r in synthesis.of_type("aws:scheduler/schedule:Schedule")
        if (
            match := re.fullmatch(
                r"cron\(\d+ \d+ \? \* ([A-Z]{3})(#\d)? \*\)", r.inputs["scheduleExpression"]
            )
        )
    }
    assert chaos_days
    configs = synthesis.of_type(
        "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration"
    )
    windows = [w for c in configs for w in c.inputs["allowedWindows"]]
    practice_days = {w[:3].upper() for w in windows}
    assert practice_days.isdisjoint(chaos_days), (practice_days, chaos_days)
    assert configs or stack == "dev"
