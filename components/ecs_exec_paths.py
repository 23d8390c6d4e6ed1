"""Where ECS Exec's agents live inside a task's containers, as their source code says.

With ``enableExecuteCommand`` on the service, the ECS agent adds bind mounts of its own to EVERY
container of the task before Docker creates it (``aws/amazon-ecs-agent``,
``agent/engine/execcmd/manager_init_task_linux.go``: ``InitializeContainer`` and, in newer
releases, ``addRequiredBindMounts``; the constants ``ContainerDepsDirPrefix`` and
``ContainerLogDir``; pinned by ``manager_init_task_linux_test.go``):

* read-only, under ``/ecs-execute-command-<uuid>/``: ``amazon-ssm-agent``, ``ssm-agent-worker``,
  ``ssm-session-worker``, ``configuration/amazon-ssm-agent.json``, ``configuration/seelog.xml``
  and ``certs/amazon-ssm-agent.crt``;
* writable: ``/var/log/amazon/ssm``, from the host's ``/var/log/ecs/exec/<task>/<container>``.

These land in the same ``HostConfig.Binds`` as the task's own mount points
(``agent/engine/docker_task_engine.go`` calls ``InitializeContainer`` after
``agent/api/task/task.go`` ``dockerHostBinds``), and Docker refuses two binds with one
destination ("Duplicate mount point"): a task volume mounted at any of those paths stops the
container from being created (``CannotCreateContainerError``).

The SSM agent then runs inside the container (as root: ``execAgentCmdUser``,
``manager_start_linux.go``) and writes its state under ``DefaultDataStorePath``,
``/var/lib/amazon/ssm/`` (``aws/amazon-ssm-agent``, ``agent/appconfig/constants_unix.go``: the
vault, IPC, session orchestration, plugins, locks) and its logs and downloads under
``/var/log/amazon/ssm`` (``DownloadRoot``), which the ECS agent's writable bind already covers.
Under a read-only root filesystem the data store therefore needs a writable volume of its own.

AWS's "ECS Exec considerations" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
ecs-exec.html) say a read-only root "isn't supported" because the SSM agent must create
directories and files; the two directories above are the ones its source writes, and both are
writable here. That is the agents' source, not AWS's support statement: the first session on a
real account is what confirms it (``aws ecs execute-command``).
"""

from __future__ import annotations

#: Prefix of the per-container directory holding the ECS agent's read-only exec binds
#: (``ContainerDepsDirPrefix``; a fresh UUID per container follows it).
AGENT_DEPS_PREFIX = "/ecs-execute-command-"

#: The ECS agent's writable exec bind: the SSM agent's log directory (``ContainerLogDir``).
AGENT_LOG_DIR = "/var/log/amazon/ssm"

#: The SSM agent's data store (``DefaultDataStorePath``): not mounted by the ECS agent, written
#: by the SSM agent at start.
SSM_DATA_DIR = "/var/lib/amazon/ssm"


def agent_bind_conflict(container_path: str) -> str | None:
    """Why a task mount point at ``container_path`` collides with an exec bind, or None."""
    path = "/" + container_path.strip("/")
    if path == AGENT_LOG_DIR:
        return (
            f"{path} is where the ECS agent bind-mounts the SSM agent's log directory in every "
            "container of an ECS Exec task; Docker refuses a second mount there (Duplicate mount "
            "point), so remove this mount point: the agent's own bind is already writable"
        )
    if path.startswith(AGENT_DEPS_PREFIX):
        return (
            f"{path} is under {AGENT_DEPS_PREFIX}<uuid>/, where the ECS agent bind-mounts the "
            "SSM agent's binaries, configuration and certificate; mount elsewhere"
        )
    return None
