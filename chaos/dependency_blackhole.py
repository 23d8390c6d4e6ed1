"""Dependency blackhole (seed 002): start the stack's FIS ``dependency-<dep>`` experiment template
(it cuts the tasks' network path to the dependency), check the ``<dep>-connectivity`` alarm of the
primary environment reaches ALARM within its own window and, in prod, ``/version`` answers from
the secondary environment; the rollback stops the FIS experiment and waits for the alarm's OK.

Why not chaostoolkit-aws alone: ``chaosaws.fis.actions.stop_experiment`` needs the experiment id
that ``start_experiment`` returned, and chaostoolkit passes no output from the method to the
rollbacks; ``chaosaws.cloudwatch.probes.get_alarm_state_value`` reads the state once, while the
alarm takes minutes to move. So the id is kept here (chaostoolkit runs ``python`` activities in
one process, in order) and the alarm is polled until its window, computed from the alarm's own
``Period`` and ``DatapointsToAlarm`` (``components.alarm_math.alarm_detection_seconds``), ends.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from chaos.aws import client
from chaos.environment_loss import Opener, wait_for_environment
from chaos.probes import NotSteady
from components.alarm_math import DEFAULT_SAMPLE_INTERVAL_SECONDS, alarm_detection_seconds

logger = logging.getLogger("steadystate.chaos")

RUNNING: dict[str, str] = {}
"""FIS experiment id -> template key, for experiments this run started and has not stopped."""
FINISHED = ("completed", "stopped", "failed", "cancelled")
"""FIS experiment states that no longer move (nothing to stop)."""


def template_key(dependency: str) -> str:
    """Key of the ``fisTemplateIds`` output for a dependency cut: ``db`` -> ``dependency-db``."""
    return f"dependency-{dependency}"


def _template_id(template_ids: Any, dependency: str) -> str:
    ids = json.loads(template_ids) if isinstance(template_ids, str) else template_ids
    if not isinstance(ids, Mapping):
        raise ValueError(f"template_ids must map template keys to FIS ids, got {template_ids!r}")
    key = template_key(dependency)
    found = ids.get(key)
    if not isinstance(found, str) or not found:
        known = ", ".join(sorted(str(k) for k in ids)) or "none"
        raise ValueError(f"no FIS template {key!r} in the stack outputs (known: {known})")
    return found


def start_dependency_fault(
    template_ids: Any, dependency: str = "db", region: str | None = None, *, fis: Any = None
) -> dict[str, Any]:
    """Start the FIS experiment that cuts the path to ``dependency``; remember its id."""
    fis = client("fis", region, fis)
    template_id = _template_id(template_ids, dependency)
    answer = fis.start_experiment(
        experimentTemplateId=template_id, tags={"steadystate:chaos": "dependency-blackhole"}
    )
    experiment = answer["experiment"]
    RUNNING[str(experiment["id"])] = template_key(dependency)
    state = str(experiment.get("state", {}).get("status", "unknown"))
    logger.info("FIS experiment %s started from %s (%s)", experiment["id"], template_id, state)
    return {"experimentId": experiment["id"], "templateId": template_id, "state": state}


def _alarm(cloudwatch: Any, alarm_name: str) -> dict[str, Any]:
    alarms = cloudwatch.describe_alarms(AlarmNames=[alarm_name]).get("MetricAlarms", [])
    if not alarms:
        raise ValueError(f"no CloudWatch metric alarm named {alarm_name!r}")
    return alarms[0]


def alarm_window_seconds(
    alarm: Mapping[str, Any],
    state: str,
    *,
    sample_interval: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    lag: int = 0,
) -> int:
    """Worst case for the alarm to reach ``state`` once the fault starts (ALARM: M periods) or
    ends (OK: N periods, the evaluation range must hold no breaching datapoint), plus ``lag``."""
    period = int(alarm["Period"])
    periods = int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"])
    if state == "OK":
        periods = int(alarm["EvaluationPeriods"])
    return alarm_detection_seconds(
        period, periods, sample_interval_seconds=sample_interval, evaluation_lag_seconds=lag
    )


def _wait_for_alarm(
    cloudwatch: Any,
    alarm_name: str,
    state: str,
    within: float,
    interval: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> str:
    deadline = clock() + within
    while True:
        current = str(_alarm(cloudwatch, alarm_name).get("StateValue"))
        if current == state or clock() >= deadline:
            return current
        sleep(min(interval, max(deadline - clock(), 0)))


def connectivity_alarm_expected(
    alarm_name: str,
    lag: int = 60,
    interval: float = 10,
    region: str | None = None,
    sample_interval: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    *,
    cloudwatch: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Steady state: the alarm is OK with no fault running; while this run's FIS experiment runs
    it reaches ALARM within its window (``Period`` x ``DatapointsToAlarm`` + a sample + ``lag``)."""
    cloudwatch = client("cloudwatch", region, cloudwatch)
    if not RUNNING:
        current = str(_alarm(cloudwatch, alarm_name).get("StateValue"))
        ok = current == "OK"
        (logger.info if ok else logger.warning)("alarm %s is %s, expected OK", alarm_name, current)
        return ok
    window = alarm_window_seconds(
        _alarm(cloudwatch, alarm_name), "ALARM", sample_interval=int(sample_interval), lag=int(lag)
    )
    current = _wait_for_alarm(
        cloudwatch, alarm_name, "ALARM", float(window), float(interval), clock, sleep
    )
    if current == "ALARM":
        logger.info("alarm %s is ALARM within its %ss window", alarm_name, window)
        return True
    logger.warning(
        "alarm %s is %s after its %ss window, expected ALARM", alarm_name, current, window
    )
    return False


def version_answers_expected(
    url: str,
    primary: str = "blue",
    secondary: str = "green",
    failover: bool = True,
    within: float = 0,
    interval: float = 5,
    timeout: float = 5,
    *,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """``/version`` names ``secondary`` while this run cuts a dependency and the stack fails
    over (prod), else ``primary``."""
    expected = secondary if RUNNING and failover else primary
    return wait_for_environment(
        url, expected, within, interval, timeout, opener=opener, clock=clock, sleep=sleep
    )


def stop_dependency_fault(
    alarm_name: str,
    lag: int = 60,
    interval: float = 10,
    region: str | None = None,
    sample_interval: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    *,
    fis: Any = None,
    cloudwatch: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback: stop every FIS experiment this run started (unless it already finished), then
    wait until the alarm is OK again within its window (``EvaluationPeriods`` clean periods)."""
    fis = client("fis", region, fis)
    cloudwatch = client("cloudwatch", region, cloudwatch)
    stopped: dict[str, str] = {}
    for experiment_id in list(RUNNING):
        state = str(fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"])
        if state not in FINISHED:
            fis.stop_experiment(id=experiment_id)
            state = "stopping"
        stopped[experiment_id] = state
        del RUNNING[experiment_id]
        logger.info("FIS experiment %s: %s", experiment_id, state)
    window = alarm_window_seconds(
        _alarm(cloudwatch, alarm_name), "OK", sample_interval=int(sample_interval), lag=int(lag)
    )
    current = _wait_for_alarm(
        cloudwatch, alarm_name, "OK", float(window), float(interval), clock, sleep
    )
    if current != "OK":
        raise NotSteady(f"alarm {alarm_name} is {current} {window}s after the fault ended, not OK")
    logger.info("alarm %s is OK again", alarm_name)
    return {"experiments": stopped, "alarm": current}
