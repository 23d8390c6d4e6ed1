"""Environment loss (the resiliency-testing article's shutdown): take one environment's services to zero tasks, check
``/version`` answers from the other environment within the failover time, and bring it back.

:func:`take_environment_down` records each service's desiredCount before setting it to 0 (ECS
has no "previous count" to return to: chaostoolkit-aws's ``update_desired_count`` sets a number,
so the record is kept here); :func:`restore_environment` puts those counts back and waits until
the services run them again. :func:`version_answers_expected` is the steady-state probe: it
expects ``primary`` while no environment is down and ``secondary`` while one is, so the same
hypothesis holds before the method and, with the fault in place, after it.
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

DOWN: dict[str, dict[str, Any]] = {}
"""cluster/service -> {"cluster", "service", "desiredCount"} for services this run took down."""


def _services(services: Any) -> list[str]:
    names = json.loads(services) if isinstance(services, str) and services[:1] == "[" else services
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(
            f"services must be a non-empty list of ECS service names, got {services!r}"
        )
    return names


def take_environment_down(
    cluster: str, services: Any, region: str | None = None, *, ecs: Any = None
) -> dict[str, Any]:
    """Set every service of the environment to desiredCount 0, remembering the counts."""
    ecs = client("ecs", region, ecs)
    names = _services(services)
    answer = ecs.describe_services(cluster=cluster, services=names)
    found = {s["serviceName"]: s for s in answer.get("services", [])}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"no service {missing[0]!r} in cluster {cluster}")
    before = {}
    for name in names:
        count = int(found[name]["desiredCount"])
        DOWN[f"{cluster}/{name}"] = {"cluster": cluster, "service": name, "desiredCount": count}
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        before[name] = count
    logger.info("environment down: %s set to 0 tasks (were %s)", ", ".join(names), before)
    return {"desiredCountsBefore": before}


def restore_environment(
    within: float = 600,
    interval: float = 10,
    region: str | None = None,
    *,
    ecs: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback: the recorded desiredCounts back, then wait until every service runs them."""
    if not DOWN:
        return {"restored": {}}
    ecs = client("ecs", region, ecs)
    records = list(DOWN.values())
    for record in records:
        ecs.update_service(
            cluster=record["cluster"],
            service=record["service"],
            desiredCount=record["desiredCount"],
        )
    DOWN.clear()
    deadline = clock() + float(within)
    while True:
        states = [service_state(ecs, r["cluster"], r["service"]) for r in records]
        waiting = [s.reason for s in states if not s.ok]
        if not waiting:
            restored = {r["service"]: r["desiredCount"] for r in records}
            logger.info("environment restored: %s", restored)
            return {"restored": restored}
        if clock() >= deadline:
            raise NotSteady(f"environment not back after {float(within):.0f}s: {waiting[0]}")
        sleep(min(float(interval), max(deadline - clock(), 0)))


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
    expected = secondary if DOWN else primary
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
