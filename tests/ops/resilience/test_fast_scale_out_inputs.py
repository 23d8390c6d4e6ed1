"""The real prod stack, synthesized: its fleets scale out on the 10 s trigger within the target,
its fixed-size oneboxes are left out, and dev (target tracking only) takes four minutes."""

from __future__ import annotations

import asyncio

import pytest

from ops.resilience import report as rr
from ops.resilience.inputs import extract_inputs
from ops.synth.runner import synthesize


def inputs_of(stack: str):
    asyncio.set_event_loop(asyncio.new_event_loop())
    return extract_inputs(synthesize(stack))


@pytest.fixture(scope="module")
def prod():
    return inputs_of("prod")


def test_prod_fleets_have_a_fast_trigger_and_oneboxes_are_fixed(prod) -> None:
    assert len(prod.step_triggers) == 2
    assert {t.alarm for t in prod.step_triggers} == {
        "blue-fleet-fast-scale-out",
        "green-fleet-fast-scale-out",
    }
    assert all(
        (t.period_s, t.datapoints, t.sample_interval_s) == (10, 3, 10) for t in prod.step_triggers
    )
    assert len(prod.fixed_size) == 2 and all("onebox" in r for r in prod.fixed_size)


def test_prod_starts_scaling_out_within_its_target(prod) -> None:
    row = next(r for r in rr.build_report("prod", prod).rows if r.key == "scale_out")
    assert row.stack is not None and row.stack.seconds == 50 and row.met is True
    assert "replay 'a load step' of alarm 'blue-fleet-fast-scale-out'" in row.stack.formula
    assert "onebox" not in row.stack.formula


def test_dev_without_fast_scale_out_takes_target_trackings_four_minutes() -> None:
    row = next(r for r in rr.build_report("dev", inputs_of("dev")).rows if r.key == "scale_out")
    assert row.stack is not None and row.stack.seconds == 240
