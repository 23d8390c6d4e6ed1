"""Regenerate the docs' generated parts from the code: `python -m ops.docs.generate [--check]`.

Generated sections sit in the pages of `docs/` between `<!-- NAME:begin -->` and
`<!-- NAME:end -->`; each is produced by the code that owns the facts (the settings model, the
policy pack's catalogue, the control coverage, the cost estimate and the outputs of both stacks,
the make targets, the resilience report, and the diagrams of a release, a failover and a chaos
run). The component overview is a generated file: its DOT source `docs/assets/prod-components.dot` (checked like the
sections) and the picture `docs/assets/prod-components.svg` rendered from it with graphviz.

`--check` changes nothing and exits 1 when anything is stale. `make docs` runs this, then builds
the site with `mkdocs build --strict`.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ops.docs.stacks import STACKS, synthesis

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOCS_DIR = PROJECT_DIR / "docs"
COMPONENTS_DOT = "assets/prod-components.dot"
COMPONENTS_SVG = "assets/prod-components.svg"
CHAOS_EXPERIMENT = "kill-one-task"
"""The experiment whose run the chaos how-to draws."""


def _settings() -> str:
    from settings.reference import markdown

    return markdown()


def _policies() -> str:
    from policy.guardrails.catalogue import render as catalogue

    return catalogue()


def _coverage() -> str:
    from policy.guardrails.coverage import render as coverage

    return coverage()


def _cost() -> str:
    from ops.cost.estimate import DEFAULT_REGION, estimate_records
    from ops.cost.price_table import region_prices
    from ops.cost.render import readme_table

    estimates = {}
    for stack in STACKS:
        run = synthesis(stack)
        region = (run.config.values if run.config else {}).get("aws:region", DEFAULT_REGION)
        estimates[stack] = estimate_records(run.records, region_prices(region), stack)
    return readme_table(estimates)


def _outputs() -> str:
    from ops.docs.outputs import table

    return table({stack: synthesis(stack).outputs for stack in STACKS})


def _make_targets() -> str:
    from ops.docs.make_targets import table

    return table()


def _release_exit_codes() -> str:
    from ops.release.pipeline import EXIT_MEANINGS

    lines = ["| exit | meaning |", "|---:|---|"]
    lines += [f"| {code} | {meaning} |" for code, meaning in sorted(EXIT_MEANINGS.items())]
    return "\n".join(lines) + "\n"


def _release_diagram() -> str:
    from ops.docs.diagrams import release_sequence
    from ops.release.pipeline import parse_args, plan_steps, read_release_config

    run = synthesis("prod")
    assert run.config is not None
    config = read_release_config(run.config.values, run.config.project)
    defaults = parse_args(["--stack", "prod"])
    return release_sequence(
        "prod",
        plan_steps(config, first_release=False),
        bake_seconds=defaults.bake_seconds,
        load_rate=defaults.load_rate,
        rollout_timeout=defaults.rollout_timeout,
    )


def _failover_diagram() -> str:
    from ops.docs.diagrams import failover_sequence
    from ops.resilience.inputs import extract_inputs

    run = synthesis("prod")
    records = extract_inputs(run).failover_records
    if len(records) != 1:
        raise ValueError(f"prod has {len(records)} primary failover records; the diagram needs 1")
    environments = list(run.outputs["environmentUrls"])
    primary = str(run.outputs["dnsPrimary"])
    secondary = next(env for env in environments if env != primary)
    return failover_sequence(records[0], primary, secondary)


def _resilience_output() -> str:
    """What `make resilience STACK=prod` prints: the table, then how a failover adds up (with the
    alarm path's times from the alarm replay), from the report over the synthesized stack. The
    failover block names prod's one primary record; the other blocks name whichever of several
    tied services comes first, which varies between runs."""
    import io

    from ops.resilience.inputs import extract_inputs
    from ops.resilience.report import build_report, render_text

    printed = io.StringIO()
    render_text(build_report("prod", extract_inputs(synthesis("prod"))), printed)
    lines = printed.getvalue().splitlines()
    second = next(i for i, line in enumerate(lines) if line.startswith("2. "))
    shown = [*lines[:second], "..."]
    return "```\n$ make resilience STACK=prod\n" + "\n".join(shown) + "\n```\n"


def _chaos_diagram() -> str:
    from ops.docs.diagrams import chaos_sequence

    return chaos_sequence(CHAOS_EXPERIMENT)


def _gate(*args: str, allowed: tuple[int, ...] = (0,)) -> list[str]:
    """The lines `python -m ops.gate.check ARGS` prints, from a real run of the gate."""
    import subprocess

    run = subprocess.run(
        [sys.executable, "-m", "ops.gate.check", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if run.returncode not in allowed:
        raise RuntimeError(f"ops.gate.check {' '.join(args)}: exit {run.returncode}: {run.stderr}")
    return run.stdout.splitlines()


def _check_output() -> str:
    """What `make check` prints for dev: the head of the resource tree, then everything from the
    resource count on (the cost line, the policy report)."""
    lines = _gate("--stack", "dev")
    total = next(i for i, line in enumerate(lines) if line.strip().endswith(" stack"))
    shown = [*lines[:9], "│  ...", "Resources by type:", "  ...", *lines[total:]]
    return "```\n$ make check\n" + "\n".join(shown) + "\n```\n"


def _insecure_output() -> str:
    """The gate's verdict on the deliberately insecure program: its last line."""
    command = ("--stack", "dev", "--project-dir", "tests/fixtures/insecure")
    last = _gate(*command, allowed=(1,))[-1]
    return f"```\n$ .venv/bin/python -m ops.gate.check {' '.join(command)}\n...\n{last}\n```\n"


def _components_dot() -> str:
    from ops.gate.graph import components_dot

    run = synthesis("prod")
    project = run.config.project if run.config else "steadystate"
    return components_dot(run.records, project=project, stack="prod")


@dataclass(frozen=True)
class Section:
    """A generated section: the page (relative to docs/) that holds it and what produces it."""

    page: str
    produce: Callable[[], str]


SECTIONS: dict[str, Section] = {
    "check-output": Section("tutorial/first-hour.md", _check_output),
    "settings": Section("reference/settings.md", _settings),
    "insecure-output": Section("reference/policies.md", _insecure_output),
    "policies": Section("reference/policies.md", _policies),
    "coverage": Section("reference/controls.md", _coverage),
    "cost": Section("reference/cost.md", _cost),
    "outputs": Section("reference/outputs.md", _outputs),
    "make-targets": Section("reference/make-targets.md", _make_targets),
    "release-exit-codes": Section("reference/commands.md", _release_exit_codes),
    "release-diagram": Section("how-to/release.md", _release_diagram),
    "failover-diagram": Section("explanation/failover.md", _failover_diagram),
    "chaos-diagram": Section("how-to/chaos.md", _chaos_diagram),
    "resilience-output": Section("explanation/resilience.md", _resilience_output),
}
FILES: dict[str, Callable[[], str]] = {COMPONENTS_DOT: _components_dot}
"""Generated files (relative to docs/), whole."""


def render_section(name: str, text: str, body: str) -> str:
    """`text` with section `name` replaced by `body`; ValueError when `text` lacks its markers."""
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"no <!-- {name}:begin --> ... <!-- {name}:end --> section")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


@functools.cache
def produced(name: str) -> str:
    """The content of section or file `name` (a key of SECTIONS or FILES), made once a process."""
    return SECTIONS[name].produce() if name in SECTIONS else FILES[name]()


def wanted(docs_dir: Path = DOCS_DIR) -> dict[Path, str]:
    """Every page and file that holds generated content, as it should read now."""
    pages: dict[Path, str] = {}
    for name, section in SECTIONS.items():
        path = docs_dir / section.page
        current = pages.get(path) or path.read_text()
        try:
            pages[path] = render_section(name, current, produced(name))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    for relative in FILES:
        pages[docs_dir / relative] = produced(relative)
    return pages


def stale(docs_dir: Path = DOCS_DIR) -> list[Path]:
    """The generated pages and files that differ from what the code produces now."""
    return [
        path
        for path, text in wanted(docs_dir).items()
        if not path.is_file() or path.read_text() != text
    ]


def render_picture(docs_dir: Path = DOCS_DIR) -> Path:
    """Render the component overview's DOT source to SVG with graphviz (GraphError without dot)."""
    from ops.gate.graph import write_graph

    source = (docs_dir / COMPONENTS_DOT).read_text()
    return write_graph(source, docs_dir / COMPONENTS_SVG)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.docs.generate",
        description="Regenerate the generated tables, diagrams and pictures of docs/ from the code.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if anything is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"{path.relative_to(PROJECT_DIR)} is stale: run `make docs`", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in wanted().items():
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"{path.relative_to(PROJECT_DIR)} updated")
    from ops.gate.graph import GraphError

    try:
        print(f"{render_picture().relative_to(PROJECT_DIR)} rendered")
    except GraphError as err:
        print(f"the component overview needs graphviz: {err}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
