"""The report's alarm times for a stack come from ops.alarm_replay over its synthesized alarms."""

from __future__ import annotations

import asyncio

import pytest

from ops.resilience.inputs import extract_inputs
from ops.resilience.model import ASSUMPTIONS
from ops.resilience.report import build_report
from ops.synth.runner import synthesize


@pytest.fixture(scope="module")
def prod_report():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        inputs = extract_inputs(synthesize("prod"))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return build_report("prod", inputs)


def test_release_rows_name_the_replay_they_come_from(prod_report) -> None:
    rows = {row.key: row for row in prod_report.rows}
    for key, alarm in (("release_errors", "5xx-rate"), ("release_slow", "latency")):
        estimate = rows[key].stack
        assert estimate is not None
        assert (
            "replay 'a failing release' of alarm" in estimate.formula and alarm in estimate.formula
        )
        assert "from ops.alarm_replay over the synthesized alarm definition" in estimate.notes


def test_dependency_loss_comes_from_the_replay_of_the_aggregate_connectivity_alarm(
    prod_report,
) -> None:
    (failover,) = [row for row in prod_report.rows if row.key == "env_failover"]
    formulas = [estimate.formula for _, estimate in failover.details]
    assert formulas and all(
        "replay 'a dependency lost' of alarm 'connectivity-" in f for f in formulas
    )


def test_every_prod_alarm_was_replayed(prod_report) -> None:
    assert not [w for w in prod_report.warnings if "not replayed" in w]
    assert any("ops.alarm_replay" in a for a in ASSUMPTIONS)
