"""The ECR lifecycle policy never expires an image a release pin runs: the policy document judged by
an evaluator of ECR's documented lifecycle rules (tests/support/ecr_lifecycle.py, which cites them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.app_image import AppImage, AppImageArgs
from components.image_retention import pinned_tag_problem, retention_policy
from tests.support.ecr_lifecycle import Image, expired

DAY = 86400.0


def pushes(count: int, start: float = 1.0, prefix: str = "src-new") -> list[Image]:
    return [Image(f"sha256:{prefix}{i}", (f"{prefix}{i}",), start + i * 60) for i in range(count)]


def test_the_evaluator_follows_awss_example_a() -> None:
    """lifecycle_policy_examples.html, "Filtering on multiple rules", Example A: rule 1 keeps one
    `prod` image and marks A; rule 2 would mark A and B (keeping one `beta`), but B matched rule 1's
    tagging requirements, so a lower-priority rule cannot expire it. Only A is expired."""
    images = [
        Image("A", ("beta-1", "prod-1"), -10 * DAY),
        Image("B", ("beta-2", "prod-2"), -9 * DAY),
        Image("C", ("beta-3",), -8 * DAY),
    ]
    rule = {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1}
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {**rule, "tagPatternList": ["prod*"]},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "selection": {**rule, "tagPatternList": ["beta*"]},
                "action": {"type": "expire"},
            },
        ]
    }
    assert expired(policy, images) == {"A"}


def test_a_pinned_digest_survives_fifty_newer_pushes() -> None:
    pinned = Image("sha256:fleet", ("src-fleet",), 0.0)
    images = [pinned, *pushes(50)]
    gone = expired(json.loads(retention_policy(20, ["src-fleet"])), images)
    assert pinned.digest not in gone
    assert len(images) - len(gone) == 21  # the newest 20 and the pinned one
    # "Keep the newest 20" alone expires it: the defect this policy fixes.
    assert pinned.digest in expired(json.loads(retention_policy(20, [])), images)


def test_every_pin_gets_a_rule_of_its_own_because_a_pattern_list_is_an_and() -> None:
    blue, green = Image("sha256:b", ("src-blue",), 0.0), Image("sha256:g", ("src-green",), 1.0)
    images = [blue, green, *pushes(30, start=10.0)]
    document = json.loads(retention_policy(5, ["src-green", "src-blue", "src-blue"]))
    assert not {blue.digest, green.digest} & expired(document, images)
    priorities = [r["rulePriority"] for r in document["rules"]]
    assert priorities == [1, 2, 3]
    assert [r["selection"].get("tagPatternList") for r in document["rules"]] == [
        ["src-blue"],
        ["src-green"],
        None,
    ]
    assert document["rules"][-1]["selection"]["tagStatus"] == "any"  # must be evaluated last
    # One rule listing both tags selects only images carrying both: it protects neither.
    one_rule = json.loads(retention_policy(5, []))
    one_rule["rules"].insert(
        0,
        {
            **document["rules"][0],
            "selection": {
                **document["rules"][0]["selection"],
                "tagPatternList": ["src-blue", "src-green"],
            },
        },
    )
    one_rule["rules"][1]["rulePriority"] = 2
    assert {blue.digest, green.digest} <= expired(one_rule, images)


@pytest.mark.parametrize("tag", ["src-*", "", "a b", "x" * 129, "-lead"])
def test_a_pin_version_that_is_no_exact_tag_is_refused(tag: str) -> None:
    assert pinned_tag_problem(tag)
    with pytest.raises(ValueError, match="lifecycle policy protects pinned images by their tag"):
        retention_policy(20, [tag])


def test_retain_adds_the_policy_under_the_image_component_with_its_old_name(
    mocked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.chdir(tmp_path)
    args = AppImageArgs(context=context, staging_root=tmp_path / ".image-context", keep_images=7)

    def program() -> None:
        image = AppImage("app", args)
        image.retain(["src-held", image.tag])

    rec = mocked(program)
    lifecycle = rec.named("app-lifecycle")
    assert lifecycle.parent == rec.named("app").urn
    assert lifecycle.inputs["repository"] == rec.named("app-repo").outputs["name"]
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    assert {tuple(r["selection"].get("tagPatternList", ())) for r in rules[:-1]} == {
        ("src-held",),
        (rec.named("app-image").inputs["imageName"].rsplit(":", 1)[1],),
    }
    assert rules[-1]["selection"]["countNumber"] == 7
