"""Environment loss (the resiliency-testing article's shutdown, as real loss): terminate every
host of one environment's own capacity, check ``/version`` answers from the other environment
within the failover time, and check the lost environment comes back.

With ``cluster.capacityPerEnvironment`` each environment has an Auto Scaling group of its own
(the ``hostGroups`` output), so terminating blue's hosts leaves green's untouched.
:func:`take_environment_hosts_away` terminates the group's InService instances with EC2
``TerminateInstances`` — the services keep their desired counts, their tasks simply have nowhere
to run, as in a real host or AMI failure. Scale-in protection (managed termination protection)
does not stop it: it only controls which instances EC2 Auto Scaling itself may terminate when
scaling in (EC2 Auto Scaling user guide, "Use instance scale-in protection",
https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-protection.html).
The group replaces the terminated instances up to its desired capacity (its EC2 health check),
ECS places the pending tasks on them, and :func:`environment_back` (the rollback) waits for both:
new InService instances and every service running its desired tasks, then for ``/version`` to
answer from the primary again. :func:`version_answers_expected` is the steady-state probe: it
expects ``primary`` while no environment is down and ``secondary`` while one is.
State lives in this module: chaostoolkit runs ``python`` activities in one process, in order.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from chaos.aws import client
from chaos.probes import NotSteady, service_state

logger = logging.getLogger("steadystate.chaos")
Opener = Callable[..., Any]

HOSTS: dict[str, dict[str, Any]] = {}
"""Auto Scaling group -> {"group", "terminated", "desired"} for host groups this run emptied."""


def _services(services: Any) -> list[str]:
    names = json.loads(services) if isinstance(services, str) and services[:1] == "[" else services
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"services must be a non-empty list of ECS service names, got {services!r}"
        )
    return names


def _group(autoscaling: Any, group: str) -> dict[str, Any]:
    found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
    groups = found.get("AutoScalingGroups") or []
    if not groups:
        raise ValueError(f"no Auto Scaling group {group!r} (the hostGroups output names them)")
    return groups[0]


def take_environment_hosts_away(
    group: str, region: str | None = None, *, autoscaling: Any = None, ec2: Any = None
) -> dict[str, Any]:
    """Terminate every InService instance of the environment's Auto Scaling group ``group``."""
    autoscaling = client("autoscaling", region, autoscaling)
    ec2 = client("ec2", region, ec2)
    found = _group(autoscaling, group)
    ids = [
        i["InstanceId"]
        for i in found.get("Instances") or []
        if i.get("LifecycleState") == "InService"
    ]
    if not ids:
        raise ValueError(f"Auto Scaling group {group} has no InService instance to take away")
    HOSTS[group] = {"group": group, "terminated": ids, "desired": int(found["DesiredCapacity"])}
    ec2.terminate_instances(InstanceIds=ids)
    logger.info("environment hosts gone: %s terminated in %s", ", ".join(ids), group)
    return {"group": group, "terminatedInstances": ids}


def environment_back(
    cluster: str,
    services: Any,
    url: str,
    primary: str = "blue",
    within: float = 900,
    interval: float = 10,
    region: str | None = None,
    *,
    autoscaling: Any = None,
    ecs: Any = None,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback and check: each emptied group has its desired count of new InService instances,
    every service runs its desired tasks, and ``/version`` answers from ``primary`` again, all
    within ``within`` seconds; NotSteady naming what is still missing otherwise."""
    if not HOSTS:
        return {"back": {}}
    autoscaling = client("autoscaling", region, autoscaling)
    ecs = client("ecs", region, ecs)
    names = _services(services)
    records = list(HOSTS.values())
    deadline = clock() + float(within)
    while True:
        waiting = []
        for record in records:
            found = _group(autoscaling, record["group"])
            fresh = [
                i
                for i in found.get("Instances") or []
                if i.get("LifecycleState") == "InService"
                and i["InstanceId"] not in record["terminated"]
            ]
            if len(fresh) < record["desired"]:
                waiting.append(
                    f"{record['group']}: {len(fresh)} of {record['desired']} new hosts InService"
                )
        waiting += [s.reason for s in (service_state(ecs, cluster, n) for n in names) if not s.ok]
        if not waiting:
            break
        if clock() >= deadline:
            raise NotSteady(f"environment not back after {float(within):.0f}s: {waiting[0]}")
        sleep(min(float(interval), max(deadline - clock(), 0)))
    HOSTS.clear()
    left = max(deadline - clock(), 0)
    if not wait_for_environment(
        url, primary, left, interval, opener=opener, clock=clock, sleep=sleep
    ):
        raise NotSteady(f"{url} does not answer from {primary} again after {float(within):.0f}s")
    back = {r["group"]: r["desired"] for r in records}
    logger.info("environment back: %s", back)
    return {"back": back}


def _environment_of(url: str, timeout: float, opener: Opener) -> tuple[str | None, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "steadystate-chaos"})
    try:
        with opener(request, timeout=timeout) as response:
            body = json.loads(response.read().decode() or "{}")
    except urllib.error.HTTPError as err:
        return None, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return None, f"{type(err).__name__}: {getattr(err, 'reason', err)}"
    except ValueError:
        return None, "not JSON"
    environment = body.get("environment") if isinstance(body, dict) else None
    return (str(environment), f"environment {environment}") if environment else (None, "no env")


def version_answers_expected(
    url: str,
    primary: str = "blue",
    secondary: str = "green",
    within: float = 0,
    interval: float = 5,
    timeout: float = 5,
    *,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """True once GET ``url`` (``/version``) names the environment that should answer: ``primary``
    with no environment down, ``secondary`` while this run holds one down; polls ``within`` s."""
    expected = secondary if HOSTS else primary
    return wait_for_environment(
        url, expected, within, interval, timeout, opener=opener, clock=clock, sleep=sleep
    )


def wait_for_environment(
    url: str,
    expected: str,
    within: float = 0,
    interval: float = 5,
    timeout: float = 5,
    *,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """True once GET ``url`` (``/version``) names environment ``expected``; polls ``within`` s."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"the /version probe needs an http(s) URL, got {url!r}")
    deadline = clock() + float(within)
    while True:
        environment, detail = _environment_of(url, float(timeout), opener)
        if environment == expected:
            logger.info("GET %s: %s, as expected", url, detail)
            return True
        if clock() >= deadline:
            logger.warning(
                "GET %s: %s after %.0fs, expected environment %s",
                url,
                detail,
                float(within),
                expected,
            )
            return False
        sleep(min(float(interval), max(deadline - clock(), 0)))
