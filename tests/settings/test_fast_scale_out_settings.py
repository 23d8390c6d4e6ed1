"""`service.fastScaleOut`: its bounds and the rules that tie it to other keys."""

from __future__ import annotations

import pytest

from settings import load_settings
from tests.settings.test_settings_validation import problems, raw

ON = {"enabled": True}


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (
            {"service": {"cpuTarget": 80, "fastScaleOut": {**ON, "cpuThreshold": 80}}},
            "steadystate:service.fastScaleOut.cpuThreshold = 80: must be above service.cpuTarget (80)",
        ),
        (
            {"service": {"fastScaleOut": ON}, "connectivity": {"probeIntervalSeconds": 30}},
            "steadystate:connectivity.probeIntervalSeconds = 30: must be at most 10 when "
            "service.fastScaleOut.enabled",
        ),
        (
            {"service": {"fastScaleOut": ON}, "connectivity": {"dependencies": [{"name": "db"}]}},
            "steadystate:service.fastScaleOut.enabled = true: needs the prober sidecar",
        ),
        (
            {"service": {"fastScaleOut": {**ON, "datapoints": 1}}},
            "steadystate:service.fastScaleOut.datapoints = 1: must be between 2 and 6",
        ),
        (
            {"service": {"fastScaleOut": {**ON, "stepTasks": 11}}},
            "steadystate:service.fastScaleOut.stepTasks = 11: the larger step (twice stepTasks) must add "
            "between 1 and 10 tasks (got 22)",
        ),
        (
            {"service": {"fastScaleOut": {**ON, "cooldown": 10}}},
            "steadystate:service.fastScaleOut.cooldown = 10: must be at least 30",
        ),
    ],
)
def test_bad_fast_scale_out_is_reported_with_key_value_and_rule(
    groups: dict, expected: str
) -> None:
    found = problems(**groups)
    assert any(line.startswith(expected) for line in found), found


def test_off_by_default_and_on_with_the_defaults() -> None:
    assert load_settings({}).service.fast_scale_out.enabled is False
    fast = load_settings(raw(service={"fastScaleOut": ON})).service.fast_scale_out
    assert (fast.cpu_threshold, fast.datapoints, fast.step_tasks, fast.cooldown) == (85, 3, 2, 60)


def test_a_disabled_fast_scale_out_is_not_judged_against_other_keys() -> None:
    off = {"enabled": False, "cpuThreshold": 50}
    assert (
        load_settings(raw(service={"cpuTarget": 80, "fastScaleOut": off})).service.cpu_target == 80
    )
