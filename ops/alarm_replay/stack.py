"""Every alarm of a synthesized stack through every scenario: outcomes, failures and times.

Alarms are the registered ``aws:cloudwatch/metricAlarm:MetricAlarm`` resources, read from their
inputs (``ops.synth`` runs the real ``__main__.py`` under mocks), so the replay judges exactly what
``pulumi up`` would create.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ops.alarm_replay.definition import AlarmDefinition, from_pulumi_inputs
from ops.alarm_replay.evaluation import ALARM, INSUFFICIENT_DATA, Timeline, replay
from ops.alarm_replay.scenarios import (
    PURPOSES,
    SCENARIOS,
    WHOLE_LOAD_BALANCER,
    Need,
    Purpose,
    Scenario,
)
from ops.alarm_replay.streams import FIRST_ZONE, METRIC_SHAPES, World, publish, shape_key

ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
WARMUP_S = 900
"""The scenario's "before" world runs this long first, so the alarm has a history at the onset."""
HORIZON_S = 1200
"""How long after the onset the replay runs."""
ONSET_OFFSETS_S = (0, 10, 20, 30, 40, 50)
"""Where in the minute the onset falls; the worst of them counts."""


class UnclassifiedAlarm(LookupError):
    """An alarm on a metric (or mix of metrics) the replay does not know."""


class _Record(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


def stack_alarms(records: Iterable[_Record]) -> list[AlarmDefinition]:
    """Every metric alarm of a recording, named by its physical name when the mocks gave one."""
    out = []
    for record in records:
        if record.type == ALARM_TYPE:
            name = str(record.outputs.get("name") or record.inputs.get("name") or record.name)
            out.append(from_pulumi_inputs(name, record.inputs))
    return out


def purpose_of(alarm: AlarmDefinition) -> Purpose:
    """What ``alarm`` is for, from the metric shapes it reads; raises :class:`UnclassifiedAlarm`."""
    keys = set()
    for metric in alarm.metrics:
        key = shape_key(metric.metric_name)
        if key is None:
            raise UnclassifiedAlarm(
                f"alarm {alarm.name!r} watches {metric.namespace}/{metric.metric_name}, a metric the "
                "alarm replay does not know: classify it - add how AWS publishes it to METRIC_SHAPES "
                "(ops/alarm_replay/streams.py) and what its alarms are for to PURPOSES "
                "(ops/alarm_replay/scenarios.py)"
            )
        keys.add(key)
    alb = [m for m in alarm.metrics if m.namespace == "AWS/ApplicationELB"]
    whole = alb and not any(
        "TargetGroup" in m.dimensions or "AvailabilityZone" in m.dimensions for m in alb
    )
    purpose = (PURPOSES.get(frozenset(keys | {WHOLE_LOAD_BALANCER})) if whole else None) or (
        PURPOSES.get(frozenset(keys))
    )
    if purpose is None:
        raise UnclassifiedAlarm(
            f"alarm {alarm.name!r} reads {sorted(keys)}, a combination the alarm replay has no "
            "purpose for: classify it - add it to PURPOSES (ops/alarm_replay/scenarios.py)"
        )
    return purpose


def bind_zone(world: World, alarm: AlarmDefinition) -> World:
    """``world`` with ``FIRST_ZONE`` replaced by the first zone ``alarm`` reads (by name), so a
    zone alarm meets the loss of a zone it watches."""
    if world.lost_zone != FIRST_ZONE:
        return world
    zones = sorted(
        m.dimensions["AvailabilityZone"]
        for m in alarm.metrics
        if "AvailabilityZone" in m.dimensions
    )
    return replace(world, lost_zone=zones[0] if zones else None)


def run(alarm: AlarmDefinition, scenario: Scenario, onset: int = 0) -> Timeline:
    """Replay ``alarm`` through ``scenario`` with the onset at second ``onset``."""
    before, after = bind_zone(scenario.before, alarm), bind_zone(scenario.after, alarm)

    def world(t: int) -> World:
        return before if t < onset else after

    start, end = -WARMUP_S, HORIZON_S
    published = {
        q.id: publish(q.metric, world, start - 600, end) for q in alarm.queries if q.metric
    }
    return replay(alarm, published, start, end)


@dataclass(frozen=True)
class Outcome:
    """One alarm through one scenario, at its worst onset."""

    alarm: str
    purpose: str
    scenario: str
    need: Need
    seconds: int | None
    """Worst seconds from the onset until the alarm settled in the needed state; None: never."""
    final: str
    insufficient_after_onset: bool

    @property
    def ok(self) -> bool:
        return (
            self.seconds is not None
            and self.seconds <= self.need.within_s
            and not self.insufficient_after_onset
        )

    def describe(self) -> str:
        got = "never" if self.seconds is None else f"after {self.seconds} s"
        extra = ", went INSUFFICIENT_DATA" if self.insufficient_after_onset else ""
        return (
            f"alarm {self.alarm!r} ({self.purpose}) in '{self.scenario}': needs "
            f"{self.need.state} within {self.need.within_s} s, got {got} (ends {self.final}{extra})"
        )


def outcome(alarm: AlarmDefinition, scenario: Scenario) -> Outcome:
    purpose = purpose_of(alarm)
    need = purpose.needs[scenario.name]
    worst: int | None = 0
    final = ""
    insufficient = False
    for onset in ONSET_OFFSETS_S:
        timeline = run(alarm, scenario, onset)
        settled = timeline.settles_in(need.state, onset)
        worst = None if settled is None or worst is None else max(worst, settled)
        final = timeline.final()
        insufficient = insufficient or timeline.visited(INSUFFICIENT_DATA, onset)
    return Outcome(alarm.name, purpose.name, scenario.name, need, worst, final, insufficient)


def replay_all(alarms: Iterable[AlarmDefinition]) -> list[Outcome]:
    """Every alarm through every scenario (raises :class:`UnclassifiedAlarm` first)."""
    alarms = list(alarms)
    for alarm in alarms:
        purpose_of(alarm)
    return [outcome(a, s) for a in alarms for s in SCENARIOS.values()]


def settle_seconds(alarm: AlarmDefinition, scenario: Scenario, state: str) -> int | None:
    """Worst seconds, over the onsets, from ``scenario``'s onset until ``alarm`` is in ``state``
    for good (None: never)."""
    worst: int | None = 0
    for onset in ONSET_OFFSETS_S:
        settled = run(alarm, scenario, onset).settles_in(state, onset)
        worst = None if settled is None or worst is None else max(worst, settled)
    return worst


def detection_seconds(alarm: AlarmDefinition, scenario: str) -> int | None:
    """Worst seconds from ``scenario``'s onset until ``alarm`` is in ALARM for good (None: never);
    raises :class:`UnclassifiedAlarm` for an alarm the replay does not know."""
    purpose_of(alarm)
    return settle_seconds(alarm, SCENARIOS[scenario], ALARM)


def shapes_in_use() -> Mapping[str, str]:
    """Metric-shape key -> how it is published (for reports)."""
    return {key: shape.what for key, shape in METRIC_SHAPES.items()}
