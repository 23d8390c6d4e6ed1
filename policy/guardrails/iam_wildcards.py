"""IAM guardrails beyond full admin (:mod:`.iam`): who may assume a role, wildcards that amount to
privilege escalation or a whole service, policies on users, admin managed policies, and
resource policies (key, topic, bucket, repository) that open a resource to anyone."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from .aws_types import (
    ECR_REPOSITORY_POLICY,
    IAM_GROUP_POLICY,
    IAM_GROUP_POLICY_ATTACHMENT,
    IAM_POLICY,
    IAM_POLICY_ATTACHMENT,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_USER_POLICY,
    IAM_USER_POLICY_ATTACHMENT,
    KMS_KEY,
    S3_BUCKET_POLICY,
    SNS_TOPIC,
    SNS_TOPIC_POLICY,
)
from .framework import MANDATORY, ResourceCheck, resource_rule
from .iam import _documents
from .properties import as_list, find_unknown, fmt, is_set, is_unknown, policy_statements

IDENTITY_POLICY_TYPES = [IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY, IAM_ROLE]

SERVICE_WILDCARD = re.compile(r"^[a-z0-9-]+:\*$", re.IGNORECASE)

SCOPING_CONDITION_KEYS = (
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceorgid",
    "kms:calleraccount",
    "kms:viaservice",
    "sts:externalid",
)
"""Condition keys that pin an ``"*"`` principal to an account, organisation, ARN or network."""

FORBIDDEN_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/AWSCloudShellFullAccess",
)


def _label(where: str, index: int, statement: dict[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"{where} Statement[{index}]" + (f" ({sid})" if sid else "")


def _allow_statements(
    check: ResourceCheck, documents: list[tuple[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, statement) for every known Allow statement of ``documents``."""
    for where, document in documents:
        statements = policy_statements(document)
        if not isinstance(statements, list):
            check.note(f"{where} statements are unknown during preview")
            continue
        for i, statement in enumerate(statements):
            label = _label(where, i, statement)
            if find_unknown(statement) is not None:
                check.note(f"{label} is unknown during preview")
                continue
            if statement.get("Effect") == "Allow":
                yield label, statement


def _strings(statement: dict[str, Any], key: str) -> list[str]:
    return [v.strip() for v in as_list(statement.get(key)) if isinstance(v, str)]  # type: ignore[union-attr]


def _on_all_resources(statement: dict[str, Any]) -> bool:
    return "NotResource" in statement or "*" in _strings(statement, "Resource")


def _grants(statement: dict[str, Any], action: str) -> bool:
    """Does the statement's Action (glob patterns) cover ``action``?"""
    if "NotAction" in statement:
        return not any(
            fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _strings(statement, "NotAction")
        )
    return any(
        fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _strings(statement, "Action")
    )


@resource_rule(
    "iam-no-service-wildcard-on-all-resources",
    types=IDENTITY_POLICY_TYPES,
    level=MANDATORY,
    config={
        "allowedServiceWildcards": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": 'Service wildcards accepted on "*" (e.g. "cloudwatch:*").',
        }
    },
    description=(
        'No identity policy allows a whole service ("s3:*", "ecs:*") on every resource ("*") '
        "(FSBP IAM.21, CKV_AWS_355). Mandatory: a workload calls a handful of actions; a "
        "service wildcard hands it every delete and every permission change of that service "
        "account-wide."
    ),
)
def iam_no_service_wildcard(check: ResourceCheck) -> None:
    allowed = {a.lower() for a in check.config["allowedServiceWildcards"]}
    for label, statement in _allow_statements(check, _documents(check)):
        if not _on_all_resources(statement):
            continue
        wild = [
            a
            for a in _strings(statement, "Action")
            if SERVICE_WILDCARD.match(a) and a.lower() not in allowed
        ]
        if wild:
            check.violation(
                f"{label} allows {', '.join(wild)} on every resource",
                f"replace {', '.join(wild)} with the exact actions the workload calls and set "
                "Resource to the ARNs it touches",
            )


PRIVILEGED_ACTIONS = {
    "iam:PassRole": "pass any role (including admin roles) to a service it controls",
    "kms:Decrypt": "decrypt with every KMS key in the account (FSBP KMS.1/KMS.2)",
    "kms:ReEncryptFrom": "re-encrypt from every KMS key in the account (FSBP KMS.1/KMS.2)",
    "sts:AssumeRole": "assume every role that trusts the account",
}


@resource_rule(
    "iam-no-privileged-action-on-all-resources",
    types=IDENTITY_POLICY_TYPES,
    level=MANDATORY,
    description=(
        "No identity policy allows iam:PassRole, kms:Decrypt, kms:ReEncryptFrom or "
        'sts:AssumeRole on every resource ("*"), whether named or matched by a wildcard '
        '(FSBP KMS.1/KMS.2, CKV_AWS_286). Mandatory: on "*" these are privilege '
        "escalation (PassRole, AssumeRole) or access to every secret the account encrypts."
    ),
)
def iam_no_privileged_action(check: ResourceCheck) -> None:
    for label, statement in _allow_statements(check, _documents(check)):
        if not _on_all_resources(statement):
            continue
        actions = _strings(statement, "Action")
        if "NotAction" not in statement and ("*" in actions or "*:*" in actions):
            continue  # full admin: iam-no-admin-wildcard reports it
        granted = [a for a in PRIVILEGED_ACTIONS if _grants(statement, a)]
        if granted:
            check.violation(
                f"{label} allows {', '.join(granted)} on every resource, so the holder can "
                f"{'; '.join(PRIVILEGED_ACTIONS[a] for a in granted)}",
                "set Resource to the exact ARNs (the role to pass, the key to use), and for "
                'iam:PassRole add Condition {StringEquals: {"iam:PassedToService": '
                '"ecs-tasks.amazonaws.com"}}',
            )


def _principals(statement: dict[str, Any]) -> list[Any]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        found: list[Any] = []
        for value in principal.values():
            found.extend(as_list(value) if not is_unknown(value) else [value])  # type: ignore[arg-type]
        return found
    return []


def _is_scoped(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator in condition.values():
        if isinstance(operator, dict) and any(
            str(key).lower() in SCOPING_CONDITION_KEYS for key in operator
        ):
            return True
    return False


def _public_statements(check: ResourceCheck, documents: list[tuple[str, Any]]) -> list[str]:
    return [
        label
        for label, statement in _allow_statements(check, documents)
        if "*" in _principals(statement) and not _is_scoped(statement)
    ]


@resource_rule(
    "iam-role-trust-not-public",
    types=IAM_ROLE,
    level=MANDATORY,
    description=(
        'No role trusts every principal (Principal "*" or {"AWS": "*"}) without a condition '
        "pinning the caller's account, organisation or ARN (CKV_AWS_60). Mandatory: anyone "
        "with an AWS account could assume the role."
    ),
)
def iam_role_trust_not_public(check: ResourceCheck) -> None:
    public = _public_statements(check, [("assumeRolePolicy", check.known("assumeRolePolicy"))])
    if public:
        check.violation(
            f"{', '.join(public)} lets any AWS principal assume the role",
            'set Principal to the service (e.g. {"Service": "ecs-tasks.amazonaws.com"}) or the '
            'exact account/role ARNs, and add Condition {StringEquals: {"aws:SourceAccount": '
            "<account id>}}",
        )


_RESOURCE_POLICY_PROPERTY = {
    KMS_KEY: "policy",
    SNS_TOPIC: "policy",
    SNS_TOPIC_POLICY: "policy",
    S3_BUCKET_POLICY: "policy",
    ECR_REPOSITORY_POLICY: "policy",
}


@resource_rule(
    "resource-policy-not-public",
    types=list(_RESOURCE_POLICY_PROPERTY),
    level=MANDATORY,
    description=(
        "KMS key policies, SNS topic policies, S3 bucket policies and ECR repository policies "
        'never Allow Principal "*" without a condition pinning the caller (aws:SourceAccount, '
        "aws:SourceArn, aws:PrincipalOrgID, ...) (FSBP KMS.5, SNS.4, S3.2/S3.3, ECR's "
        "public-repository check, CKV_AWS_33). Mandatory: such a statement grants the action to "
        "every AWS account, and to anonymous callers where the service allows it."
    ),
)
def resource_policy_not_public(check: ResourceCheck) -> None:
    document = check.known(_RESOURCE_POLICY_PROPERTY[check.type])
    if not is_set(document):
        return
    public = _public_statements(check, [("policy", document)])
    if public:
        check.violation(
            f"{', '.join(public)} allows every principal",
            "set Principal to the exact service or account ARNs that need access, or add a "
            'Condition such as {StringEquals: {"aws:SourceAccount": <account id>}} '
            '(Deny statements with Principal "*" are fine)',
        )


@resource_rule(
    "iam-no-user-policies",
    types=[IAM_USER_POLICY, IAM_USER_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT],
    level=MANDATORY,
    description=(
        "No policy is attached to an IAM user, inline or managed; permissions go to roles "
        "(FSBP IAM.2, CKV_AWS_40). Mandatory: users carry long-lived keys, and this stack's "
        "workloads get temporary credentials from their roles."
    ),
)
def iam_no_user_policies(check: ResourceCheck) -> None:
    if check.type == IAM_POLICY_ATTACHMENT:
        users = check.known("users", [])
        if not users:
            return
        subject = f"users {', '.join(map(fmt, users))}"
    else:
        subject = f"user {fmt(check.known('user'))}"
    check.violation(
        f"it grants permissions to {subject}",
        "attach the policy to a role (aws:iam/rolePolicyAttachment) that the person or workload "
        "assumes, and remove the user attachment",
    )


@resource_rule(
    "iam-no-admin-managed-policies",
    types=[
        IAM_ROLE_POLICY_ATTACHMENT,
        IAM_USER_POLICY_ATTACHMENT,
        IAM_GROUP_POLICY_ATTACHMENT,
        IAM_POLICY_ATTACHMENT,
        IAM_ROLE,
    ],
    level=MANDATORY,
    config={
        "forbiddenPolicyArns": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(FORBIDDEN_MANAGED_POLICIES),
            "description": "AWS managed policies no role, user or group may be given.",
        }
    },
    description=(
        "No role, user or group is given an administrator-grade AWS managed policy "
        "(AdministratorAccess, PowerUserAccess, IAMFullAccess, AWSCloudShellFullAccess) (FSBP "
        "IAM.1 for managed policies, IAM.27, CKV_AWS_274). Mandatory: each one is full or "
        "near-full control of the account."
    ),
)
def iam_no_admin_managed_policies(check: ResourceCheck) -> None:
    forbidden = set(check.config["forbiddenPolicyArns"])
    if check.type == IAM_ROLE:
        arns = check.get("managedPolicyArns", [])
        if is_unknown(arns):
            check.note("managedPolicyArns is unknown during preview")
            return
        where = "managedPolicyArns"
    else:
        arns = [check.known("policyArn")]
        where = "policyArn"
    hits = [a for a in arns if a in forbidden]
    if hits:
        check.violation(
            f"{where} grants {', '.join(hits)}",
            "replace it with a customer managed or inline policy listing the exact actions and "
            "resources the workload needs",
        )


POLICIES = [
    iam_no_service_wildcard,
    iam_no_privileged_action,
    iam_role_trust_not_public,
    resource_policy_not_public,
    iam_no_user_policies,
    iam_no_admin_managed_policies,
]
