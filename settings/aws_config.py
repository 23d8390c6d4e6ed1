"""The `aws:` keys of a stack: names the pulumi-aws provider reads, and a region it knows.

The provider skips its own region check by default (`aws:skipRegionValidation` defaults to true),
so a misspelled region, or a misspelled `aws:region` key, would otherwise reach `pulumi up` and fail
there (or silently fall back to `AWS_REGION`). Any region the installed pulumi-aws lists is
accepted; `aws:skipRegionValidation: true`, written in the stack, lets a newer one through.
"""

from __future__ import annotations

import difflib
import inspect
import sys
from collections.abc import Mapping
from functools import cache

from .errors import Problem
from .fields import camel


@cache
def known_regions() -> tuple[str, ...]:
    """Every region of the installed pulumi-aws's `Region` enum."""
    from pulumi_aws._enums import Region

    return tuple(sorted(region.value for region in Region))


@cache
def provider_keys() -> tuple[str, ...]:
    """The provider's config keys (camelCase, without `aws:`), from pulumi_aws.config."""
    import pulumi_aws.config

    # pulumi_aws.config is a lazy module: reading one of its attributes loads it, and config.vars.
    vars_module = getattr(pulumi_aws.config, "vars", None) or sys.modules["pulumi_aws.config.vars"]
    exported = vars_module._ExportableConfig
    names = (name for name, _ in inspect.getmembers(exported, lambda o: isinstance(o, property)))
    return tuple(sorted(camel(name) for name in names))


def _close(word: str, choices: tuple[str, ...]) -> str:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {found[0]}? " if found else ""


def aws_config_problems(raw: Mapping[str, str]) -> list[Problem]:
    """Unknown `aws:` keys, and an `aws:region` that is not a region pulumi-aws knows."""
    problems: list[Problem] = []
    keys = provider_keys()
    for full_key, value in sorted(raw.items()):
        namespace, _, key = full_key.partition(":")
        if namespace == "aws" and key not in keys:
            problems.append(
                Problem(
                    full_key,
                    value,
                    f"not a pulumi-aws provider setting; {_close(key, keys)}"
                    "see the provider's configuration reference for the others",
                )
            )
    region = raw.get("aws:region")
    skip = raw.get("aws:skipRegionValidation", "").lower() == "true"
    if region is not None and not skip and region not in known_regions():
        regions = known_regions()
        problems.append(
            Problem(
                "aws:region",
                region,
                f"not a region pulumi-aws knows; {_close(region, regions)}"
                f"allowed: {', '.join(regions)} (or set aws:skipRegionValidation: true "
                "for a region newer than the installed pulumi-aws)",
            )
        )
    return problems
