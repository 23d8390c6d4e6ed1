"""Read a stack's configuration the way the Pulumi CLI hands it to the program.

The CLI merges the project's `config:` block in `Pulumi.yaml` with `Pulumi.<stack>.yaml` (the stack
wins, key by key; an object value is replaced whole, never deep-merged) and passes every value to the
program as a string, objects and lists JSON-encoded. `secure:` values cannot be decrypted offline, so
they become a recognisable placeholder and their keys are marked secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class StackConfigError(Exception):
    """The project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    secret_keys: list[str]
    raw: dict[str, Any]


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _project_default(declaration: Any) -> tuple[bool, Any]:
    """A `config:` entry is a plain value, `{value: ...}` or a typed `{type, default}` declaration."""
    if isinstance(declaration, dict) and (
        {"type", "default", "description", "value"} & declaration.keys()
    ):
        if "value" in declaration:
            return True, declaration["value"]
        if "default" in declaration:
            return True, declaration["default"]
        return False, None
    return True, declaration


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as err:
        raise StackConfigError(f"{path}: file not found") from err
    except yaml.YAMLError as err:
        raise StackConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Merge `Pulumi.yaml` defaults with `Pulumi.<stack>.yaml` into the program's config map."""
    project_file = _load_yaml(project_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not project:
        raise StackConfigError(f"{project_dir / 'Pulumi.yaml'}: 'name' is required")
    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_path.exists():
        known = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise StackConfigError(
            f"stack {stack!r} has no {stack_path.name}; known stacks: {', '.join(known)}"
        )
    stack_file = _load_yaml(stack_path)

    merged: dict[str, Any] = {}
    for key, declaration in (project_file.get("config") or {}).items():
        present, value = _project_default(declaration)
        if present:
            merged[_qualify(project, key)] = value
    for key, value in (stack_file.get("config") or {}).items():
        merged[_qualify(project, key)] = value

    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in merged.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = f"offline-placeholder-for-{key.replace(':', '-')}"
            secret_keys.append(key)
        else:
            values[key] = _encode(value)
    return StackConfig(project, stack, values, secret_keys, merged)
