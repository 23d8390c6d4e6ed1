"""Steady-state probes: is the ECS service whole, and does its endpoint answer?

Both probes poll until the condition holds or ``timeout``/``within`` seconds pass, so one probe
serves before the method (normally true at once) and after it ("recovered within N seconds").
Hand-written because chaostoolkit-aws has no equivalent: ``chaosaws.ecs.probes.
are_all_desired_tasks_running`` compares ``desiredCount`` with ``runningCount`` once, with no
waiting, and those counts lag a task just stopped or a host just terminated (:func:`service_state`
counts RUNNING tasks on ACTIVE, connected hosts); chaosaws has no HTTP probe (chaostoolkit's ``http``
provider is not a python one, which the built-in runner needs) and nothing checks that a terminated
host was replaced. They return a bool for a chaostoolkit ``tolerance: true``; with
``raise_on_failure=True`` they raise :class:`NotSteady` with the reason instead, which chaostoolkit
records in the journal.
Clocks, sleepers and clients are keyword-only and injectable for tests.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chaos.aws import client, connected_hosts, healthy_hosts, running_tasks

logger = logging.getLogger("steadystate.chaos")


class NotSteady(Exception):
    """The steady state did not hold within the allowed time; the message says why."""


@dataclass(frozen=True)
class ServiceState:
    ok: bool
    reason: str
    status: str = ""
    desired: int = 0
    running: int = 0
    pending: int = 0
    running_tasks: int = 0


def service_state(ecs: Any, cluster: str, service: str) -> ServiceState:
    """One look at the service: ACTIVE, runningCount == desiredCount, nothing pending, and as many
    RUNNING tasks on ACTIVE, connected container instances as desired — ECS's counts can lag a
    task that was just stopped, or tasks whose host was just terminated."""
    answer = ecs.describe_services(cluster=cluster, services=[service])
    found = answer.get("services") or []
    if not found:
        failure = (answer.get("failures") or [{}])[0].get("reason", "not found")
        return ServiceState(False, f"service {service} in {cluster}: {failure}")
    svc = found[0]
    status = str(svc.get("status"))
    desired = int(svc.get("desiredCount", 0))
    running = int(svc.get("runningCount", 0))
    pending = int(svc.get("pendingCount", 0))
    counts = {"status": status, "desired": desired, "running": running, "pending": pending}
    if status != "ACTIVE":
        return ServiceState(False, f"service {service} is {status}, not ACTIVE", **counts)
    if desired == 0:
        return ServiceState(False, f"service {service} has desiredCount 0", **counts)
    if running != desired or pending:
        reason = f"runningCount {running} != desiredCount {desired}, pendingCount {pending}"
        return ServiceState(False, reason, **counts)
    tasks = running_tasks(ecs, cluster, service)
    hosts = healthy_hosts(ecs, cluster, {t.get("containerInstanceArn") or "" for t in tasks})
    lost = sum(1 for t in tasks if not hosts.get(t.get("containerInstanceArn") or "", True))
    good = len(tasks) - lost
    if good < desired:
        reason = f"{good} RUNNING task(s) on ACTIVE, connected hosts for desiredCount {desired}"
        if lost:
            reason += f" ({lost} more on a lost or draining host)"
        return ServiceState(False, reason, running_tasks=good, **counts)
    return ServiceState(True, f"ACTIVE, {running}/{desired} running", running_tasks=good, **counts)


def service_is_steady(
    cluster: str,
    service: str,
    timeout: float = 0,
    interval: float = 5,
    raise_on_failure: bool = False,
    region: str | None = None,
    *,
    ecs: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """True once the service is steady (see :func:`service_state`), polling up to ``timeout`` s."""
    ecs = client("ecs", region, ecs)
    deadline = clock() + float(timeout)
    while True:
        state = service_state(ecs, cluster, service)
        if state.ok:
            logger.info("service %s steady: %s", service, state.reason)
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            message = f"service {service} not steady after {float(timeout):.0f}s: {state.reason}"
            logger.warning(message)
            if raise_on_failure:
                raise NotSteady(message)
            return False
        logger.info("service %s not steady yet: %s", service, state.reason)
        sleep(min(float(interval), remaining))


Opener = Callable[..., Any]


def _status_of(url: str, timeout: float, opener: Opener) -> tuple[int | None, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "steadystate-chaos"})
    try:
        with opener(request, timeout=timeout) as response:
            return int(response.status), f"HTTP {response.status}"
    except urllib.error.HTTPError as err:
        return int(err.code), f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:  # refused, timeout, DNS, TLS
        return None, f"{type(err).__name__}: {getattr(err, 'reason', err)}"


def http_ok(
    url: str,
    timeout: float = 5,
    within: float = 0,
    interval: float = 2,
    expect_status: int = 200,
    raise_on_failure: bool = False,
    *,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """True once GET ``url`` answers ``expect_status``; retries for up to ``within`` seconds."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"http_ok needs an http(s) URL, got {url!r}")
    deadline = clock() + float(within)
    while True:
        status, detail = _status_of(url, float(timeout), opener)
        if status == expect_status:
            logger.info("GET %s: %s", url, detail)
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            message = f"GET {url}: {detail}, expected HTTP {expect_status}"
            logger.warning(message)
            if raise_on_failure:
                raise NotSteady(message)
            return False
        logger.info("GET %s: %s; retrying", url, detail)
        sleep(min(float(interval), remaining))


GONE_STATES = ("shutting-down", "terminated")


def host_replacement_state(ec2: Any, ecs: Any, record: dict[str, Any]) -> tuple[bool, str]:
    """Is the host ``record`` describes gone (EC2 shutting-down/terminated, no longer an ACTIVE,
    connected container instance) and replaced (as many ACTIVE, connected hosts as before)?"""
    instance_id = record["ec2InstanceId"]
    answer = ec2.describe_instances(InstanceIds=[instance_id])
    states = [
        i.get("State", {}).get("Name")
        for r in answer.get("Reservations", [])
        for i in r.get("Instances", [])
    ]
    if not states or states[0] not in GONE_STATES:
        return False, f"instance {instance_id} is still {states[0] if states else 'unknown'}"
    hosts = connected_hosts(ecs, record["cluster"])
    if record["containerInstanceArn"] in hosts:
        return False, f"container instance of {instance_id} is still ACTIVE and connected"
    if len(hosts) < int(record["hostsBefore"]):
        return False, (
            f"{len(hosts)} ACTIVE, connected host(s), {record['hostsBefore']} before the kill: "
            "no replacement yet"
        )
    return True, f"{instance_id} is {states[0]}; {len(hosts)} host(s) serve the cluster again"


def killed_host_replaced(
    timeout: float = 0,
    interval: float = 5,
    region: str | None = None,
    *,
    ec2: Any = None,
    ecs: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """True once every host ``chaos.actions.terminate_container_host`` terminated in this run is
    gone and replaced (see :func:`host_replacement_state`), polling up to ``timeout`` seconds.
    Before the method nothing was terminated, and it is True at once; judged hosts are forgotten."""
    from chaos.actions import TERMINATED

    if not TERMINATED:
        logger.info("no host terminated yet: nothing to check")
        return True
    ec2, ecs = client("ec2", region, ec2), client("ecs", region, ecs)
    deadline = clock() + float(timeout)
    while True:
        results = [host_replacement_state(ec2, ecs, record) for record in TERMINATED]
        pending = [why for ok, why in results if not ok]
        if not pending:
            for _, why in results:
                logger.info("killed host: %s", why)
            TERMINATED.clear()
            return True
        remaining = deadline - clock()
        if remaining <= 0:
            logger.warning("killed host not replaced after %.0fs: %s", float(timeout), pending[0])
            TERMINATED.clear()
            return False
        logger.info("killed host not replaced yet: %s", pending[0])
        sleep(min(float(interval), remaining))
