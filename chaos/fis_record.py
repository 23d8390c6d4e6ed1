"""Lambda handler: record a finished AWS FIS experiment in the chaos metrics schema.

EventBridge delivers FIS's ``FIS Experiment State Change`` event (``detail.experiment-id``,
``detail.experiment-template-id``, ``detail.new-state.status``) for the stack's templates when an
experiment reaches a terminal state. The handler reads the experiment (``fis:GetExperiment``) and
its template's ``steadystate:experiment`` tag (``fis:GetExperimentTemplate``) and publishes one run
with :func:`chaos.metrics.publish_outcome` as ``Experiment = fis-<template key>``.

Outcome, from the experiment's terminal status:

* ``completed`` -> succeeded: every action ran and no stop condition fired.
* ``stopped`` -> deviated when a stop-condition alarm of the experiment (the guard alarms) is in
  ALARM and went there after the experiment started: the fault broke the steady state and FIS
  stopped it. ``stopped`` with no stop-condition alarm in ALARM -> aborted: a person (or an API
  call) stopped it, which proves nothing either way. A guard already in ALARM before the start ->
  aborted as well (the steady state did not hold before the fault). FIS documents no reason
  strings to tell these apart, so the alarms' state is the evidence; it is read when the event
  arrives, seconds after the stop, while a guard that fired (1-minute period) is still in ALARM.
* ``failed`` -> failed when at least one action started (FIS broke after injecting the fault),
  aborted when none did (target resolution, permissions or a template error stopped FIS before
  any fault: FIS leaves the actions of such an experiment without a ``startTime``).
* ``cancelled`` -> aborted: the experiment never ran.
* a ``completed`` dependency cut (template key ``dependency-<dep>``) -> failed, not succeeded,
  when the cut did not provably hold: the primary environment's prober (``<dep>-connectivity``,
  ``Host=<PRIMARY>`` in ``PROBE_NAMESPACE``) reached the dependency in a whole minute from one
  minute after the start to the end (``Maximum`` > 0: the cut leaked), or published nothing
  then (nothing was shown). The same check ``chaos.dependency_blackhole.cut_held`` makes in a
  chaostoolkit run; without ``PROBE_NAMESPACE`` and ``PRIMARY`` it is skipped.

Error rate during the fault: ``HTTPCode_Target_5XX_Count + HTTPCode_ELB_5XX_Count`` over
``RequestCount`` of the primary load balancer (``LOAD_BALANCER``, its ``app/<name>/<id>``) from the
experiment's start to its end, whole minutes (ALB metrics have 1-minute resolution). The
denominator is at least the error count (a 503 for want of a healthy target is not in
``RequestCount``); no requests and no errors -> no error rate. ALB metrics of the last minute may
still be arriving when the handler runs, so the figure can miss the final minute's requests.

Time to recover: not published for FIS runs. FIS's end time is when its actions finished (for
stop-task: when the task was stopped), not when the service was whole again, and nothing in the
event or the experiment says when the replacement became healthy.

Idempotent: EventBridge and Lambda's asynchronous retries deliver at least once. Every datum is
stamped with the experiment's end time (the event's time when FIS gives none), and before
publishing the handler asks CloudWatch whether ``ExperimentSucceeded`` already has a sample for
this ``Experiment`` + ``Stack`` in that minute; if so the delivery is a duplicate and nothing is
sent (CloudWatch never deduplicates: a second identical datum would count the run twice). With
reserved concurrency 1 (``FisRunRecorderArgs.reserved_concurrency``; off by default, since a
reservation fails in a new account) two deliveries never check at once. Left over: two runs of one template ending in the same minute read as one, and a duplicate arriving
before CloudWatch serves the first datum (usually well under a minute) is counted twice.

Standard library and boto3 only (the Lambda runtime provides boto3); the package ships this file
and ``chaos/metrics.py`` as they are. Environment: ``STACK`` (the ``Stack`` dimension),
``LOAD_BALANCER``, and optionally ``PROBE_NAMESPACE`` and ``PRIMARY`` (the cut check).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chaos.metrics import FIS_PREFIX, METRIC, NAMESPACE, publish_outcome

LOG = logging.getLogger("steadystate.chaos.fis_record")
LOG.setLevel(logging.INFO)

DETAIL_TYPE = "FIS Experiment State Change"
SOURCE = "aws.fis"
TERMINAL_STATUSES = ("completed", "stopped", "failed", "cancelled")
EXPERIMENT_TAG = "steadystate:experiment"
UNKNOWN_KEY = "unknown"
ALB_NAMESPACE = "AWS/ApplicationELB"
ERROR_METRICS = ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count")
REQUEST_METRIC = "RequestCount"
ALARM_ARN_MARK = ":alarm:"
DEPENDENCY_PREFIX = "dependency-"
CUT_SETTLE = timedelta(minutes=1)
"""From the start, the time a cut may take to be in place on every host before it must hold."""


def outcome_of(experiment: Mapping[str, Any], guard_states: Mapping[str, str]) -> str:
    """The schema's outcome for a terminal experiment; ``guard_states``: stop-condition alarm
    name -> ``fired`` (went to ALARM after the start), ``before`` (in ALARM since before the
    start) or ``ok``."""
    status = (experiment.get("state") or {}).get("status")
    if status == "completed":
        return "succeeded"
    if status == "stopped":
        states = set(guard_states.values())
        return "deviated" if "fired" in states else "aborted"
    if status == "failed":
        started = any(a.get("startTime") for a in (experiment.get("actions") or {}).values())
        return "failed" if started else "aborted"
    if status == "cancelled":
        return "aborted"
    raise ValueError(
        f"experiment status {status!r} is not terminal ({', '.join(TERMINAL_STATUSES)})"
    )


def stop_condition_alarms(experiment: Mapping[str, Any]) -> list[str]:
    """Names of the CloudWatch alarms among the experiment's stop conditions."""
    names = []
    for condition in experiment.get("stopConditions") or []:
        value = str(condition.get("value") or "")
        if condition.get("source") == "aws:cloudwatch:alarm" and ALARM_ARN_MARK in value:
            names.append(value.split(ALARM_ARN_MARK, 1)[1])
    return names


def guard_states(cloudwatch: Any, experiment: Mapping[str, Any]) -> dict[str, str]:
    """Each stop-condition alarm: ``fired``, ``before`` or ``ok`` (see :func:`outcome_of`)."""
    names = stop_condition_alarms(experiment)
    if not names:
        return {}
    start = experiment.get("startTime")
    found = cloudwatch.describe_alarms(
        AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    states = {name: "ok" for name in names}
    for alarm in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]:
        if alarm.get("StateValue") != "ALARM":
            continue
        since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
        before = start is not None and since is not None and since < start
        states[alarm["AlarmName"]] = "before" if before else "fired"
    return states


def _minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _alb_sum(
    cloudwatch: Any, load_balancer: str, metric: str, begin: datetime, finish: datetime
) -> float:
    period = int((finish - begin).total_seconds())
    answer = cloudwatch.get_metric_statistics(
        Namespace=ALB_NAMESPACE,
        MetricName=metric,
        Dimensions=[{"Name": "LoadBalancer", "Value": load_balancer}],
        StartTime=begin,
        EndTime=finish,
        Period=period,
        Statistics=["Sum"],
    )
    return sum(float(point.get("Sum", 0.0)) for point in answer.get("Datapoints", []))


def error_rate(cloudwatch: Any, load_balancer: str, start: datetime, end: datetime) -> float | None:
    """5xx responses over requests (0-1) of ``load_balancer`` from ``start`` to ``end`` (whole
    minutes); None when it served nothing."""
    begin = _minute_floor(start)
    finish = max(_minute_floor(end), begin) + timedelta(minutes=1)
    errors = sum(_alb_sum(cloudwatch, load_balancer, m, begin, finish) for m in ERROR_METRICS)
    requests = max(_alb_sum(cloudwatch, load_balancer, REQUEST_METRIC, begin, finish), errors)
    return None if requests == 0 else errors / requests


def already_recorded(cloudwatch: Any, experiment: str, stack: str, when: datetime) -> bool:
    """Whether a run of ``experiment`` in ``stack`` is already published in ``when``'s minute."""
    begin = _minute_floor(when)
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=METRIC,
        Dimensions=[{"Name": "Experiment", "Value": experiment}, {"Name": "Stack", "Value": stack}],
        StartTime=begin,
        EndTime=begin + timedelta(minutes=1),
        Period=60,
        Statistics=["SampleCount"],
    )
    return any(float(p.get("SampleCount", 0.0)) > 0 for p in answer.get("Datapoints", []))


def cut_not_held(
    cloudwatch: Any, namespace: str, environment: str, dependency: str, start: datetime,
    end: datetime,
) -> str | None:  # fmt: skip
    """Why the cut of ``dependency`` did not provably hold for ``environment``'s prober between
    ``start`` (+ one minute) and ``end``, in whole minutes; None when every sample failed."""
    begin = _minute_floor(start + CUT_SETTLE) + timedelta(minutes=1)
    finish = _minute_floor(end)
    if finish <= begin:
        return f"the fault lasted no whole minute after {CUT_SETTLE} to settle: nothing to check"
    metric = f"{dependency}-connectivity"
    answer = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": "Host", "Value": environment}],
        StartTime=begin,
        EndTime=finish,
        Period=60,
        Statistics=["Maximum"],
    )
    points = answer.get("Datapoints") or []
    if not points:
        return f"no {metric} samples of {environment} from {begin.isoformat()}: nothing shown"
    reached = sorted(p["Timestamp"] for p in points if float(p.get("Maximum", 0.0)) > 0)
    if reached:
        return (
            f"the cut leaked: {metric} of {environment} reached {dependency} in the minute(s) "
            f"from {', '.join(r.isoformat() for r in reached)}"
        )
    return None


def template_key(fis: Any, template_id: str) -> str:
    """The template's ``steadystate:experiment`` tag; ``unknown`` (logged) when it has none or
    the template is gone."""
    try:
        template = fis.get_experiment_template(id=template_id)["experimentTemplate"]
    except fis.exceptions.ResourceNotFoundException:
        LOG.warning("template %s no longer exists: recording the run as %s%s",
                    template_id, FIS_PREFIX, UNKNOWN_KEY)  # fmt: skip
        return UNKNOWN_KEY
    key = (template.get("tags") or {}).get(EXPERIMENT_TAG)
    if not key:
        LOG.warning("template %s has no %s tag: recording the run as %s%s",
                    template_id, EXPERIMENT_TAG, FIS_PREFIX, UNKNOWN_KEY)  # fmt: skip
        return UNKNOWN_KEY
    return str(key)


def _event_time(event: Mapping[str, Any]) -> datetime:
    raw = str(event.get("time") or "")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record(
    event: Mapping[str, Any],
    fis: Any,
    cloudwatch: Any,
    stack: str,
    load_balancer: str,
    probe: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Publish one FIS run from its state-change ``event``; returns what was done. ``probe``:
    (prober namespace, primary environment) for the cut check of dependency templates."""
    detail = event.get("detail") or {}
    experiment_id = detail.get("experiment-id")
    if event.get("detail-type") != DETAIL_TYPE or not experiment_id:
        LOG.warning("not a %r event with an experiment-id: ignored (%s)",
                    DETAIL_TYPE, json.dumps(event, default=str)[:500])  # fmt: skip
        return {"recorded": False, "why": "not a FIS experiment state change"}
    experiment = fis.get_experiment(id=experiment_id)["experiment"]
    status = (experiment.get("state") or {}).get("status")
    if status not in TERMINAL_STATUSES:
        LOG.warning("experiment %s is %s, not terminal: nothing to record", experiment_id, status)
        return {"recorded": False, "why": f"status {status}"}
    template_id = experiment.get("experimentTemplateId") or detail.get("experiment-template-id")
    name = FIS_PREFIX + template_key(fis, str(template_id))
    when = experiment.get("endTime") or _event_time(event)
    start = experiment.get("startTime")
    if already_recorded(cloudwatch, name, stack, when):
        LOG.info("experiment %s (%s) is already recorded at %s: duplicate delivery, skipped",
                 experiment_id, name, when.isoformat())  # fmt: skip
        return {"recorded": False, "why": "duplicate", "experiment": name}
    guards = guard_states(cloudwatch, experiment)
    outcome = outcome_of(experiment, guards)
    key = name[len(FIS_PREFIX) :]
    not_held = None
    if outcome == "succeeded" and key.startswith(DEPENDENCY_PREFIX) and probe and start:
        namespace, environment = probe
        dependency = key[len(DEPENDENCY_PREFIX) :]
        not_held = cut_not_held(cloudwatch, namespace, environment, dependency, start, when)
        if not_held:
            LOG.warning("experiment %s (%s): %s; recorded as failed", experiment_id, name,
                        not_held)  # fmt: skip
            outcome = "failed"
    rate = error_rate(cloudwatch, load_balancer, start, when) if start else None
    publish_outcome(cloudwatch, name, outcome, stack, when=when, error_rate=rate)
    reason = (experiment.get("state") or {}).get("reason")
    LOG.info("experiment %s (%s) %s (%s) -> %s; guards %s; error rate %s",
             experiment_id, name, status, reason, outcome, guards, rate)  # fmt: skip
    return {"recorded": True, "experiment": name, "outcome": outcome, "error_rate": rate,
            "when": when.isoformat(), "cut_not_held": not_held}  # fmt: skip


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``chaos.fis_record.handler``)."""
    import boto3  # the Lambda runtime's; imported here so tests can load the module without AWS

    return record(
        event,
        boto3.client("fis"),
        boto3.client("cloudwatch"),
        stack=os.environ["STACK"],
        load_balancer=os.environ["LOAD_BALANCER"],
        probe=(
            (os.environ["PROBE_NAMESPACE"], os.environ["PRIMARY"])
            if os.environ.get("PROBE_NAMESPACE") and os.environ.get("PRIMARY")
            else None
        ),
    )
