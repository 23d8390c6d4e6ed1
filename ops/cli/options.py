"""The options every command (check, cost, resilience, release, chaos, chaos-report) shares.

- ``--stack NAME``: a stack of this project (``Pulumi.<NAME>.yaml``), ``dev`` by default everywhere.
  A stack with no file is refused before anything runs, with the known stacks and a "did you mean",
  and exit code :data:`EXIT_UNKNOWN_STACK` (2) in every command.
- ``--json``: one JSON document on standard output instead of the text; progress and messages go to
  standard error, so ``command --json > file.json`` keeps a clean document.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path
from typing import TextIO

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_STACK = "dev"
EXIT_UNKNOWN_STACK = 2
STACK_HELP = f"stack name: Pulumi.<stack>.yaml of the project (default: {DEFAULT_STACK})"
JSON_HELP = "print one JSON document on stdout instead of text (messages go to stderr)"


def add_stack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default=DEFAULT_STACK, metavar="NAME", help=STACK_HELP)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def known_stacks(project_dir: Path = REPO_DIR) -> list[str]:
    """The stacks of `project_dir`: one per `Pulumi.<stack>.yaml`."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def unknown_stack_message(stack: str, project_dir: Path = REPO_DIR) -> str | None:
    """None for a stack of `project_dir`, else what to say: the known stacks, and a close one."""
    known = known_stacks(project_dir)
    if stack in known:
        return None
    close = difflib.get_close_matches(stack, known, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    return (
        f"unknown stack {stack!r} (no Pulumi.{stack}.yaml in {project_dir}); {hint}"
        f"known stacks: {', '.join(known) or 'none'}"
    )


def refuse_unknown_stack(
    prog: str, stack: str, err: TextIO, project_dir: Path = REPO_DIR
) -> int | None:
    """Print the refusal and return :data:`EXIT_UNKNOWN_STACK` for an unknown stack, else None."""
    message = unknown_stack_message(stack, project_dir)
    if message is None:
        return None
    err.write(f"{prog}: error: {message}\n")
    return EXIT_UNKNOWN_STACK
