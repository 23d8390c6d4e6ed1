"""Which granted actions are scoped to an ARN although they have no resource-level permissions.

Source: the Service Authorization Reference (e.g. CloudWatch Logs,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html),
as bundled machine-readably in policy_sentry. An action whose only resource type is ``*`` is
authorized against ``*``: a statement naming an ARN for it grants nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from policy_sentry.querying.actions import get_action_data


@cache
def has_resource_level_permissions(action: str) -> bool:
    """False when the SAR lists no resource type for ``service:Action`` (only ``*``)."""
    service, name = action.split(":", 1)
    rows = get_action_data(service, name).get(service)
    if not rows:
        raise ValueError(f"{action} is not in the Service Authorization Reference")
    return any(row["resource_arn_format"] != "*" for row in rows)


def ineffective_grants(document: dict[str, Any]) -> list[str]:
    """``Sid: action`` for each Allow of an action without resource-level permissions on
    anything but ``*``."""
    found = []
    for stmt in document["Statement"]:
        resources = stmt.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        if stmt["Effect"] != "Allow" or resources == ["*"]:
            continue
        found += [
            f"{stmt.get('Sid', '?')}: {a}" for a in actions if not has_resource_level_permissions(a)
        ]
    return found
