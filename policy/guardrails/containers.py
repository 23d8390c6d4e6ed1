"""Container guardrails: what each entry of an ECS task definition's ``containerDefinitions``
(a JSON string) may contain."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .aws_types import ECS_TASK_DEFINITION
from .framework import MANDATORY, ResourceCheck, Skip, resource_rule
from .properties import container_definitions, container_label, find_unknown, is_unknown

SECRET_NAME = re.compile(
    r"PASSW(OR)?D|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.IGNORECASE
)
"""Environment variable names that announce a credential."""

REFERENCE_NAME = re.compile(
    r"(?<!ACCESS_KEY)_(ARN|NAME|ID|PATH|FILE|URL|ENDPOINT|REGION)$", re.IGNORECASE
)
"""Names that only point at a secret (DB_SECRET_ARN, TOKEN_URL) and hold none; an access key
id (AWS_ACCESS_KEY_ID) is still a credential."""

SECRET_VALUE = re.compile(
    r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"  # PEM private key
    r"|://[^/\s:@]+:[^/\s@]+@"  # credentials inside a URL
)
"""Values that are credentials whatever their variable is called."""


def _containers(check: ResourceCheck) -> Iterator[tuple[str, dict[str, Any]]]:
    containers = container_definitions(check.get("containerDefinitions"))
    if is_unknown(containers):
        raise Skip("containerDefinitions is unknown during preview")
    for index, container in enumerate(containers):
        yield container_label(container, index), container


def _each_container(
    check: ResourceCheck, judge: Callable[[str, dict[str, Any]], None], *fields: str
) -> None:
    """Run ``judge`` per container whose ``fields`` are known; note the others."""
    for label, container in _containers(check):
        unknown = [f for f in fields if find_unknown(container.get(f)) is not None]
        if unknown:
            check.note(f"{label}: {', '.join(unknown)} unknown during preview")
            continue
        judge(label, container)


@resource_rule(
    "containers-not-privileged",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "No container runs privileged (CKV_AWS_334, FSBP ECS.4). Mandatory: a privileged "
        "container is root on the host."
    ),
)
def containers_not_privileged(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        if container.get("privileged") is True:
            check.violation(
                f"{label} is privileged",
                f'set "privileged": false (or remove it) in {label} of containerDefinitions',
            )

    _each_container(check, judge, "privileged")


@resource_rule(
    "containers-readonly-root-filesystem",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Every container's root filesystem is read-only (CKV_AWS_336, FSBP ECS.5). Mandatory: "
        "an attacker who gets code execution cannot persist or tamper with the image; writable "
        "scratch space comes from volumes or tmpfs."
    ),
)
def containers_readonly_root_filesystem(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        if container.get("readonlyRootFilesystem") is not True:
            check.violation(
                f"{label} has a writable root filesystem",
                f'set "readonlyRootFilesystem": true in {label} of containerDefinitions and '
                "mount a volume (or linuxParameters.tmpfs) where it must write",
            )

    _each_container(check, judge, "readonlyRootFilesystem")


def _plaintext_secrets(container: dict[str, Any]) -> list[str]:
    found = []
    for entry in container.get("environment") or []:
        if not isinstance(entry, dict):
            continue
        name, value = str(entry.get("name", "")), entry.get("value")
        named_secret = SECRET_NAME.search(name) and not REFERENCE_NAME.search(name)
        if named_secret or (isinstance(value, str) and SECRET_VALUE.search(value)):
            found.append(name or "(unnamed)")
    return found


@resource_rule(
    "containers-no-plaintext-secrets",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "No container gets a credential through plain environment variables; credentials come "
        "from secrets[].valueFrom (Secrets Manager / SSM) (FSBP ECS.8). Mandatory: plain "
        "environment values are readable by anyone who can describe the task definition."
    ),
)
def containers_no_plaintext_secrets(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        names = _plaintext_secrets(container)
        if names:
            check.violation(
                f"{label} passes {', '.join(names)} as plain environment",
                f"move {', '.join(names)} from environment to "
                'secrets=[{"name": ..., "valueFrom": <Secrets Manager or SSM parameter ARN>}] '
                f"in {label}",
            )

    _each_container(check, judge, "environment")


@resource_rule(
    "containers-log-configuration",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Every container sends its output to a log driver (FSBP ECS.9). Mandatory: a container "
        "without logConfiguration leaves nothing to debug a crash with."
    ),
)
def containers_log_configuration(check: ResourceCheck) -> None:
    def judge(label: str, container: dict[str, Any]) -> None:
        config = container.get("logConfiguration")
        if not isinstance(config, dict) or not config.get("logDriver"):
            check.violation(
                f"{label} has no logConfiguration.logDriver",
                f'set "logConfiguration": {{"logDriver": "awslogs", "options": {{"awslogs-group"'
                f': <log group>, "awslogs-region": <region>, "awslogs-stream-prefix": <name>}}}} '
                f"in {label}",
            )

    _each_container(check, judge, "logConfiguration")


POLICIES = [
    containers_not_privileged,
    containers_readonly_root_filesystem,
    containers_no_plaintext_secrets,
    containers_log_configuration,
]
