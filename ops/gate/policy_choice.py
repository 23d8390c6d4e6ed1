"""Which policy config file a stack is judged with, when none is named on the command line.

``<pack>/config/<stack>.json`` when the stack has its own; otherwise the file of the stack's
``stage`` (``dev`` or ``prod``, the stage's guardrail levels), so a stack copied from
``Pulumi.dev.yaml`` is judged like dev; otherwise none (every policy at its own default level).
The gate (``ops.gate.check``) and the release pipeline (``ops.release.pipeline``) both ask here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings.model import Settings

_STAGE = next(f for f in dataclasses.fields(Settings) if f.name == "stage")
STAGES: tuple[str, ...] = tuple(str(c) for c in _STAGE.metadata["rule"].choices)
DEFAULT_STAGE: str = str(_STAGE.default)


@dataclass(frozen=True)
class PolicyConfigChoice:
    path: Path | None
    """The file to pass as ``--policy-pack-config``; None: no file."""
    note: str | None
    """Said to the user when the choice is not the stack's own file."""


def stack_stage(config: Mapping[str, Any], project: str) -> str:
    """The stack's ``<project>:stage`` (a plain or CLI-style ``{"value": ...}`` entry), or the
    settings' default stage when it sets none."""
    value = config.get(f"{project}:stage", DEFAULT_STAGE)
    if isinstance(value, Mapping):
        value = value.get("value", DEFAULT_STAGE)
    return str(value)


def choose_policy_config(pack_dir: Path, stack: str, stage: str) -> PolicyConfigChoice:
    own = pack_dir / "config" / f"{stack}.json"
    if own.is_file():
        return PolicyConfigChoice(own, None)
    if stage in STAGES:
        by_stage = pack_dir / "config" / f"{stage}.json"
        if by_stage.is_file():
            return PolicyConfigChoice(
                by_stage,
                f"no {own.name} for stack {stack}: using {by_stage.name}, "
                f"the policy config of its stage ({stage})",
            )
    return PolicyConfigChoice(
        None, f"no {own} nor a file for stage {stage!r}; every policy runs with its defaults"
    )
