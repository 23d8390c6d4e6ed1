"""Read a stack's configuration the way the Pulumi CLI hands it to the program.

The CLI merges the project's `config:` block in `Pulumi.yaml` with `Pulumi.<stack>.yaml` (the stack
wins, key by key; an object value is replaced whole, never deep-merged) and passes every value to the
program as a string, objects and lists JSON-encoded. `secure:` values cannot be decrypted offline, so
they become a recognisable placeholder and their keys are marked secret; that holds wherever they sit
(`pulumi config set --secret --path 'steadystate:connectivity.alarmEmails[0]'` writes one inside a
list), https://www.pulumi.com/docs/iac/concepts/config/#structured-configuration.

What the CLI would silently get wrong is refused here, naming the file and the key: a key given twice
(the YAML parser keeps the last), settings outside `config:`, the same setting written with and without
its project prefix, and a stack with no `aws:region` anywhere (the provider would take the region from
whoever runs `up`: `AWS_REGION` or their profile).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.cli.options import unknown_stack_message
from settings.offline_secrets import placeholder

# What a stack file may hold besides `config:` (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/).
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping key given twice instead of keeping the last one."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # pyright: ignore[reportArgumentType]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} is given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1}); "
                "YAML keeps only the last, so one of them would be lost",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,  # pyright: ignore[reportArgumentType]
)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader) or {}
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
    if message := unknown_stack_message(stack, project_dir):
        raise StackConfigError(message)
    stack_file = _load_yaml(stack_path)
    _refuse_keys_outside_config(stack_path, stack_file)

    merged: dict[str, Any] = {}
    for key, declaration in (project_file.get("config") or {}).items():
        present, value = _project_default(declaration)
        if present:
            merged[_qualify(project, key)] = value
    written: dict[str, str] = {}
    for key, value in (stack_file.get("config") or {}).items():
        qualified = _qualify(project, str(key))
        if qualified in written:
            raise StackConfigError(
                f"{stack_path.name}: {qualified} is given twice in config: (as {written[qualified]!r} "
                f"and {key!r}); keep one"
            )
        written[qualified] = str(key)
        merged[qualified] = value
    if "aws:region" not in merged:
        close = difflib.get_close_matches("aws:region", [k for k in merged if k.startswith("aws:")])
        hint = f" ({close[0]} looks like a misspelling of it)" if close else ""
        raise StackConfigError(
            f"{stack_path.name}: aws:region is not set (nor in Pulumi.yaml){hint}, so the region "
            "would be whatever AWS_REGION or the AWS profile of the person running `pulumi up` says; "
            f"set it: pulumi config set aws:region us-east-2 --stack {stack}"
        )

    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in merged.items():
        offline, secret = _without_secrets(value, key)
        values[key] = _encode(offline)
        if secret:
            secret_keys.append(key)
    return StackConfig(project, stack, values, secret_keys, merged)


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _without_secrets(value: Any, path: str) -> tuple[Any, bool]:
    """`value` with every `secure:` leaf replaced by its placeholder, and whether it held one."""
    if _is_secure(value):
        return placeholder(path), True
    if isinstance(value, dict):
        pairs = {k: _without_secrets(v, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_without_secrets(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _refuse_keys_outside_config(path: Path, stack_file: dict[str, Any]) -> None:
    """A stack file's settings live under `config:`; anything else at the top is lost silently."""
    stray = [str(key) for key in stack_file if key not in STACK_FILE_KEYS]
    if stray:
        raise StackConfigError(
            f"{path.name}: {', '.join(stray)} at the top level of the file; settings belong under "
            f"config: (allowed at the top level: {', '.join(STACK_FILE_KEYS)})"
        )
