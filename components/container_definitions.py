"""ECS container definitions for the app and its connectivity-prober sidecar, as plain data.

Pure functions: given resolved values they return the list ECS's RegisterTaskDefinition takes, so
tests can check the result against the ECS API model without any Pulumi machinery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .ecs_exec_paths import SSM_DATA_DIR

APP_CONTAINER = "app"
PROBER_CONTAINER = "prober"
TMP_VOLUME = "tmp"
# Non-root user baked into the image (app/Dockerfile); repeated here so ECS enforces it too.
APP_USER = "10001:10001"


@dataclass(frozen=True)
class ProberSpec:
    """The sidecar that publishes `<dependency>-connectivity` metrics for this environment."""

    targets: Any
    """`name=tcp://host:port,name=https://url` — what to probe (a str, or an Output of one
    until the service resolves it)."""
    namespace: str
    """CloudWatch namespace of the metrics."""
    host_dimension: str
    """Value of the `Host` dimension: the environment name (blue/green)."""
    interval_seconds: int = 10
    scaling_dimension: str | None = None
    """`Service` dimension of the task-CPU metric fast scale-out follows; None publishes none."""
    task_cpu_units: int = 0
    """The task's CPU units: what 100 % of that metric means."""
    command: Sequence[str] = ("python", "-m", "steadystate_app.prober")
    memory_reservation: int = 64


@dataclass(frozen=True)
class ContainerSpec:
    """What the app container needs; all values already resolved (no Outputs)."""

    image: str
    container_port: int
    cpu: int
    memory: int
    log_group: str
    region: str
    stop_timeout: int
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[Mapping[str, str]] = ()
    health_check_command: Sequence[str] = (
        "CMD",
        "python",
        "-m",
        "steadystate_app.healthcheck",
    )
    prober: ProberSpec | None = None
    ecs_exec: bool = False
    """Operators may open ECS Exec sessions into any container of the task: each gets a
    writable volume for the SSM agent's data store (`components/ecs_exec_paths.py`)."""


def ssm_data_volume(container: str) -> str:
    """The task volume holding `container`'s SSM agent data store (one per container: two
    agents must not share a vault, IPC sockets and registration)."""
    return f"ssm-data-{container}"


def container_names(with_prober: bool) -> list[str]:
    """The task's containers, in definition order."""
    return [APP_CONTAINER, *([PROBER_CONTAINER] if with_prober else [])]


def task_volume_names(ecs_exec: bool, with_prober: bool) -> list[str]:
    """Volumes the task must declare for the definitions below: `/tmp`, plus ECS Exec's.

    Declared with no host path, each is a Docker-managed directory created for the task and
    removed with it: nothing persists across tasks or is shared with other tasks. The ECS agent
    mounts its own exec paths (binaries, configuration, `/var/log/amazon/ssm`): declaring any of
    them here would collide with its binds.
    """
    exec_volumes = [ssm_data_volume(c) for c in container_names(with_prober)] if ecs_exec else []
    return [TMP_VOLUME, *exec_volumes]


def _writable(volume: str, path: str) -> dict[str, Any]:
    return {"sourceVolume": volume, "containerPath": path, "readOnly": False}


def _log_configuration(spec: ContainerSpec, stream_prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": spec.log_group,
            "awslogs-region": spec.region,
            "awslogs-stream-prefix": stream_prefix,
            "mode": "non-blocking",
            "max-buffer-size": "4m",
        },
    }


def _hardening(spec: ContainerSpec, container: str) -> dict[str, Any]:
    """Settings both containers share: non-root, read-only root, no privileges, writable /tmp
    (and, with ECS Exec, the SSM agent's data store)."""
    mounts = [_writable(TMP_VOLUME, "/tmp")]
    if spec.ecs_exec:
        mounts.append(_writable(ssm_data_volume(container), SSM_DATA_DIR))
    return {
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {
            "initProcessEnabled": True,  # reaps zombies; ECS Exec needs it
            "capabilities": {"drop": ["ALL"]},
        },
        "mountPoints": mounts,
        "stopTimeout": spec.stop_timeout,
    }


def _pairs(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": key, "value": str(value)} for key, value in sorted(values.items())]


def container_definitions(spec: ContainerSpec) -> list[dict[str, Any]]:
    """The task's containers: the app (essential) and, when configured, the prober sidecar."""
    app: dict[str, Any] = {
        "name": APP_CONTAINER,
        "image": spec.image,
        "essential": True,
        "cpu": spec.cpu,
        # The task's memory is the hard cap; reservations of all containers must fit inside it.
        "memoryReservation": spec.memory - (spec.prober.memory_reservation if spec.prober else 0),
        # Bridge mode: hostPort 0 asks ECS for a dynamic host port, so any number of tasks fit on
        # one instance without consuming ENIs (the awsvpc limit the RDS-on-ECS guide ran into).
        "portMappings": [{"containerPort": spec.container_port, "hostPort": 0, "protocol": "tcp"}],
        "environment": _pairs({**spec.environment, "PORT": str(spec.container_port)}),
        "secrets": [dict(s) for s in spec.secrets],
        "healthCheck": {
            "command": list(spec.health_check_command),
            "interval": 10,
            "timeout": 3,
            "retries": 3,
            "startPeriod": 15,
        },
        "logConfiguration": _log_configuration(spec, APP_CONTAINER),
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        **_hardening(spec, APP_CONTAINER),
    }
    containers = [app]
    if spec.prober is not None:
        probe = spec.prober
        containers.append(
            {
                "name": PROBER_CONTAINER,
                "image": spec.image,
                # The prober's failure must not take the app down with it.
                "essential": False,
                "memoryReservation": probe.memory_reservation,
                "command": list(probe.command),
                "environment": _pairs(
                    {
                        "PROBE_TARGETS": probe.targets,
                        "PROBE_NAMESPACE": probe.namespace,
                        "PROBE_HOST_DIMENSION": probe.host_dimension,
                        "PROBE_INTERVAL_SECONDS": str(probe.interval_seconds),
                        "AWS_REGION": spec.region,
                        **(
                            {
                                "SCALING_METRIC_DIMENSION": probe.scaling_dimension,
                                "TASK_CPU_UNITS": str(probe.task_cpu_units),
                            }
                            if probe.scaling_dimension
                            else {}
                        ),
                    }
                ),
                "logConfiguration": _log_configuration(spec, PROBER_CONTAINER),
                **_hardening(spec, PROBER_CONTAINER),
            }
        )
    return containers
