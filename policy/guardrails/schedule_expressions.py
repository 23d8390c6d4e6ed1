"""EventBridge Scheduler schedule expressions: parse ``cron(...)``, ``rate(...)`` and ``at(...)``
and say when a recurring one runs.

Pure (no Pulumi import), shared by the chaos schedule policies and their tests. The cron dialect
is EventBridge's (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
six fields ``minutes hours day-of-month month day-of-week year``; exactly one of day-of-month and
day-of-week is ``?``; day-of-week counts SUN=1 .. SAT=7; day-of-month takes ``L`` (last day),
``LW`` (last weekday) and ``nW`` (the weekday nearest the nth); day-of-week takes ``L``
(Saturday), ``nL`` (the last day n of the month) and ``n#k`` (the kth day n of the month).

When a cron expression runs does not depend on today: :func:`run_dates` walks a fixed span of
two 28-year cycles of the Gregorian calendar (weekdays and leap years repeat every 28 years
between 1901 and 2099), so the longest gap it finds is the longest gap there is.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

WEEKDAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
"""Cron day-of-week names, SUN=1 .. SAT=7."""
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
SPAN = (dt.date(2001, 1, 1), dt.date(2056, 12, 31))
"""Two full 28-year calendar cycles: every pattern of weekdays and leap years occurs in it."""
MONTHLY_LONGEST_GAP_DAYS = 35
"""``DAY#n`` runs on the nth DAY of every month: consecutive runs are 28 or 35 days apart."""


class ScheduleExpressionError(ValueError):
    """An expression EventBridge Scheduler would reject (or this parser cannot read)."""


@dataclass(frozen=True)
class At:
    """``at(yyyy-mm-ddThh:mm:ss)``: runs once."""

    when: str


@dataclass(frozen=True)
class Rate:
    """``rate(value unit)``: every ``value`` minutes, hours or days from the start."""

    value: int
    unit: str
    """``minutes``, ``hours`` or ``days``."""

    @property
    def days(self) -> float:
        return self.value / {"minutes": 1440, "hours": 24, "days": 1}[self.unit]


@dataclass(frozen=True)
class Cron:
    """``cron(minutes hours day-of-month month day-of-week year)``, parsed."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] | None
    """None: every year (``*``)."""
    day_of_month: tuple[str, ...] | None
    """The day-of-month tokens, or None when the field is ``?``."""
    day_of_week: tuple[str, ...] | None

    @cached_property
    def _plain_days(self) -> tuple[frozenset[int], tuple[str, ...]]:
        """The day tokens as (plain numbers, special tokens): numbers are a set lookup."""
        tokens = self.day_of_month if self.day_of_month is not None else self.day_of_week or ()
        numbers = frozenset(int(t) for t in tokens if t.isdigit())
        return numbers, tuple(t for t in tokens if not t.isdigit())

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        numbers, special = self._plain_days
        if self.day_of_month is not None:
            return day.day in numbers or any(_dom_matches(t, day) for t in special)
        return cron_weekday(day) in numbers or any(_dow_matches(t, day) for t in special)


Expression = At | Rate | Cron


def parse(expression: str) -> Expression:
    """Parse a schedule expression; raises :class:`ScheduleExpressionError` naming the problem."""
    text = expression.strip()
    match = re.fullmatch(r"(at|rate|cron)\((.*)\)", text)
    if not match:
        raise ScheduleExpressionError(f"{expression!r} is not at(...), rate(...) or cron(...)")
    kind, body = match.groups()
    if kind == "at":
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body.strip()):
            raise ScheduleExpressionError(f"{expression!r}: at() takes yyyy-mm-ddThh:mm:ss")
        return At(body.strip())
    if kind == "rate":
        return _rate(expression, body)
    return _cron(expression, body)


def _rate(expression: str, body: str) -> Rate:
    match = re.fullmatch(r"\s*([1-9][0-9]*)\s+(minute|minutes|hour|hours|day|days)\s*", body)
    if not match:
        raise ScheduleExpressionError(
            f"{expression!r}: rate() takes a positive whole number and minute(s), hour(s) or day(s)"
        )
    unit = match.group(2)
    return Rate(int(match.group(1)), unit if unit.endswith("s") else unit + "s")


def _cron(expression: str, body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression!r}: cron() takes six fields (minutes hours day-of-month month "
            f"day-of-week year), got {len(fields)}"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(
            f"{expression!r}: exactly one of day-of-month ({dom}) and day-of-week ({dow}) must be ?"
        )
    return Cron(
        expression=expression,
        minutes=_values(expression, "minutes", minutes, 0, 59),
        hours=_values(expression, "hours", hours, 0, 23),
        months=_values(expression, "month", month, 1, 12, MONTH_NAMES),
        years=None if year == "*" else _values(expression, "year", year, 1970, 2199),
        day_of_month=None if dom == "?" else _day_of_month_tokens(expression, dom),
        day_of_week=None if dow == "?" else _day_of_week_tokens(expression, dow),
    )


def _number(expression: str, field: str, text: str, low: int, high: int,
            names: tuple[str, ...] = ()) -> int:  # fmt: skip
    upper = text.upper()
    if upper in names:
        return names.index(upper) + low
    if not text.isdigit() or not low <= int(text) <= high:
        allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        raise ScheduleExpressionError(f"{expression!r}: {field} value {text!r} is not {allowed}")
    return int(text)


def _values(expression: str, field: str, text: str, low: int, high: int,
            names: tuple[str, ...] = ()) -> frozenset[int]:  # fmt: skip
    """``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, ``a-b/n`` and comma lists of them."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(expression, f"{field} step", step_text, 1, high) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first = _number(expression, field, a, low, high, names)
            last = _number(expression, field, b, low, high, names)
        else:
            first = _number(expression, field, base, low, high, names)
            last = high if step_text else first
        if last < first:
            raise ScheduleExpressionError(f"{expression!r}: {field} range {base!r} runs backwards")
        values.update(range(first, last + 1, step))
    return frozenset(values)


_DOM_SPECIAL = re.compile(r"L|LW|([1-9]|[12][0-9]|3[01])W")
_DOW_SPECIAL = re.compile(r"L|([1-7]|[A-Za-z]{3})(L|#[1-5])")


def _day_of_month_tokens(expression: str, text: str) -> tuple[str, ...]:
    tokens = []
    for part in text.split(","):
        if _DOM_SPECIAL.fullmatch(part.upper()):
            tokens.append(part.upper())
        else:
            tokens += [str(d) for d in sorted(_values(expression, "day-of-month", part, 1, 31))]
    return tuple(tokens)


def _day_of_week_tokens(expression: str, text: str) -> tuple[str, ...]:
    tokens = []
    for part in text.split(","):
        special = _DOW_SPECIAL.fullmatch(part.upper())
        if part.upper() == "L":
            tokens.append("7")
        elif special:
            day = _number(expression, "day-of-week", special.group(1), 1, 7, WEEKDAY_NAMES)
            tokens.append(f"{day}{special.group(2)}")
        else:
            values = _values(expression, "day-of-week", part, 1, 7, WEEKDAY_NAMES)
            tokens += [str(d) for d in sorted(values)]
    return tuple(tokens)


def cron_weekday(day: dt.date) -> int:
    """SUN=1 .. SAT=7."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, wanted: int) -> int:
    """The ``nW`` rule: the weekday nearest day ``wanted``, never leaving the month."""
    last = calendar.monthrange(year, month)[1]
    day = min(wanted, last)
    weekday = dt.date(year, month, day).weekday()
    if weekday == 5:  # Saturday: Friday, or Monday when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday, or Friday when it is the last day
        return day + 1 if day < last else day - 2
    return day


def _dom_matches(token: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if token == "L":
        return day.day == last
    if token == "LW":
        return day.day == _nearest_weekday(day.year, day.month, last)
    if token.endswith("W"):
        return day.day == _nearest_weekday(day.year, day.month, int(token[:-1]))
    return day.day == int(token)


def _dow_matches(token: str, day: dt.date) -> bool:
    if token.endswith("L"):
        last = calendar.monthrange(day.year, day.month)[1]
        return cron_weekday(day) == int(token[:-1]) and day.day + 7 > last
    if "#" in token:
        weekday, nth = token.split("#")
        return cron_weekday(day) == int(weekday) and (day.day - 1) // 7 + 1 == int(nth)
    return cron_weekday(day) == int(token)


def run_dates(cron: Cron) -> Iterator[dt.date]:
    """The days in :data:`SPAN` on which ``cron`` runs."""
    day, end = SPAN
    one = dt.timedelta(days=1)
    while day <= end:
        if cron.runs_on(day):
            yield day
        day += one


@dataclass(frozen=True)
class Cadence:
    """What a cron expression's run days look like over :data:`SPAN`."""

    longest_gap_days: int | None
    """Most days between two consecutive run days; None when it runs at most once."""
    weekdays: frozenset[str]
    """The day names (MON, ...) it runs on."""
    example_gap: tuple[dt.date, dt.date] | None
    """Two consecutive run days that far apart."""


def cadence(cron: Cron) -> Cadence:
    """Run days depend only on the day fields: schedules differing in minute or hour share one
    walk over :data:`SPAN`."""
    days_only = Cron("", frozenset(), frozenset(), cron.months, cron.years, cron.day_of_month,
                     cron.day_of_week)  # fmt: skip
    return _cadence(days_only)


@lru_cache(maxsize=256)
def _cadence(cron: Cron) -> Cadence:
    previous: dt.date | None = None
    longest: int | None = None
    example = None
    weekdays: set[str] = set()
    for day in run_dates(cron):
        weekdays.add(WEEKDAY_NAMES[cron_weekday(day) - 1])
        if previous is not None:
            gap = (day - previous).days
            if longest is None or gap > longest:
                longest, example = gap, (previous, day)
        previous = day
    return Cadence(longest, frozenset(weekdays), example)
