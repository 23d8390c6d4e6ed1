"""A stack without its own policy config is judged with its stage's, and the gate says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ops.gate import check
from ops.gate.policy_choice import choose_policy_config, stack_stage

HERE = Path(__file__).resolve().parent
PACK = HERE / "fixtures" / "pack"
BASIC = HERE / "fixtures" / "programs" / "basic"


def pack_with(tmp_path: Path, *configs: str) -> Path:
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    for name in configs:
        (pack / "config" / f"{name}.json").write_text("{}")
    return pack


def test_the_stack_s_own_file_wins(tmp_path: Path) -> None:
    pack = pack_with(tmp_path, "staging", "dev")
    choice = choose_policy_config(pack, "staging", "dev")
    assert (choice.path, choice.note) == (pack / "config" / "staging.json", None)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_without_one_the_stage_chooses(tmp_path: Path, stage: str) -> None:
    pack = pack_with(tmp_path, "dev", "prod")
    choice = choose_policy_config(pack, "staging", stage)
    assert choice.path == pack / "config" / f"{stage}.json"
    assert choice.note == (
        f"no staging.json for stack staging: using {stage}.json, the policy config of its stage "
        f"({stage})"
    )


def test_an_unknown_stage_chooses_no_file(tmp_path: Path) -> None:
    pack = pack_with(tmp_path, "dev", "prod")
    (pack / "config" / "qa.json").write_text("{}")
    choice = choose_policy_config(pack, "staging", "qa")  # not a stage: settings refuse it
    assert choice.path is None
    assert choice.note is not None and "every policy runs with its defaults" in choice.note


def test_the_stage_of_a_stack() -> None:
    assert stack_stage({"steadystate:stage": "prod"}, "steadystate") == "prod"
    assert stack_stage({"steadystate:stage": {"value": "prod"}}, "steadystate") == "prod"
    assert stack_stage({}, "steadystate") == "dev"  # the settings' default


@pytest.mark.usefixtures("fresh_loop")
def test_the_gate_judges_a_copied_stack_with_its_stage_s_config(tmp_path: Path, capsys) -> None:
    project = tmp_path / "project"
    shutil.copytree(BASIC, project)
    shutil.copy(project / "Pulumi.dev.yaml", project / "Pulumi.staging.yaml")
    code = check.main(
        ["--stack", "staging", "--policy-pack", str(PACK), "--project-dir", str(project), "--json"]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == document["exitCode"]
    assert document["policyConfig"] == str(PACK / "config" / "dev.json")
    assert document["policyConfigNote"] == (
        "no staging.json for stack staging: using dev.json, the policy config of its stage (dev)"
    )
    code = check.main(
        ["--stack", "staging", "--policy-pack", str(PACK), "--project-dir", str(project)]
    )
    assert "note: no staging.json for stack staging: using dev.json" in capsys.readouterr().err
