"""`python -m ops.gate.check` end to end: tree, report, JSON, exit codes, failures, graph."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ops.gate import check

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PACK = HERE / "fixtures" / "pack"
PROGRAMS = HERE / "fixtures" / "programs"


def run_check(capsys, *args: str) -> tuple[int, str, str]:
    code = check.main(["--stack", "dev", "--policy-pack", str(PACK), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("fresh_loop")
def test_text_report_tree_and_exit_code(capsys) -> None:
    code, out, _ = run_check(capsys, "--project-dir", str(PROGRAMS / "basic"))
    assert code == 1
    assert out.startswith(
        "pulumi:pulumi:Stack  basic-dev\n"
        "├─ app-logs  (aws:cloudwatch/logGroup:LogGroup)\n"
        "├─ edge  (basic:index:Edge)  [component]\n"
        "│  ├─ edge-ssh  (aws:ec2/securityGroup:SecurityGroup)\n"
        "│  └─ probe-sg  (aws:ec2/securityGroup:SecurityGroup)\n"
        "├─ probe-logs  (aws:cloudwatch/logGroup:LogGroup)\n"
        "├─ probe-topic  (aws:sns/topic:Topic)\n"
        "└─ west  (pulumi:providers:aws)\n"
    )
    assert "  2  aws:ec2/securityGroup:SecurityGroup" in out
    assert "8 resources: 5 custom, 1 components, 1 explicit providers, 1 stack" in out
    assert (
        "  mandatory  no-open-ssh        edge-ssh (aws:ec2/securityGroup:SecurityGroup): "
        "port 22 is open to 0.0.0.0/0"
    ) in out
    summary = out.rstrip().splitlines()[-1]
    assert summary.startswith("gate-test-pack: 7 policies, 8 resources, 1 mandatory, ")


@pytest.mark.usefixtures("fresh_loop")
def test_json_document(capsys) -> None:
    code, out, _ = run_check(
        capsys,
        "--project-dir",
        str(PROGRAMS / "basic"),
        "--json",
        "--policy-config",
        str(PACK / "config" / "strict.json"),
    )
    doc = json.loads(out)
    assert code == doc["exitCode"] == 1
    assert doc["status"] == "violations"
    assert (doc["stack"], doc["project"]) == ("dev", "basic")
    assert doc["policyPack"] == {
        "name": "gate-test-pack",
        "version": "0.3.0",
        "policies": 7,
        "disabled": ["explode", "probe-resource", "probe-stack"],
    }
    assert doc["summary"]["resources"] == doc["resources"]["total"] == 8
    assert {"type": "basic:index:Edge", "count": 1, "kind": "component"} in doc["resources"][
        "byType"
    ]
    assert doc["summary"]["mandatory"] == len(doc["violations"]) > 0
    first = doc["violations"][0]
    assert set(first) == {
        "level",
        "policy",
        "resource",
        "message",
        "description",
        "severity",
        "stage",
    }
    assert set(first["resource"]) == {"name", "type", "urn"}
    assert {"synthesize", "analyze", "analyze_stack", "total"} <= set(doc["timings"])


@pytest.mark.usefixtures("fresh_loop")
def test_clean_stack_exits_zero(capsys, tmp_path) -> None:
    config = tmp_path / "lenient.json"
    config.write_text('{"all": "advisory"}')
    code, out, _ = run_check(
        capsys, "--project-dir", str(PROGRAMS / "basic"), "--policy-config", str(config)
    )
    assert code == 0
    assert ", 0 mandatory, " in out.splitlines()[-1]


@pytest.mark.usefixtures("fresh_loop")
def test_program_failure_shows_only_project_frames(capsys) -> None:
    code, out, err = run_check(capsys, "--project-dir", str(PROGRAMS / "failing"))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "program failed:"
    assert 'tests/ops/gate/fixtures/programs/failing/__main__.py", line 7, in <module>' in err
    assert 'failing/failing_helper.py", line 6, in subnet_count' in err
    assert "    count = subnet_count([" in err
    assert lines[-1] == "KeyError: 'b'"
    for noise in ("site-packages", "runpy", "ops/synth/runner.py", "asyncio", "pulumi/runtime"):
        assert noise not in err


@pytest.mark.usefixtures("fresh_loop")
def test_settings_error_is_shown_as_its_message(capsys) -> None:
    code, _, err = run_check(capsys, "--project-dir", str(PROGRAMS / "bad_settings"))
    assert code == 2
    assert err == (
        "program configuration error:\n"
        "invalid stack configuration:\n"
        "  - desiredCount = -3: must be at least 1\n"
    )


@pytest.mark.usefixtures("fresh_loop")
def test_program_failure_as_json(capsys) -> None:
    code, out, _ = run_check(capsys, "--project-dir", str(PROGRAMS / "failing"), "--json")
    doc = json.loads(out)
    assert code == doc["exitCode"] == 2
    assert doc["status"] == "program-error"
    assert doc["error"]["type"] == "KeyError"
    assert "failing_helper.py" in doc["error"]["message"]


def test_unknown_stack_is_a_program_error(capsys) -> None:
    code, _, err = run_check(capsys, "--project-dir", str(PROGRAMS / "basic"), "--stack", "qa")
    assert code == 2
    assert "unknown stack 'qa' (no Pulumi.qa.yaml in " in err
    assert "known stacks: dev" in err


def test_policy_pack_problems_exit_3(capsys, tmp_path) -> None:
    code, _, err = run_check(
        capsys, "--project-dir", str(PROGRAMS / "basic"), "--policy-pack", str(tmp_path)
    )
    assert code == 3
    assert "PulumiPolicy.yaml not found" in err
    code, _, err = run_check(
        capsys, "--project-dir", str(PROGRAMS / "basic"), "--policy-config", str(tmp_path / "x")
    )
    assert code == 3
    assert "file not found" in err


@pytest.mark.usefixtures("fresh_loop")
def test_pack_crash_at_start_exits_3(capsys, tmp_path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('pack refuses to start')\n")
    code, _, err = run_check(
        capsys, "--project-dir", str(PROGRAMS / "basic"), "--policy-pack", str(tmp_path)
    )
    assert code == 3
    assert "policy pack exited before it started serving" in err
    assert "pack refuses to start" in err


@pytest.mark.usefixtures("fresh_loop")
def test_malformed_policy_config_exits_3_naming_policy_and_key(capsys) -> None:
    code, out, err = run_check(
        capsys,
        "--project-dir",
        str(PROGRAMS / "basic"),
        "--policy-config",
        str(PACK / "config" / "malformed.json"),
    )
    assert code == 3
    assert out == "", "the policy config is validated before the resource tree is printed"
    assert err.startswith("policy config error: ")
    assert "log-retention: minimumDays: 'thirty' is not of type 'integer'" in err
    assert "no-open-shh: the pack has no policy of that name (did you mean no-open-ssh?)" in err


def test_usage_errors_exit_4(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        check.main(["--bogus"])
    assert exc.value.code == 4


def test_graph_without_dot_says_how_to_install(capsys, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    code, out, err = run_check(capsys, "--graph", "x.svg")
    assert code == 4
    assert out == ""
    assert "apt-get install graphviz" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
@pytest.mark.usefixtures("fresh_loop")
def test_graph_writes_svg(capsys, tmp_path) -> None:
    svg = tmp_path / "stack.svg"
    code, out, _ = run_check(capsys, "--project-dir", str(PROGRAMS / "basic"), "--graph", str(svg))
    assert code == 1
    assert f"graph written to {svg}" in out
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "edge (basic:index:Edge)" in text  # the component's cluster label
    assert "probe&#45;sg" in text or "probe-sg" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
@pytest.mark.usefixtures("fresh_loop")
def test_graph_writes_png_for_a_png_file(capsys, tmp_path) -> None:
    png = tmp_path / "stack.png"
    code, out, _ = run_check(capsys, "--project-dir", str(PROGRAMS / "basic"), "--graph", str(png))
    assert code == 1
    assert f"graph written to {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_graph_refuses_other_file_types_before_any_work(capsys, tmp_path) -> None:
    code, out, err = run_check(capsys, "--graph", str(tmp_path / "stack.jpg"))
    assert code == 4
    assert out == ""
    assert err.strip() == (
        f"--graph: {tmp_path / 'stack.jpg'}: unsupported file type '.jpg'; use .svg or .png"
    )
    assert not (tmp_path / "stack.jpg").exists()


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_graph_into_a_folder_that_is_not_there_fails_before_any_work(
    capsys, tmp_path, kind
) -> None:
    folder = tmp_path / "out"
    if kind == "a file":
        folder.write_text("")
    target = folder / "stack.svg"
    code, out, err = run_check(capsys, "--graph", str(target))
    assert code == 4
    assert out == ""
    what = "does not exist" if kind == "missing" else "is not a folder"
    assert err.strip() == (
        f"--graph: {target}: the folder {folder} {what}; create it or choose another path"
    )
    assert folder.exists() == (kind == "a file")  # never made


def test_graph_level_without_graph_is_refused(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        check.main(["--stack", "dev", "--graph-level", "components"])
    assert exc.value.code == 4
    _, err = capsys.readouterr()
    assert "--graph-level only applies to a graph: add --graph FILE.svg or FILE.png" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
@pytest.mark.usefixtures("fresh_loop")
def test_graph_component_overview(capsys, tmp_path) -> None:
    svg = tmp_path / "overview.svg"
    code, _, _ = run_check(
        capsys,
        "--project-dir",
        str(PROGRAMS / "basic"),
        "--graph",
        str(svg),
        "--graph-level",
        "components",
    )
    assert code == 1
    text = svg.read_text()
    assert "<svg" in text
    assert "basic:index:Edge" in text and "2 resources" in text  # the component, its count
    assert "probe&#45;sg" not in text and "probe-sg" not in text  # no resource nodes


def _processes_with(marker: str) -> list[int]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_cli_subprocess_exit_code_and_pack_cleanup() -> None:
    """The real entry point (`os._exit` path) leaves no pack subprocess behind."""
    marker = f"OPS_CHECK_TEST_MARKER={uuid.uuid4()}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops.gate.check",
            "--stack",
            "dev",
            "--project-dir",
            str(PROGRAMS / "basic"),
            "--policy-pack",
            str(PACK),
            "--json",
        ],
        cwd=REPO,
        env={**os.environ, marker.split("=")[0]: marker.split("=")[1]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["mandatory"] == 1
    assert _processes_with(marker) == []


def test_the_docs_document_every_gate_exit_code_with_make_s() -> None:
    text = (REPO / "docs/reference/commands.md").read_text()
    table = text.split("| gate exit | meaning | `make check` exit |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    codes = {int(cells[0]) for cells in rows if cells[0].strip().isdigit()}
    assert codes == {
        check.EXIT_OK,
        check.EXIT_MANDATORY,
        check.EXIT_PROGRAM,
        check.EXIT_PACK,
        check.EXIT_USAGE,
    }
    for cells in rows:  # make exits 0 only when the gate did, 2 otherwise
        assert cells[2].strip() == ("0" if cells[0].strip() == "0" else "2")
