"""Print the policy catalogue as a markdown table (embedded in docs/reference/policies.md).

Run from the project root: ``python -m policy.guardrails.catalogue``. One row per policy: name,
what it applies to (resource types, or "stack"), its default enforcement level in code, its
level in each stack's config file, and its description.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pulumi_policy import Policy

from .aws_types import short
from .config_file import effective_settings, load_config_file
from .framework import PACK_ENFORCEMENT_LEVEL, ResourceGuardrail
from .registry import all_policies

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
STACKS = ("dev", "prod")


def applies_to(policy: Policy) -> str:
    """The resource types a policy judges, or "stack" for stack policies."""
    if isinstance(policy, ResourceGuardrail):
        return ", ".join(dict.fromkeys(f"`{short(t)}`" for t in policy.resource_types))
    return "stack"


def markdown_cell(text: str) -> str:
    """``text`` safe inside a markdown table cell (pipes, newlines, and <placeholders> that
    would otherwise be read as HTML tags)."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render(policies: Sequence[Policy] | None = None, config_dir: Path = CONFIG_DIR) -> str:
    """The catalogue table as markdown."""
    policies = list(policies if policies is not None else all_policies())
    levels = {
        stack: effective_settings(
            load_config_file(config_dir / f"{stack}.json", policies), policies
        )
        for stack in STACKS
    }
    lines = [
        "| policy | applies to | default | " + " | ".join(STACKS) + " | guarantees |",
        "|---|---|---|" + "---|" * len(STACKS) + "---|",
    ]
    for policy in policies:
        default = (policy.enforcement_level or PACK_ENFORCEMENT_LEVEL).value
        stack_levels = " | ".join(str(levels[s][policy.name].level) for s in STACKS)
        lines.append(
            f"| `{policy.name}` | {applies_to(policy)} | {default} | {stack_levels} | "
            f"{markdown_cell(policy.description)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
