"""The dependency-blackhole experiments wait for the primary's ``<dep>-connectivity`` alarm within a
window they compute from the alarm's own configuration (``alarm_window_seconds``: one prober
sample, the periods, the experiment's ``alarm_lag``). That arithmetic is checked here against the
alarm replay (``ops.alarm_replay``: CloudWatch's evaluation of the synthesized alarm over the
prober's stream as it publishes it): for every connectivity alarm of both stacks, the window the
experiment waits for ALARM covers the replay's worst time through "a dependency lost", and the
window it waits for OK in the rollback covers the replay's worst time back to OK once the
dependency is back. A shorter window would call a healthy run a failure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chaos.dependency_blackhole import alarm_window_seconds
from ops.alarm_replay.definition import AlarmDefinition
from ops.alarm_replay.scenarios import HEALTHY_BUSY, Scenario
from ops.alarm_replay.stack import detection_seconds, settle_seconds, stack_alarms
from ops.synth.runner import Synthesis
from tests.support.stacks import synthesize_shipped_stacks

EXPERIMENTS = Path(__file__).resolve().parents[2] / "chaos" / "experiments"
DEPENDENCY_BACK = Scenario(
    "a dependency back",
    "the bake's load; the prober reached no dependency until the onset, every one after it",
    replace(HEALTHY_BUSY, dependencies_up=False),
    HEALTHY_BUSY,
)


def _as_described(alarm: AlarmDefinition) -> dict[str, Any]:
    """The fields DescribeAlarms returns that the experiment reads."""
    return {
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
    }


def _cases(stacks: Mapping[str, Synthesis]) -> list[Any]:
    cases = []
    for path in sorted(EXPERIMENTS.glob("dependency-blackhole-*.json")):
        dependency = path.stem.removeprefix("dependency-blackhole-")
        configuration = json.loads(path.read_text())["configuration"]
        for stack, synthesis in stacks.items():
            # Sorted: records arrive in the order the Pulumi runtime registers them, which follows
            # asyncio's scheduling and varies from run to run, and pytest-xdist refuses to run
            # when its workers collected the cases in different orders.
            for alarm in sorted(stack_alarms(synthesis.records), key=lambda alarm: alarm.name):
                if alarm.name.startswith("connectivity-") and f"-{dependency}-" in alarm.name:
                    cases.append(
                        pytest.param(configuration, alarm, id=f"{path.stem}-{stack}-{alarm.name}")
                    )
    return cases


STACKS = synthesize_shipped_stacks()
CASES = _cases(STACKS)


def test_the_cases_do_not_depend_on_the_order_resources_registered_in() -> None:
    reversed_stacks = {
        name: replace(synthesis, records=synthesis.records[::-1])
        for name, synthesis in STACKS.items()
    }
    assert [case.id for case in _cases(reversed_stacks)] == [case.id for case in CASES]


def test_every_experiment_has_connectivity_alarms_to_wait_for() -> None:
    dependencies = {case.id.split("-")[2] for case in CASES}
    assert dependencies == {"cdn", "db"}


@pytest.mark.parametrize(("configuration", "alarm"), CASES)
def test_the_alarm_window_covers_the_replay(
    configuration: dict[str, Any], alarm: AlarmDefinition
) -> None:
    timing = {
        "sample_interval": int(configuration["prober_sample_interval"]),
        "lag": int(configuration["alarm_lag"]),
    }
    to_alarm = detection_seconds(alarm, "a dependency lost")
    back_to_ok = settle_seconds(alarm, DEPENDENCY_BACK, "OK")

    assert to_alarm is not None and back_to_ok is not None
    assert alarm_window_seconds(_as_described(alarm), "ALARM", **timing) >= to_alarm
    assert alarm_window_seconds(_as_described(alarm), "OK", **timing) >= back_to_ok
