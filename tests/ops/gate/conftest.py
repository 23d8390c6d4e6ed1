"""Fixtures for the offline gate's tests: the fixture pack, fixture programs, one shared pack.

Starting a pack subprocess is the slow part (~0.3-1 s), so tests that only need to talk to the
fixture pack share one session-scoped process and reconfigure it (Configure replaces the whole
config each time, exactly as in the engine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.gate.analyzer_client import PackEnvironment, PolicyPackProcess
from ops.synth.runner import Synthesis, synthesize

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURES = HERE / "fixtures"
PACK = FIXTURES / "pack"
PROGRAMS = FIXTURES / "programs"
INSECURE = REPO / "tests" / "fixtures" / "insecure"


@pytest.fixture(scope="session")
def basic_synthesis() -> Synthesis:
    """The `basic` fixture program synthesized once (records are plain data)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize("dev", PROGRAMS / "basic")
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="session")
def fixture_pack(basic_synthesis: Synthesis) -> Iterator[PolicyPackProcess]:
    """One running fixture pack for the session, told about the `basic` stack."""
    config = basic_synthesis.config
    assert config is not None
    environment = PackEnvironment(
        project=config.project,
        stack=config.stack,
        config=dict(config.values),
        secret_keys=list(config.secret_keys),
        tags={"pulumi:project": config.project, "pulumi:runtime": "python"},
    )
    with PolicyPackProcess(PACK, environment) as pack:
        yield pack.wait_ready()
