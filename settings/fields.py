"""Declaring a setting once: its default, its documentation and the rule its value must follow.

Each settings dataclass field is made with :func:`setting`; the loader reads the metadata to
type-check and range-check raw values, so a rule lives next to the field it guards.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from .offline_secrets import is_placeholder

Check = Callable[[Any], str | None]


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a raw value must be: JSON type, optional choices, bounds and a custom check."""

    kind: type
    doc: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    item_kind: type | None = None
    check: Check | None = None
    allowed: str = ""
    """What `check` accepts, in words for the settings reference (bounds and choices speak for
    themselves)."""


def setting(
    default: Any,
    doc: str,
    *,
    kind: type | None = None,
    choices: Sequence[Any] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    nullable: bool = False,
    item_kind: type | None = None,
    check: Check | None = None,
    allowed: str = "",
) -> Any:
    """A dataclass field carrying its validation :class:`Rule` in metadata."""
    if kind is None:
        if default is None:
            raise TypeError("a setting defaulting to None needs an explicit kind")
        kind = type(default)
    rule = Rule(kind, doc, tuple(choices), minimum, maximum, nullable, item_kind, check, allowed)
    if isinstance(default, list | dict):
        frozen = default.copy()
        return dataclasses.field(default_factory=lambda: frozen.copy(), metadata={"rule": rule})
    return dataclasses.field(default=default, metadata={"rule": rule})


def camel(name: str) -> str:
    """`scale_in_cooldown` → `scaleInCooldown`: the key users write in Pulumi.<stack>.yaml."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


_KIND_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def kind_problem(value: Any, kind: type) -> str | None:
    """A message when `value` is not of JSON type `kind` (booleans are never numbers)."""
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if ok:
        return None
    return f"must be {_KIND_NAMES.get(kind, kind.__name__)}, got {_KIND_NAMES.get(type(value), type(value).__name__)}"


def rule_problem(value: Any, rule: Rule) -> str | None:
    """The first way `value` breaks `rule`, or None."""
    if value is None:
        return None if rule.nullable else "must be set (null is not allowed here)"
    if problem := kind_problem(value, rule.kind):
        return problem
    if rule.choices and value not in rule.choices:
        return "must be one of " + ", ".join(str(c) for c in rule.choices)
    if (
        rule.minimum is not None
        and rule.maximum is not None
        and not (rule.minimum <= value <= rule.maximum)
    ):
        return f"must be between {_num(rule.minimum)} and {_num(rule.maximum)}"
    if rule.minimum is not None and value < rule.minimum:
        return f"must be at least {_num(rule.minimum)}"
    if rule.maximum is not None and value > rule.maximum:
        return f"must be at most {_num(rule.maximum)}"
    if rule.item_kind is not None:
        for index, item in enumerate(value):
            if not is_placeholder(item) and (problem := kind_problem(item, rule.item_kind)):
                return f"item {index} {problem}"
    if isinstance(value, list):
        # An item given as a secret is unknowable offline; the rest is judged (offline_secrets).
        value = [item for item in value if not is_placeholder(item)]
    return rule.check(value) if rule.check else None


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
