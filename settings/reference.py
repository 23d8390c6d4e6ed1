"""Print the settings reference (markdown) from the model: `python -m settings.reference`.

docs/reference/settings.md embeds this output between `<!-- settings:begin -->` and `<!-- settings:end -->`; a test
fails when they drift apart.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator

from .fields import Rule, camel
from .model import Settings


def _default(field: dataclasses.Field) -> object:
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def _allowed(rule: Rule) -> str:
    if rule.allowed:
        return rule.allowed
    if rule.choices:
        return " / ".join(str(c) for c in rule.choices)
    if rule.minimum is not None and rule.maximum is not None:
        return f"{rule.minimum:g}–{rule.maximum:g}"
    if rule.minimum is not None:
        return f"≥ {rule.minimum:g}"
    return ""


def rows(cls: type = Settings, prefix: str = "steadystate:") -> Iterator[tuple[str, str, str, str]]:
    """(key, default, allowed, description) for every leaf setting, in declaration order."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key = prefix + camel(field.name)
        if dataclasses.is_dataclass(hints[field.name]):
            yield from rows(hints[field.name], key + ".")
            continue
        rule: Rule = field.metadata["rule"]
        default = json.dumps(_default(field))
        yield key, default, _allowed(rule), rule.doc


def markdown() -> str:
    lines = ["| key | default | allowed | what it sets |", "|---|---|---|---|"]
    lines += [f"| `{k}` | `{d}` | {a} | {doc} |" for k, d, a, doc in rows()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
