"""ops.release.pipeline through the REAL Automation API code (``auto.select_stack``, ``Stack.preview/up/
set_config/outputs``): only the ``pulumi`` binary is replaced, by a recorder that answers like the
CLI. That pins the exact command lines the pipeline causes — ``--policy-pack``/
``--policy-pack-config`` on preview and up, ``config set --path release.fleetImage`` — without a
CLI. The last test drives the real CLI and skips where there is none.

Release state never goes through ``config set``: each ``up`` names a throwaway ``--config-file``.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation import CommandResult, PulumiCommand
from semver import VersionInfo

from ops.release import pipeline as pipeline_module
from ops.release.pipeline import EXIT_OK, Pipeline, PipelineOptions
from tests.ops.release.test_pipeline import KEYS, NEW, Harness, make  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[3]
HISTORY = [
    {
        "kind": "update",
        "startTime": "2026-03-02T09:30:00.000000Z",
        "endTime": "2026-03-02T09:31:00.000000Z",
        "message": "",
        "environment": {},
        "config": {},
        "result": "succeeded",
        "version": 7,
        "resourceChanges": {"update": 4, "same": 95},
    }
]


class RecordingPulumi(PulumiCommand):
    """Stands in for the ``pulumi`` binary: records argv, answers from the harness's fake stack."""

    def __init__(self, harness: Harness) -> None:  # no super(): it would run `pulumi version`
        self.command = "pulumi"
        self.version = VersionInfo.parse("3.200.0")  # < 3.205: preview's event log is a file
        self.harness = harness
        self.argv: list[list[str]] = []

    def run(self, args, cwd, additional_env, on_output=None, on_error=None) -> CommandResult:
        args = list(args)
        self.argv.append(args)
        assert cwd == str(REPO)
        fake = self.harness.stack

        def ok(stdout: object = "") -> CommandResult:
            text = stdout if isinstance(stdout, str) else json.dumps(stdout)
            return CommandResult(stdout=text, stderr="", code=0)

        if args == ["stack", "select", "--stack", "prod"]:
            return ok()
        if args == ["config", "--show-secrets", "--json", "--stack", "prod"]:
            structured = {
                "steadystate:release": fake.release,
                "steadystate:environments": ["blue", "green"],
                "steadystate:dns": {"enabled": True, "primary": "blue"},
            }
            answer = {"aws:region": {"value": "us-east-2", "secret": False}}
            for key, value in structured.items():
                answer[key] = {"value": json.dumps(value), "objectValue": value, "secret": False}
            return ok(answer)
        if args[:3] == ["stack", "output", "--json"]:
            return ok(fake._outputs)
        if args[:2] == ["stack", "history"]:
            return ok(HISTORY)
        if args[0] == "preview":
            event_log = args[args.index("--event-log") + 1]
            with open(event_log, "a", encoding="utf-8") as events:
                summary = {"resourceChanges": {"update": 2, "same": 97}}
                events.write(json.dumps({"sequence": 1, "timestamp": 0, "summaryEvent": summary}))
                events.write("\n" + json.dumps({"sequence": 2, "timestamp": 0, "cancelEvent": {}}))
                events.write("\n")
            return ok("Previewing update (prod)")
        if args[0] == "up":
            fake.up(config_file=args[args.index("--config-file") + 1])  # plays program + ECS
            return ok("Updating (prod)")
        raise AssertionError(f"unexpected pulumi command: {args}")


def pairs(argv: list[str]) -> Mapping[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag, value in itertools.pairwise(argv):
        if flag.startswith("--") and not value.startswith("--"):
            found.setdefault(flag, []).append(value)
    return found


def test_the_pipeline_drives_the_real_automation_api_with_these_command_lines(make):  # noqa: F811
    harness: Harness = make("prod", {"onebox": True})
    cli = RecordingPulumi(harness)
    workspace = auto.LocalWorkspaceOptions(pulumi_command=cli)
    stack = auto.select_stack("prod", work_dir=str(REPO), opts=workspace)
    out = io.StringIO()
    log = pipeline_module.Log(out)
    options = PipelineOptions(bake_seconds=60, rollout_timeout=600, load_rate=50)
    pipeline = Pipeline(stack, harness.watcher, options, log=log, clock=harness.time.clock)
    assert pipeline.run() == EXIT_OK, out.getvalue()

    commands = [
        argv[0] if argv[0] in ("preview", "up") else " ".join(argv[:2]) for argv in cli.argv
    ]
    assert [c for c in commands if c in ("preview", "up")] == ["preview", "up", "up", "up", "up"]
    assert not [c for c in commands if c.startswith("config set")]  # nothing written to the file
    config_files = set()
    for argv in cli.argv:
        if argv[0] in ("preview", "up"):
            flags = pairs(argv)
            assert flags["--policy-pack"] == [str(REPO / "policy")]
            assert flags["--policy-pack-config"] == [str(REPO / "policy" / "config" / "prod.json")]
            assert flags["--color"] == ["never"]
            assert flags["--stack"] == ["prod"]
            (config_file,) = flags["--config-file"]
            assert Path(config_file).name.endswith(".Pulumi.prod.yaml")
            config_files.add(config_file)
    assert len(config_files) == 5 and not any(Path(f).exists() for f in config_files)  # cleaned
    up_argv = next(argv for argv in cli.argv if argv[0] == "up")
    assert up_argv[:3] == ["up", "--yes", "--skip-preview"]
    assert "[preview] ok: same=97, update=2" in out.getvalue()
    assert harness.stack.pins == dict.fromkeys(KEYS, NEW)


# -- the real CLI --------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="needs the pulumi CLI on PATH (not installable from PyPI/apt here)",
)
def test_real_cli_preview_with_the_policy_pack():
    stack = auto.select_stack("dev", work_dir=str(REPO))
    pipeline = Pipeline(stack, lambda region: pytest.fail("no watching in a preview"))
    result = stack.preview(**pipeline.policy_args(), color="never")
    assert isinstance(result.change_summary, Mapping)
