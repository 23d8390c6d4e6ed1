"""Bad release (seed 003): the onebox gets a release whose task definition turns the app's latency
fault switch on (``FAULT_LATENCY_MS``, plus ``APP_ALLOW_FAULTS=true`` so a prod app accepts it);
the onebox's deployment alarm fires, ECS rolls the onebox back, and the fleet never moves.

The release is made at the ECS level — a new revision of the onebox's task definition with the
switch added to every container, and ``update_service`` to it — because release pins
(``components/release_pins.py``) carry only an image and a version, no environment. ECS's
rollback puts the service back on the revision Pulumi manages, so the stack shows no drift after
it; the rollback of this experiment does the same if ECS did not, and deregisters the bad revision.

Probes: :func:`fleet_never_moves` records the fleet's task definition the first time it runs (the
hypothesis before the method) and afterwards holds only while it is unchanged;
:func:`onebox_on_its_release` holds before the release when the onebox's primary deployment is
COMPLETED, and after it once the primary deployment is COMPLETED on the revision from before
the release (ECS rolled back) within ``within`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from chaos.aws import client
from chaos.probes import NotSteady

logger = logging.getLogger("steadystate.chaos")

SEEN: dict[str, str] = {}
"""cluster/service -> task definition ARN it ran when first probed this run."""
RELEASED: dict[str, dict[str, str]] = {}
"""cluster/service -> {"cluster", "service", "good", "bad"} for the onebox this run released."""
REGISTER_FIELDS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
    "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode",
    "ipcMode", "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
    "runtimePlatform",
)  # fmt: skip
"""DescribeTaskDefinition fields RegisterTaskDefinition takes back."""


def _service(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
    if not found or found[0].get("status") == "INACTIVE":
        raise ValueError(f"no service {service!r} in cluster {cluster}")
    return found[0]


def _primary(service: Mapping[str, Any]) -> Mapping[str, Any]:
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return {}


def fleet_never_moves(
    cluster: str, service: str, region: str | None = None, *, ecs: Any = None
) -> bool:
    """True while ``service`` runs the task definition it ran when this run first probed it."""
    ecs = client("ecs", region, ecs)
    current = str(_service(ecs, cluster, service)["taskDefinition"])
    first = SEEN.setdefault(f"{cluster}/{service}", current)
    if current != first:
        logger.warning("fleet %s moved: %s, was %s", service, current, first)
        return False
    logger.info("fleet %s still on %s", service, current)
    return True


def release_onebox_with_latency(
    cluster: str,
    service: str,
    latency_ms: int = 6000,
    region: str | None = None,
    *,
    ecs: Any = None,
) -> dict[str, Any]:
    """Register a revision of the onebox's task definition with the latency switch on and
    deploy it to the onebox."""
    if (
        isinstance(latency_ms, bool)
        or not isinstance(latency_ms, int)
        or not 1 <= latency_ms <= 60_000
    ):
        raise ValueError(f"latency_ms must be a whole number of ms in 1..60000, got {latency_ms!r}")
    ecs = client("ecs", region, ecs)
    good = str(_service(ecs, cluster, service)["taskDefinition"])
    answer = ecs.describe_task_definition(taskDefinition=good, include=["TAGS"])
    definition = answer["taskDefinition"]
    register = {
        k: definition[k] for k in REGISTER_FIELDS if definition.get(k) not in (None, [], {})
    }
    switches = {"FAULT_LATENCY_MS": str(latency_ms), "APP_ALLOW_FAULTS": "true"}
    for container in register["containerDefinitions"]:
        kept = [e for e in container.get("environment") or [] if e.get("name") not in switches]
        container["environment"] = kept + [{"name": k, "value": v} for k, v in switches.items()]
    if answer.get("tags"):
        register["tags"] = answer["tags"]
    bad = str(ecs.register_task_definition(**register)["taskDefinition"]["taskDefinitionArn"])
    RELEASED[f"{cluster}/{service}"] = {
        "cluster": cluster,
        "service": service,
        "good": good,
        "bad": bad,
    }
    ecs.update_service(cluster=cluster, service=service, taskDefinition=bad)
    logger.info(
        "onebox %s released %s (FAULT_LATENCY_MS=%d), was %s", service, bad, latency_ms, good
    )
    return {"good": good, "bad": bad}


def onebox_on_its_release(
    cluster: str,
    service: str,
    within: float = 0,
    interval: float = 15,
    region: str | None = None,
    *,
    ecs: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Before the release: the primary deployment is COMPLETED. After it: within ``within`` s the
    primary deployment is COMPLETED on the revision from before the release (ECS rolled back)."""
    ecs = client("ecs", region, ecs)
    released = RELEASED.get(f"{cluster}/{service}")
    deadline = clock() + (float(within) if released else 0.0)
    while True:
        found = _service(ecs, cluster, service)  # its taskDefinition is the primary deployment's
        on, state = found.get("taskDefinition"), _primary(found).get("rolloutState")
        wanted = released["good"] if released else on
        if on == wanted and state == "COMPLETED":
            what = "rolled back to" if released else "on"
            logger.info("onebox %s %s %s (COMPLETED)", service, what, on)
            return True
        if clock() >= deadline:
            logger.warning(
                "onebox %s on %s (%s), expected %s COMPLETED", service, on, state, wanted
            )
            return False
        sleep(min(float(interval), max(deadline - clock(), 0)))


def restore_onebox(
    within: float = 900,
    interval: float = 15,
    region: str | None = None,
    *,
    ecs: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback: a onebox still on the bad revision goes back to the one from before the release;
    wait for COMPLETED; deregister the bad revision."""
    ecs = client("ecs", region, ecs)
    restored: dict[str, str] = {}
    for key, record in list(RELEASED.items()):
        cluster, service = record["cluster"], record["service"]
        if _service(ecs, cluster, service)["taskDefinition"] == record["bad"]:
            ecs.update_service(cluster=cluster, service=service, taskDefinition=record["good"])
            logger.info("onebox %s put back on %s", service, record["good"])
        deadline = clock() + float(within)
        while True:
            found = _service(ecs, cluster, service)
            state = _primary(found).get("rolloutState")
            if found.get("taskDefinition") == record["good"] and state == "COMPLETED":
                break
            if clock() >= deadline:
                raise NotSteady(f"onebox {service} not back on {record['good']} after {within}s")
            sleep(min(float(interval), max(deadline - clock(), 0)))
        ecs.deregister_task_definition(taskDefinition=record["bad"])
        restored[service] = record["good"]
        del RELEASED[key]
    return {"restored": restored}
