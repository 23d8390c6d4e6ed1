"""How long a bake must last for its deployment alarms to catch a failing release, from the alarm
replay of their real definitions (``DescribeAlarms``), not from a model of our own.

A bake shorter than the slowest alarm's replayed detection could pass a release the alarm would
have caught a minute later; the pipeline lengthens such a bake to that time and says which replay
the figure comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ops.alarm_replay.definition import DefinitionError, from_describe_alarms
from ops.alarm_replay.metric_math import ExpressionError
from ops.alarm_replay.stack import UnclassifiedAlarm, detection_seconds

FAILING_RELEASE = "a failing release"


@dataclass(frozen=True)
class BakeWindow:
    seconds: float
    """The bake's length: the one asked for, or longer when an alarm needs it."""
    lines: tuple[str, ...]
    """What each alarm's replay said, for the log and the run's JSON."""


def bake_window(requested: float, alarms: Iterable[Mapping[str, Any]]) -> BakeWindow:
    """The bake length that lets every replayable deployment alarm reach ALARM on a failing release."""
    seconds = requested
    lines = []
    for raw in alarms:
        name = str(raw.get("AlarmName", "?"))
        try:
            detection = detection_seconds(from_describe_alarms(raw), FAILING_RELEASE)
        except (DefinitionError, ExpressionError, UnclassifiedAlarm, KeyError, ValueError) as err:
            lines.append(f"alarm {name}: not replayed ({err})")
            continue
        if detection is None:
            lines.append(f"alarm {name}: never reaches ALARM in the replay '{FAILING_RELEASE}'")
            continue
        lines.append(
            f"alarm {name}: ALARM {detection} s after a failing release starts (replay '{FAILING_RELEASE}')"
        )
        seconds = max(seconds, float(detection))
    if seconds > requested:
        lines.append(
            f"bake lengthened from {requested:.0f} s to {seconds:.0f} s so every alarm can fire"
        )
    return BakeWindow(seconds, tuple(lines))
