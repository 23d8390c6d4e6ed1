"""Where chaos.run keeps its journals, and reading them back."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from chaos import journals
from chaos import run as chaos_run
from chaos.runner import verdict

WHEN = datetime(2026, 3, 1, 10, 0, 2, tzinfo=UTC)


def test_one_file_per_run_named_by_stack_utc_start_and_experiment(tmp_path):
    first = journals.journal_path(tmp_path, "prod", "kill-one-task", WHEN)
    assert first == tmp_path / "prod" / "20260301T100002Z-kill-one-task.json"
    journals.write_journal(first, {"a": 1})
    second = journals.journal_path(tmp_path, "prod", "kill-one-task", WHEN)
    assert second == tmp_path / "prod" / "20260301T100002Z-kill-one-task-2.json"
    assert journals.journal_path(tmp_path, "../x", "a/b", WHEN).parent.parent == tmp_path
    assert journals.journal_path(tmp_path, "..", "..", WHEN).parent == tmp_path / "stack"


def test_a_refused_run_reads_as_aborted():
    journal = journals.refused_journal("kill-one-task", None, "no AWS credentials", WHEN, WHEN)
    assert verdict(journal) == "aborted"
    assert (journal["status"], journal["reason"]) == ("aborted", "no AWS credentials")


def test_only_journals_with_a_summary_are_runs(tmp_path):
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"status": "completed"}))
    (folder / "b.json").write_text("[]")
    summary = {"experiment": "x", "outcome": "passed", "started": WHEN.isoformat()}
    (folder / "c.json").write_text(json.dumps({"steadystate": summary}))
    records, problems = journals.read_journals(tmp_path, "dev")
    assert records == []
    assert [p.split(":")[0] for p in problems] == ["a.json", "b.json", "c.json"]
    assert journals.read_journals(tmp_path, "prod") == ([], [])


def test_journal_dir_and_journal_flags(moto, tmp_path, journals_in_tmp, monkeypatch):
    monkeypatch.setattr(chaos_run, "stack_region", lambda _stack: None)  # refused: no region
    argv = ["--experiment", "kill-one-task", "--cluster", "c", "--service", "s", "--url", "x",
            "--journal-dir", str(tmp_path / "kept"), "--journal", str(tmp_path / "copy.json")]  # fmt: skip
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert chaos_run.main(argv, out=io.StringIO()) == chaos_run.EXIT_NO_CREDENTIALS
    (kept,) = (tmp_path / "kept" / "dev").glob("*-kill-one-task.json")
    assert json.loads(kept.read_text()) == json.loads((tmp_path / "copy.json").read_text())
    assert not list(journals_in_tmp.rglob("*.json"))  # --journal-dir replaced the default


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_by_default_journals_go_under_the_stack(moto, journals_in_tmp, stack, monkeypatch):
    monkeypatch.setattr(chaos_run.shutil, "which", lambda _name: None)  # refused: no pulumi CLI
    argv = ["--stack", stack, "--experiment", "kill-one-task"]
    assert chaos_run.main(argv, out=io.StringIO()) == chaos_run.EXIT_STACK_UNREACHABLE
    assert len(list((journals_in_tmp / stack).glob("*-kill-one-task.json"))) == 1


def test_journals_are_git_ignored():
    from pathlib import Path

    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    assert "chaos/journals/" in ignore
