"""A small evaluator of Amazon ECR lifecycle policies (expire actions), from AWS's documented rules.

Sources: "Lifecycle policy evaluation rules" in
https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html and the properties in
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html:

* rules are applied by `rulePriority`, lowest first; a `tagStatus: any` rule must come last;
* `tagStatus`: `any` selects every image, `untagged` images without tags, `tagged` images matching
  `tagPatternList` / `tagPrefixList`, where "only the images with all specified tags are selected"
  (each pattern must match one of the image's tags; `*` is the only wildcard);
* `imageCountMoreThan N`: images sorted newest first by push time, all beyond the first N are
  expired; `sinceImagePushed N days`: images pushed more than N days ago are expired;
* "An image that matches the tagging requirements of a rule cannot be expired by a rule with a
  lower priority", and "rules can never mark images that are marked by higher priority rules, but
  can still identify them as if they haven't been expired" (they still count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: float
    """Seconds (any epoch): only the order and differences in days matter."""


def _pattern_matches(pattern: str, tag: str) -> bool:
    """`*` matches any run of characters; everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, tag) is not None


def _selected(selection: dict, image: Image) -> bool:
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    if not image.tags:
        return False
    patterns = selection.get("tagPatternList")
    if patterns is not None:
        return all(any(_pattern_matches(p, t) for t in image.tags) for p in patterns)
    prefixes = selection["tagPrefixList"]
    return all(any(t.startswith(p) for t in image.tags) for p in prefixes)


def expired(policy: dict, images: Sequence[Image], now: float | None = None) -> set[str]:
    """The digests the policy expires from ``images``."""
    rules = sorted(policy["rules"], key=lambda r: r["rulePriority"])
    any_rules = [r for r in rules if r["selection"]["tagStatus"] == "any"]
    assert not any_rules or rules[-1] is any_rules[-1], "a tagStatus any rule must be last"
    now = max((i.pushed_at for i in images), default=0.0) if now is None else now
    claimed: set[str] = set()
    expiring: set[str] = set()
    for rule in rules:
        assert rule["action"]["type"] == "expire"
        selection = rule["selection"]
        matched = [i for i in images if _selected(selection, i)]
        newest_first = sorted(matched, key=lambda i: i.pushed_at, reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            identified = newest_first[selection["countNumber"] :]
        else:
            age = selection["countNumber"] * 86400
            identified = [i for i in newest_first if now - i.pushed_at > age]
        expiring |= {i.digest for i in identified if i.digest not in claimed}
        claimed |= {i.digest for i in matched}
    return expiring
