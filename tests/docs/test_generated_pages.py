"""The docs' generated parts match the code (`make docs` rewrites them; these fail when it was not
run), and the generators derive what they show from the code rather than restating it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ops.docs import diagrams, generate, outputs
from ops.docs.stacks import synthesis
from ops.release.pipeline import ReleaseConfig, plan_steps
from ops.resilience.model import FailoverRecord, Route53Check


def test_generated_parts_are_current() -> None:
    stale = [str(p.relative_to(generate.PROJECT_DIR)) for p in generate.stale()]
    assert stale == [], "run `make docs` and commit the result"


def test_a_stale_section_is_detected(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for page in {s.page for s in generate.SECTIONS.values()}:
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text((generate.DOCS_DIR / page).read_text())
    (docs / "assets").mkdir(exist_ok=True)
    (docs / generate.COMPONENTS_DOT).write_text(
        (generate.DOCS_DIR / generate.COMPONENTS_DOT).read_text()
    )
    assert generate.stale(docs) == []
    settings = docs / "reference/settings.md"
    settings.write_text(settings.read_text().replace("`steadystate:service.cpuTarget`", "`x`"))
    assert generate.stale(docs) == [settings]


def test_a_page_without_its_markers_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"no <!-- settings:begin --> \.\.\. <!-- settings:end -->"
    ):
        generate.render_section("settings", "# Settings\n", "| table |\n")


def test_an_output_without_a_description_is_refused() -> None:
    with pytest.raises(outputs.UndocumentedOutput, match="brandNew"):
        outputs.table({"dev": {"url": "http://x", "brandNew": "y"}})


def test_the_outputs_table_marks_what_a_stack_does_not_export() -> None:
    table = outputs.table({"dev": {"url": "u"}, "prod": {"url": "u", "dnsPrimary": "blue"}})
    assert (
        "| `dnsPrimary` | the environment that takes traffic while healthy (`dns.primary`) | — | text |"
        in table
    )


def test_every_output_of_the_shipped_stacks_is_described() -> None:
    exported = set(synthesis("dev").outputs) | set(synthesis("prod").outputs)
    assert exported <= set(outputs.DESCRIPTIONS)
    assert set(outputs.DESCRIPTIONS) <= exported, "a description names no output any more"


def test_the_release_diagram_has_one_up_per_step_and_bakes_only_oneboxes() -> None:
    config = ReleaseConfig(
        onebox=False, region=None, environments=("blue", "green"), primary="green"
    )
    text = diagrams.release_sequence(
        "x",
        plan_steps(config, first_release=False),
        bake_seconds=60,
        load_rate=5,
        rollout_timeout=600,
    )
    ups = re.findall(r"R->>P: up, release.rollout = (.*)", text)
    assert ups == ["green-fleet", "green-fleet, blue-fleet"]  # active environment first
    assert "bake" not in text


def test_the_failover_diagram_adds_up_the_model_terms() -> None:
    check = Route53Check(name="http", type="HTTPS", request_interval_s=10, failure_threshold=3)
    record = FailoverRecord(name="api", ttl_s=60, ttl_source="record TTL", health_check=check)
    text = diagrams.failover_sequence(record, "blue", "green")
    assert "environment down: 90 s in the worst case" in text
    assert "10 s × 3 (HTTPS check 'http'), t = 30 s" in text
    assert "60 s TTL (record TTL), t = 90 s" in text
    # An endpoint check cannot see a dependency loss: the diagram says so instead of a timeline.
    assert "dependency loss: never: HTTPS check 'http' probes the endpoint" in text


def test_the_chaos_diagram_draws_every_activity_in_chaostoolkit_order(tmp_path: Path) -> None:
    def activity(name: str, module: str, kind: str = "action") -> dict:
        return {
            "type": kind,
            "name": name,
            "provider": {"type": "python", "module": module, "func": "f"},
        }

    experiment = {
        "steady-state-hypothesis": {"probes": [activity("steady", "m.probes", "probe")]},
        "configuration": {"settle": 10},
        "method": [activity("fault", "m.actions") | {"pauses": {"after": "${settle}"}}],
        "rollbacks": [activity("undo", "m.actions")],
    }
    (tmp_path / "e.json").write_text(json.dumps(experiment))
    text = diagrams.chaos_sequence("e", tmp_path)
    names = re.findall(r"(?:probe|action) (\w+) \(f\)", text)
    assert names == ["steady", "fault", "steady", "undo"]
    assert "participant M0 as m.probes" in text and "participant M1 as m.actions" in text
    assert "Note over R: pause 10 s" in text  # ${settle} read from the configuration


def test_the_resilience_example_is_the_report_and_names_its_alarm_replay() -> None:
    """The explanation page shows the real report of prod, not a copy that goes stale (it once
    said 70 s for a scale-out the replay puts at 50 s), including where an alarm time comes from."""
    text = generate.produced("resilience-output")
    assert text.startswith("```\n$ make resilience STACK=prod\nResilience report — stack 'prod'")
    assert re.search(r"^Load step → scale-out starts\s+\d+ s", text, re.M)
    assert "replay 'an environment lost' of alarm" in text
