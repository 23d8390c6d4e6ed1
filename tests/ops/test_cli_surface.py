"""One command-line surface over check, cost, resilience, release, chaos and chaos-report.

The same `--stack` (default dev) and `--json` (one document on stdout) everywhere, one exit code (2)
for an unknown stack with a "did you mean", help on every option, the same behaviour from any
directory, a one-line hint when a tool's file is run by its path, and ARGS through every make target.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.cli.options import DEFAULT_STACK, EXIT_UNKNOWN_STACK, JSON_HELP, STACK_HELP

REPO = Path(__file__).resolve().parents[2]

# module, its file, what else it needs on every command line
TOOLS = [
    ("ops.gate.check", "ops/gate/check.py", []),
    ("ops.cost", "ops/cost/__main__.py", []),
    ("ops.resilience.report", "ops/resilience/report.py", []),
    ("ops.release.pipeline", "ops/release/pipeline.py", ["--dry-run"]),
    ("chaos.run", "chaos/run.py", ["--experiment", "kill-one-task"]),
    ("chaos.report", "chaos/report.py", ["--no-fis"]),
]
IDS = [module for module, _, _ in TOOLS]


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def parser_of(module: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser a tool's `main` builds (caught as it parses, before anything runs)."""

    def catch(self: argparse.ArgumentParser, *_args: object, **_kwargs: object):
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    tool = importlib.import_module(module if module != "ops.cost" else "ops.cost.__main__")
    with pytest.raises(_Parsed) as caught:
        tool.main([])
    return caught.value.parser


def run(module_args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run(
        [sys.executable, *module_args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("module", "path", "extra"), TOOLS, ids=IDS)
def test_every_option_has_help_and_stack_and_json_mean_the_same(module, path, extra, monkeypatch):
    parser = parser_of(module, monkeypatch)
    actions = {a.dest: a for a in parser._actions}
    undocumented = [a.option_strings for a in parser._actions if not a.help]
    assert undocumented == [], f"{module}: options without help"
    assert actions["stack"].default == DEFAULT_STACK and actions["stack"].help == STACK_HELP
    assert isinstance(actions["json"], argparse._StoreTrueAction)
    assert (actions["json"].help or "").startswith(JSON_HELP)


@pytest.mark.slow
@pytest.mark.parametrize(("module", "path", "extra"), TOOLS, ids=IDS)
def test_an_unknown_stack_is_exit_2_with_a_did_you_mean_from_any_directory(
    module, path, extra, tmp_path
):
    done = run(["-m", module, "--stack", "prd", *extra], cwd=tmp_path)
    assert done.returncode == EXIT_UNKNOWN_STACK, done.stdout + done.stderr
    assert "unknown stack 'prd'" in done.stdout + done.stderr
    assert "did you mean prod?" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written where it was run


@pytest.mark.slow
@pytest.mark.parametrize(("module", "path", "extra"), TOOLS, ids=IDS)
def test_running_a_tool_file_by_path_is_a_one_line_hint(module, path, extra, tmp_path):
    done = run([str(REPO / path), "--stack", "dev"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"run `python -m {module}`" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module_args", "key"),
    [
        (["-m", "ops.gate.check", "--stack", "dev", "--json"], "summary"),
        (["-m", "ops.cost", "--stack", "dev", "--json"], "stack"),
        (["-m", "ops.resilience.report", "--stack", "dev", "--json"], "stack"),
        (["-m", "ops.release.pipeline", "--stack", "dev", "--dry-run", "--json"], "steps"),
        (["-m", "chaos.run", "--experiment", "kill-one-task", "--validate", "--json"], "exit_code"),
    ],
    ids=["check", "cost", "resilience", "release-plan", "chaos-validate"],
)
def test_json_is_one_document_on_stdout_from_any_directory(module_args, key, tmp_path):
    done = run(module_args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert key in json.loads(done.stdout)


def _recipes() -> dict[str, list[str]]:
    """make target → its recipe lines, from the Makefile and mk/*.mk."""
    recipes: dict[str, list[str]] = {}
    target = None
    for makefile in [REPO / "Makefile", *sorted((REPO / "mk").glob("*.mk"))]:
        for line in makefile.read_text().splitlines():
            if match := re.match(r"^([a-z][a-zA-Z_-]*):", line):
                target = match.group(1)
                recipes[target] = []
            elif line.startswith("\t") and target:
                recipes[target].append(line.strip())
            elif not line.strip():
                target = None
    return recipes


def test_every_tool_target_passes_args_through() -> None:
    tools = re.compile(r"\$\(PY\) (-m (?!pip|coverage (?:erase|combine|report))\S+|bench/\S+\.py)")
    missing = [
        f"{target}: {line}"
        for target, lines in _recipes().items()
        for line in lines
        if tools.search(line)
        and not line.endswith("$(ARGS)")
        # the app server takes its settings from PORT/WORKERS, as in the image, not from flags
        and target != "serve"
    ]
    assert missing == []
    assert "--stack $(STACK)" in " ".join(_recipes()["chaos-report"])


def test_make_chaos_needs_an_experiment_and_lists_them() -> None:
    done = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "chaos"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "make chaos needs EXPERIMENT=<name>, one of: bad-release" in done.stderr
    assert "kill-one-task" in done.stderr


def test_the_venv_makes_the_tools_importable_from_any_directory() -> None:
    """`make venv` writes a .pth naming the project, so `python -m ops.gate.check` runs anywhere."""
    text = (REPO / "Makefile").read_text()
    assert 'sysconfig.get_path("purelib"), "steadystate.pth").write_text("$(CURDIR)' in text
