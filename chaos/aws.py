"""boto3 plumbing shared by probes and actions: clients, and the RUNNING tasks of one service."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

DESCRIBE_TASKS_MAX = 100  # ECS accepts at most 100 tasks per DescribeTasks call


def client(service: str, region: str | None = None, given: Any = None) -> Any:
    """``given`` when a test injected one, else a boto3 client (region: argument, then env/profile)."""
    if given is not None:
        return given
    import boto3

    return boto3.client(service, region_name=region) if region else boto3.client(service)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def running_tasks(ecs: Any, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's tasks that are RUNNING and meant to stay so, oldest first.

    ``list_tasks(serviceName=...)`` narrows the search on AWS; the ``group == "service:<name>"``
    check (ECS's group for a service's tasks) makes it exact everywhere — moto, for one, ignores
    the ``serviceName`` filter and lists every task of the cluster.
    """
    arns: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "cluster": cluster,
            "serviceName": service,
            "desiredStatus": "RUNNING",
        }
        if token:
            kwargs["nextToken"] = token
        page = ecs.list_tasks(**kwargs)
        arns.extend(page.get("taskArns", []))
        token = page.get("nextToken")
        if not token:
            break
    tasks: list[dict[str, Any]] = []
    for chunk in _chunks(arns, DESCRIBE_TASKS_MAX):
        tasks.extend(ecs.describe_tasks(cluster=cluster, tasks=list(chunk)).get("tasks", []))
    group = f"service:{service}"
    return [
        task
        for task in tasks
        if task.get("group") == group
        and task.get("lastStatus") == "RUNNING"
        and task.get("desiredStatus") == "RUNNING"
    ]


def healthy_hosts(ecs: Any, cluster: str, container_instance_arns: set[str]) -> dict[str, bool]:
    """Per container instance: ACTIVE with its agent connected (missing ones count as lost)."""
    wanted = sorted(arn for arn in container_instance_arns if arn)
    health = dict.fromkeys(wanted, False)
    for chunk in _chunks(wanted, DESCRIBE_TASKS_MAX):
        answer = ecs.describe_container_instances(cluster=cluster, containerInstances=list(chunk))
        for host in answer.get("containerInstances", []):
            ok = host.get("status") == "ACTIVE" and host.get("agentConnected") is True
            health[host["containerInstanceArn"]] = ok
    return health


def connected_hosts(ecs: Any, cluster: str) -> dict[str, str]:
    """ACTIVE container instances of the cluster whose agent is connected: ARN -> EC2 id."""
    arns: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"cluster": cluster, "status": "ACTIVE"}
        if token:
            kwargs["nextToken"] = token
        page = ecs.list_container_instances(**kwargs)
        arns.extend(page.get("containerInstanceArns", []))
        token = page.get("nextToken")
        if not token:
            break
    hosts: dict[str, str] = {}
    for chunk in _chunks(sorted(arns), DESCRIBE_TASKS_MAX):
        answer = ecs.describe_container_instances(cluster=cluster, containerInstances=list(chunk))
        for host in answer.get("containerInstances", []):
            if host.get("status") == "ACTIVE" and host.get("agentConnected") is True:
                hosts[host["containerInstanceArn"]] = str(host.get("ec2InstanceId", ""))
    return hosts
