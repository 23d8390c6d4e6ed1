"""Print a synthesized stack as a tree (components nest their children) with counts per type.

Resources come from :class:`ops.synth.mocks.ResourceRecord`; the root stack is implicit in the records
(it is their parent) and shown as the root. Siblings are sorted by name (then type): registration
order depends on how the program's outputs resolve and changes from run to run, a sorted tree
does not. Default providers are not resources the program declares, so they are not shown (the
Pulumi CLI hides them too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ops.synth.mocks import ResourceRecord

STACK_TYPE = "pulumi:pulumi:Stack"


def stack_urn(project: str, stack: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"


def split_urn(urn: str) -> tuple[str, str]:
    """(type, name) of a URN: the last segment of the qualified type, and the name."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], parts[3]


@dataclass(frozen=True)
class TypeCount:
    type: str
    count: int
    kind: str  # "resource" | "component" | "provider" | "stack"


def kind_of(record: ResourceRecord) -> str:
    if record.type.startswith("pulumi:providers:"):
        return "provider"
    return "resource" if record.custom else "component"


def type_counts(
    records: Iterable[ResourceRecord], *, include_stack: bool = True
) -> list[TypeCount]:
    """Counts per type, most frequent first (ties by type), the stack itself counted once."""
    counter: Counter[tuple[str, str]] = Counter((r.type, kind_of(r)) for r in records)
    if include_stack:
        counter[(STACK_TYPE, "stack")] += 1
    ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0][0]))
    return [TypeCount(type_, count, kind) for (type_, kind), count in ordered]


def render_tree(
    records: Sequence[ResourceRecord], *, project: str, stack: str, show_counts: bool = True
) -> str:
    root = stack_urn(project, stack)
    children: dict[str, list[ResourceRecord]] = {}
    known = {r.urn for r in records}
    for record in records:
        parent = record.parent if record.parent in known else root
        children.setdefault(parent, []).append(record)

    lines = [f"{STACK_TYPE}  {project}-{stack}"]

    def walk(urn: str, prefix: str) -> None:
        kids = sorted(children.get(urn, []), key=lambda r: (r.name, r.type))
        for index, child in enumerate(kids):
            last = index == len(kids) - 1
            branch = "└─ " if last else "├─ "
            marker = "" if child.custom else "  [component]"
            lines.append(f"{prefix}{branch}{child.name}  ({child.type}){marker}")
            walk(child.urn, prefix + ("   " if last else "│  "))

    walk(root, "")
    if show_counts:
        counts = type_counts(records)
        width = max((len(str(c.count)) for c in counts), default=1)
        lines.append("")
        lines.append("Resources by type:")
        for c in counts:
            suffix = "" if c.kind == "resource" else f"  [{c.kind}]"
            lines.append(f"  {c.count:>{width}}  {c.type}{suffix}")
        kinds = Counter(kind_of(r) for r in records)
        total = len(records) + 1
        lines.append(
            f"  {total} resources: {kinds['resource']} custom, {kinds['component']} components, "
            f"{kinds['provider']} explicit providers, 1 stack"
        )
    return "\n".join(lines)
