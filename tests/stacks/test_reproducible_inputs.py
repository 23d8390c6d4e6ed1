"""A second `pulumi up` from another checkout changes nothing: every resource input is the same
whatever the checkout's path, umask, user, home or time zone.

Each stack is synthesized in a fresh interpreter (so no module of this checkout is reused) from two
copies of the program made under different umasks, in directories with different names, with a
different user and clock zone. Then the staged image build context is compared the way the
docker provider hashes it (relative name, mode string, content), since that digest is an input of
`docker.Image` the mock runtime never sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.args import IMAGE_STAGING_DIR
from ops.synth.runner import PROJECT_DIR

PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml")
PROGRAM_DIRS = ("app", "chaos", "components", "composition", "ops", "policy", "settings")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "venv", IMAGE_STAGING_DIR)

_SYNTH = """
import json, os, sys
from pathlib import Path
os.umask(int(sys.argv[2], 8))
from ops.gate.analyzer_client import to_wire
from ops.synth.runner import synthesize
s = synthesize(sys.argv[1], project_dir=Path.cwd())
json.dump([{"urn": r.urn, "type": r.type, "parent": r.parent, "provider": r.provider,
            "inputs": to_wire(r.inputs), "options": r.options, "dependencies": sorted(r.dependencies),
            "property_dependencies": {k: sorted(v) for k, v in r.property_dependencies.items()}}
           for r in s.records], sys.stdout, sort_keys=True)
"""


def _copy_program(target: Path, umask: int) -> Path:
    """Copy the program as a fresh checkout would: new files get 0666/0777 minus `umask`."""
    old = os.umask(umask)
    try:
        target.mkdir(parents=True)
        for name in PROGRAM_FILES:
            shutil.copyfile(PROJECT_DIR / name, target / name)
        for name in PROGRAM_DIRS:
            shutil.copytree(
                PROJECT_DIR / name, target / name, ignore=_IGNORED, copy_function=shutil.copyfile
            )
    finally:
        os.umask(old)
    return target


def _synthesize(checkout: Path, stack: str, umask: int, env: dict[str, str]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", _SYNTH, stack, f"{umask:o}"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def provider_view(context: Path) -> list[tuple[str, str, str]]:
    """What pulumi-docker's `hashContext` reads of a build context: for every file, its relative
    name, its mode as Go prints it (`-rw-r--r--`) and a hash of its bytes."""
    return [
        (
            path.relative_to(context).as_posix(),
            stat.filemode(path.stat().st_mode),
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(context.rglob("*"))
        if path.is_file()
    ]


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    base = tmp_path_factory.mktemp("reproducible")
    yield (
        _copy_program(base / "laptop-checkout", 0o022),
        _copy_program(base / "ci" / "workspace-7", 0o002),
    )


RUNS: dict[str, tuple[int, dict[str, str]]] = {
    "laptop": (0o022, {"USER": "alice", "LOGNAME": "alice", "TZ": "UTC"}),
    "ci": (0o002, {"USER": "runner", "LOGNAME": "runner", "TZ": "Pacific/Kiritimati"}),
}


@pytest.fixture(scope="module")
def syntheses(checkouts: tuple[Path, Path]) -> dict[str, dict[str, list[dict]]]:
    laptop, ci = checkouts
    out: dict[str, dict[str, list[dict]]] = {}
    for stack in ("dev", "prod"):
        out[stack] = {
            "laptop": _synthesize(laptop, stack, *RUNS["laptop"]),
            "ci": _synthesize(ci, stack, *RUNS["ci"]),
        }
    return out


def _differences(first: list[dict], second: list[dict]) -> list[str]:
    a, b = {r["urn"]: r for r in first}, {r["urn"]: r for r in second}
    problems = [f"only in one run: {urn}" for urn in sorted(set(a) ^ set(b))]
    for urn in sorted(set(a) & set(b)):
        for key in a[urn]:
            if a[urn][key] != b[urn][key]:
                problems.append(f"{urn} {key}: {a[urn][key]!r} != {b[urn][key]!r}")
    return problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_input_is_the_same_from_another_checkout(
    syntheses: dict[str, dict[str, list[dict]]], stack: str
) -> None:
    runs = syntheses[stack]
    assert runs["laptop"], "the synthesis registered nothing"
    assert _differences(runs["laptop"], runs["ci"]) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_input_names_the_checkout_or_the_user(
    syntheses: dict[str, dict[str, list[dict]]], stack: str, checkouts: tuple[Path, Path]
) -> None:
    text = json.dumps(syntheses[stack]["ci"])
    for needle in (str(checkouts[1]), "workspace-7", "runner", str(Path.home())):
        assert needle not in text


def test_the_image_is_built_from_a_relative_staged_context(
    syntheses: dict[str, dict[str, list[dict]]],
) -> None:
    (image,) = [r for r in syntheses["prod"]["ci"] if r["type"] == "docker:index/image:Image"]
    build = image["inputs"]["build"]
    assert build["context"].startswith(f"{IMAGE_STAGING_DIR}/src-")
    assert build["dockerfile"] == f"{build['context']}/Dockerfile"
    assert image["inputs"]["imageName"].endswith(":" + build["context"].rsplit("/", 1)[1])


def test_the_docker_provider_sees_the_same_context_from_both_checkouts(
    syntheses: dict[str, dict[str, list[dict]]], checkouts: tuple[Path, Path]
) -> None:
    laptop, ci = checkouts
    (image,) = [r for r in syntheses["dev"]["ci"] if r["type"] == "docker:index/image:Image"]
    context = image["inputs"]["build"]["context"]
    assert provider_view(laptop / context) == provider_view(ci / context)
    # The control: the checkouts' own app/ trees differ in mode, which the provider would hash.
    assert provider_view(laptop / "app") != provider_view(ci / "app")
