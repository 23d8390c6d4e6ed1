"""The GitHub workflows users copy: schema-valid, zizmor-clean, pinned, least privilege.

Both tools run offline: check-jsonschema ships the GitHub workflow schema (``--builtin-schema
vendor.github-workflows``) and ``zizmor --offline`` skips only the audits that query GitHub.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def zizmor_findings(*paths: Path) -> list[dict]:
    run = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.strip(), run.stderr
    return json.loads(run.stdout)


def test_there_is_a_pull_request_and_a_release_workflow():
    assert [p.name for p in WORKFLOWS] == ["pull-request.yml", "release.yml"]


def test_workflows_validate_against_the_github_workflow_schema():
    run = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing_high_in_the_workflows():
    findings = zizmor_findings(*WORKFLOWS)
    high = [f for f in findings if f["determinations"]["severity"] == "High"]
    assert high == [], [f["ident"] for f in high]


def test_zizmor_does_flag_a_dangerous_workflow(tmp_path):
    """The audit above can fail: the same call reports an unpinned, injectable workflow."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\non: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    high = {f["ident"] for f in zizmor_findings(bad) if f["determinations"]["severity"] == "High"}
    assert {"unpinned-uses", "template-injection", "dangerous-triggers"} <= high


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_every_action_is_pinned_by_commit_sha_with_its_version_noted():
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if "uses:" in line:
                ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
                assert PINNED.match(ref), f"{path.name}: {ref} is not pinned by commit SHA"
                assert re.search(r"# v\d", line), f"{path.name}: {ref} has no version comment"


def test_permissions_are_minimal_and_only_release_jobs_get_an_oidc_token():
    pr = _load(REPO / ".github/workflows/pull-request.yml")
    assert pr["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in pr["jobs"].values())
    release = _load(REPO / ".github/workflows/release.yml")
    assert release["permissions"] == {}
    for job in release["jobs"].values():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_release_is_dev_then_prod_behind_an_environment_with_oidc_and_artifacts():
    release = _load(REPO / ".github/workflows/release.yml")
    assert release["on"] == {"push": {"branches": ["main"]}}
    dev, prod = release["jobs"]["dev"], release["jobs"]["prod"]
    assert prod["needs"] == "dev" and prod["environment"] == "prod"
    for name, job in (("dev", dev), ("prod", prod)):
        steps = job["steps"]
        creds = next(s for s in steps if "configure-aws-credentials" in s.get("uses", ""))
        assert creds["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(creds["with"])
        run = next(s for s in steps if "ops.release.pipeline" in s.get("run", ""))
        assert f"--stack {name} --json > release-{name}.json" in run["run"]
        assert run["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
        upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
        assert upload["if"] == "always()"
        assert set(upload["with"]["path"].split()) == {f"release-{name}.json", f"gate-{name}.json"}
    text = (REPO / ".github/workflows/release.yml").read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_pull_requests_run_the_readme_commands():
    steps = _load(REPO / ".github/workflows/pull-request.yml")["jobs"]["checks"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    for command in (
        "make lint",
        "make docs",
        "make test",
        "make check STACK=dev",
        "make check STACK=prod",
    ):
        assert command in runs
