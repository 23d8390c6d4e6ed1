"""Least privilege at the stack's edges: VPC endpoint policies, service-role trust policies that
name the account they serve, and S3 buckets that record who read or wrote them."""

from __future__ import annotations

from typing import Any

from .aws_types import IAM_ROLE
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import Unknown, find_unknown, is_unknown, policy_statements, statement_values

VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_LOGGINGS = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")

ACCOUNT_SCOPE_KEYS = (
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
)
"""Condition keys that pin a wildcard-principal endpoint statement to an account or org."""

CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID")
"""Condition keys that tie a service principal's AssumeRole to the resources it acts for."""

SCOPED_TRUST_SERVICES = ("ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com")
"""Service principals whose trust policies must name the source account by default."""


def _condition_keys(statement: dict[str, Any]) -> set[str]:
    condition = statement.get("Condition") or {}
    if not isinstance(condition, dict):
        return set()
    return {
        key.lower()
        for operator in condition.values()
        if isinstance(operator, dict)
        for key in operator
    }


def _wildcard_principal(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _unscoped_statements(document: Any, keys: list[str]) -> list[str] | None:
    """Labels of Allow statements open to any principal on every resource with no account or
    organization condition; None when the document is unknown during preview."""
    statements = policy_statements(document)
    if isinstance(statements, Unknown) or find_unknown(statements) is not None:
        return None
    wanted = {k.lower() for k in keys}
    found = []
    for i, statement in enumerate(statements):
        if statement.get("Effect") != "Allow" or not _wildcard_principal(statement):
            continue
        resources = statement_values(statement, "Resource")
        every_resource = "NotResource" in statement or (
            isinstance(resources, list) and "*" in resources
        )
        if every_resource and not (_condition_keys(statement) & wanted):
            sid = f" ({statement['Sid']})" if statement.get("Sid") else ""
            found.append(f"Statement[{i}]{sid}")
    return found


def _endpoint_policy(check: StackCheck, endpoint: StackResource) -> Any:
    """The endpoint's own policy, else that of an aws:ec2/vpcEndpointPolicy attached to it;
    None when there is none, Unknown when which one applies is unknown during preview."""
    own = endpoint.get("policy")
    if own is not None and not is_unknown(own):
        return own
    attached = [
        (check.refers_to(p, "vpcEndpointId", endpoint, "id"), p)
        for p in check.of_type(VPC_ENDPOINT_POLICY)
    ]
    for link, policy in attached:
        if link:
            return policy.get("policy")
    if is_unknown(own) or any(link is None for link, _ in attached):
        return Unknown()
    return None


@stack_rule(
    "vpc-endpoint-policy-scoped",
    level=MANDATORY,
    config={
        "accountConditionKeys": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(ACCOUNT_SCOPE_KEYS),
            "description": (
                "Condition keys that scope a statement open to any principal on every resource "
                "to an account or organization."
            ),
        }
    },
    description=(
        "Every VPC endpoint has a policy (its own, or an aws:ec2/vpcEndpointPolicy), and no Allow "
        "statement in it admits any principal to every resource without an account or "
        "organization condition (aws:PrincipalAccount, aws:ResourceAccount, ...); statements "
        "on named resources (the ECR layer bucket) pass. Mandatory: the default endpoint policy "
        "is full access, so foreign credentials can use the VPC's private path to AWS to reach "
        "their own buckets and accounts."
    ),
)
def vpc_endpoint_policy_scoped(check: StackCheck) -> None:
    keys = list(check.config["accountConditionKeys"])
    for endpoint in check.of_type(VPC_ENDPOINT):
        policy = _endpoint_policy(check, endpoint)
        if policy is None:
            check.violation(
                endpoint,
                "the endpoint has no policy, so it allows full access",
                'set policy to a document whose Allow statements carry "Condition": '
                '{"StringEquals": {"aws:PrincipalAccount": "<this account>"}} (or attach an '
                "aws:ec2/vpcEndpointPolicy)",
            )
            continue
        unscoped = None if is_unknown(policy) else _unscoped_statements(policy, keys)
        if unscoped is None:
            check.note(f"the policy of {endpoint.label()} is unknown during preview")
            continue
        if unscoped:
            check.violation(
                endpoint,
                f"{', '.join(unscoped)} of its policy admits any principal to every resource "
                "without an account condition",
                "add a Condition on one of " + ", ".join(keys) + " to that statement, or list the "
                "exact resources it may reach in Resource",
            )


def _trust_problems(document: Any, services: set[str]) -> list[str] | None:
    statements = policy_statements(document)
    if isinstance(statements, Unknown) or find_unknown(statements) is not None:
        return None
    wanted = {k.lower() for k in CONFUSED_DEPUTY_KEYS}
    found = []
    for i, statement in enumerate(statements):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else None
        named = {service} if isinstance(service, str) else set(service or [])
        hit = sorted(named & services)
        if hit and not (_condition_keys(statement) & wanted):
            found.append(f"Statement[{i}] ({', '.join(hit)})")
    return found


@resource_rule(
    "iam-service-trust-source-account",
    types=IAM_ROLE,
    level=MANDATORY,
    config={
        "services": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(SCOPED_TRUST_SERVICES),
            "description": "Service principals whose trust must carry aws:SourceAccount/SourceArn.",
        }
    },
    description=(
        "A role that ecs-tasks.amazonaws.com (or another configured service principal) may "
        "assume says for whom: its trust statement carries aws:SourceAccount or aws:SourceArn "
        "(for ECS tasks arn:aws:ecs:<region>:<account>:*). Mandatory: without it the service "
        "can be made to assume the role on behalf of another account (confused deputy)."
    ),
)
def iam_service_trust_source_account(check: ResourceCheck) -> None:
    services = set(check.config["services"])
    problems = _trust_problems(check.known("assumeRolePolicy"), services)
    if problems is None:
        check.note("assumeRolePolicy is unknown during preview")
        return
    if problems:
        check.violation(
            f"assumeRolePolicy {', '.join(problems)} has no aws:SourceAccount or aws:SourceArn "
            "condition",
            'add "Condition": {"StringEquals": {"aws:SourceAccount": "<account>"}, "ArnLike": '
            '{"aws:SourceArn": "arn:aws:ecs:<region>:<account>:*"}}',
        )


@stack_rule(
    "s3-bucket-server-access-logging",
    level=MANDATORY,
    description=(
        "Every S3 bucket has server access logging (an aws:s3/bucketLogging) into another "
        "bucket, except buckets that are themselves server-access-log targets; no bucket logs "
        "into itself (CKV_AWS_18, FSBP S3.9, AWSGuard s3-bucket-logging-enabled). Mandatory: "
        "without it nobody can tell who read or deleted the access logs an incident needs."
    ),
)
def s3_bucket_server_access_logging(check: StackCheck) -> None:
    loggings = check.of_type(BUCKET_LOGGINGS)
    buckets = check.of_type(BUCKETS)
    for logging in loggings:
        for bucket in buckets:
            if check.refers_to(logging, "bucket", bucket, "id", "bucket") and check.refers_to(
                logging, "targetBucket", bucket, "id", "bucket"
            ):
                check.violation(
                    bucket,
                    "the bucket writes its server access logs into itself, which never ends",
                    "set targetBucket of its aws:s3/bucketLogging to a separate log bucket",
                )
    for bucket in buckets:
        if bucket.get("logging") not in (None, {}) and not is_unknown(bucket.get("logging")):
            continue
        logged = [check.refers_to(r, "bucket", bucket, "id", "bucket") for r in loggings]
        target = [check.refers_to(r, "targetBucket", bucket, "id", "bucket") for r in loggings]
        if True in logged or True in target:
            continue
        if None in logged or None in target:
            check.note(f"which buckets {bucket.label()} logs to is unknown during preview")
            continue
        check.violation(
            bucket,
            "the bucket has no server access logging",
            "add an aws:s3/bucketLogging with bucket set to this bucket and targetBucket set to "
            "a separate, private log bucket (with a policy letting logging.s3.amazonaws.com "
            "PutObject for aws:SourceArn of this bucket)",
        )


POLICIES = [
    vpc_endpoint_policy_scoped,
    iam_service_trust_source_account,
    s3_bucket_server_access_logging,
]
