"""Whole stacks: every service that allows ECS Exec runs tasks Docker can create and the SSM agent
can start in, in every container (the app and its prober sidecar).

What the ECS agent mounts itself, and what the SSM agent writes, come from their source; see
``components/ecs_exec_paths.py`` for the files and functions.
"""

from __future__ import annotations

import json

import pytest

from components.ecs_exec_paths import SSM_DATA_DIR, agent_bind_conflict
from ops.synth.runner import Synthesis
from tests.support.stacks import synthesize_shipped_stacks


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    return synthesize_shipped_stacks()


def _exec_tasks(synthesis: Synthesis) -> list[tuple[str, dict]]:
    tasks = {
        r.outputs["arn"]: r.inputs
        for r in synthesis.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    services = [
        s for s in synthesis.of_type("aws:ecs/service:Service") if s.inputs["enableExecuteCommand"]
    ]
    return [(s.name, tasks[s.inputs["taskDefinition"]]) for s in services]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_task_definition_mounts_where_the_ecs_agent_binds_for_exec(stacks, stack: str) -> None:
    """Any task may run with exec (a service flag, or `run-task --enable-execute-command`), so
    no task definition of the stack may mount on an exec bind target: Docker would refuse the
    duplicate mount point and the container would never be created."""
    task_definitions = stacks[stack].of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert task_definitions
    for task in task_definitions:
        for container in json.loads(task.inputs["containerDefinitions"]):
            for mount in container.get("mountPoints", []):
                problem = agent_bind_conflict(mount["containerPath"])
                assert problem is None, f"{task.name}/{container['name']}: {problem}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_exec_container_has_a_writable_ssm_data_store(stacks, stack: str) -> None:
    exec_tasks = _exec_tasks(stacks[stack])
    assert exec_tasks, f"{stack}: no service allows ECS Exec; the check would prove nothing"
    for service, task in exec_tasks:
        declared = {v["name"] for v in task["volumes"]}
        containers = json.loads(task["containerDefinitions"])
        assert {c["name"] for c in containers} >= {"app", "prober"}, service
        stores = []
        for container in containers:
            assert container["readonlyRootFilesystem"] is True
            writable = {
                m["containerPath"]: m["sourceVolume"]
                for m in container["mountPoints"]
                if not m["readOnly"]
            }
            assert SSM_DATA_DIR in writable, f"{service}/{container['name']}: no SSM data store"
            assert writable[SSM_DATA_DIR] in declared
            stores.append(writable[SSM_DATA_DIR])
        assert len(set(stores)) == len(stores), f"{service}: containers share an SSM data store"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exec_sessions_and_logs_are_encrypted_and_every_exec_task_can_decrypt(
    stacks, stack: str
) -> None:
    synthesis = stacks[stack]
    (cluster,) = synthesis.of_type("aws:ecs/cluster:Cluster")
    exec_cfg = cluster.inputs["configuration"]["executeCommandConfiguration"]
    keys = {k.outputs["arn"] for k in synthesis.of_type("aws:kms/key:Key")}
    assert exec_cfg["kmsKeyId"] in keys
    groups = {
        g.outputs["name"]: g.inputs for g in synthesis.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    exec_group = groups[exec_cfg["logConfiguration"]["cloudWatchLogGroupName"]]
    assert exec_group["kmsKeyId"] == exec_cfg["kmsKeyId"]
    assert exec_cfg["logConfiguration"]["cloudWatchEncryptionEnabled"] is True
    roles = {r.outputs["arn"]: r.outputs["name"] for r in synthesis.of_type("aws:iam/role:Role")}
    policies = synthesis.of_type("aws:iam/rolePolicy:RolePolicy")
    for service, task in _exec_tasks(synthesis):
        role = roles[task["taskRoleArn"]]
        grants = [
            s
            for p in policies
            if p.inputs["role"] == role
            for s in json.loads(p.inputs["policy"])["Statement"]
        ]
        assert any(
            "kms:Decrypt" in s["Action"] and s["Resource"] == [exec_cfg["kmsKeyId"]] for s in grants
        ), f"{service}: the task role cannot decrypt exec sessions"
