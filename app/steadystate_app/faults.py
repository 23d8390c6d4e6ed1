"""Fault switches for demos and chaos experiments: added latency and a random error rate.

Both are off unless FAULT_LATENCY_MS / FAULT_ERROR_RATE say otherwise, apply only to the paths in
FAULT_PATHS (``/api`` by default, so the load balancer's health checks keep passing), and are
refused at start-up in prod unless APP_ALLOW_FAULTS=true (see ``settings``).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """Injected latency and error rate on ``paths``; all zero (off) by default."""

    latency_ms: int = 0
    error_rate: float = 0.0
    paths: frozenset[str] = frozenset({"/api"})

    @property
    def enabled(self) -> bool:
        return self.latency_ms > 0 or self.error_rate > 0


async def inject(faults: Faults, path: str) -> bool:
    """Delay a request to ``path`` as configured; True when it must then fail."""
    if path not in faults.paths:
        return False
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    return random.random() < faults.error_rate
