"""AppImage: repository hygiene, content-derived tags and a digest-pinned image reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.app_image import AppImage, AppImageArgs
from components.build_context import content_tag, context_files


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / "main.py").write_text("print('hi')\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "main.cpython-312.pyc").write_bytes(b"junk")
    (tmp_path / ".dockerignore").write_text("tests/\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_main.py").write_text("x = 1\n")
    return tmp_path


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


def test_repository_and_image(mocked, context: Path) -> None:
    rec = mocked(lambda: AppImage("app", AppImageArgs(context=context, keep_images=15)))
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
    assert image["build"]["context"] == str(context)
    assert image["registry"]["server"] == url and image["registry"]["username"] == "AWS"
    assert "aws:ecr/getAuthorizationToken:getAuthorizationToken" in rec.invokes
    digest = rec.named("app-image").outputs["repoDigest"]
    assert digest.startswith(f"{url}@sha256:")
