"""AppImage: repository hygiene, content-derived tags and a digest-pinned image reference."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from components.app_image import AppImage, AppImageArgs, build_path
from components.build_context import (
    STAGED_FILE_MODE,
    STAGED_MTIME,
    content_tag,
    context_files,
    stage_context,
)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (root / "main.py").write_text("print('hi')\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "main.cpython-312.pyc").write_bytes(b"junk")
    (root / ".dockerignore").write_text("tests/\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_main.py").write_text("x = 1\n")
    return root


def test_tag_follows_content_only(context: Path) -> None:
    tag = content_tag(context)
    assert tag == content_tag(context) and tag.startswith("src-") and len(tag) == 20
    (context / "__pycache__" / "other.pyc").write_bytes(b"more junk")
    (context / "tests" / "test_more.py").write_text("y = 2\n")
    assert content_tag(context) == tag, "ignored files must not change the tag"
    (context / "main.py").write_text("print('changed')\n")
    assert content_tag(context) != tag


def test_ignored_files_are_not_sent(context: Path) -> None:
    assert [p.as_posix() for p in context_files(context)] == [
        ".dockerignore",
        "Dockerfile",
        "main.py",
    ]


def test_context_without_dockerfile_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"build context {tmp_path} has no Dockerfile"):
        content_tag(tmp_path)


def test_staged_context_is_the_sent_files_with_fixed_modes(context: Path, tmp_path: Path) -> None:
    os.chmod(context / "main.py", 0o775)  # as a umask-002 checkout would leave it
    old = os.umask(0o002)  # and stage under that umask too
    try:
        staged = stage_context(context, tmp_path / "stage")
    finally:
        os.umask(old)
    assert staged == tmp_path / "stage" / content_tag(context)
    assert content_tag(staged) == content_tag(context)
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == [".dockerignore", "Dockerfile", "main.py"]
    for path in [staged, *staged.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else STAGED_FILE_MODE), path
        assert path.stat().st_mtime == STAGED_MTIME, path


def test_staging_is_idempotent_and_drops_stale_stages(context: Path, tmp_path: Path) -> None:
    root = tmp_path / "stage"
    first = stage_context(context, root)
    assert stage_context(context, root) == first
    (first / "main.py").write_text("tampered\n")
    assert (stage_context(context, root) / "main.py").read_text() == "print('hi')\n"
    (context / "main.py").write_text("print('changed')\n")
    second = stage_context(context, root)
    assert second != first and sorted(p.name for p in root.iterdir()) == [second.name]


def test_build_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert build_path(tmp_path / ".image-context" / "src-1") == ".image-context/src-1"
    with pytest.raises(ValueError, match="must be inside the working directory"):
        build_path(tmp_path.parent / "elsewhere")


def test_repository_and_image(
    mocked, context: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = AppImageArgs(context=context, staging_root=tmp_path / ".image-context", keep_images=15)
    rec = mocked(lambda: AppImage("app", args).retain([]))
    repo = rec.named("app-repo").inputs
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    rule = json.loads(rec.named("app-lifecycle").inputs["policy"])["rules"][0]
    assert rule["selection"]["countNumber"] == 15 and rule["action"]["type"] == "expire"
    image = rec.named("app-image").inputs
    url = rec.named("app-repo").outputs["repositoryUrl"]
    assert image["imageName"] == f"{url}:{content_tag(context)}"
    assert image["build"]["platform"] == "linux/amd64"
    tag = content_tag(context)
    assert image["build"]["context"] == f".image-context/{tag}"
    assert image["build"]["dockerfile"] == f".image-context/{tag}/Dockerfile"
    assert image["registry"]["server"] == url and image["registry"]["username"] == "AWS"
    assert "aws:ecr/getAuthorizationToken:getAuthorizationToken" in rec.invokes
    digest = rec.named("app-image").outputs["repoDigest"]
    assert digest.startswith(f"{url}@sha256:")
