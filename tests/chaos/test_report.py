"""``python -m chaos.report``: the journals chaos.run keeps and the stack's FIS history (moto) per
experiment — counts, last run, time to recover, error rate — as Markdown and one SVG chart each."""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

from chaos import journals
from chaos import report as chaos_report
from chaos import run as chaos_run
from chaos.run_records import RunRecord, summarize
from chaos.svg_chart import COLOURS, render_chart
from tests.chaos.moto_world import REGION

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def keep(directory: Path, stack: str, experiment: str, days_ago: int, outcome: str, **summary):
    started = NOW - timedelta(days=days_ago)
    journal = {"status": "completed", "start": started.isoformat(), "run": []}
    journal[journals.SUMMARY_KEY] = {
        "experiment": experiment,
        "stack": stack,
        "outcome": outcome,
        "started": started.isoformat(),
        **summary,
    }
    path = journals.journal_path(directory, stack, experiment, started)
    return journals.write_journal(path, journal)


def report(tmp_path: Path, *argv: str, fis=None) -> tuple[int, str, str]:
    out = io.StringIO()
    code = chaos_report.main(
        ["--journal-dir", str(tmp_path / "journals"), "--out", str(tmp_path / "out"), *argv],
        out=out,
        fis=fis,
        now=lambda: NOW,
    )
    text = out.getvalue()
    path = tmp_path / "out" / (argv[argv.index("--stack") + 1] if "--stack" in argv else "dev")
    markdown = (path / "chaos-report.md").read_text() if code == 0 else ""
    return code, text, markdown


def row(markdown: str, experiment: str) -> list[str]:
    (line,) = [line for line in markdown.splitlines() if line.startswith(f"| `{experiment}`")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_journals_make_one_row_and_one_chart_per_experiment(tmp_path):
    folder = tmp_path / "journals"
    keep(folder, "dev", "kill-one-task", 30, "succeeded", time_to_recover=10.0, error_rate=0.001)
    keep(folder, "dev", "kill-one-task", 20, "deviated", error_rate=0.02)
    keep(folder, "dev", "kill-one-task", 10, "succeeded", time_to_recover=30.0, error_rate=0.0)
    keep(folder, "dev", "kill-one-task", 5, "succeeded", time_to_recover=20.0)
    keep(folder, "dev", "bad-release", 3, "aborted", reason="no AWS credentials: set ...")
    keep(folder, "prod", "kill-one-task", 1, "failed")  # another stack: not in dev's report
    (folder / "dev" / "20260101T000000Z-garbage.json").write_text("{not json")
    code, text, markdown = report(tmp_path, "--stack", "dev", "--no-fis")
    assert code == 0, text
    assert f"report written to {tmp_path / 'out' / 'dev' / 'chaos-report.md'}" in text
    assert row(markdown, "kill-one-task") == [
        "`kill-one-task`", "chaostoolkit", "4", "3", "1", "0", "0", "2026-05-27 12:00Z succeeded",
        "20.0 s", "30.0 s", "2.00 %",
    ]  # fmt: skip
    assert row(markdown, "bad-release")[2:7] == ["1", "0", "0", "1", "0"]
    assert row(markdown, "bad-release")[8:] == ["—", "—", "—"]
    assert "aborted: no AWS credentials: set ..." in markdown
    assert "1 unreadable" in markdown and "20260101T000000Z-garbage.json" in text
    assert "FIS history skipped: --no-fis" in markdown
    charts = sorted(p.name for p in (tmp_path / "out" / "dev").glob("*.svg"))
    assert charts == ["bad-release.svg", "kill-one-task.svg"]
    assert "![kill-one-task](kill-one-task.svg)" in markdown


def test_no_journals_still_makes_a_report_that_says_so(tmp_path):
    code, text, markdown = report(tmp_path, "--stack", "prod", "--no-fis")
    assert code == 0
    assert "no journals for stack prod" in text
    assert "No runs recorded for stack prod: no journals in" in markdown


def test_without_credentials_the_fis_history_is_skipped_and_says_why(tmp_path, monkeypatch):
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    keep(tmp_path / "journals", "dev", "kill-one-task", 1, "succeeded")
    code, text, markdown = report(tmp_path, "--stack", "dev")
    assert code == 0
    assert "FIS history skipped: no AWS credentials" in text
    assert "- FIS history skipped: no AWS credentials" in markdown
    assert row(markdown, "kill-one-task")[2] == "1"


def test_a_run_of_chaos_run_is_what_the_report_reads(world, journals_in_tmp, tmp_path):
    world.tag_stack("prod")  # refused: the cluster is prod's, --stack says dev
    argv = ["--experiment", "kill-one-task", "--cluster", world.cluster, "--service",
            world.service, "--url", "http://x"]  # fmt: skip
    assert chaos_run.main(argv, out=io.StringIO()) == chaos_run.EXIT_WRONG_STACK
    out = io.StringIO()
    argv = ["--stack", "dev", "--journal-dir", str(journals_in_tmp), "--no-fis"]
    assert chaos_report.main([*argv, "--out", str(tmp_path / "out")], out=out) == 0
    markdown = (tmp_path / "out" / "dev" / "chaos-report.md").read_text()
    assert row(markdown, "kill-one-task")[2:7] == ["1", "0", "0", "1", "0"]
    assert "is tagged Stack=prod, not Stack=dev" in markdown


# -- FIS history ---------------------------------------------------------------------------------
@pytest.fixture
def fis(moto):
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 10**9}
    )
    yield boto3.client("fis", region_name=REGION)
    state_manager.unset_transition("fis::experiment")


def template(fis, key: str, stack: str) -> str:
    return fis.create_experiment_template(
        clientToken=f"{key}-{stack}", description=key,
        roleArn="arn:aws:iam::123456789012:role/fis", stopConditions=[{"source": "none"}],
        actions={"wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}}},
        tags={"steadystate:experiment": key, "Stack": stack, "Name": f"chaos-{key}"},
    )["experimentTemplate"]["id"]  # fmt: skip


def ran(fis, template_id: str, status: str, days_ago: int) -> str:
    from moto.fis.models import fis_backends

    experiment_id = fis.start_experiment(
        clientToken=f"{template_id}-{days_ago}", experimentTemplateId=template_id
    )["experiment"]["id"]
    model = fis_backends[DEFAULT_ACCOUNT_ID][REGION].experiments[experiment_id]
    model.status = status
    model.start_time = model.creation_time = (NOW - timedelta(days=days_ago)).timestamp()
    return experiment_id


def test_fis_runs_of_the_stack_templates_are_reported_as_fis_key(fis, tmp_path):
    stop, db = template(fis, "stop-task", "dev"), template(fis, "dependency-db", "dev")
    prod_stop = template(fis, "stop-task", "prod")
    ran(fis, stop, "completed", 40)
    ran(fis, stop, "stopped", 12)  # a guard alarm stopped it: deviated
    ran(fis, stop, "completed", 2)
    ran(fis, db, "failed", 9)
    ran(fis, db, "running", 0)  # not finished: left out
    ran(fis, prod_stop, "completed", 1)  # prod's template: not dev's
    code, text, markdown = report(tmp_path, "--stack", "dev", fis=fis)
    assert code == 0, text
    assert row(markdown, "fis-stop-task")[1:8] == ["fis", "3", "2", "1", "0", "0",
                                                   "2026-05-30 12:00Z succeeded"]  # fmt: skip
    assert row(markdown, "fis-dependency-db")[2:7] == ["1", "0", "0", "0", "1"]
    assert "FIS history: 4 finished runs of the stack's templates, 1 still in progress" in markdown
    assert "1 of other or removed templates left out" in markdown
    assert (tmp_path / "out" / "dev" / "fis-stop-task.svg").is_file()


def test_fis_refusing_is_a_skip_with_the_reason(tmp_path):
    from botocore.exceptions import ClientError

    class Refusing:
        def list_experiment_templates(self, **_kwargs):
            error = {"Code": "AccessDeniedException", "Message": "not allowed fis:List*"}
            raise ClientError({"Error": error}, "ListExperimentTemplates")

    code, _, markdown = report(tmp_path, "--stack", "dev", fis=Refusing())
    assert code == 0
    assert "FIS history skipped: FIS refused ListExperiments/GetExperiment: " in markdown
    assert "AccessDeniedException: not allowed fis:List*" in markdown


# -- the figures and the chart ----------------------------------------------------------------------
def test_summary_median_and_maximum():
    runs = [
        RunRecord("x", "chaostoolkit", NOW + timedelta(days=n), "succeeded", rate, ttr)
        for n, (rate, ttr) in enumerate([(0.01, 5.0), (None, 15.0), (0.03, None), (0.0, 7.0)])
    ]
    (summary,) = summarize(runs)
    assert (summary.recovery_p50, summary.recovery_max, summary.error_rate_max) == (7.0, 15.0, 0.03)
    assert summary.last_run == NOW + timedelta(days=3)


def test_the_chart_draws_one_mark_per_run_and_the_measured_error_rates():
    runs = [
        RunRecord("x", "chaostoolkit", NOW - timedelta(days=3), "succeeded", 0.0),
        RunRecord("x", "chaostoolkit", NOW - timedelta(days=2), "deviated", 0.05),
        RunRecord("x", "chaostoolkit", NOW - timedelta(days=1), "aborted"),
        RunRecord("x", "chaostoolkit", NOW, "failed", 0.01),
    ]
    root = ET.fromstring(render_chart("x <on> dev", runs))
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text == "x <on> dev"
    marks = [c.get("fill") for c in root.iter(f"{SVG}circle") if c.get("r") == "6"]
    assert marks == [COLOURS[o] for o in ("succeeded", "deviated", "aborted", "failed")]
    (line,) = root.iter(f"{SVG}polyline")
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    assert len(points) == 3  # the aborted run measured nothing
    assert points[1][1] < points[2][1] < points[0][1]  # 5 % above 1 % above 0 %
    assert "no runs recorded" in render_chart("empty", [])


def test_a_stack_name_that_is_a_path_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        chaos_report.main(["--stack", "..", "--out", str(tmp_path)])
    assert exit_info.value.code == chaos_report.EXIT_USAGE == 2
    assert "--stack must be a stack name" in capsys.readouterr().err


def test_journals_of_an_experiment_that_does_not_exist_never_appear(tmp_path):
    folder = tmp_path / "journals"
    keep(folder, "dev", "kill-one-task", 2, "succeeded")
    keep(folder, "dev", "kill-evrything", 1, "aborted", reason="no experiment 'kill-evrything'")
    code, text, markdown = report(tmp_path, "--stack", "dev", "--no-fis")
    assert code == 0
    assert "skipped the journals of 'kill-evrything': there is no such experiment" in text
    assert "kill-evrything" not in markdown and row(markdown, "kill-one-task")
    assert not (tmp_path / "out" / "dev" / "kill-evrything.svg").exists()


def test_an_unknown_stack_is_refused_with_exit_2(tmp_path, capsys):
    code = chaos_report.main(["--stack", "prd", "--out", str(tmp_path)], out=io.StringIO())
    assert code == 2
    assert "unknown stack 'prd'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_json_summarizes_the_report_on_stdout(tmp_path):
    keep(tmp_path / "journals", "dev", "kill-one-task", 2, "succeeded", time_to_recover=12.0)
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "--journal-dir",
        str(tmp_path / "journals"),
        "--out",
        str(tmp_path / "out"),
        "--no-fis",
        "--json",
    ]
    assert chaos_report.main(argv, out=out, stderr=err, now=lambda: NOW) == 0
    document = json.loads(out.getvalue())
    assert document["stack"] == "dev" and document["fis"] == "skipped: --no-fis"
    [experiment] = document["experiments"]
    assert experiment["experiment"] == "kill-one-task" and experiment["runs"] == 1
    assert "report written to" in err.getvalue()
