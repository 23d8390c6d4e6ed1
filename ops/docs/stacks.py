"""The shipped stacks, each synthesized once under mocks, for the generated docs pages."""

from __future__ import annotations

import asyncio
import functools

from ops.synth.runner import Synthesis, synthesize

STACKS = ("dev", "prod")
"""The stacks the docs describe, in the order their columns appear."""


@functools.cache
def synthesis(stack: str) -> Synthesis:
    """`stack` synthesized from this checkout (cached: every generated page reads the same run)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize(stack)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
