"""Bad release (the onebox/fleet article's drill): the onebox gets a release with the app's latency fault switch on; its
deployment alarm fires, ECS rolls the onebox back, and the fleet never moves.

The release goes through the real release path: :func:`release_onebox_with_fault` calls
``ops.release.pipeline.Pipeline.release_onebox_with_fault`` — the ``up`` the pipeline's
``--fault latency=MS`` makes — which re-releases the onebox on the release its pin records with
``release.faults`` (``components/fault_switch.py``: ``FAULT_LATENCY_MS`` and
``APP_ALLOW_FAULTS=true`` on that onebox only, tagged ``FaultSwitch``). The experiment stops there:
ECS, following the onebox's deployment alarms, is what is under test. The rollback
(:func:`restore_onebox`) is the pipeline's put-back — an ``up`` setting the pin to its release
without the fault — so the stack's state and the service agree again whatever ECS did.

Probes: :func:`deployment_alarm_fired` (before the release: no deployment alarm of the onebox in
ALARM; after it: one reached ALARM since the release started, read from CloudWatch's
DescribeAlarmHistory, or seen in ALARM by :func:`watch_deployment_alarms` polling the current state
during the method when the history has nothing), :func:`onebox_on_its_release` (COMPLETED on the
task definition from before the release: ECS rolled back) and :func:`fleet_never_moves`.

Hand-written because chaostoolkit-aws has no equivalent: no action releases through Pulumi, its
``chaosaws.cloudwatch.probes.get_alarm_state_value`` reads one alarm's state once (no history
since a moment, no waiting), and nothing compares a service's task definition across the run.
The fleet's "every desired task runs" check is chaosaws's ``are_all_desired_tasks_running``.
State lives in this module: chaostoolkit runs ``python`` activities in one process, in order.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chaos.aws import client
from chaos.probes import NotSteady

if TYPE_CHECKING:
    from ops.release.pipeline import Pipeline

logger = logging.getLogger("steadystate.chaos")

SEEN: dict[str, str] = {}
"""cluster/service -> task definition ARN it ran when first probed this run."""
RELEASED: dict[str, dict[str, Any]] = {}
"""cluster/service -> {"cluster", "service", "stack", "key", "good", "bad", "previous",
"started", "alarmNames"} for the onebox this run released."""
ALARMED: dict[str, str] = {}
"""alarm name -> the reason, for deployment alarms seen in ALARM during the method."""
ALARM_STATE = "ALARM"


def automation_pipeline(stack: str) -> Pipeline:
    """The release pipeline on the Automation API for ``stack`` (needs the pulumi CLI)."""
    from ops.release.pipeline import (
        CLI_MISSING,
        REPO_DIR,
        Pipeline,
        PipelineOptions,
        boto_watcher_factory,
        project_name,
    )

    if shutil.which("pulumi") is None:
        raise RuntimeError(f"the bad-release experiment releases through Pulumi: {CLI_MISSING}")
    from pulumi import automation as auto

    selected = auto.select_stack(stack, work_dir=str(REPO_DIR))
    options = PipelineOptions(namespace=project_name(REPO_DIR), project_dir=REPO_DIR)
    return Pipeline(
        selected,
        boto_watcher_factory(15.0),
        options,
        log=lambda step, message: logger.info("[%s] %s", step, message),
    )


make_pipeline: Callable[[str], Pipeline] = automation_pipeline
"""How the experiment gets the pipeline of a stack (tests put a fake stack behind it)."""


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


def _names(alarm_names: Any) -> list[str]:
    if isinstance(alarm_names, str):
        alarm_names = [alarm_names]
    if not isinstance(alarm_names, Iterable) or not all(isinstance(n, str) for n in alarm_names):
        raise ValueError(f"alarm_names must be a list of alarm names, got {alarm_names!r}")
    return sorted(set(alarm_names))


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


def release_onebox_with_fault(
    stack: str,
    cluster: str,
    service: str,
    latency_ms: int = 6000,
    onebox_key: str | None = None,
    alarm_names: list[str] | None = None,
    region: str | None = None,
    *,
    ecs: Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Release the onebox ``service`` (pin ``onebox_key``, default the active environment's) on
    its own release with ``FAULT_LATENCY_MS=latency_ms``, through the release pipeline's ``up``."""
    from components.fault_switch import LATENCY_MS, fault_problem

    faults = {LATENCY_MS: latency_ms}
    if problem := fault_problem(faults):
        raise ValueError(f"latency_ms: {problem}")
    ecs = client("ecs", region, ecs)
    good = str(_service(ecs, cluster, service)["taskDefinition"])
    started = now()
    released = make_pipeline(stack).release_onebox_with_fault(faults, onebox_key)
    bad = str(_service(ecs, cluster, service)["taskDefinition"])
    names = list(alarm_names or [])
    RELEASED[f"{cluster}/{service}"] = {
        "cluster": cluster,
        "service": service,
        "stack": stack,
        "key": released["key"],
        "good": good,
        "bad": bad,
        "previous": released["previous"],
        "started": started,
        "alarmNames": names,
    }
    logger.info(
        "onebox %s (%s) released with %s=%d: %s, was %s",
        service,
        released["key"],
        LATENCY_MS,
        latency_ms,
        bad,
        good,
    )
    return {"key": released["key"], "good": good, "bad": bad, "started": started.isoformat()}


# -- the deployment alarms ---------------------------------------------------------------------------
def _in_alarm(cloudwatch: Any, names: list[str]) -> dict[str, str]:
    answer = cloudwatch.describe_alarms(AlarmNames=names)
    alarms = [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
    return {
        str(a["AlarmName"]): str(a.get("StateReason", "")).strip()
        for a in alarms
        if a.get("StateValue") == ALARM_STATE
    }


def alarms_since(cloudwatch: Any, names: list[str], since: datetime) -> dict[str, str] | None:
    """Alarms among ``names`` whose history has a StateUpdate to ALARM at or after ``since``
    (name -> summary); None when the history cannot be read (moto does not implement it)."""
    found: dict[str, str] = {}
    try:
        for name in names:
            kwargs: dict[str, Any] = {
                "AlarmName": name,
                "HistoryItemType": "StateUpdate",
                "StartDate": since,
                "EndDate": datetime.now(UTC) + timedelta(minutes=5),
            }
            while True:
                page = cloudwatch.describe_alarm_history(**kwargs)
                for item in page.get("AlarmHistoryItems", []):
                    summary = str(item.get("HistorySummary", ""))
                    stamp = item.get("Timestamp")
                    if "to ALARM" in summary and (stamp is None or stamp >= since):
                        found.setdefault(name, summary)
                token = page.get("NextToken")
                if not token:
                    break
                kwargs["NextToken"] = token
    except Exception as err:  # NotImplemented (moto), AccessDenied, throttling: poll instead
        logger.info("alarm history unreadable (%s): judging on the states seen", err)
        return None
    return found


def watch_deployment_alarms(
    within: float = 600,
    interval: float = 15,
    region: str | None = None,
    *,
    cloudwatch: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """During the method: poll the released onebox's deployment alarms for up to ``within`` s
    until one is in ALARM (remembered for :func:`deployment_alarm_fired`: the alarm may be OK
    again by the time the hypothesis runs, once ECS rolled back)."""
    names = sorted({n for record in RELEASED.values() for n in record["alarmNames"]})
    if not names:
        logger.warning("no deployment alarm names for the released onebox: nothing to watch")
        return {"alarmed": {}}
    cloudwatch = client("cloudwatch", region, cloudwatch)
    deadline = clock() + float(within)
    while True:
        firing = _in_alarm(cloudwatch, names)
        if firing:
            ALARMED.update(firing)
            for name, reason in firing.items():
                logger.info("deployment alarm %s in ALARM: %s", name, reason)
            return {"alarmed": dict(firing)}
        if clock() >= deadline:
            logger.warning("no deployment alarm of %s in ALARM after %.0fs", names, within)
            return {"alarmed": {}}
        sleep(min(float(interval), max(deadline - clock(), 0)))


def deployment_alarm_fired(
    alarm_names: list[str],
    region: str | None = None,
    *,
    cloudwatch: Any = None,
) -> bool:
    """Before the release: True when none of ``alarm_names`` is in ALARM (a onebox already
    alarming is no place for the drill). After it: True when one reached ALARM since the release
    started — its StateUpdate history, else the states :func:`watch_deployment_alarms` saw."""
    names = _names(alarm_names)
    if not names:
        raise ValueError("alarm_names is empty: pass the onebox's deployment alarms")
    cloudwatch = client("cloudwatch", region, cloudwatch)
    released = list(RELEASED.values())
    if not released:
        firing = _in_alarm(cloudwatch, names)
        if firing:
            logger.warning("deployment alarm(s) already in ALARM: %s", ", ".join(sorted(firing)))
            return False
        logger.info("no deployment alarm in ALARM before the release: %s", ", ".join(names))
        return True
    since = min(r["started"] for r in released)
    history = alarms_since(cloudwatch, names, since)
    if history:
        for name, summary in history.items():
            logger.info("deployment alarm %s fired after the release: %s", name, summary)
        return True
    seen = {n: r for n, r in ALARMED.items() if n in names}
    if seen:
        for name, reason in seen.items():
            logger.info("deployment alarm %s seen in ALARM during the method: %s", name, reason)
        return True
    where = "in its history or " if history is not None else ""
    logger.warning(
        "no deployment alarm reached ALARM after the release (%snone seen during the method): %s",
        where,
        ", ".join(names),
    )
    return False


# -- the onebox ----------------------------------------------------------------------------------
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
    """Rollback: the pipeline's put-back — an ``up`` setting the onebox's pin to its release
    without the fault (whatever ECS did, so the stack's state matches the service) — then wait
    until its primary deployment is COMPLETED."""
    ecs = client("ecs", region, ecs)
    restored: dict[str, str] = {}
    for key, record in list(RELEASED.items()):
        cluster, service = record["cluster"], record["service"]
        make_pipeline(record["stack"]).set_pin_back(record["key"], record["previous"])
        logger.info("onebox %s pin %s set back to %s", service, record["key"], record["previous"])
        deadline = clock() + float(within)
        while True:
            found = _service(ecs, cluster, service)
            if _primary(found).get("rolloutState") == "COMPLETED":
                break
            if clock() >= deadline:
                raise NotSteady(f"onebox {service} not COMPLETED {within}s after the put-back")
            sleep(min(float(interval), max(deadline - clock(), 0)))
        restored[service] = str(found.get("taskDefinition"))
        del RELEASED[key]
    ALARMED.clear()
    return {"restored": restored}
