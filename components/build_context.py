"""Content addressing of a Docker build context, so an unchanged `app/` never produces a new tag,
and staging of that content where every checkout sees the same bytes, names and modes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

# Bumped when what the digest covers changes, so a new scheme never reuses an existing tag.
_DIGEST_FORMAT = b"steadystate-context-v2"

# Modes and mtime every staged entry gets, whatever the checkout's umask or clock said.
STAGED_FILE_MODE = 0o644
STAGED_DIR_MODE = 0o755
STAGED_MTIME = 315_532_800  # 1980-01-01T00:00:00Z, the oldest time every archive format stores

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
    digest = hashlib.sha256(_DIGEST_FORMAT + b"\0")
    for relative in context_files(context):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update((context / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def content_tag(context: Path) -> str:
    """An image tag derived from the build context's content, e.g. `src-3f2a9c1d0b7e4a55`."""
    return f"src-{context_digest(context)[:16]}"


def _write_tree(context: Path, target: Path) -> None:
    """Copy the sent files of `context` into the empty directory `target`, normalized."""
    for relative in context_files(context):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes((context / relative).read_bytes())
    for path in sorted(target.rglob("*"), reverse=True):
        os.chmod(path, STAGED_DIR_MODE if path.is_dir() else STAGED_FILE_MODE)
        os.utime(path, (STAGED_MTIME, STAGED_MTIME))
    os.chmod(target, STAGED_DIR_MODE)
    os.utime(target, (STAGED_MTIME, STAGED_MTIME))


def _is_intact(staged: Path, tag: str) -> bool:
    try:
        return content_tag(staged) == tag and all(
            (staged / relative).stat().st_mode & 0o7777 == STAGED_FILE_MODE
            for relative in context_files(staged)
        )
    except (OSError, ValueError):
        return False


def stage_context(context: Path, staging_root: Path) -> Path:
    """The build context as Docker should see it: `<staging_root>/<content tag>/`.

    Holds exactly the files `context_files` selects, with their bytes, mode 0644 (directories
    0755) and a fixed mtime, so two checkouts of the same commit stage identical trees whatever
    their umask, owner or clock. The directory is named by its content and appears atomically
    (written aside, then renamed), so concurrent runs never see half a tree; stale stages of
    other content are removed.
    """
    tag = content_tag(context)
    staging_root.mkdir(parents=True, exist_ok=True)
    staged = staging_root / tag
    if not _is_intact(staged, tag):
        scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=staging_root))
        try:
            _write_tree(context, scratch)
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
            try:
                scratch.rename(staged)
            except OSError:
                # Another run staged the same content first; its tree is identical.
                if not _is_intact(staged, tag):
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    for other in staging_root.iterdir():
        if other.name != tag and other.name.startswith("src-"):
            shutil.rmtree(other, ignore_errors=True)
    return staged
