"""The fault switch a release pin may carry: which of the app's faults a onebox release turns on.

A pin's ``faults`` object (``{"latencyMs": 6000}``) becomes the app's fault environment —
``FAULT_LATENCY_MS`` and ``APP_ALLOW_FAULTS=true``, without which a prod app refuses to start
with a fault set (``app/steadystate_app/settings.py``) — on the one service whose pin carries it.
Only a onebox may carry one: its deployment alarms and the release pipeline's bake exist to catch
a bad release on a sliver of the traffic; a fleet is the traffic. Pure functions, shared by the
settings (validation), the release pin component, the release pipeline and the chaos experiment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LATENCY_MS = "latencyMs"
LATENCY_RANGE = (1, 60_000)
"""The app reads FAULT_LATENCY_MS as 0..60000 ms; 0 is no fault, so a switch is 1..60000."""
SWITCHES = {LATENCY_MS: "FAULT_LATENCY_MS"}
"""Pin key -> the app's environment variable."""
ALLOW = "APP_ALLOW_FAULTS"
CLI_NAMES = {"latency": LATENCY_MS}
"""``--fault latency=MS`` -> the pin key."""
TAG = "FaultSwitch"
"""Tag on the pin's parameter, task definition and service while a fault is on."""


def fault_problem(faults: Any) -> str | None:
    """What is wrong with a ``faults`` object, or None."""
    if not isinstance(faults, Mapping) or not faults:
        return f"must be a non-empty object like {{{LATENCY_MS}: 6000}}, got {faults!r}"
    unknown = sorted(str(k) for k in faults if k not in SWITCHES)
    if unknown:
        return f"unknown fault {', '.join(unknown)}; allowed: {', '.join(SWITCHES)}"
    value = faults[LATENCY_MS]
    low, high = LATENCY_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return (
            f"{LATENCY_MS} must be a whole number of milliseconds in {low}..{high}, got {value!r}"
        )
    return None


def key_problem(key: str) -> str | None:
    """A fault switch goes to a onebox only."""
    if not key.endswith("-onebox"):
        return (
            f"{key} is not a onebox: a fault switch goes to a onebox only (its deployment alarms "
            "roll it back), never to a fleet"
        )
    return None


def fault_environment(faults: Mapping[str, Any] | None) -> dict[str, str]:
    """The app's fault environment for ``faults`` (empty for none)."""
    if not faults:
        return {}
    env = {SWITCHES[key]: str(value) for key, value in sorted(faults.items())}
    return {**env, ALLOW: "true"}


def fault_summary(faults: Mapping[str, Any] | None) -> str:
    """``latencyMs=6000`` (the tag value and log text); empty for none."""
    return ",".join(f"{key}={value}" for key, value in sorted((faults or {}).items()))


def parse_cli_fault(text: str) -> dict[str, int]:
    """``latency=6000`` -> ``{"latencyMs": 6000}``; ValueError naming what is allowed."""
    name, sep, raw = text.partition("=")
    if not sep or name not in CLI_NAMES:
        raise ValueError(f"expected latency=MS (e.g. latency=6000), got {text!r}")
    try:
        value: Any = int(raw)
    except ValueError:
        value = raw
    faults = {CLI_NAMES[name]: value}
    if problem := fault_problem(faults):
        raise ValueError(problem)
    return faults
