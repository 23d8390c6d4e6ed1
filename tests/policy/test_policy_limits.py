"""The pure threshold checks shared by the policies and the program's settings validator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy.guardrails import limits

percent = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
count = st.integers(min_value=-5, max_value=100)


def test_limits_imports_nothing_from_pulumi() -> None:
    tree = ast.parse(Path(limits.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert imported <= {"__future__", "math", "numbers"}


@given(percent)
def test_target_value_accepted_exactly_within_the_range(value: float) -> None:
    assert (limits.target_value_problem(value) is None) == (10 <= value <= 90)


def test_target_value_message_names_the_range_and_the_value() -> None:
    assert limits.target_value_problem(95) == "must be between 10 and 90 (got 95)"
    assert (
        limits.target_value_problem(5.5, low=20, high=80) == "must be between 20 and 80 (got 5.5)"
    )
    assert limits.target_value_problem("high") == "must be a number between 10 and 90 (got 'high')"
    assert limits.target_value_problem(True) is not None


@given(count, count, st.booleans())
def test_min_capacity_rule(minimum: int, maximum: int, prod: bool) -> None:
    ok = 0 <= minimum <= maximum <= limits.MAX_CAPACITY_CAP and (not prod or minimum >= 2)
    assert (limits.min_capacity_problem(minimum, maximum, prod=prod) is None) == ok


@given(count, count)
def test_each_bound_is_judged_on_its_own(minimum: int, maximum: int) -> None:
    assert (limits.min_bound_problem(minimum) is None) == (minimum >= 0)
    assert (limits.max_bound_problem(maximum, minimum) is None) == (
        minimum <= maximum <= limits.MAX_CAPACITY_CAP
    )
    assert (limits.capacity_bounds_problem(minimum, maximum) is None) == (
        0 <= minimum <= maximum <= limits.MAX_CAPACITY_CAP
    )


def test_min_capacity_messages() -> None:
    assert (
        limits.min_capacity_problem(1, 4, prod=True)
        == "min capacity must be at least 2 in prod (got 1)"
    )
    assert limits.min_capacity_problem(1, 4, prod=False) is None
    assert (
        limits.min_capacity_problem(3, 2, prod=False)
        == "max capacity must be at least min capacity 3 (got 2)"
    )
    assert (
        limits.min_capacity_problem(2, 50, prod=True, cap=30)
        == "max capacity must be at most 30 (got 50)"
    )
    assert limits.min_capacity_problem(2.0, 4.0, prod=True) is None


@given(st.integers(min_value=-10, max_value=100_000))
def test_ttl_rule(ttl: int) -> None:
    assert (limits.ttl_problem(ttl) is None) == (1 <= ttl <= 60)


def test_ttl_message() -> None:
    assert limits.ttl_problem(300) == "must be at most 60 seconds (got 300)"
    assert limits.ttl_problem(120, ceiling=300) is None


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=999))
def test_onebox_share_rule(onebox: int, fleet: int) -> None:
    share = 0 if onebox + fleet == 0 else 100 * onebox / (onebox + fleet)
    assert (limits.onebox_share_problem(onebox, fleet) is None) == (share <= 10)


def test_onebox_share_message() -> None:
    assert limits.onebox_share_problem(1, 99) is None
    assert limits.onebox_share_problem(10, 90) is None
    assert limits.onebox_share_problem(25, 75) == (
        "onebox share must be at most 10% of traffic (got 25%: onebox weight 25, fleet weight 75)"
    )
    assert limits.onebox_share_problem(-1, 5) is not None


@pytest.mark.parametrize(
    ("days", "problem"),
    [
        (None, "must be set to at least 30 days (unset means logs are kept forever)"),
        (0, "must be at least 30 days (0 means logs are kept forever)"),
        (14, "must be at least 30 days (got 14)"),
        (45, "must be one of CloudWatch's retention values"),
        (30, None),
        (3653, None),
    ],
)
def test_log_retention(days: object, problem: str | None) -> None:
    result = limits.log_retention_problem(days)
    assert result == problem if problem is None else result.startswith(problem)


def test_suggested_retention_is_allowed_and_sufficient() -> None:
    for minimum in (1, 2, 30, 31, 400, 5000):
        suggested = limits.nearest_allowed_retention(minimum)
        assert suggested in limits.CLOUDWATCH_RETENTION_DAYS
        assert suggested >= minimum or suggested == limits.CLOUDWATCH_RETENTION_DAYS[-1]


def test_backup_retention_and_grace_period() -> None:
    assert limits.backup_retention_problem(7) is None
    assert limits.backup_retention_problem(1) == "must be at least 7 days (got 1)"
    assert limits.backup_retention_problem(40) == "must be at most 35 days, the RDS limit (got 40)"
    assert limits.grace_period_problem(60) is None
    assert limits.grace_period_problem(None) == "must be set to at least 30 seconds"
    assert limits.grace_period_problem(10) == "must be at least 30 seconds (got 10)"
