"""M of N and missing data, pinned to the tables of the CloudWatch user guide ("Configuring how
CloudWatch alarms treat missing data", awsdocs/amazon-cloudwatch-user-guide
doc_source/AlarmThatSendsEmail.md): 0 = not breaching, X = breaching, - = missing, oldest first."""

from __future__ import annotations

import pytest

from ops.alarm_replay.definition import AlarmDefinition, MetricStat, Query
from ops.alarm_replay.evaluation import ALARM, INSUFFICIENT_DATA, OK, judge

RETAIN = "retain"


def alarm(m: int, n: int, treat: str) -> AlarmDefinition:
    metric = MetricStat("NS", "m", {}, "Sum", 300)
    return AlarmDefinition(
        "a",
        300,
        n,
        m,
        1.0,
        "GreaterThanOrEqualToThreshold",
        treat,
        (Query("m1", metric, "", True),),
    )


def points(text: str) -> list[float | None]:
    """``"0 - X"`` oldest first -> newest first values."""
    value = {"0": 0.0, "X": 5.0, "-": None}
    return [value[c] for c in reversed(text.split())]


THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
]
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
]


@pytest.mark.parametrize(
    ("m", "row"), [(3, r) for r in THREE_OF_THREE] + [(2, r) for r in TWO_OF_THREE]
)
def test_every_documented_row_but_one(m, row) -> None:
    text, *expected = row
    for treat, want in zip(
        ("missing", "ignore", "breaching", "notBreaching"), expected, strict=True
    ):
        got = judge(alarm(m, 3, treat), points(text), current="previous")
        assert got == ("previous" if want == RETAIN else want), (text, treat)


def test_the_one_row_the_replay_reads_differently_is_stated() -> None:
    """The guide's ``X - - - -`` (3 of 3, ``missing``) is ALARM there; the replay says
    INSUFFICIENT_DATA (see ops.alarm_replay.evaluation's docstring)."""
    assert judge(alarm(3, 3, "missing"), points("X - - - -"), "OK") == INSUFFICIENT_DATA


def test_with_enough_datapoints_the_most_recent_existing_ones_decide() -> None:
    """A gap does not count as healthy: two breaching minutes around a gap still alarm 2 of 2."""
    assert judge(alarm(2, 2, "notBreaching"), points("0 X - X -"), "OK") == ALARM
