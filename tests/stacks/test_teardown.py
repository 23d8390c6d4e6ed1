"""Tearing prod down is a documented path that works, and data stays protected until it is chosen.

`pulumi destroy` of prod used to stop half way: the image repository (no forceDelete) and the log
buckets (no forceDestroy) refuse to go while they hold images and logs, and the load balancers and
the database refuse while deletion protection is on. `steadystate:teardown.allowDataLoss` flips
exactly those, keeps the database's final snapshot, tags what lost its protection, and the policy
pack lets that `up` through while reporting it (advisory `teardown-armed`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops.synth.runner import PROJECT_DIR, Synthesis, synthesize

LB = "aws:lb/loadBalancer:LoadBalancer"
DB = "aws:rds/instance:Instance"
REPO = "aws:ecr/repository:Repository"
BUCKET = "aws:s3/bucket:Bucket"
ARMED = {"Teardown": "armed"}


@pytest.fixture(scope="module")
def armed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with one more stack: prod's configuration with teardown.allowDataLoss set."""
    root = tmp_path_factory.mktemp("teardown")
    (root / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"]
    config["steadystate:teardown"] = {"allowDataLoss": True}
    (root / "Pulumi.teardown.yaml").write_text(yaml.safe_dump({"config": config}))
    (root / "app").symlink_to(PROJECT_DIR / "app")
    (root / "__main__.py").symlink_to(PROJECT_DIR / "__main__.py")
    return root


def _synthesize(stack: str, project_dir: Path) -> Synthesis:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize(stack, project_dir=project_dir, program=PROJECT_DIR / "__main__.py")
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module")
def prod() -> Synthesis:
    return _synthesize("prod", PROJECT_DIR)


@pytest.fixture(scope="module")
def armed(armed_project: Path) -> Synthesis:
    return _synthesize("teardown", armed_project)


def destroy_blockers(run: Synthesis) -> dict[str, list]:
    """Per type, what decides whether `pulumi destroy` can delete each resource of it."""
    return {
        LB: [
            (r.inputs["enableDeletionProtection"], r.inputs["tags"].get("Teardown"))
            for r in run.of_type(LB)
        ],
        DB: [
            (
                r.inputs["deletionProtection"],
                r.inputs["skipFinalSnapshot"],
                r.inputs["tags"].get("Teardown"),
            )
            for r in run.of_type(DB)
        ],
        REPO: [r.inputs["forceDelete"] for r in run.of_type(REPO)],
        BUCKET: [r.inputs["forceDestroy"] for r in run.of_type(BUCKET)],
    }


def test_prod_protects_its_data_by_default(prod: Synthesis) -> None:
    blockers = destroy_blockers(prod)
    assert blockers[LB] == [(True, None), (True, None)]
    assert blockers[DB] == [(True, False, None)]
    assert blockers[REPO] == [False]
    assert blockers[BUCKET] == [False] * 4


def test_armed_prod_can_be_destroyed_and_keeps_the_final_snapshot(armed: Synthesis) -> None:
    blockers = destroy_blockers(armed)
    assert blockers[LB] == [(False, "armed"), (False, "armed")]
    assert blockers[DB] == [(False, False, "armed")]  # skipFinalSnapshot stays false
    (db,) = armed.of_type(DB)
    assert db.inputs["finalSnapshotIdentifier"].endswith("-final")
    assert blockers[REPO] == [True]
    assert blockers[BUCKET] == [True] * 4


def _as_prod(value: object) -> object:
    """Inputs with the stack's name written as prod (it appears in names and tags); assets as
    their type (the mocks see no content)."""
    return json.loads(
        json.dumps(value, default=lambda o: type(o).__name__).replace("teardown", "prod")
    )


def test_arming_changes_only_what_blocks_a_destroy(prod: Synthesis, armed: Synthesis) -> None:
    """The same resources; besides the destroy blockers only tags change (in place, no replacement)."""
    before = {
        r.urn.replace("urn:pulumi:prod::", "urn:pulumi:teardown::", 1): r for r in prod.records
    }
    after = {r.urn: r for r in armed.records}
    assert set(before) == set(after)
    changed_by_type: dict[str, set[str]] = {}
    for urn, rec in after.items():
        old, new = _as_prod(before[urn].inputs), _as_prod(rec.inputs)
        assert isinstance(old, dict)
        assert isinstance(new, dict)
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)} - {"tags"}
        if changed:
            changed_by_type.setdefault(rec.type, set()).update(changed)
    assert changed_by_type == {
        LB: {"enableDeletionProtection"},
        DB: {"deletionProtection"},
        REPO: {"forceDelete"},
        BUCKET: {"forceDestroy"},
    }


def test_the_pack_lets_the_armed_up_through_and_reports_it(armed_project: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops.gate.check",
            "--stack",
            "teardown",
            "--project-dir",
            str(armed_project),
            "--program",
            str(PROJECT_DIR / "__main__.py"),
            "--json",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    document = json.loads(result.stdout)
    assert result.returncode == document["exitCode"] == 0, result.stdout[-2000:]
    reported = [v for v in document["violations"] if v["policy"] == "teardown-armed"]
    assert sorted(v["resource"]["type"] for v in reported) == sorted([DB, LB, LB])
    assert {v["level"] for v in reported} == {"advisory"}
    assert all("deletion" not in v["policy"] for v in document["violations"])
