"""Reading resource properties as the analyzer delivers them.

pulumi_policy hands a validator its properties wrapped in proxies that raise on the first access
to a value unknown during preview. :func:`plain` unwraps them into ordinary dicts and lists in
which each unknown value is an :class:`Unknown` marker, so a rule decides for itself what an
unknown means (skip with a reason, or "set, value to come") instead of crashing.

Also here: dotted-path access over camelCase properties, tags, and parsers for the JSON strings
some properties carry (ECS ``containerDefinitions``, IAM policy documents, ECR lifecycle
policies).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

if TYPE_CHECKING:  # typing.TypeIs is 3.13+; checkers know typing_extensions without installing it
    from typing_extensions import TypeIs

_SENTINEL_KINDS = {
    UNKNOWN_BOOLEAN_VALUE: "boolean",
    UNKNOWN_NUMBER_VALUE: "number",
    UNKNOWN_STRING_VALUE: "string",
    UNKNOWN_ARRAY_VALUE: "array",
    UNKNOWN_ASSET_VALUE: "asset",
    UNKNOWN_ARCHIVE_VALUE: "archive",
    UNKNOWN_OBJECT_VALUE: "object",
}


@dataclass(frozen=True)
class Unknown:
    """A value that will only be known after the update (e.g. an ARN during preview)."""

    kind: str = "value"

    def __repr__(self) -> str:
        return f"<unknown {self.kind}>"


def plain(value: Any) -> Any:
    """Deep copy of ``value`` as dicts and lists, with unknowns as :class:`Unknown` markers.

    Works on pulumi_policy's unknown-checking proxies (through their public Mapping/Sequence
    interface: an access that raises UnknownValueError becomes a marker) and on plain data
    holding the engine's unknown sentinel strings. Whole floats become ints: the engine sends
    every number as a float.
    """
    if isinstance(value, str):
        kind = _SENTINEL_KINDS.get(value)
        return Unknown(kind) if kind else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _item(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_item(value, index) for index in range(len(value))]
    return value


def _item(container: Any, key: Any) -> Any:
    try:
        return plain(container[key])
    except UnknownValueError as error:
        return Unknown(_SENTINEL_KINDS.get(error.unknown_type_sentinel, "value"))


def is_unknown(value: Any) -> TypeIs[Unknown]:
    """True when ``value`` is an :class:`Unknown` marker."""
    return isinstance(value, Unknown)


def find_unknown(value: Any, path: str = "") -> str | None:
    """The dotted path of the first unknown inside ``value`` (``""`` for itself), or None."""
    if isinstance(value, Unknown):
        return path
    if isinstance(value, dict):
        children: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        found = find_unknown(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def get(obj: Any, path: str, default: Any = None) -> Any:
    """Read ``path`` ("a.b.0.c": keys and list indices) from plain data.

    Returns ``default`` when any step is missing or None, and the :class:`Unknown` marker itself
    when a step along the way is unknown (so "unknown" is never mistaken for "absent").
    """
    current = obj
    for step in path.split(".") if path else []:
        if isinstance(current, Unknown):
            return current
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.lstrip("-").isdigit():
            index = int(step)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return default
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any] | Unknown:
    """A property that may be absent, a single item or a list, as a list (Unknown stays)."""
    if value is None:
        return []
    if isinstance(value, Unknown | list):
        return value
    return [value]


def is_set(value: Any) -> bool:
    """True when a property has a value: present and non-empty, or unknown (a value is coming)."""
    if isinstance(value, Unknown):
        return True
    return value not in (None, "", [], {})


def fmt(value: Any) -> str:
    """A (plain) property value for a message: booleans as in JSON, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def tags_of(props: Mapping[str, Any]) -> dict[str, Any] | Unknown:
    """A resource's tags: provider default tags (``tagsAll``) overlaid with its own ``tags``;
    Unknown when its own ``tags`` are unknown."""
    if isinstance(props.get("tags"), Unknown):
        return props["tags"]
    merged: dict[str, Any] = {}
    for key in ("tagsAll", "tags"):
        value = props.get(key)
        if isinstance(value, dict):
            merged.update(value)
    return merged


class DocumentError(ValueError):
    """A JSON-string property that does not parse into the expected shape."""


def parse_json(value: Any, what: str) -> Any:
    """Parse a property holding JSON (or already-parsed data); Unknown passes through."""
    if isinstance(value, Unknown | dict | list):
        return value
    if not isinstance(value, str):
        raise DocumentError(f"{what} must be a JSON string (got {type(value).__name__})")
    try:
        return plain(json.loads(value))
    except json.JSONDecodeError as error:
        raise DocumentError(f"{what} is not valid JSON: {error}") from error


def container_definitions(value: Any) -> list[dict[str, Any]] | Unknown:
    """The containers of an ECS task definition's ``containerDefinitions`` JSON string."""
    parsed = parse_json(value, "containerDefinitions")
    if isinstance(parsed, Unknown):
        return parsed
    if not isinstance(parsed, list) or not all(isinstance(c, dict) for c in parsed):
        raise DocumentError("containerDefinitions must be a JSON array of objects")
    return parsed


def container_label(container: Mapping[str, Any], index: int) -> str:
    """How a message names a container: its ``name``, else its position."""
    name = container.get("name")
    return f"container {json.dumps(name)}" if isinstance(name, str) else f"container #{index}"


def policy_statements(document: Any) -> list[dict[str, Any]] | Unknown:
    """The statements of an IAM policy document given as a JSON string or an object.

    ``Statement`` may be one object or a list of them.
    """
    parsed = parse_json(document, "policy")
    if isinstance(parsed, Unknown):
        return parsed
    if not isinstance(parsed, dict):
        raise DocumentError("policy must be a JSON object with a Statement")
    statements = as_list(parsed.get("Statement"))
    if isinstance(statements, Unknown):
        return statements
    if not all(isinstance(s, dict) for s in statements):
        raise DocumentError("policy Statement must be an object or a list of objects")
    return statements


def statement_values(statement: Mapping[str, Any], key: str) -> list[Any] | Unknown:
    """A statement's ``Action``/``NotAction``/``Resource``/``NotResource`` as a list."""
    return as_list(statement.get(key))
