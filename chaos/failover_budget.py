"""How long environment failover may take: the figure ``make resilience`` reports, for a stack.

The environment-loss experiment checks ``/version`` answers from the other environment within
this time. It is the worst ``env_down`` failover over the stack's failover records, computed by
``ops.resilience`` from the offline synthesis of the stack (alarm periods, health-check
thresholds, DNS TTL), so the experiment holds the deployed stack to the same number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

Synth = Callable[[str, Path | None, Path | None], Any]


class NoFailover(Exception):
    """The stack has no failover record (one environment, or DNS off), or failover never ends."""


def environment_failover_seconds(stack: str, synth: Synth | None = None) -> float:
    from ops.resilience.inputs import extract_inputs
    from ops.resilience.model import env_failover, worst_of
    from ops.resilience.report import _default_synth

    inputs = extract_inputs((synth or _default_synth)(stack, None, None))
    estimates = [(r.name, env_failover(r, "env_down")) for r in inputs.failover_records]
    if not estimates:
        raise NoFailover(f"stack {stack} has no Route 53 failover records: nothing fails over")
    worst = worst_of(estimates)
    if math.isinf(worst.seconds):
        raise NoFailover(f"stack {stack}: failover never completes ({worst.formula})")
    return float(worst.seconds)
