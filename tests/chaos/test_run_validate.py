"""`chaos.run --validate` is `chaos validate`: the experiment is judged as a run would judge it before
starting, and nothing runs, nothing is written, nothing is published. What is not an experiment of
this project (an unknown name, an unknown stack) leaves no journal, so the report never shows it."""

from __future__ import annotations

import io
import json

import pytest

from chaos import run as chaos_run
from chaos.runner import EXPERIMENTS_DIR, chaoslib_available, experiment_names

ENGINES = [
    "builtin",
    pytest.param(
        "chaostoolkit",
        marks=pytest.mark.skipif(not chaoslib_available(), reason="no chaostoolkit-lib"),
    ),
]


def _no_aws(*_args, **_kwargs):
    raise AssertionError("--validate made an AWS call")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", experiment_names())
def test_every_shipped_experiment_validates_and_leaves_nothing(
    journals_in_tmp, monkeypatch, name, engine
) -> None:
    monkeypatch.setattr(chaos_run, "client", _no_aws)
    out = io.StringIO()
    argv = ["--experiment", name, "--validate", "--engine", engine]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_OK, out.getvalue()
    assert f"experiment {name} is valid (checked by the {engine} engine)" in out.getvalue()
    assert not list(journals_in_tmp.rglob("*"))


@pytest.mark.parametrize("engine", ENGINES)
def test_an_invalid_experiment_is_exit_4_and_leaves_nothing(journals_in_tmp, tmp_path, engine):
    experiment = json.loads((EXPERIMENTS_DIR / "kill-one-task.json").read_text())
    experiment["method"][1]["provider"]["func"] = "stop_randm_task"
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(experiment))
    out = io.StringIO()
    argv = ["--experiment", str(path), "--validate", "--engine", engine]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_BAD_EXPERIMENT
    assert "error: invalid experiment: " in out.getvalue()
    assert "stop_randm_task" in out.getvalue()
    assert not list(journals_in_tmp.rglob("*"))


def test_a_missing_title_is_what_chaostoolkit_would_refuse_too(journals_in_tmp, tmp_path):
    experiment = json.loads((EXPERIMENTS_DIR / "kill-one-task.json").read_text())
    del experiment["title"]
    path = tmp_path / "untitled.json"
    path.write_text(json.dumps(experiment))
    out = io.StringIO()
    assert chaos_run.main(["--experiment", str(path), "--validate"], out=out) == 4
    assert "title" in out.getvalue()


@pytest.mark.parametrize("validate", [[], ["--validate"]], ids=["run", "validate"])
def test_an_unknown_experiment_leaves_no_journal(journals_in_tmp, validate) -> None:
    out = io.StringIO()
    argv = ["--experiment", "kill-evrything", "--cluster", "c", *validate]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_BAD_EXPERIMENT
    assert "no experiment 'kill-evrything'" in out.getvalue()
    assert not list(journals_in_tmp.rglob("*.json"))


def test_an_unknown_stack_is_exit_2_and_leaves_no_journal(journals_in_tmp) -> None:
    out = io.StringIO()
    argv = ["--stack", "prd", "--experiment", "kill-one-task", "--cluster", "c"]
    assert chaos_run.main(argv, out=out) == chaos_run.EXIT_USAGE == 2
    assert "unknown stack 'prd'" in out.getvalue() and "did you mean prod?" in out.getvalue()
    assert not list(journals_in_tmp.rglob("*.json"))


def test_an_experiment_is_always_named(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        chaos_run.parse_args(["--stack", "dev"])
    assert exited.value.code == 2
    assert "the following arguments are required: --experiment" in capsys.readouterr().err


def test_validate_json_is_one_document_on_stdout(journals_in_tmp) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--experiment", "kill-one-task", "--validate", "--json"]
    assert chaos_run.main(argv, out=out, stderr=err) == 0
    assert json.loads(out.getvalue()) == {
        "experiment": "kill-one-task",
        "stack": "dev",
        "exit_code": 0,
    }
    assert "is valid" in err.getvalue()
