"""Shared fixtures: every test that touches Pulumi gets a fresh mock runtime and event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ops.synth.runner import Recording, run_under_mocks


@pytest.fixture
def fresh_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop per test: the Pulumi runtime keeps state on the current loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def mocked(fresh_loop: asyncio.AbstractEventLoop) -> Callable[..., Recording]:
    """Run a callable that registers resources under fresh mocks; returns what it registered.

    Usage: ``rec = mocked(lambda: Network("net", args))`` then assert on ``rec.named("net-vpc")``.
    Keyword arguments go to :func:`ops.synth.runner.run_under_mocks` (``config=``, ``stack=``, ...).
    """

    def run(program: Callable[[], Any], **kwargs: Any) -> Recording:
        return run_under_mocks(program, **kwargs)

    return run
