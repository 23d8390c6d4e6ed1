"""Loading and validating per-stack policy config files (``policy/config/<stack>.json``).

The format is Pulumi's policy-pack config file: an object whose keys are policy names (or
``"all"``) and whose values are an enforcement level string, or an object with an optional
``enforcementLevel`` plus the policy's config properties. The Pulumi CLI checks property types
against each policy's schema but accepts unknown policy names and unknown properties silently;
this module rejects both, and checks what no JSON schema can say (a policy's ``config_check``),
so a typo fails loudly before a preview instead of quietly leaving a default in force.

Every error names the file, the policy, the key, the offending value and what is allowed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from .framework import PACK_ENFORCEMENT_LEVEL

ENFORCEMENT_LEVELS = tuple(level.value for level in EnforcementLevel)
"""advisory, mandatory, remediate, disabled."""

ALL = "all"
"""The key that sets the enforcement level of every policy at once."""

SCHEMA_KEYWORDS = frozenset(
    {"type", "enum", "minimum", "maximum", "items", "default", "description"}
)
"""The JSON Schema keywords this pack's config schemas use and :func:`value_problems` checks."""

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
}


class PolicyConfigError(ValueError):
    """A policy config file that the pack cannot run with; ``problems`` lists every issue."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: invalid policy config:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True)
class PolicySettings:
    """One policy's entry: its enforcement level (None = not set here) and properties."""

    level: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def _show(value: Any) -> str:
    return json.dumps(value)


def value_problems(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    """Check ``value`` against a schema using only :data:`SCHEMA_KEYWORDS`."""
    kind = schema.get("type")
    if kind is not None:
        ok = isinstance(value, _PY_TYPES[kind]) and not (
            isinstance(value, bool) and kind in ("integer", "number")
        )
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            return [f"{where}: {_show(value)} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(_show(v) for v in schema["enum"])
        problems.append(f"{where}: {_show(value)} is not one of {allowed}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where}: {_show(value)} is below the minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{where}: {_show(value)} is above the maximum {schema['maximum']}")
    if "items" in schema and isinstance(value, list):  # as in JSON Schema: items bind arrays only
        for i, item in enumerate(value):
            problems.extend(value_problems(item, schema["items"], f"{where}[{i}]"))
    return problems


def _unknown_name(kind: str, name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'"{name}": unknown {kind}{hint}; known: {", ".join(sorted(known))}'


def _level_problem(where: str, level: Any) -> str | None:
    if level in ENFORCEMENT_LEVELS:
        return None
    return (
        f"{where}.enforcementLevel: {_show(level)} is not a valid enforcement level; "
        f"allowed: {', '.join(ENFORCEMENT_LEVELS)}"
    )


def _entry(name: str, raw: Any, policy: Policy | None, problems: list[str]) -> PolicySettings:
    where = f'"{name}"'
    if isinstance(raw, str):
        raw = {"enforcementLevel": raw}
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: {_show(raw)} is neither an enforcement level "
            f"({', '.join(ENFORCEMENT_LEVELS)}) nor an object"
        )
        return PolicySettings()
    level = raw.get("enforcementLevel")
    if "enforcementLevel" in raw and (problem := _level_problem(where, level)):
        problems.append(problem)
    properties = {k: v for k, v in raw.items() if k != "enforcementLevel"}
    schema = policy.config_schema.properties if policy and policy.config_schema else {}
    for key, value in properties.items():
        if key not in schema:
            allowed = ", ".join(sorted(schema)) or "none (only enforcementLevel)"
            problems.append(f"{where}.{key}: unknown property; allowed properties: {allowed}")
        else:
            problems.extend(value_problems(value, schema[key], f"{where}.{key}"))
    return PolicySettings(level, properties)


def parse_config(
    data: Any, policies: Sequence[Policy], source: str = "policy config"
) -> dict[str, PolicySettings]:
    """Validate already-parsed config ``data`` against ``policies``; raise PolicyConfigError."""
    if not isinstance(data, dict):
        raise PolicyConfigError(source, [f"the top level must be an object, got {_show(data)}"])
    by_name = {p.name: p for p in policies}
    problems: list[str] = []
    entries: dict[str, PolicySettings] = {}
    for name, raw in data.items():
        if name != ALL and name not in by_name:
            problems.append(_unknown_name("policy", name, [*by_name, ALL]))
            continue
        entries[name] = _entry(name, raw, by_name.get(name), problems)
        if name == ALL and entries[name].properties:
            extra = ", ".join(sorted(entries[name].properties))
            problems.append(
                f'"{ALL}": only enforcementLevel may be set for all policies (got {extra})'
            )
    if not problems:
        for name, settings in effective_settings(entries, policies).items():
            check = getattr(by_name[name], "config_check", None)
            if check:
                problems.extend(
                    f'"{name}": {p}' for p in check(settings.properties, settings.level)
                )
    if problems:
        raise PolicyConfigError(source, problems)
    return entries


def load_config_file(path: str | Path, policies: Sequence[Policy]) -> dict[str, PolicySettings]:
    """Read and validate a policy config JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PolicyConfigError(
            str(path), [f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"]
        ) from error
    return parse_config(data, policies, str(path))


def effective_settings(
    entries: Mapping[str, PolicySettings],
    policies: Sequence[Policy],
    pack_level: EnforcementLevel = PACK_ENFORCEMENT_LEVEL,
) -> dict[str, PolicySettings]:
    """What each policy runs with, resolved as the Pulumi engine does: the policy's own level
    (else the pack's), then ``"all"``, then the policy's entry; properties are the schema
    defaults overlaid with the entry's."""
    all_level = entries.get(ALL, PolicySettings()).level
    result = {}
    for policy in policies:
        entry = entries.get(policy.name, PolicySettings())
        level = entry.level or all_level or (policy.enforcement_level or pack_level).value
        schema = policy.config_schema.properties if policy.config_schema else {}
        defaults = {k: v["default"] for k, v in schema.items() if "default" in v}
        result[policy.name] = PolicySettings(level, {**defaults, **entry.properties})
    return result
