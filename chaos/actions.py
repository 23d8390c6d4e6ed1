"""Chaos actions chaostoolkit-aws (chaosaws) has no fitting equivalent for: stop a share of an ECS
service's tasks, or terminate the EC2 host under one of its tasks.

``kill-one-task`` uses ``chaosaws.ecs.actions.stop_random_tasks(task_count=1)`` directly. These stay:

* :func:`stop_fraction_of_tasks` — chaosaws's ``stop_random_tasks(task_percent=50)`` rounds the
  count down, so on a one-task service it stops nothing and the experiment passes without a fault;
  this one stops at least one task.
* :func:`terminate_container_host` — chaosaws's ``chaosaws.ec2.actions.terminate_instances`` takes
  instance ids, filters or a zone; it cannot pick the host that runs a task of *this* service (that
  takes ECS: tasks → container instance → EC2 id), and the host-replacement probe needs the count of
  connected hosts just before the kill, which this action records.

Each returns a small JSON-able dict saying what it did (chaostoolkit puts it in the journal). They
refuse, with a clear message, when there is nothing to act on. ``rng`` and the clients are
keyword-only and injectable for tests.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any

from chaos.aws import client, connected_hosts, running_tasks

logger = logging.getLogger("steadystate.chaos")
REASON_MAX = 255  # ECS StopTask's limit for the reason string

TERMINATED: list[dict[str, Any]] = []
"""Hosts :func:`terminate_container_host` terminated in this process, with the cluster's count of
ACTIVE, connected container instances just before (``chaos.probes.killed_host_replaced`` reads
this: chaostoolkit runs an experiment's python activities in one process, in order)."""


class NothingToDo(Exception):
    """The action found nothing to stop or terminate."""


def _reason(reason: str) -> str:
    return (reason or "steadystate chaos experiment")[:REASON_MAX]


def stop_fraction_of_tasks(
    cluster: str,
    service: str,
    fraction: float = 0.5,
    reason: str = "steadystate chaos: stop a share of the tasks",
    region: str | None = None,
    *,
    ecs: Any = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Stop ``fraction`` of the RUNNING tasks (rounded down, at least one), chosen at random."""
    if not 0 < float(fraction) <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    ecs = client("ecs", region, ecs)
    tasks = running_tasks(ecs, cluster, service)
    if not tasks:
        raise NothingToDo(f"service {service} in {cluster} has no RUNNING task")
    count = max(1, math.floor(len(tasks) * float(fraction)))
    victims = (rng or random.Random()).sample(tasks, count)
    for task in victims:
        ecs.stop_task(cluster=cluster, task=task["taskArn"], reason=_reason(reason))
    logger.info("stopped %d of %d tasks of %s", count, len(tasks), service)
    return {"stopped": [t["taskArn"] for t in victims], "runningBefore": len(tasks)}


def terminate_container_host(
    cluster: str,
    service: str | None = None,
    region: str | None = None,
    *,
    ecs: Any = None,
    ec2: Any = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Terminate the EC2 instance behind one ACTIVE container instance of the cluster.

    With ``service``, only hosts running one of its tasks are candidates, so the service is hurt.
    The capacity provider's Auto Scaling group should launch a replacement and ECS should place the
    lost tasks again.
    """
    ecs = client("ecs", region, ecs)
    if service:
        tasks = running_tasks(ecs, cluster, service)
        arns = sorted({arn for t in tasks if (arn := t.get("containerInstanceArn"))})
        where = f"running a task of {service}"
    else:
        arns = sorted(
            ecs.list_container_instances(cluster=cluster, status="ACTIVE").get(
                "containerInstanceArns", []
            )
        )
        where = "ACTIVE"
    if not arns:
        raise NothingToDo(f"cluster {cluster} has no container instance {where}")
    arn = (rng or random.Random()).choice(arns)
    described = ecs.describe_container_instances(cluster=cluster, containerInstances=[arn])
    instances = described.get("containerInstances") or []
    if not instances or not instances[0].get("ec2InstanceId"):
        raise NothingToDo(f"container instance {arn} has no EC2 instance id")
    instance_id = instances[0]["ec2InstanceId"]
    running = instances[0].get("runningTasksCount")
    hosts_before = len(connected_hosts(ecs, cluster))
    client("ec2", region, ec2).terminate_instances(InstanceIds=[instance_id])
    logger.info("terminated %s (container instance %s)", instance_id, arn)
    record = {
        "cluster": cluster,
        "containerInstanceArn": arn,
        "ec2InstanceId": instance_id,
        "tasksOnHost": running,
        "hostsBefore": hosts_before,
    }
    TERMINATED.append(record)
    return dict(record)
