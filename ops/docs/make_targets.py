"""The make targets as `make help` lists them: read from the Makefile and `mk/*.mk`.

A target is documented by a `## text` comment on its rule line; :func:`table` renders those for the
docs, :func:`targets` is every rule name (the README's commands may name only these).
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
_RULE = re.compile(r"^([a-z][a-zA-Z_-]+):(?!=)(.*)$")
_HELP = re.compile(r"##\s*(.*)$")


def makefiles(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """The Makefile and the fragments it includes (`-include mk/*.mk`), in make's order."""
    return [project_dir / "Makefile", *sorted((project_dir / "mk").glob("*.mk"))]


def documented(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Target -> its `##` help text, for every target `make help` lists."""
    found: dict[str, str] = {}
    for path in makefiles(project_dir):
        for line in path.read_text().splitlines():
            rule = _RULE.match(line)
            if rule and (text := _HELP.search(rule.group(2))):
                found[rule.group(1)] = text.group(1).strip()
    return found


def targets(project_dir: Path = PROJECT_DIR) -> set[str]:
    """Every rule name the makefiles define, documented or not."""
    names: set[str] = set()
    for path in makefiles(project_dir):
        names.update(
            m.group(1) for line in path.read_text().splitlines() if (m := _RULE.match(line))
        )
    return names


def table(project_dir: Path = PROJECT_DIR) -> str:
    """Markdown table of the documented targets, sorted by name as `make help` prints them."""
    lines = ["| target | what it does |", "|---|---|"]
    for name, text in sorted(documented(project_dir).items()):
        cell = text.replace("|", "\\|")
        lines.append(f"| `make {name}` | {cell} |")
    return "\n".join(lines) + "\n"
