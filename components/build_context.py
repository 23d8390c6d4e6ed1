"""Content addressing of a Docker build context, so an unchanged `app/` never produces a new tag."""

from __future__ import annotations

import fnmatch
import hashlib
from pathlib import Path

# Never part of an image build, whatever .dockerignore says.
_ALWAYS_IGNORED = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache")


def _ignore_patterns(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    patterns: list[str] = list(_ALWAYS_IGNORED)
    if ignore_file.exists():
        for line in ignore_file.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and not line.startswith("!"):
                patterns.append(line.rstrip("/"))
    return patterns


def _ignored(relative: Path, patterns: list[str]) -> bool:
    parts = relative.parts
    text = relative.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern)
        or any(fnmatch.fnmatch(part, pattern) for part in parts)
        or text.startswith(pattern + "/")
        for pattern in patterns
    )


def context_files(context: Path) -> list[Path]:
    """The files a build of `context` sends, relative to it, sorted."""
    patterns = _ignore_patterns(context)
    files = [
        path.relative_to(context)
        for path in context.rglob("*")
        if path.is_file() and not _ignored(path.relative_to(context), patterns)
    ]
    return sorted(files)


def context_digest(context: Path) -> str:
    """SHA-256 over every sent file's path and bytes: the same tree always gives the same digest."""
    if not (context / "Dockerfile").is_file():
        raise ValueError(f"build context {context} has no Dockerfile")
    digest = hashlib.sha256()
    for relative in context_files(context):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update((context / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def content_tag(context: Path) -> str:
    """An image tag derived from the build context's content, e.g. `src-3f2a9c1d0b7e4a55`."""
    return f"src-{context_digest(context)[:16]}"
