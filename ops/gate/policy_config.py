"""Read a `--policy-pack-config` file and reconcile it with a pack's policies, as the engine does.

Mirrors pulumi/pulumi ``pkg/resource/analyzer/config.go``:

* **file format** (``parsePolicyPackConfig``): a JSON object keyed by policy name (or ``all``). A
  string value is an enforcement level; an object value may hold ``enforcementLevel`` plus the
  policy's properties. Anything else is an error naming the key. Empty content means no config;
  entries with neither a level nor properties are dropped.
* **reconcile** (``ReconcilePolicyPackConfig``): start from every policy's own enforcement level and
  the ``default`` of each property in its config schema, apply the pack's ``initialConfig``, then the
  file: ``all`` (when it carries a valid level) sets the level of every policy, then each named
  entry overrides its policy's level and merges its properties over the defaults.
* **validate**: each policy's resulting properties are checked against its schema (``type:
  object`` + ``properties`` + ``required``, JSON Schema as gojsonschema does) and every error is
  reported as ``<policy>: <key>: <problem>``.

One deliberate difference, because this is a gate: a key that names no policy of the pack (a typo,
or a policy since removed) is an error here, listed with the closest policy names. The engine
ignores such a key when it only sets a level, and fails later with "invalid enforcement level"
when it only sets properties.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyConfigError(Exception):
    """The policy config file is malformed or does not fit the pack; `problems` lists each."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"invalid policy config {source} ({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )


@dataclass(frozen=True)
class PolicyConfigEntry:
    """One policy's configuration: enforcement level ('' when unset) and properties (or None)."""

    enforcement_level: str = ""
    properties: dict[str, Any] | None = None

    def as_wire(self) -> tuple[str, dict[str, Any] | None]:
        return self.enforcement_level, self.properties


@dataclass(frozen=True)
class PolicySchema:
    """What reconciliation needs to know about a policy (see analyzer_client.PolicyInfo)."""

    name: str
    enforcement_level: str
    properties: dict[str, dict[str, Any]] | None = None
    required: tuple[str, ...] = ()


# -- the file -----------------------------------------------------------------------------------
def parse_policy_config(text: str, source: str = "<policy config>") -> dict[str, PolicyConfigEntry]:
    """Parse the content of a policy config file (``parsePolicyPackConfig``)."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise PolicyConfigError(source, [f"not valid JSON: {err}"]) from err
    if not isinstance(data, dict):
        raise PolicyConfigError(source, ["expected a JSON object keyed by policy name"])
    result: dict[str, PolicyConfigEntry] = {}
    problems: list[str] = []
    for key, value in data.items():
        if isinstance(value, str):
            if value not in ENFORCEMENT_LEVELS:
                problems.append(
                    f"{key}: {value!r} is not a valid enforcement level "
                    f"(one of {', '.join(ENFORCEMENT_LEVELS)})"
                )
                continue
            result[key] = PolicyConfigEntry(value, None)
        elif isinstance(value, dict):
            props = dict(value)
            level = ""
            if "enforcementLevel" in props:
                raw = props.pop("enforcementLevel")
                if not isinstance(raw, str) or raw not in ENFORCEMENT_LEVELS:
                    problems.append(
                        f"{key}: enforcementLevel {json.dumps(raw)} is not a valid enforcement "
                        f"level (one of {', '.join(ENFORCEMENT_LEVELS)})"
                    )
                    continue
                level = raw
            if not level and not props:
                continue  # "Don't bother including empty configs."
            result[key] = PolicyConfigEntry(level, props or None)
        else:
            problems.append(
                f"{key}: {json.dumps(value)} is not a valid value; must be a string or object"
            )
    if problems:
        raise PolicyConfigError(source, problems)
    return result


def load_policy_config_file(path: Path) -> dict[str, PolicyConfigEntry]:
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise PolicyConfigError(str(path), [f"cannot read: {err.strerror or err}"]) from err
    return parse_policy_config(text, str(path))


# -- reconcile + validate -----------------------------------------------------------------------
def _defaults(policies: Iterable[PolicySchema]) -> dict[str, PolicyConfigEntry]:
    result: dict[str, PolicyConfigEntry] = {}
    for policy in policies:
        props: dict[str, Any] | None = None
        for key, schema in (policy.properties or {}).items():
            if isinstance(schema, Mapping) and "default" in schema:
                props = props or {}
                props[key] = schema["default"]
        result[policy.name] = PolicyConfigEntry(policy.enforcement_level, props)
    return result


def _apply(
    result: dict[str, PolicyConfigEntry], config: Mapping[str, PolicyConfigEntry]
) -> dict[str, PolicyConfigEntry]:
    all_entry = config.get("all")
    if all_entry is not None and all_entry.enforcement_level in ENFORCEMENT_LEVELS:
        result = {
            name: PolicyConfigEntry(all_entry.enforcement_level, entry.properties)
            for name, entry in result.items()
        }
    for name, given in config.items():
        current = result.get(name, PolicyConfigEntry())
        level = current.enforcement_level
        if given.enforcement_level in ENFORCEMENT_LEVELS:
            level = given.enforcement_level
        props = dict(current.properties) if current.properties is not None else None
        if given.properties:
            props = props or {}
            props.update(given.properties)
        result[name] = PolicyConfigEntry(level, props)
    return result


def _validation_errors(policy: PolicySchema, props: Mapping[str, Any]) -> list[str]:
    if policy.properties is None and not policy.required:
        return []
    schema: dict[str, Any] = {"type": "object"}
    if policy.properties:
        schema["properties"] = policy.properties
    if policy.required:
        schema["required"] = list(policy.required)
    import jsonschema.validators  # imported only when a policy has a schema (~80 ms)

    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    errors = []
    for error in sorted(validator_cls(schema).iter_errors(dict(props)), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            errors.append(f"{policy.name}: {error.message}")
        else:
            errors.append(f"{policy.name}: {where or '(root)'}: {error.message}")
    return errors


def reconcile_policy_config(
    policies: Iterable[PolicySchema],
    config: Mapping[str, PolicyConfigEntry] | None,
    *,
    initial_config: Mapping[str, PolicyConfigEntry] | None = None,
    source: str = "<policy config>",
) -> dict[str, PolicyConfigEntry]:
    """Defaults, then initial config, then `config`; PolicyConfigError listing every problem."""
    policies = list(policies)
    names = [p.name for p in policies]
    problems = []
    for key in config or {}:
        if key != "all" and key not in names:
            close = difflib.get_close_matches(key, names, n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            problems.append(f"{key}: the pack has no policy of that name{hint}")
    all_entry = (config or {}).get("all")
    if all_entry is not None and all_entry.properties:
        problems.append(
            f"all: only an enforcement level applies to all policies; got properties "
            f"{', '.join(sorted(all_entry.properties))}"
        )
    result = _defaults(policies)
    if initial_config:
        result = _apply(result, initial_config)
    if config:
        result = _apply(result, config)
    for policy in policies:
        entry = result.get(policy.name)
        problems.extend(_validation_errors(policy, (entry.properties if entry else None) or {}))
    if problems:
        raise PolicyConfigError(source, sorted(problems))
    return result


# -- the pack's own, stricter validator ---------------------------------------------------------
def pack_config_check(pack_dir: Path, config_path: Path) -> list[str] | None:
    """Run the pack's own validator on `config_path`, when the pack ships one.

    The steadystate pack has ``guardrails/config_file.py`` with ``load_config_file(path,
    policies)``; it also rejects unknown properties and runs each policy's ``config_check``, which
    no JSON schema can express. Returns its problems ([] when the file passes), or None when the
    pack has no such validator. The pack's modules are imported under the same name the program
    uses (``policy.guardrails`` when the pack is a package of the repo), so nothing loads twice.
    """
    import importlib
    import sys

    pack_dir = Path(pack_dir).resolve()
    if not (pack_dir / "guardrails" / "registry.py").is_file():
        return None
    if (pack_dir / "__init__.py").is_file():
        root, prefix = pack_dir.parent, f"{pack_dir.name}."
    else:
        root, prefix = pack_dir, ""
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        guardrails = importlib.import_module(f"{prefix}guardrails.registry")
        config_file = importlib.import_module(f"{prefix}guardrails.config_file")
        load = getattr(config_file, "load_config_file", None)
        all_policies = getattr(guardrails, "all_policies", None)
        if load is None or all_policies is None:
            return None
        try:
            load(config_path, all_policies())
        except ValueError as err:  # their PolicyConfigError is a ValueError with `problems`
            return [str(p) for p in getattr(err, "problems", [str(err)])]
        except Exception as err:  # a bug in the checker must not pass the file silently
            return [f"the pack's config check crashed: {type(err).__name__}: {err}"]
        return []
    finally:
        if added:
            sys.path.remove(str(root))
