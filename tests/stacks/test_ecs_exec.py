"""Whole stacks: every service that allows ECS Exec runs a task its managed agent can start in."""

from __future__ import annotations

import asyncio
import json

import pytest

from ops.synth.runner import Synthesis, synthesize

AGENT_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    out = {}
    for name in ("dev", "prod"):
        loop = asyncio.new_event_loop()  # the Pulumi runtime keeps state on the current loop
        asyncio.set_event_loop(loop)
        out[name] = synthesize(name)
        loop.close()
    asyncio.set_event_loop(None)
    return out


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exec_enabled_services_mount_the_agent_paths(stacks, stack: str) -> None:
    synthesis = stacks[stack]
    tasks = {
        r.outputs["arn"]: r.inputs
        for r in synthesis.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    services = [
        s for s in synthesis.of_type("aws:ecs/service:Service") if s.inputs["enableExecuteCommand"]
    ]
    assert services, f"{stack}: no service allows ECS Exec; the check would prove nothing"
    for service in services:
        task = tasks[service.inputs["taskDefinition"]]
        declared = {v["name"] for v in task["volumes"]}
        app = next(c for c in json.loads(task["containerDefinitions"]) if c["name"] == "app")
        assert app["readonlyRootFilesystem"] is True
        writable = {
            m["containerPath"]: m["sourceVolume"] for m in app["mountPoints"] if not m["readOnly"]
        }
        for path in AGENT_PATHS:
            assert path in writable, f"{service.name}: {path} is not writable"
            assert writable[path] in declared
