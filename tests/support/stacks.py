"""The shipped stacks, synthesized once per test module that asks for them."""

from __future__ import annotations

import asyncio

from ops.synth.runner import Synthesis, synthesize

SHIPPED = ("dev", "prod")


def synthesize_shipped_stacks() -> dict[str, Synthesis]:
    """dev and prod, each on an event loop of its own (the Pulumi runtime keeps state on it)."""
    out = {}
    for name in SHIPPED:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            out[name] = synthesize(name)
        finally:
            loop.close()
    asyncio.set_event_loop(None)
    return out
