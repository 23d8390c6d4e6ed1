"""The README is a short front door: its set-up commands come first, it stays short, and every
command and link it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops.docs.make_targets import targets

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOC_PAGES = sorted((REPO / "docs").rglob("*.md"))


def _make_targets_named(text: str) -> set[str]:
    """Targets of the `make` commands in the fenced code blocks of `text`."""
    named: set[str] = set()
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = line.removeprefix("$ ").strip()
            if command.startswith("make "):
                words = [w for w in command.split()[1:] if "=" not in w and not w.startswith("-")]
                named.update(words[:1])
    return named


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README.read_text().split("##", 1)[0]
    assert head.index("make check") < head.index("make test")


def test_readme_stays_short() -> None:
    assert len(README.read_text().splitlines()) <= 200, "move the detail to docs/"


@pytest.mark.parametrize("page", [README, *DOC_PAGES], ids=lambda p: str(p.relative_to(REPO)))
def test_commands_name_existing_make_targets(page: Path) -> None:
    assert _make_targets_named(page.read_text()) <= targets()


def test_the_command_check_finds_a_missing_target() -> None:
    assert _make_targets_named("```\nmake deploy STACK=prod\nmake check\n```\n") == {
        "deploy",
        "check",
    }
    assert "deploy" not in targets()


def test_readme_links_point_at_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to the docs"
    assert [link for link in local if not (REPO / link).exists()] == []
