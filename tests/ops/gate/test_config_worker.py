"""ops.gate.config_worker: the policy config is checked in a subprocess of its own, with the
answers the gate's own process gives, and the gate falls back to its own process when the worker
has no answer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.gate.analyzer_client import PackEnvironment, PolicyPackProcess
from ops.gate.check import ConfiguredPack, configure_pack, read_policy_project
from ops.gate.config_worker import ConfigWorker
from ops.gate.policy_config import PolicyConfigError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURE_PACK = HERE / "fixtures" / "pack"
REPO_PACK = REPO / "policy"


@pytest.fixture(scope="module")
def repo_pack() -> Iterator[PolicyPackProcess]:
    """The project's own pack (it ships its own config check), told about a prod stack."""
    environment = PackEnvironment(project="steadystate", stack="prod")
    with PolicyPackProcess(REPO_PACK, environment) as pack:
        yield pack.wait_ready()


def _configure(
    pack: PolicyPackProcess, config: Path | None, worker: ConfigWorker | None
) -> ConfiguredPack | str:
    """The configured pack, or the PolicyConfigError's message."""
    try:
        return configure_pack(
            pack,
            config_path=config,
            policy_project=read_policy_project(pack.pack_dir),
            worker=worker,
        )
    except PolicyConfigError as err:
        return str(err)


def _same_outcome(pack: PolicyPackProcess, config: Path | None) -> ConfiguredPack | str:
    in_process = _configure(pack, config, None)
    worker = ConfigWorker(pack.pack_dir, config)
    in_worker = _configure(pack, config, worker)
    assert worker.answered, "the worker must have answered (else the test compares nothing)"
    if isinstance(in_process, str) or isinstance(in_worker, str):
        assert in_worker == in_process
    else:
        assert in_worker.resolved == in_process.resolved
        assert in_worker.version == in_process.version
    return in_worker


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return path


def test_the_shipped_configs_resolve_the_same(repo_pack: PolicyPackProcess) -> None:
    for stack in ("dev", "prod"):
        outcome = _same_outcome(repo_pack, REPO_PACK / "config" / f"{stack}.json")
        assert not isinstance(outcome, str)
        assert {p.name for p in outcome.info.policies} <= set(outcome.resolved)


def test_the_packs_own_problems_are_the_same(repo_pack: PolicyPackProcess, tmp_path: Path) -> None:
    config = _write(tmp_path, {"rds-multi-az": {"noSuchSetting": 1}, "no-such": "advisory"})
    outcome = _same_outcome(repo_pack, config)
    assert isinstance(outcome, str)
    assert "(the pack's own check)" in outcome
    assert "noSuchSetting" in outcome


def test_reconcile_problems_are_the_same(fixture_pack: PolicyPackProcess) -> None:
    outcome = _same_outcome(fixture_pack, FIXTURE_PACK / "config" / "malformed.json")
    assert isinstance(outcome, str)
    assert "log-retention: minimumDays: 'thirty' is not of type 'integer'" in outcome
    assert "no-open-shh: the pack has no policy of that name (did you mean no-open-ssh?)" in outcome


@pytest.mark.parametrize("config", ["strict.json", "dev.json", None])
def test_fixture_configs_resolve_the_same(fixture_pack: PolicyPackProcess, config: str | None):
    path = FIXTURE_PACK / "config" / config if config else None
    assert not isinstance(_same_outcome(fixture_pack, path), str)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        [sys.executable, "-c", "print('not json')"],
        [sys.executable, "-c", "import sys; sys.stdin.readline(); print('{}')"],
        ["/nonexistent/python"],
    ],
    ids=["exits", "garbage", "wrong-answer", "cannot-start"],
)
def test_a_worker_without_an_answer_leaves_the_check_to_the_gate(
    fixture_pack: PolicyPackProcess, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setattr(ConfigWorker, "command", property(lambda _self: command))
    config = FIXTURE_PACK / "config" / "malformed.json"
    worker = ConfigWorker(fixture_pack.pack_dir, config)

    assert _configure(fixture_pack, config, worker) == _configure(fixture_pack, config, None)
    assert not worker.answered


def test_the_gates_process_loads_neither_the_pack_nor_jsonschema() -> None:
    """The point of the worker: those imports cost the program's core ~0.3 s."""
    code = (
        "import json, sys\n"
        "from ops.gate import check\n"
        "code = check.main(['--stack', 'prod', '--json'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'guardrails')"
        " or m.startswith('policy.guardrails.registry') or m.startswith('policy.guardrails.config'))\n"
        "print(json.dumps({'code': code, 'loaded': loaded}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    document = json.loads(result.stderr.strip().splitlines()[-1])
    assert document == {"code": 0, "loaded": []}
