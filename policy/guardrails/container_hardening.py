"""Container hardening beyond :mod:`.containers`: who a container runs as, which kernel
capabilities it adds, which image it runs (pinned by digest), and the task-level settings that
share the host (network mode) or leave the task unencrypted (EFS volumes)."""

from __future__ import annotations

import re
from typing import Any

from .aws_types import ECS_TASK_DEFINITION
from .containers import _each_container
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import fmt, get, is_unknown

ROOT_USERS = re.compile(r"^(root|0)(:.*)?$", re.IGNORECASE)
"""``user`` values that are root: ``root``, ``0``, ``root:<group>``, ``0:<gid>``."""

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@resource_rule(
    "containers-non-root-user",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Every Linux container names a non-root user (FSBP ECS.20 and ECS.1). Mandatory: an image's default user is usually root, and root in a "
        "container is one kernel bug away from root on the host."
    ),
)
def containers_non_root_user(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        user = container.get("user")
        if not isinstance(user, str) or not user.strip() or ROOT_USERS.match(user.strip()):
            check.violation(
                f"{label} runs as {fmt(user) if user else 'the image default user (unset)'}",
                f'set "user": "<uid>:<gid>" (e.g. "10001:10001", a user the image owns '
                f"nothing as) in {label} of containerDefinitions",
            )

    _each_container(check, judge, "user")


@resource_rule(
    "containers-no-added-capabilities",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    config={
        "allowedCapabilities": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Linux capabilities a container may add (e.g. NET_BIND_SERVICE).",
        }
    },
    description=(
        "No container adds Linux capabilities beyond the allowed list (default none) through "
        "linuxParameters.capabilities.add (CIS Docker Benchmark 5.3). Mandatory: SYS_ADMIN, NET_ADMIN, SYS_PTRACE and friends undo the "
        "container's isolation nearly as much as privileged mode."
    ),
)
def containers_no_added_capabilities(check: ResourceCheck) -> None:
    allowed = {c.upper().removeprefix("CAP_") for c in check.config["allowedCapabilities"]}

    def judge(label: str, container: dict[str, Any]) -> None:
        added = get(container, "linuxParameters.capabilities.add") or []
        names = [str(c) for c in added if str(c).upper().removeprefix("CAP_") not in allowed]
        if names:
            check.violation(
                f"{label} adds capabilities {', '.join(names)}",
                f"remove {', '.join(names)} from linuxParameters.capabilities.add in {label} "
                '(and set linuxParameters.capabilities.drop=["ALL"])',
            )

    _each_container(check, judge, "linuxParameters")


@resource_rule(
    "containers-image-pinned-by-digest",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Every container image is referenced by digest (<repository>@sha256:<64 hex>), never by "
        "a tag alone. Mandatory: a tag such as latest can be re-pointed after review, so the "
        "task would run an image nobody tested, and two tasks of one revision can differ."
    ),
)
def containers_image_pinned_by_digest(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        image = container.get("image")
        if not isinstance(image, str) or not DIGEST.search(image):
            check.violation(
                f"{label} runs image {fmt(image)}, which is not pinned by digest",
                f'set "image" in {label} to <repository>@sha256:<digest> (e.g. the repoDigest '
                "of the docker image resource that pushed it)",
            )

    _each_container(check, judge, "image")


@resource_rule(
    "ecs-task-no-host-network",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Task definitions never use the host network mode (FSBP ECS.17, ECS.1). Mandatory: with "
        "networkMode=host a container binds the instance's interfaces directly, can reach the "
        "instance metadata service and bypasses per-task security groups."
    ),
)
def ecs_task_no_host_network(check: ResourceCheck) -> None:
    if check.known("networkMode") == "host":
        check.violation(
            'networkMode is "host"',
            'set networkMode="awsvpc" (or "bridge" with dynamic host ports)',
        )


@resource_rule(
    "ecs-task-no-host-ipc",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Task definitions never share the host's IPC namespace (ipcMode=host) (CIS Docker "
        "Benchmark 5.16). Mandatory: shared memory and semaphores of every process on the "
        "instance become readable and writable from the container."
    ),
)
def ecs_task_no_host_ipc(check: ResourceCheck) -> None:
    if check.known("ipcMode") == "host":
        check.violation('ipcMode is "host"', 'remove ipcMode (or set ipcMode="task")')


def _volume_name(volume: Any) -> str:
    name = get(volume, "name")
    return f" ({fmt(name)})" if isinstance(name, str) else ""


@resource_rule(
    "ecs-task-efs-transit-encryption",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "EFS volumes of a task definition enable transit encryption (FSBP ECS.18, CKV_AWS_97). "
        "Mandatory: NFS traffic is otherwise plain text on the VPC."
    ),
)
def ecs_task_efs_transit_encryption(check: ResourceCheck) -> None:
    volumes = check.get("volumes", [])
    if is_unknown(volumes):
        check.note("volumes is unknown during preview")
        return
    for i, volume in enumerate(volumes):
        efs = get(volume, "efsVolumeConfiguration")
        if efs is None:
            continue
        mode = get(efs, "transitEncryption")
        if is_unknown(mode):
            check.note(
                f"volumes[{i}].efsVolumeConfiguration.transitEncryption is unknown during preview"
            )
        elif mode != "ENABLED":
            check.violation(
                f"volumes[{i}]{_volume_name(volume)} mounts EFS with transitEncryption "
                f"{fmt(mode) if mode else 'unset'}",
                f'set volumes[{i}].efsVolumeConfiguration.transitEncryption="ENABLED"',
            )


POLICIES = [
    containers_non_root_user,
    containers_no_added_capabilities,
    containers_image_pinned_by_digest,
    ecs_task_no_host_network,
    ecs_task_no_host_ipc,
    ecs_task_efs_transit_encryption,
]
