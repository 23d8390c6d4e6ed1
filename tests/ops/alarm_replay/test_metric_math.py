"""Metric math as the CloudWatch user guide's "Using metric math" documents it, on its own examples."""

from __future__ import annotations

import pytest

from ops.alarm_replay.metric_math import ExpressionError, evaluate, parse

WINDOW = [0, 60, 120, 180, 240]


def series(*values: float | None) -> dict[int, float]:
    return {WINDOW[i]: v for i, v in enumerate(values) if v is not None}


def run(expression: str, **ids: dict[int, float]):
    return evaluate(parse(expression), lambda name: ids[name], WINDOW)


def test_comparison_operators_treat_a_missing_value_as_zero() -> None:
    metric1, metric2 = series(30, 20, 0, 0), series(20, None, 20, None)
    assert run("metric1 < metric2", metric1=metric1, metric2=metric2) == series(0, 0, 1, 0)
    assert run("metric1 >= 30", metric1=metric1) == series(1, 0, 0, 0)
    assert run("metric1 > 15 AND metric2 > 15", metric1=metric1, metric2=metric2) == series(
        1, 0, 0, 0
    )


def test_if_follows_the_guides_tables() -> None:
    metric1 = series(1, 1, 0, 0, None)
    metric2 = series(30, None, 0, 0, 30)
    metric3 = series(0, 0, 20, None, 20)
    ids = {"metric1": metric1, "metric2": metric2, "metric3": metric3}
    assert run("IF(metric1, metric2, metric3)", **ids) == series(30, 0, 20)
    assert run("IF(metric1, 5, metric3)", **ids) == series(5, 5, 20)
    assert run("IF(metric1, metric2, 5)", **ids) == series(30, 0, 5, 5)


def test_arithmetic_drops_a_division_by_zero_and_counts_a_gap_as_zero() -> None:
    errors, requests = series(None, 3), series(10, 0)
    assert run("100 * errors / requests", errors=errors, requests=requests) == series(0)


def test_fill_fills_every_period_of_the_range_but_invents_nothing_for_an_empty_metric() -> None:
    assert run("FILL(m, 0)", m=series(None, 4)) == series(0, 4, 0, 0, 0)
    assert run("FILL(m, REPEAT)", m=series(None, 4)) == series(None, 4, 4, 4, 4)
    assert run("FILL(m, 0)", m={}) == {}


def test_unknown_functions_are_named() -> None:
    with pytest.raises(ExpressionError, match="function AVG is not replayed"):
        run("AVG(m)", m=series(1))
