"""What AWS accepts for one property at create time, read from the table generated from botocore.

Pure (no pulumi-policy, so the program's settings can import it): the policy rule :mod:`.create_limits` and the settings
(settings/model.py) both judge values with :func:`value_problem`. The table
``api_limits.json`` is built by ``python -m ops.docs.api_limits`` from botocore's service models
and names the API member of each entry; a test keeps it equal to the installed botocore.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("api_limits.json")


@cache
def table() -> dict[str, dict[str, dict[str, Any]]]:
    """``{resource type: {property path: limits}}`` as generated from botocore."""
    return json.loads(TABLE.read_text())["resources"]


def show(value: Any) -> str:
    """A value for a message, as in JSON, with whole numbers without the ".0" the wire gives
    every number."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, default=str)


def number(value: Any) -> float | None:
    """`value` as a float when it is a number (booleans are not)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def value_problem(limits: dict[str, Any], value: Any) -> str | None:
    """How `value` breaks `limits` (one table entry), or None when AWS accepts it."""
    kind = limits["kind"]
    low, high = limits.get("min"), limits.get("max")
    if kind in ("integer", "long", "double", "float"):
        amount = number(value)
        if amount is None:
            return f"must be a number, got {show(value)}"
        if kind in ("integer", "long") and not amount.is_integer():
            return f"must be a whole number, got {show(value)}"
        if "enum" in limits and amount not in limits["enum"]:
            return f"must be one of {', '.join(str(v) for v in limits['enum'])} (got {show(value)})"
        if "multipleOf" in limits and amount not in limits.get("values", []):
            step = limits["multipleOf"]
            if amount % step:
                allowed = ", ".join(str(v) for v in limits.get("values", []))
                return f"must be {allowed + ' or ' if allowed else ''}a multiple of {step} (got {show(value)})"
        if low is not None and amount < low:
            return f"must be at least {low} (got {show(value)})"
        if high is not None and amount > high:
            return f"must be at most {high} (got {show(value)})"
        return None
    if kind == "list":
        if not isinstance(value, list):
            return None
        if high is not None and len(value) > high:
            return f"may hold at most {high} items (got {len(value)})"
        return None
    if not isinstance(value, str):
        return None
    if "enum" in limits and value not in limits["enum"]:
        return f"must be one of {', '.join(limits['enum'])} (got {show(value)})"
    if low is not None and len(value) < low:
        return f"must be at least {low} characters long (got {len(value)})"
    if high is not None and len(value) > high:
        return f"must be at most {high} characters long (got {len(value)}: {show(value)})"
    if "pattern" in limits and not re.fullmatch(limits["pattern"], value, re.DOTALL):
        return f"must match {limits['pattern']} (got {show(value)})"
    return None


def limit(resource_type: str, prop: str) -> dict[str, Any]:
    """The table entry for `prop` of `resource_type` (KeyError when it has none)."""
    return table()[resource_type][prop]
