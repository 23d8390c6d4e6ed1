"""The ECR lifecycle policy of the app's repository: it never expires an image a release pin runs.

"Keep the newest N" alone expires the digest a held fleet pin runs once N newer images are pushed;
scale-out, host replacement and a circuit-breaker rollback then fail with CannotPullContainerError.
So the policy starts with one rule per pinned tag and ends with the count rule. Amazon ECR's
documented evaluation rules (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html,
"Lifecycle policy evaluation rules", and lifecycle_policy_parameters.html) that this relies on:

* "An image that matches the tagging requirements of a rule cannot be expired by a rule with a
  lower priority." A pinned image matches its own rule (priority 1..k), so the count rule can't
  expire it; the pin rule itself keeps `countNumber` 1 of the one image its exact tag selects.
* tagPatternList: "If you specify multiple tags, only the images with all specified tags are
  selected" — a list is an AND, so each pinned tag gets a rule of its own (one rule listing every
  pinned tag would protect nothing, as no image carries them all).
* "A rule with a tagStatus value of any must have the highest value for rulePriority and be
  evaluated last."
* "Rules can never mark images that are marked by higher priority rules, but can still identify
  them as if they haven't been expired": protected images still count among the newest N.

A pin's ``version`` is the image's tag (the content tag the image was pushed with, e.g.
``src-3f2a9c1d0b7e4a55``; tags are IMMUTABLE, so the tag names that digest for good).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

#: An image tag as the OCI distribution spec defines it (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
#: what Docker pushes); a pinned tag is matched exactly, so the pattern wildcard `*` is refused.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def pinned_tag_problem(tag: str) -> str | None:
    """Why ``tag`` cannot be protected as an exact tag, or None."""
    if _TAG.fullmatch(tag):
        return None
    return (
        f"release pin version {tag!r} is not an image tag (letters, digits, '.', '_', '-'; at most "
        "128 characters): the lifecycle policy protects pinned images by their tag"
    )


def retention_policy(keep_images: int, pinned_tags: Sequence[str]) -> str:
    """The lifecycle policy document: one protecting rule per distinct pinned tag (priority 1..k),
    then "keep the newest ``keep_images``" over every image. ValueError names a bad tag."""
    tags = sorted(set(pinned_tags))
    for tag in tags:
        if problem := pinned_tag_problem(tag):
            raise ValueError(problem)
    rules: list[dict] = [
        {
            "rulePriority": priority,
            "description": f"keep {tag}: a release pin runs it",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [tag],
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        }
        for priority, tag in enumerate(tags, start=1)
    ]
    rules.append(
        {
            "rulePriority": len(tags) + 1,
            "description": f"keep the newest {keep_images} images",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": keep_images,
            },
            "action": {"type": "expire"},
        }
    )
    return json.dumps({"rules": rules})
