"""Show a program's exception the way its author needs it: only the frames in project code.

A failure inside ``__main__.py`` surfaces through runpy, the Pulumi SDK's output machinery,
asyncio and the gate's own mock runtime; none of those frames help. :func:`trim_traceback` keeps
the frames whose file lies in one of the project roots and outside any virtualenv,
``site-packages`` or the gate's ``ops/`` package, and prints them in the usual Python layout.

Configuration errors (the program's settings validation) carry their own complete message: any
exception class named ``SettingsError`` (anywhere in its MRO), or one with a ``problems``
attribute, is shown as its message alone; see :func:`is_config_error`.
"""

from __future__ import annotations

import contextlib
import linecache
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

OPS_DIR = Path(__file__).resolve().parents[1]
_EXCLUDED_PARTS = {"site-packages", "dist-packages", ".venv", "venv", "__pycache__"}


def is_config_error(exc: BaseException) -> bool:
    """True for the program's settings errors, whose message already says everything."""
    if any(cls.__name__ in ("SettingsError", "StackConfigError") for cls in type(exc).__mro__):
        return True
    return hasattr(exc, "problems")


def _is_project_file(filename: str, roots: Iterable[Path]) -> bool:
    if not filename or filename.startswith("<"):
        return False
    try:
        path = Path(filename).resolve()
    except OSError:
        return False
    if _EXCLUDED_PARTS & set(path.parts):
        return False
    if path == OPS_DIR or OPS_DIR in path.parents:
        return False
    return any(root == path or root in path.parents for root in roots)


def project_frames(tb: TracebackType | None, roots: Iterable[Path]) -> list[traceback.FrameSummary]:
    """The frames of `tb` (outermost first) that belong to the project."""
    resolved = [Path(r).resolve() for r in roots]
    return [f for f in traceback.extract_tb(tb) if _is_project_file(f.filename, resolved)]


def _format_one(exc: BaseException, roots: list[Path], *, relative_to: Path | None) -> list[str]:
    frames = project_frames(exc.__traceback__, roots)
    lines: list[str] = []
    if frames:
        lines.append("Traceback (most recent call last; project frames only):")
        for frame in frames:
            shown = frame.filename
            if relative_to is not None:
                with contextlib.suppress(ValueError):
                    shown = str(Path(frame.filename).resolve().relative_to(relative_to))
            lines.append(f'  File "{shown}", line {frame.lineno}, in {frame.name}')
            source = frame.line or linecache.getline(frame.filename, frame.lineno or 0).strip()
            if source:
                lines.append(f"    {source}")
    else:
        lines.append("(no frame of the traceback is in project code)")
    lines.extend(line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc))
    return lines


def trim_traceback(
    exc: BaseException, roots: Iterable[Path], *, relative_to: Path | None = None
) -> str:
    """Format `exc` (and its explicit cause / context chain) keeping only project frames."""
    roots = [Path(r).resolve() for r in roots]
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "direct cause"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "context"
        else:
            current = None
    blocks: list[str] = []
    for index, (item, _) in enumerate(reversed(chain)):
        block = _format_one(item, roots, relative_to=relative_to)
        if index:
            link = chain[len(chain) - index][1]
            joint = (
                "The above exception was the direct cause of the following exception:"
                if link == "direct cause"
                else "During handling of the above exception, another exception occurred:"
            )
            blocks.append(f"\n{joint}\n")
        blocks.append("\n".join(block))
    return "\n".join(blocks)
