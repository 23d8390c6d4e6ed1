"""IAM guardrails: no policy grants every action on every resource."""

from __future__ import annotations

from typing import Any

from .aws_types import IAM_GROUP_POLICY, IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY, IAM_USER_POLICY
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import Unknown, find_unknown, is_unknown, policy_statements, statement_values


def _wildcard(values: list[Any] | Unknown, *wild: str) -> bool:
    """True when a listed value is one of ``wild``; an unknown list is no wildcard (yet)."""
    return not is_unknown(values) and any(isinstance(v, str) and v.strip() in wild for v in values)


def _admin_statements(check: ResourceCheck, document: Any, where: str) -> list[str]:
    """Labels of the Allow statements of ``document`` that grant all actions on all resources."""
    statements = policy_statements(document)
    if not isinstance(statements, list):
        check.note(f"{where} statements are unknown during preview")
        return []
    found = []
    for i, statement in enumerate(statements):
        label = f"{where} Statement[{i}]" + (
            f" ({statement['Sid']})" if statement.get("Sid") else ""
        )
        if find_unknown(statement) is not None:
            check.note(f"{label} is unknown during preview")
            continue
        if statement.get("Effect") != "Allow":
            continue
        all_actions = "NotAction" in statement or _wildcard(
            statement_values(statement, "Action"), "*", "*:*"
        )
        all_resources = "NotResource" in statement or _wildcard(
            statement_values(statement, "Resource"), "*"
        )
        if all_actions and all_resources:
            found.append(label)
    return found


def _documents(check: ResourceCheck) -> list[tuple[str, Any]]:
    if check.type != IAM_ROLE:
        return [("policy", check.known("policy"))]
    inline = check.known("inlinePolicies", [])
    return [
        (f"inlinePolicies[{i}] ({p.get('name', '')})".replace(" ()", ""), p.get("policy"))
        for i, p in enumerate(inline)
        if isinstance(p, dict) and p.get("policy")
    ]


@resource_rule(
    "iam-no-admin-wildcard",
    types=[IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY, IAM_ROLE],
    level=MANDATORY,
    description=(
        "No IAM policy (managed, inline, or a role's inlinePolicies) allows all actions ('*' or "
        "NotAction) on all resources ('*' or NotResource) (CKV_AWS_62/63/355, FSBP IAM.1). "
        "Mandatory: that is full administrator access handed to a workload."
    ),
)
def iam_no_admin_wildcard(check: ResourceCheck) -> None:
    for where, document in _documents(check):
        admin = _admin_statements(check, document, where)
        if admin:
            check.violation(
                f"{', '.join(admin)} allows every action on every resource",
                "list the exact actions the workload calls in Action (e.g. "
                '"secretsmanager:GetSecretValue") and the ARNs it touches in Resource',
            )


POLICIES = [iam_no_admin_wildcard]
