"""How CloudWatch turns an alarm's datapoints into a state: M of N, the evaluation range, missing data.

Source: CloudWatch user guide, "Evaluating an alarm" and "Configuring how CloudWatch alarms treat
missing data" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
alarms-and-missing-data.html; awsdocs/amazon-cloudwatch-user-guide ``doc_source/AlarmThatSendsEmail.md``):

* CloudWatch "attempts to retrieve a higher number of data points than specified by Evaluation
  Periods"; that timeframe is the *evaluation range*;
* no datapoint missing in the range: the most recent N datapoints decide;
* some missing but at least N exist: "the most recent existing data points that were successfully
  retrieved" decide, and the missing-data treatment "is not needed and is ignored";
* fewer than N exist: the missing ones are filled with the treatment, "as few times as possible",
  and every real datapoint in the range takes part; none at all: ``missing`` ->
  INSUFFICIENT_DATA, ``ignore`` -> the current state, ``breaching`` -> ALARM, ``notBreaching`` -> OK;
* M (datapoints to alarm) or more breaching of the N evaluated -> ALARM, else OK.

Simplifications (each said once, here):

* **Range size.** AWS says the range "depends on the length of the alarm period and whether it is
  based on a metric with standard resolution or high resolution" without a formula; its worked
  example retrieves 5 datapoints for N = 3. The replay uses ``N + 2`` (``RANGE_EXTRA_PERIODS``).
* **``missing``/``ignore`` with fewer than N datapoints.** The replay says ALARM when at least M of
  the existing datapoints breach, OK when one of them does not, and otherwise INSUFFICIENT_DATA
  (``missing``) or the current state (``ignore``). This reproduces every row of the guide's two
  tables but one: ``X - - - -`` (3 of 3, only the oldest datapoint present and breaching), which
  the guide calls ALARM "because the oldest evaluated data point is breaching"; the replay says
  INSUFFICIENT_DATA there. None of our alarms treats missing data as ``missing``.
* **Timing.** A period's datapoint is usable once the period has closed plus its metric's publish
  lag (:mod:`.streams`); CloudWatch evaluates standard-resolution alarms every minute and
  10/30 s alarms every 10 s ("High-resolution alarms"), at those boundaries exactly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ops.alarm_replay.definition import AlarmDefinition, Query
from ops.alarm_replay.metric_math import Series, evaluate, parse

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
RANGE_EXTRA_PERIODS = 2
"""Evaluation range = evaluation periods + this (the guide's example: 5 retrieved for N = 3)."""

Published = Mapping[int, tuple[float, int]]
"""Period start -> (value, first second CloudWatch can read it)."""

_BREACHES: Mapping[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def breaches(alarm: AlarmDefinition, value: float) -> bool:
    return _BREACHES[alarm.comparison](value, alarm.threshold)


def judge(alarm: AlarmDefinition, newest_first: Sequence[float | None], current: str) -> str:
    """The state after one evaluation of the range ``newest_first`` (None = missing datapoint)."""
    n, m = alarm.evaluation_periods, alarm.datapoints_to_alarm
    existing = [v for v in newest_first if v is not None]
    if len(existing) >= n:
        hits = sum(breaches(alarm, v) for v in existing[:n])
        return ALARM if hits >= m else OK
    treatment = alarm.treat_missing_data
    if treatment in ("breaching", "notBreaching"):
        fills = n - len(existing)
        hits = sum(breaches(alarm, v) for v in existing) + (
            fills if treatment == "breaching" else 0
        )
        return ALARM if hits >= m else OK
    hits = sum(breaches(alarm, v) for v in existing)
    if hits >= m:
        return ALARM
    if len(existing) > hits:
        return OK
    return INSUFFICIENT_DATA if treatment == "missing" else current


def evaluation_interval(alarm: AlarmDefinition) -> int:
    """10 s for high-resolution periods (10/30 s), else 60 s."""
    return 10 if alarm.period < 60 else 60


def range_starts(alarm: AlarmDefinition, at: int) -> list[int]:
    """Start seconds of the evaluation range's periods at second ``at``, oldest first."""
    last_end = (at // alarm.period) * alarm.period
    count = alarm.evaluation_periods + RANGE_EXTRA_PERIODS
    return [last_end - alarm.period * k for k in range(count, 0, -1)]


def result_series(alarm: AlarmDefinition, published: Mapping[str, Published], at: int) -> Series:
    """The alarm's datapoints over its evaluation range as CloudWatch can read them at ``at``."""
    window = range_starts(alarm, at)
    queries: dict[str, Query] = {q.id: q for q in alarm.queries}

    def resolve(query_id: str) -> Series:
        query = queries.get(query_id)
        if query is None:
            raise KeyError(f"alarm {alarm.name!r}: expression reads unknown id {query_id!r}")
        if query.metric is not None:
            points = published.get(query_id, {})
            return {s: v for s, (v, ready) in points.items() if s in window and ready <= at}
        value = evaluate(parse(query.expression), resolve, window)
        if isinstance(value, dict):
            return {s: v for s, v in value.items() if s in window}
        return dict.fromkeys(window, value)

    return resolve(alarm.result.id)


@dataclass(frozen=True)
class Timeline:
    """The alarm's state after each evaluation, from ``start`` on."""

    alarm: str
    states: tuple[tuple[int, str], ...]

    def final(self) -> str:
        return self.states[-1][1]

    def first(self, state: str, since: int = 0) -> int | None:
        """First evaluation second >= ``since`` in ``state``, if any."""
        return next((t for t, s in self.states if t >= since and s == state), None)

    def settles_in(self, state: str, since: int) -> int | None:
        """Seconds from ``since`` until the alarm is in ``state`` and stays there to the end (0 when
        it already was at ``since``); None when it does not end there."""
        settled: int | None = None
        for t, s in self.states:
            if s != state:
                settled = None
            elif settled is None:
                settled = t
        return None if settled is None else max(0, settled - since)

    def visited(self, state: str, since: int = 0) -> bool:
        return any(t >= since and s == state for t, s in self.states)


def replay(
    alarm: AlarmDefinition, published: Mapping[str, Published], start: int, end: int
) -> Timeline:
    """Evaluate ``alarm`` at every evaluation boundary in [start, end]. It starts in
    INSUFFICIENT_DATA, as a newly created alarm does."""
    state = INSUFFICIENT_DATA
    states = []
    step = evaluation_interval(alarm)
    first = -(-start // step) * step
    for at in range(first, end + 1, step):
        series = result_series(alarm, published, at)
        window = range_starts(alarm, at)
        state = judge(alarm, [series.get(s) for s in reversed(window)], state)
        states.append((at, state))
    return Timeline(alarm.name, tuple(states))
