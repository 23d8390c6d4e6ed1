"""EarlyAnalysis: the gate sends Analyze for each resource while the program runs, as the engine
does, and the report is exactly the one it gives when everything is sent afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ops.gate.analyzer_client import PackEnvironment, PolicyPackError, PolicyPackProcess
from ops.gate.check import (
    EarlyAnalysis,
    analyze_request,
    judge,
    read_policy_project,
    registrations,
)
from ops.gate.policy_config import PolicyConfigError
from ops.synth.runner import Synthesis, synthesize

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PACK, PROGRAMS = FIXTURES / "pack", FIXTURES / "programs"


def _synthesize_while(early: EarlyAnalysis) -> Synthesis:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize("dev", PROGRAMS / "basic", on_record=early.record)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _early(pack: PolicyPackProcess, synthesis: Synthesis, config: Path) -> EarlyAnalysis:
    assert synthesis.config is not None
    return EarlyAnalysis(
        pack, synthesis.config, config_path=config, policy_project=read_policy_project(PACK)
    )


def test_every_request_is_sent_while_the_program_runs_and_the_report_is_the_same(
    fixture_pack: PolicyPackProcess, basic_synthesis: Synthesis
) -> None:
    config = PACK / "config" / "dev.json"
    early = _early(fixture_pack, basic_synthesis, config).start()
    synthesis = _synthesize_while(early)
    configured = early.finish()

    regs = registrations(synthesis)
    sent = early.sent_for(regs)
    assert sorted(sent) == list(range(len(regs)))
    assert [sent[i][0] for i in range(len(regs))] == [analyze_request(r) for r in regs]

    with_early = judge(fixture_pack, synthesis, configured=configured, early=early).report
    afterwards = judge(
        fixture_pack, synthesis, config_path=config, policy_project=read_policy_project(PACK)
    ).report
    assert with_early.violations == afterwards.violations
    assert with_early.errors == afterwards.errors
    assert with_early.violations  # the fixture program does draw violations


@pytest.mark.parametrize(
    "change",
    [
        lambda reg: setattr(reg, "inputs", {**reg.inputs, "changed": True}),
        lambda reg: setattr(reg, "options", {**reg.options, "protect": True}),
        lambda reg: setattr(reg, "parent", ""),
    ],
    ids=["inputs", "options", "parent"],
)
def test_a_registration_that_differs_from_the_one_sent_early_is_sent_again(
    fixture_pack: PolicyPackProcess, basic_synthesis: Synthesis, change: Any
) -> None:
    early = _early(fixture_pack, basic_synthesis, PACK / "config" / "dev.json").start()
    synthesis = _synthesize_while(early)
    early.finish()
    regs = registrations(synthesis)
    change(regs[-1])

    assert sorted(early.sent_for(regs)) == list(range(len(regs) - 1))


def test_records_that_come_before_the_pack_is_configured_are_sent_first_in_order(
    fixture_pack: PolicyPackProcess, basic_synthesis: Synthesis
) -> None:
    early = _early(fixture_pack, basic_synthesis, PACK / "config" / "dev.json")
    for record in basic_synthesis.records:  # all of them before the configuring thread starts
        early.record(record)
    configured = early.start().finish()

    regs = registrations(basic_synthesis)
    assert sorted(early.sent_for(regs)) == list(range(len(regs)))
    with_early = judge(fixture_pack, basic_synthesis, configured=configured, early=early).report
    afterwards = judge(fixture_pack, basic_synthesis, configured=configured).report
    assert with_early.violations == afterwards.violations


def test_nothing_is_sent_early_when_a_policy_remediates(
    fixture_pack: PolicyPackProcess, basic_synthesis: Synthesis, tmp_path: Path
) -> None:
    config = tmp_path / "remediate.json"
    config.write_text('{"owner-tag": "remediate", "probe-resource": "disabled"}')
    early = _early(fixture_pack, basic_synthesis, config).start()
    synthesis = _synthesize_while(early)
    configured = early.finish()

    assert early.sent_for(registrations(synthesis)) == {}
    report = judge(fixture_pack, synthesis, configured=configured, early=early).report
    assert report.of_level("remediated")


def test_a_bad_policy_config_is_raised_by_finish_after_the_program(
    fixture_pack: PolicyPackProcess, basic_synthesis: Synthesis
) -> None:
    early = _early(fixture_pack, basic_synthesis, PACK / "config" / "malformed.json").start()
    synthesis = _synthesize_while(early)  # the program still runs to the end
    assert synthesis.records

    with pytest.raises(PolicyConfigError) as err:
        early.finish()
    assert "no-open-shh: the pack has no policy of that name" in str(err.value)


def test_a_failed_program_stops_it_and_the_closed_pack_is_never_started_again(
    basic_synthesis: Synthesis,
) -> None:
    assert basic_synthesis.config is not None
    environment = PackEnvironment(basic_synthesis.config.project, "dev")
    pack = PolicyPackProcess(PACK, environment).spawn()
    early = _early(pack, basic_synthesis, PACK / "config" / "dev.json").start()
    early.record(basic_synthesis.records[0])
    early.stop()
    pack.close()  # what the gate's `finally` does right after a failed program
    for record in basic_synthesis.records[1:]:
        early.record(record)  # late registrations of the failed program: nothing is sent

    with pytest.raises(PolicyPackError, match="was closed"):
        pack.spawn()
    assert pack.pid is None
