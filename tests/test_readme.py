"""The README's generated tables match the code, and its set-up commands come first."""

from __future__ import annotations

from ops.docs.readme import README, main, render


def test_generated_sections_are_current() -> None:
    assert main(["--check"]) == 0, "run `make docs`"


def test_a_stale_section_is_detected() -> None:
    text = README.read_text().replace(
        "`steadystate:service.cpuTarget`", "`steadystate:service.cpuTargett`"
    )
    assert render(text) != text


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README.read_text().split("##", 1)[0]
    assert head.index("make check") < head.index("make test")
