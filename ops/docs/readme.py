"""Keep the README's generated sections in step with the code: `python -m ops.docs.readme [--check]`.

Each section sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` and is produced by the code
that owns the facts: the settings model, the policy pack's catalogue and the cost estimate of
both stacks.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _settings() -> str:
    from settings.reference import markdown

    return markdown()


def _policies() -> str:
    from policy.guardrails.catalogue import render as catalogue

    return catalogue()


def _cost() -> str:
    from ops.cost.estimate import estimate_stack
    from ops.cost.render import readme_table

    return readme_table({stack: estimate_stack(stack) for stack in ("dev", "prod")})


def _coverage() -> str:
    from policy.guardrails.coverage import render as coverage

    return coverage()


SECTIONS: dict[str, Callable[[], str]] = {
    "settings": _settings,
    "policies": _policies,
    "cost": _cost,
    "coverage": _coverage,
}


def render(text: str) -> str:
    """`text` with every generated section replaced by its current content."""
    for name, produce in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no <!-- {name}:begin --> ... <!-- {name}:end --> section")
        body = produce()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is stale")
    args = parser.parse_args(argv)
    current = README.read_text()
    wanted = render(current)
    if current == wanted:
        return 0
    if args.check:
        print("README.md generated sections are stale: run `make docs`", file=sys.stderr)
        return 1
    README.write_text(wanted)
    print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
