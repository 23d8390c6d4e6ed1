"""What a stack file may still carry from the shipped examples or from another stack.

Each finding is a warning offline (`make check` runs the shipped files on purpose) and a refusal when
the program runs for a real `pulumi preview`/`up`, where it would put a failover record in a zone
nobody owns, page an address nobody reads, or tag prod's resources `Stack: dev`.

- Reserved example names: `example.com`, `example.net`, `example.org` and the `.example`, `.test`,
  `.invalid`, `.localhost` top-level domains can never be registered (RFC 2606, sections 2 and 3:
  https://www.rfc-editor.org/rfc/rfc2606), so a prod stack naming one is still the template.
- The provider's default tags (`aws:defaultTags`) go on every resource; a `Stack` tag naming another
  stack is a file copied from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_monitor

from .errors import Problem, SettingsError
from .model import Settings
from .offline_secrets import is_placeholder

RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")


def is_reserved_name(name: str) -> bool:
    """Whether DNS name `name` lies in a name RFC 2606 reserves for examples and tests."""
    labels = name.lower().rstrip(".").split(".")
    domain = ".".join(labels[-2:])
    return domain in RESERVED_DOMAINS or labels[-1] in RESERVED_TLDS


def example_value_problems(s: Settings, project: str = "steadystate") -> list[Problem]:
    """Prod settings that still name the shipped examples' reserved domains."""
    if not s.is_prod:
        return []
    out: list[Problem] = []
    why = "is a reserved example name (RFC 2606): replace it with your own before deploying prod"
    named = [
        ("dns.zoneName", s.dns.zone_name if s.dns.enabled else None),
        ("loadBalancer.certificateDomain", s.load_balancer.certificate_domain),
    ]
    for key, name in named:
        if name and is_reserved_name(name):
            out.append(Problem(f"{project}:{key}", name, why))
    for address in s.connectivity.alarm_emails:
        if not is_placeholder(address) and is_reserved_name(address.rpartition("@")[2]):
            out.append(Problem(f"{project}:connectivity.alarmEmails", address, why))
    for url in s.connectivity.alarm_webhooks:
        host = urlsplit(url).hostname or ""
        if not is_placeholder(url) and is_reserved_name(host):
            out.append(Problem(f"{project}:connectivity.alarmWebhooks", url, why))
    return out


def stack_tag_problem(raw: Mapping[str, str], stack: str) -> Problem | None:
    """An `aws:defaultTags` `Stack` tag that names another stack than `stack`."""
    text = raw.get("aws:defaultTags")
    if not text:
        return None
    try:
        tags = (json.loads(text) or {}).get("tags") or {}
    except (json.JSONDecodeError, AttributeError):
        return None  # the provider-config check reports a malformed value
    tagged = tags.get("Stack") if isinstance(tags, dict) else None
    if tagged is None or tagged == stack:
        return None
    return Problem(
        "aws:defaultTags",
        text,
        f"its Stack tag says {tagged!r} but this is stack {stack!r}: every resource would carry "
        "the other stack's tag (a stack file copied from it?); set tags.Stack to this stack's name",
    )


def readiness_problems(
    s: Settings, raw: Mapping[str, str], stack: str, project: str
) -> list[Problem]:
    """Everything this module calls out for `stack`."""
    problems = example_value_problems(s, project)
    if tag := stack_tag_problem(raw, stack):
        problems.append(tag)
    return problems


def deploying() -> bool:
    """True under the Pulumi engine, False under the SDK's mocks (`make check`, tests)."""
    return not isinstance(get_monitor(), MockMonitor)


def call_out(s: Settings, raw: Mapping[str, str], stack: str, project: str) -> None:
    """Warn about each finding offline; refuse them all at once for a real preview or up."""
    problems = readiness_problems(s, raw, stack, project)
    if problems and deploying():
        raise SettingsError(problems)
    for problem in problems:
        pulumi.log.warn(f"warning: {problem} (a real preview or up refuses this)")
    if "aws:region" not in raw:
        # pulumi-aws then reads the environment and the AWS profile, as the AWS SDKs do:
        # https://www.pulumi.com/registry/packages/aws/installation-configuration/
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        pulumi.log.warn(
            "warning: aws:region is not set in this stack's configuration, so the region is "
            f"{region or 'whatever the AWS profile names'} (from the environment of whoever runs "
            f"pulumi); pin it: pulumi config set aws:region <region> --stack {stack}"
        )
