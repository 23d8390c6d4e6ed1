"""Dependency blackhole (the resiliency-testing article's): start the stack's FIS ``dependency-<dep>`` experiment template
(it cuts the tasks' network path to the dependency), check the ``<dep>-connectivity`` alarm of the
primary environment reaches ALARM within its window and, in prod, ``/version`` answers from
the secondary environment; the rollback stops the FIS experiment, waits for the alarm's OK and
then for ``/version`` to answer from the primary again within the failover budget.

The AWS calls are chaostoolkit-aws's (``chaosaws.fis.actions.start_experiment`` /
``stop_experiment``, ``chaosaws.fis.probes.get_experiment``,
``chaosaws.cloudwatch.probes.get_alarm_state_value``); what this module adds is what chaosaws
lacks.

Whether the cut held is checked, not assumed: an alarm can reach ALARM for the wrong reason (a
``<dep>-connectivity`` alarm treats missing data as breaching, so a prober that stopped
publishing fires it too), and a host cut can leak (a container may reach the dependency by an
address the host never saw). ``cut_held``, a method probe, reads the very metric the alarm
watches: in ``periods`` whole periods from ``settle`` seconds after the fault started, every
prober sample of the primary environment must have failed (``Maximum`` 0) — one that reached the
dependency means the cut leaked (``CutLeaked``), no samples mean nothing was shown either way
(``CutUnverified``). Either fails the activity, and ``chaos.runner.verdict`` reports such a run
as failed, not deviated and never succeeded: the hypothesis was not put to the test.

chaostoolkit passes no output from the method to the rollbacks, so the id
``stop_experiment`` needs is kept here (chaostoolkit runs ``python`` activities in one process, in
order) — ``stop_experiments_by_tags`` would do without it, but it also calls ``StopExperiment`` on
experiments that already completed. And the alarm takes minutes to move, so it is polled until
its window, computed from the alarm's own ``Period`` and ``DatapointsToAlarm``
(``components.alarm_math.alarm_detection_seconds``), ends. That arithmetic is checked against the
alarm replay (``ops.alarm_replay``, CloudWatch's evaluation over the prober's stream as published)
for every connectivity alarm of both stacks, to ALARM and back to OK, in
``tests/chaos/test_blackhole_alarm_windows.py`` (prod's 2-of-2 alarms: the replay's worst is
180 s to ALARM and 170 s back to OK; the experiments wait 190 s for each).
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chaos.aws import client
from chaos.environment_loss import Opener, wait_for_environment
from chaos.probes import NotSteady
from components.alarm_math import DEFAULT_SAMPLE_INTERVAL_SECONDS, alarm_detection_seconds

logger = logging.getLogger("steadystate.chaos")

RUNNING: dict[str, str] = {}
"""FIS experiment id -> template key, for experiments this run started and has not stopped."""
STARTED: dict[str, float] = {}
"""FIS experiment id -> when this run started it (epoch seconds)."""


class CutLeaked(RuntimeError):
    """The primary's prober reached the dependency while the cut should have held."""


class CutUnverified(RuntimeError):
    """The prober's metric shows nothing either way, or the fault ended before the check."""


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


def _configuration(region: str | None) -> dict[str, Any]:
    """chaostoolkit configuration for chaosaws's clients (no region: AWS_REGION and friends)."""
    return {"aws_region": region} if region else {}


def start_dependency_fault(
    template_ids: Any, dependency: str = "db", region: str | None = None
) -> dict[str, Any]:
    """Start the FIS experiment that cuts the path to ``dependency``; remember its id."""
    from chaosaws.fis.actions import start_experiment

    template_id = _template_id(template_ids, dependency)
    answer = start_experiment(
        experiment_template_id=template_id,
        tags={"steadystate:chaos": "dependency-blackhole", "steadystate:dependency": dependency},
        configuration=_configuration(region),
    )
    experiment = answer["experiment"]
    RUNNING[str(experiment["id"])] = template_key(dependency)
    STARTED[str(experiment["id"])] = time.time()
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


def _alarm_within_window(
    cloudwatch: Any,
    alarm_name: str,
    state: str,
    sample_interval: int,
    lag: int,
    interval: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[str, int | float]:
    """(state the alarm is in, window waited): polls until it is ``state`` or the window that
    its own configuration gives for reaching ``state`` (``alarm_window_seconds``) is over."""
    window = alarm_window_seconds(
        _alarm(cloudwatch, alarm_name), state, sample_interval=int(sample_interval), lag=int(lag)
    )
    current = _wait_for_alarm(
        cloudwatch, alarm_name, state, float(window), float(interval), clock, sleep
    )
    return current, window


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
    if not RUNNING:
        from chaosaws.cloudwatch.probes import get_alarm_state_value

        current = str(get_alarm_state_value(alarm_name, configuration=_configuration(region)))
        ok = current == "OK"
        (logger.info if ok else logger.warning)("alarm %s is %s, expected OK", alarm_name, current)
        return ok
    cloudwatch = client("cloudwatch", region, cloudwatch)
    current, window = _alarm_within_window(
        cloudwatch, alarm_name, "ALARM", sample_interval, lag, interval, clock, sleep
    )
    if current == "ALARM":
        logger.info("alarm %s is ALARM within its %ss window", alarm_name, window)
        return True
    logger.warning(
        "alarm %s is %s after its %ss window, expected ALARM", alarm_name, current, window
    )
    return False


def _periods_reaching(points: list[dict[str, Any]]) -> list[str]:
    return [
        p["Timestamp"].isoformat() if hasattr(p["Timestamp"], "isoformat") else str(p["Timestamp"])
        for p in sorted(points, key=lambda p: p["Timestamp"])
        if float(p.get("Maximum", 0)) > 0
    ]


def cut_held(
    alarm_name: str,
    settle: float = 30,
    periods: int = 2,
    period: int = 60,
    lag: float = 60,
    interval: float = 10,
    region: str | None = None,
    *,
    cloudwatch: Any = None,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Method probe: the metric ``alarm_name`` watches (the primary's ``<dep>-connectivity``)
    has ``Maximum`` 0 in each of ``periods`` whole ``period``-second periods from ``settle``
    seconds after this run's fault started, waiting up to ``lag`` seconds past the last period
    for CloudWatch to have the data. Raises ``CutLeaked`` as soon as one period shows a sample
    that reached the dependency, ``CutUnverified`` when periods stay without data or the FIS
    experiment is over before the check could end. The window must end before the fault does
    (defaults: at most 30 + 60 + 120 s after the start, for a 5-minute fault)."""
    from chaosaws.fis.probes import get_experiment

    if not RUNNING:
        raise CutUnverified("no fault of this run is running: nothing to check")
    experiment_id = next(reversed(RUNNING))
    cloudwatch = client("cloudwatch", region, cloudwatch)
    alarm = _alarm(cloudwatch, alarm_name)
    first = math.ceil((STARTED[experiment_id] + float(settle)) / period) * period
    end = first + int(periods) * period
    query = {
        "Namespace": alarm["Namespace"],
        "MetricName": alarm["MetricName"],
        "Dimensions": alarm.get("Dimensions") or [],
        "StartTime": datetime.fromtimestamp(first, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
        "Period": int(period),
        "Statistics": ["Maximum", "SampleCount"],
    }
    what = f"{alarm['MetricName']} {_dimensions_text(alarm)}"
    while True:
        points = list(cloudwatch.get_metric_statistics(**query).get("Datapoints") or [])
        state = str(
            get_experiment(experiment_id, configuration=_configuration(region))["experiment"][
                "state"
            ]["status"]
        )
        reached = _periods_reaching(points)
        if reached and state != "running":
            when = "had not started" if state in ("pending", "initiating") else "ended"
            raise CutUnverified(
                f"FIS experiment {experiment_id} is {state}: the fault {when} inside the "
                f"check's window, so the samples of {what} that reached it prove nothing"
            )
        if reached:
            raise CutLeaked(
                f"the cut leaked: {what} reached the dependency in the period(s) starting "
                f"{', '.join(reached)} while FIS experiment {experiment_id} was running"
            )
        if len(points) >= int(periods):
            samples = sum(int(p.get("SampleCount", 0)) for p in points)
            logger.info("the cut held: %s failed all %d samples in %d periods", what, samples,
                        len(points))  # fmt: skip
            return {"held": True, "periods": len(points), "samples": samples}
        if now() >= end + float(lag):
            raise CutUnverified(
                f"only {len(points)} of {periods} periods of {what} have prober samples "
                f"{lag}s after the check's window: the cut could not be checked"
            )
        sleep(min(float(interval), max(end + float(lag) - now(), 0)))


def _dimensions_text(alarm: Mapping[str, Any]) -> str:
    pairs = ",".join(f"{d['Name']}={d['Value']}" for d in alarm.get("Dimensions") or [])
    return f"({pairs})" if pairs else ""


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
    cloudwatch: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback: stop every FIS experiment this run started (unless it already finished), then
    wait until the alarm is OK again within its window (``EvaluationPeriods`` clean periods)."""
    from chaosaws.fis.actions import stop_experiment
    from chaosaws.fis.probes import get_experiment

    configuration = _configuration(region)
    cloudwatch = client("cloudwatch", region, cloudwatch)
    stopped: dict[str, str] = {}
    for experiment_id in list(RUNNING):
        answer = get_experiment(experiment_id, configuration=configuration)
        state = str(answer["experiment"]["state"]["status"])
        if state not in FINISHED:
            stop_experiment(experiment_id, configuration=configuration)
            state = "stopping"
        stopped[experiment_id] = state
        del RUNNING[experiment_id]
        STARTED.pop(experiment_id, None)
        logger.info("FIS experiment %s: %s", experiment_id, state)
    current, window = _alarm_within_window(
        cloudwatch, alarm_name, "OK", sample_interval, lag, interval, clock, sleep
    )
    if current != "OK":
        raise NotSteady(f"alarm {alarm_name} is {current} {window}s after the fault ended, not OK")
    logger.info("alarm %s is OK again", alarm_name)
    return {"experiments": stopped, "alarm": current}


def primary_serves_again(
    url: str,
    primary: str = "blue",
    within: float = 0,
    interval: float = 5,
    timeout: float = 5,
    *,
    opener: Opener = urllib.request.urlopen,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Rollback, once the alarm is OK: ``/version`` answers from ``primary`` again within
    ``within`` (the failover budget: Route 53 fails back as it failed over); raises if not."""
    if not wait_for_environment(
        url, primary, within, interval, timeout, opener=opener, clock=clock, sleep=sleep
    ):
        raise NotSteady(f"{url} does not answer from {primary} {within}s after the alarm's OK")
    return {"environment": primary}
