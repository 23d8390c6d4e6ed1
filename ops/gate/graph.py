"""Draw the synthesized stack with graphviz: components as clusters, resources as nodes.

Edges point from a resource to what it depends on (``dependsOn`` plus every property dependency),
dashed ones to the explicit provider it uses.
A dependency on a component is drawn to the component's cluster (via an invisible anchor node and
``lhead``/``ltail``). Resources that violate a policy are coloured by the worst level.

:func:`components_dot` is the overview: only the stack and its components, each edge from a
parent to a child, each component labelled with how many resources it holds (its whole subtree)
and coloured by the worst violation inside it.

The file's suffix picks the format (``.svg`` or ``.png``; :func:`graph_format` refuses others), and
its folder must exist (:func:`check_target`).
``dot`` must be installed (``apt-get install graphviz``); :func:`require_dot` checks that first so
the gate fails fast, before doing any work.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ops.gate.resource_tree import STACK_TYPE, stack_urn
from ops.synth.mocks import ResourceRecord

INSTALL_HINT = "graphviz's `dot` is not installed; install it with: apt-get install graphviz"

_FILL = {"mandatory": "#f4b6b6", "advisory": "#fbe3a6"}
_RANK = {"mandatory": 2, "advisory": 1}
# File suffix -> graphviz output format.
FORMATS = {".svg": "svg", ".png": "png"}
LEVELS = ("resources", "components")


class GraphError(Exception):
    pass


def require_dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphError(INSTALL_HINT)
    return dot


def graph_format(path: Path) -> str:
    """The graphviz format for `path`'s suffix; GraphError naming the allowed suffixes otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        allowed = " or ".join(FORMATS)
        raise GraphError(
            f"{path}: unsupported file type {suffix or '(no suffix)'!r}; use {allowed}"
        )
    return FORMATS[suffix]


def check_target(path: Path) -> str:
    """The graphviz format for `path`, after checking it can be written: GraphError naming the
    problem when the suffix is not .svg or .png, or the folder does not exist (it is never made)."""
    fmt = graph_format(path)
    folder = Path(path).parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise GraphError(f"{path}: the folder {folder} {what}; create it or choose another path")
    return fmt


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(
    records: Sequence[ResourceRecord],
    *,
    project: str,
    stack: str,
    levels: Mapping[str, str] | None = None,
) -> str:
    """DOT source for the stack. `levels` maps URN -> worst violation level, for colouring."""
    levels = levels or {}
    root = stack_urn(project, stack)
    known = {r.urn: r for r in records}
    ids = {r.urn: f"n{i}" for i, r in enumerate(records)}
    children: dict[str, list[ResourceRecord]] = {}
    for record in records:
        parent = record.parent if record.parent in known else root
        children.setdefault(parent, []).append(record)

    lines = [
        "digraph stack {",
        "  compound=true;",
        "  rankdir=LR;",
        f"  label={_quote(f'{STACK_TYPE} {project}-{stack}')};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica",'
        " fontsize=10];",
        '  edge [color="#7a869a", arrowsize=0.6];',
    ]

    def node(record: ResourceRecord, indent: str) -> None:
        label = f"{record.name}\\n{record.type}"
        fill = _FILL.get(levels.get(record.urn, ""), "#eef3fb")
        lines.append(
            f'{indent}{ids[record.urn]} [label="{label.replace(chr(34), "")}", '
            f'fillcolor="{fill}", tooltip={_quote(record.urn)}];'
        )

    def emit(parent: str, indent: str) -> None:
        for record in sorted(children.get(parent, []), key=lambda r: (r.name, r.type)):
            if record.custom:
                node(record, indent)
                continue
            lines.append(f"{indent}subgraph cluster_{ids[record.urn]} {{")
            lines.append(f"{indent}  label={_quote(f'{record.name} ({record.type})')};")
            lines.append(f'{indent}  style="rounded"; color="#9aa5b8"; fontsize=10;')
            fill = _FILL.get(levels.get(record.urn, ""))
            if fill:
                lines.append(f'{indent}  style="rounded,filled"; fillcolor="{fill}";')
            # Anchor so edges can point at the cluster itself.
            lines.append(
                f"{indent}  {ids[record.urn]} [shape=point, style=invis, width=0, height=0];"
            )
            emit(record.urn, indent + "  ")
            lines.append(f"{indent}}}")

    emit(root, "  ")

    seen: set[tuple[str, str]] = set()
    for record in records:
        deps = set(record.dependencies)
        for urns in record.property_dependencies.values():
            deps.update(urns)
        for dep in sorted(deps):
            if dep not in known or dep == record.urn or (record.urn, dep) in seen:
                continue
            seen.add((record.urn, dep))
            attrs = []
            if not known[dep].custom:
                attrs.append(f"lhead=cluster_{ids[dep]}")
            if not record.custom:
                attrs.append(f"ltail=cluster_{ids[record.urn]}")
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"  {ids[record.urn]} -> {ids[dep]}{suffix};")
    for record in records:  # explicit providers: dashed
        provider = record.provider.rsplit("::", 1)[0] if record.provider else ""
        if provider in known and provider != record.urn:
            lines.append(f'  {ids[record.urn]} -> {ids[provider]} [style=dashed, color="#b0b8c8"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def components_dot(
    records: Sequence[ResourceRecord],
    *,
    project: str,
    stack: str,
    levels: Mapping[str, str] | None = None,
) -> str:
    """DOT source for the overview: the stack and its components, parent -> child."""
    levels = levels or {}
    root = stack_urn(project, stack)
    known = {r.urn: r for r in records}

    def owner(urn: str) -> str:
        """The nearest component (or the stack) above `urn`; a custom resource may parent another."""
        record = known.get(urn)
        while record is not None:
            urn = record.parent if record.parent in known else root
            record = known.get(urn)
            if record is None or not record.custom:
                return urn
        return root

    # Sorted, so the source does not depend on the order the engine happened to register them in.
    components = sorted((r for r in records if not r.custom), key=lambda r: (r.name, r.type, r.urn))
    ids = {root: "root", **{r.urn: f"c{i}" for i, r in enumerate(components)}}
    # Resources held and the worst violation level per component, over its whole subtree.
    held = dict.fromkeys(ids, 0)
    worst: dict[str, str] = {}

    def mark(urn: str, level: str) -> None:
        if _RANK.get(level, 0) > _RANK.get(worst.get(urn, ""), 0):
            worst[urn] = level

    mark(root, levels.get(root, ""))
    for record in records:
        level = levels.get(record.urn, "")
        urn = record.urn if not record.custom else owner(record.urn)
        while True:
            held[urn] += int(record.custom)
            mark(urn, level)
            if urn == root:
                break
            urn = owner(urn)

    def label(name: str, type_: str, urn: str) -> str:
        count = held[urn]
        text = f"{name}\\n{type_}\\n{count} resource{'' if count == 1 else 's'}"
        return '"' + text.replace('"', "") + '"'

    lines = [
        "digraph components {",
        "  rankdir=LR;",
        f"  label={_quote(f'{STACK_TYPE} {project}-{stack}: components')};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [color="#7a869a", arrowsize=0.6];',
        f"  root [label={label(f'{project}-{stack}', STACK_TYPE, root)}, "
        f'fillcolor="{_FILL.get(worst.get(root, ""), "#dde3ee")}"];',
    ]
    for record in components:
        fill = _FILL.get(worst.get(record.urn, ""), "#eef3fb")
        lines.append(
            f"  {ids[record.urn]} [label={label(record.name, record.type, record.urn)}, "
            f'fillcolor="{fill}", tooltip={_quote(record.urn)}];'
        )
    for record in components:
        lines.append(f"  {ids[owner(record.urn)]} -> {ids[record.urn]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(dot_source: str, path: Path, *, dot: str | None = None) -> Path:
    """Render `dot_source` at `path` with graphviz, as SVG or PNG by the file's suffix."""
    fmt = check_target(path)
    dot = dot or require_dot()
    result = subprocess.run(
        [dot, f"-T{fmt}", "-o", str(path)],
        input=dot_source.encode(),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise GraphError(f"dot failed ({result.returncode}): {result.stderr.decode().strip()}")
    return path
