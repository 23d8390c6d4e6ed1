"""Container definitions are hardened and are what ECS's RegisterTaskDefinition accepts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from components.container_definitions import (
    APP_USER,
    ContainerSpec,
    ProberSpec,
    container_definitions,
    container_names,
    task_volume_names,
)
from components.ecs_exec_paths import SSM_DATA_DIR, agent_bind_conflict
from tests.support.aws_api import api_problems

SPEC = ContainerSpec(
    image="123456789012.dkr.ecr.us-east-2.amazonaws.com/app@sha256:" + "a" * 64,
    container_port=8080,
    cpu=256,
    memory=512,
    log_group="/app/logs",
    region="us-east-2",
    stop_timeout=30,
    environment={"APP_STAGE": "dev"},
    secrets=[
        {
            "name": "DB_PASSWORD",
            "valueFrom": "arn:aws:secretsmanager:us-east-2:123456789012:secret:db:password::",
        }
    ],
    prober=ProberSpec(targets="db=tcp://db:5432", namespace="steadystate", host_dimension="blue"),
)


def test_ecs_api_accepts_the_definitions() -> None:
    params = {
        "family": "app",
        "containerDefinitions": container_definitions(SPEC),
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "cpu": "256",
        "memory": "512",
        "volumes": [{"name": "tmp"}],
    }
    assert api_problems("ecs", "RegisterTaskDefinition", params) == ""


def test_the_api_check_catches_a_wrong_key() -> None:
    broken = container_definitions(SPEC)
    broken[0]["portMapping"] = broken[0].pop("portMappings")
    report = api_problems(
        "ecs", "RegisterTaskDefinition", {"family": "app", "containerDefinitions": broken}
    )
    assert "portMapping" in report


def test_app_uses_dynamic_host_ports_in_bridge_mode() -> None:
    app = container_definitions(SPEC)[0]
    assert app["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]


def test_every_container_is_hardened_and_logs() -> None:
    for container in container_definitions(SPEC):
        assert container["user"] == APP_USER
        assert container["readonlyRootFilesystem"] is True
        assert container["privileged"] is False
        assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert container["mountPoints"][0]["containerPath"] == "/tmp"


def test_reservations_fit_inside_task_memory() -> None:
    containers = container_definitions(SPEC)
    assert sum(c.get("memoryReservation", 0) for c in containers) == SPEC.memory


def test_secrets_never_leak_into_environment() -> None:
    app = container_definitions(SPEC)[0]
    names = {e["name"] for e in app["environment"]}
    assert "DB_PASSWORD" not in names and app["secrets"][0]["name"] == "DB_PASSWORD"
    assert {"name": "PORT", "value": "8080"} in app["environment"]


def test_prober_is_a_non_essential_sidecar_of_the_same_image() -> None:
    app, prober = container_definitions(SPEC)
    assert app["essential"] is True and prober["essential"] is False
    assert prober["image"] == app["image"]
    env = {e["name"]: e["value"] for e in prober["environment"]}
    assert env["PROBE_HOST_DIMENSION"] == "blue" and env["PROBE_INTERVAL_SECONDS"] == "10"


def test_without_prober_only_the_app_runs() -> None:
    from dataclasses import replace

    containers = container_definitions(replace(SPEC, prober=None))
    assert [c["name"] for c in containers] == ["app"]
    assert containers[0]["memoryReservation"] == 512


#: Container-side destinations of the binds the ECS agent adds to every container of an exec-enabled
#: task, as its own test expects them for the UUID "test-UUID" (aws/amazon-ecs-agent,
#: agent/engine/execcmd/manager_init_task_linux_test.go, TestInitializeContainer: seven binds).
ECS_AGENT_EXEC_BINDS = (
    "/ecs-execute-command-test-UUID/amazon-ssm-agent",
    "/ecs-execute-command-test-UUID/ssm-agent-worker",
    "/ecs-execute-command-test-UUID/ssm-session-worker",
    "/ecs-execute-command-test-UUID/configuration/amazon-ssm-agent.json",
    "/ecs-execute-command-test-UUID/configuration/seelog.xml",
    "/ecs-execute-command-test-UUID/certs/amazon-ssm-agent.crt",
    "/var/log/amazon/ssm",
)


def _writable_paths(container: dict) -> list[str]:
    return [m["containerPath"] for m in container["mountPoints"] if m["readOnly"] is False]


@pytest.mark.parametrize("path", ECS_AGENT_EXEC_BINDS)
def test_every_exec_bind_of_the_ecs_agent_counts_as_a_conflict(path: str) -> None:
    assert agent_bind_conflict(path) is not None
    assert agent_bind_conflict(path + "/") is not None


@pytest.mark.parametrize("path", ["/tmp", SSM_DATA_DIR, "/var/log/amazon", "/var/log/amazon/s"])
def test_paths_the_ecs_agent_leaves_alone_are_free(path: str) -> None:
    assert agent_bind_conflict(path) is None


@pytest.mark.parametrize("ecs_exec", [True, False])
def test_no_container_mounts_where_the_ecs_agent_binds_for_exec(ecs_exec: bool) -> None:
    """Docker refuses two binds with one destination: a task mount point on an exec bind
    target fails container creation (CannotCreateContainerError), exec session or not."""
    for container in container_definitions(replace(SPEC, ecs_exec=ecs_exec)):
        for mount in container["mountPoints"]:
            assert agent_bind_conflict(mount["containerPath"]) is None, (container["name"], mount)


def test_ecs_exec_gives_every_container_its_own_ssm_data_store_on_a_read_only_root() -> None:
    """The SSM agent writes DefaultDataStorePath (aws/amazon-ssm-agent,
    agent/appconfig/constants_unix.go) in whichever container a session targets; its logs go to
    the ECS agent's own writable bind, so only the data store needs a volume."""
    containers = container_definitions(replace(SPEC, ecs_exec=True))
    assert [c["name"] for c in containers] == container_names(with_prober=True)
    stores = set()
    for container in containers:
        assert container["readonlyRootFilesystem"] is True
        assert _writable_paths(container) == ["/tmp", SSM_DATA_DIR]
        stores |= {
            m["sourceVolume"]
            for m in container["mountPoints"]
            if m["containerPath"] == SSM_DATA_DIR
        }
    assert len(stores) == len(containers), "each agent keeps its own vault and IPC sockets"


def test_without_ecs_exec_only_tmp_is_writable() -> None:
    for container in container_definitions(SPEC):
        assert _writable_paths(container) == ["/tmp"]
    assert task_volume_names(False, with_prober=True) == ["tmp"]


@pytest.mark.parametrize("prober", [SPEC.prober, None])
def test_every_mounted_volume_is_declared_and_the_api_accepts_it(prober) -> None:
    containers = container_definitions(replace(SPEC, ecs_exec=True, prober=prober))
    volumes = task_volume_names(True, with_prober=prober is not None)
    mounted = {m["sourceVolume"] for c in containers for m in c["mountPoints"]}
    assert mounted == set(volumes) and len(volumes) == len(set(volumes))
    params = {
        "family": "app",
        "containerDefinitions": containers,
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "cpu": "256",
        "memory": "512",
        # No host path: Docker-managed directories that live and die with the task.
        "volumes": [{"name": name} for name in volumes],
    }
    assert api_problems("ecs", "RegisterTaskDefinition", params) == ""
