"""Test helpers for moto-backed ECS tests (used by tests/chaos and tests/ops/release).

moto records API calls but never reacts: stopping a task does not start a replacement, terminating
an EC2 instance leaves its container instance ACTIVE, a service's runningCount is whatever
``update_service(desiredCount=N)`` last set, and deployments never progress. So a test plays ECS
itself — :class:`EcsWorld` starts replacement tasks, deregisters lost hosts, registers new ones —
and :class:`FakeTime` decides when those hands act: between polls, through the injected sleep.
"""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

REGION = "us-east-2"
# By default moto walks a task's lastStatus one step towards STOPPED on every describe_tasks
# (RUNNING → DEACTIVATING → ...); with this transition tasks stay as the test leaves them.
TASKS_STAY_PUT = {"progression": "manual", "times": 10**9}


def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so nothing can reach a real account."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto parses ~2,600 default AMIs per EC2 backend (~0.4 s a test); the tests need none
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@contextmanager
def moto_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process moto with fake credentials; ECS tasks stay in the state the test leaves them."""
    fake_aws_env(monkeypatch)
    state_manager.set_transition(model_name="ecs::task", transition=TASKS_STAY_PUT)
    try:
        with mock_aws():
            yield
    finally:
        state_manager.unset_transition("ecs::task")


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps; ``at(t, fn)`` runs
    ``fn`` once, the first time the clock reaches ``t`` (that is how a test plays ECS)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._hooks: list[tuple[float, Any]] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.slept.append(seconds)
        self.now += seconds
        due = [hook for hook in self._hooks if hook[0] <= self.now]
        self._hooks = [hook for hook in self._hooks if hook[0] > self.now]
        for _, action in sorted(due, key=lambda hook: hook[0]):
            action()

    def at(self, when: float, action: Any) -> None:
        self._hooks.append((when, action))


@dataclass
class EcsWorld:
    """One cluster with container instances (backed by moto EC2 instances) and one service."""

    ecs: Any
    ec2: Any
    cluster: str
    service: str
    task_definition: str
    hosts: list[str] = field(default_factory=list)  # container instance ARNs
    instance_ids: dict[str, str] = field(default_factory=dict)  # container instance → EC2 id

    def add_host(self) -> str:
        instance = self.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
        instance_id = instance["Instances"][0]["InstanceId"]
        document = json.dumps({"instanceId": instance_id})
        answer = self.ecs.register_container_instance(
            cluster=self.cluster, instanceIdentityDocument=document
        )
        arn = answer["containerInstance"]["containerInstanceArn"]
        self.hosts.append(arn)
        self.instance_ids[arn] = instance_id
        return arn

    def start_tasks(self, count: int, host: str | None = None, service: str | None = None) -> list:
        """Play the ECS scheduler: start ``count`` tasks of the service, round-robin over hosts."""
        arns = []
        for n in range(count):
            target = host or self.hosts[n % len(self.hosts)]
            answer = self.ecs.start_task(
                cluster=self.cluster,
                taskDefinition=self.task_definition,
                containerInstances=[target],
                group=f"service:{service or self.service}",
                startedBy="ecs-svc/1234567890",
            )
            arns.extend(task["taskArn"] for task in answer["tasks"])
        return arns

    def running(self, service: str | None = None) -> list[str]:
        arns = self.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        tasks = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
        group = f"service:{service or self.service}"
        return [t["taskArn"] for t in tasks if t["group"] == group]

    def tag_stack(self, stack: str) -> None:
        """The cluster's ``Stack`` tag (what ``chaos.run`` checks an explicit --cluster by)."""
        arn = self.ecs.describe_clusters(clusters=[self.cluster])["clusters"][0]["clusterArn"]
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "Stack", "value": stack}])

    def lose_host(self, host: str) -> None:
        """Play ECS noticing a terminated instance: its container instance goes away."""
        self.ecs.deregister_container_instance(
            cluster=self.cluster, containerInstance=host, force=True
        )


def make_world(
    desired: int = 3, hosts: int = 2, service: str = "web", stack: str | None = "dev"
) -> EcsWorld:
    """``stack``: the cluster's ``Stack`` tag, as the provider's default tags set it (None: no
    tag); ``chaos.run`` checks it against ``--stack`` when ``--cluster`` is given."""
    ecs = boto3.client("ecs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    cluster = "steadystate-test"
    tags = [{"key": "Stack", "value": stack}] if stack else []
    ecs.create_cluster(clusterName=cluster, tags=tags)
    task_definition = ecs.register_task_definition(
        family="app",
        networkMode="bridge",
        containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster, serviceName=service, taskDefinition=task_definition, desiredCount=desired
    )
    # moto's runningCount only follows update_service(desiredCount=...): the service "reports" a
    # full count; the tasks the probe counts are the ones this world starts.
    ecs.update_service(cluster=cluster, service=service, desiredCount=desired)
    world = EcsWorld(ecs, ec2, cluster, service, task_definition)
    for _ in range(hosts):
        world.add_host()
    world.start_tasks(desired)
    return world


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next of ``statuses`` (the last one repeats); records paths.
    A path in ``fixed`` always gets that status instead (the test plays the load balancer)."""

    statuses: list[int] = []
    paths: list[str] = []
    fixed: dict[str, int] = {}

    def do_GET(self) -> None:
        self.paths.append(self.path)
        if self.path in self.fixed:
            self._answer(self.fixed[self.path])
            return
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        self._answer(status)

    def _answer(self, status: int) -> None:
        body = b'{"status": "OK"}' if status == 200 else b"nope"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


# -- the ECS deployment controller, played on moto's service model ----------------------------------
class Rollouts:
    """moto keeps one static deployment per service and drops ``deploymentConfiguration``; these
    edits of its in-process model make ``describe_services`` answer like ECS during a release."""

    def __init__(self, cluster: str, region: str = REGION) -> None:
        self.cluster = cluster
        self.region = region
        self._ids = iter(range(1000, 10**6))

    def model(self, service: str) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[DEFAULT_ACCOUNT_ID][self.region].services[f"{self.cluster}:{service}"]

    def deployments(self, service: str) -> list[dict[str, Any]]:
        return self.model(service).deployments

    def primary(self, service: str) -> dict[str, Any]:
        return next(d for d in self.deployments(service) if d["status"] == "PRIMARY")

    def set_alarms(self, service: str, names: list[str], enable: bool = True) -> None:
        self.model(service).deployment_configuration = {
            "alarms": {"alarmNames": names, "enable": enable, "rollback": True}
        }

    def settle(self, service: str) -> str:
        """The service's current deployment is COMPLETED and alone (the steady state)."""
        primary = self.primary(service)
        desired = primary["desiredCount"]
        primary.update(rolloutState="COMPLETED", runningCount=desired, pendingCount=0)
        self.model(service).deployments = [primary]
        return primary["id"]

    def start(self, service: str, task_definition: str | None = None) -> str:
        """What UpdateService does: a new PRIMARY deployment IN_PROGRESS, the old one ACTIVE."""
        model = self.model(service)
        old = self.primary(service)
        old["status"] = "ACTIVE"
        new = dict(old)
        new.update(
            id=f"ecs-svc/{next(self._ids)}",
            status="PRIMARY",
            taskDefinition=task_definition or f"{old['taskDefinition']}-next",
            rolloutState="IN_PROGRESS",
            rolloutStateReason="ECS deployment in progress.",
            runningCount=0,
            pendingCount=old["desiredCount"],
        )
        model.deployments = [new, *model.deployments]
        return new["id"]

    def complete(self, service: str) -> None:
        self.settle(service)

    def fail(self, service: str, reason: str, rollback: bool = True) -> None:
        """The circuit breaker / an alarm fails the deployment; ECS rolls back to the previous."""
        model = self.model(service)
        failed = self.primary(service)
        previous = next((d for d in model.deployments if d["status"] == "ACTIVE"), None)
        failed.update(status="ACTIVE", rolloutState="FAILED", rolloutStateReason=reason)
        if rollback and previous is not None:
            back = dict(previous)
            back.update(
                id=f"ecs-svc/{next(self._ids)}", status="PRIMARY", rolloutState="IN_PROGRESS"
            )
            model.deployments = [back, failed]
