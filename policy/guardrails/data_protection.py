"""Data protection: SNS topics encrypted, KMS keys rotated, S3 buckets locked down (public access
blocked, TLS only, ACLs disabled, objects expiring, incomplete multipart uploads aborted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .aws_types import (
    KMS_KEY,
    S3_BUCKET_POLICY,
    S3_BUCKETS,
    S3_LIFECYCLE,
    S3_OWNERSHIP_CONTROLS,
    S3_PUBLIC_ACCESS_BLOCK,
    SNS_TOPIC,
)
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import (
    DocumentError,
    find_unknown,
    get,
    is_set,
    is_unknown,
    policy_statements,
)

PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


@resource_rule(
    "sns-topic-encrypted",
    types=SNS_TOPIC,
    level=MANDATORY,
    description=(
        "SNS topics are encrypted at rest with a KMS key (kmsMasterKeyId) (FSBP SNS.1, "
        "CKV_AWS_26). Mandatory: alarm notifications name resources, hosts and error details."
    ),
)
def sns_topic_encrypted(check: ResourceCheck) -> None:
    if not is_set(check.get("kmsMasterKeyId")):
        check.violation(
            "kmsMasterKeyId is unset, so messages are stored unencrypted",
            "set kmsMasterKeyId to a customer managed aws:kms/key whose policy lets "
            "cloudwatch.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt (the AWS managed "
            "alias/aws/sns key cannot be used by CloudWatch alarms)",
        )


@resource_rule(
    "kms-key-rotation",
    types=KMS_KEY,
    level=MANDATORY,
    description=(
        "Symmetric encryption KMS keys rotate their key material yearly or more often "
        "(enableKeyRotation) (FSBP KMS.4, CKV_AWS_7). Mandatory: rotation bounds how much data "
        "one compromised key version protects; asymmetric and HMAC keys cannot rotate and are "
        "not judged."
    ),
)
def kms_key_rotation(check: ResourceCheck) -> None:
    spec = check.known("customerMasterKeySpec") or check.known("keySpec") or "SYMMETRIC_DEFAULT"
    usage = check.known("keyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return
    if check.known("enableKeyRotation") is not True:
        check.violation(
            "enableKeyRotation is not true",
            "set enableKeyRotation=true (optionally rotationPeriodInDays between 90 and 2560)",
        )


@resource_rule(
    "s3-public-access-block-on",
    types=S3_PUBLIC_ACCESS_BLOCK,
    level=MANDATORY,
    description=(
        "S3 public access blocks turn on all four settings (FSBP S3.8, CKV_AWS_53/54/55/56). "
        "Mandatory: one switched-off flag is enough for an ACL or bucket policy to publish the "
        "bucket."
    ),
)
def s3_public_access_block_on(check: ResourceCheck) -> None:
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if check.known(flag, False) is not True]
    if off:
        check.violation(
            f"{', '.join(off)} {'is' if len(off) == 1 else 'are'} not true",
            f"set {'=true, '.join(PUBLIC_ACCESS_FLAGS)}=true",
        )


def _judge_buckets(
    check: StackCheck,
    types: str | tuple[str, ...],
    what: str,
    accept: Callable[[StackResource], bool | None],
    problem: str,
    fix: str,
) -> None:
    """Report every bucket without an accepted companion of ``types``."""
    companions = check.of_type(types)
    for bucket in check.of_type(S3_BUCKETS):
        verdicts = []
        for companion in companions:
            linked = check.refers_to(companion, "bucket", bucket, "bucket", "id")
            verdicts.append(accept(companion) if linked else linked)
        if True in verdicts:
            continue
        if None in verdicts:
            check.note(f"whether {bucket.label()} has {what} is unknown during preview")
            continue
        check.violation(bucket, problem, fix)


@stack_rule(
    "s3-bucket-public-access-blocked",
    level=MANDATORY,
    description=(
        "Every S3 bucket in the stack has an aws:s3/bucketPublicAccessBlock with all four "
        "settings on (FSBP S3.8, CKV2_AWS_6). Mandatory: without a bucket-level block, public "
        "access depends on the account setting, which the stack does not control."
    ),
)
def s3_bucket_public_access_blocked(check: StackCheck) -> None:
    def accept(block: StackResource) -> bool | None:
        flags = [block.get(flag) for flag in PUBLIC_ACCESS_FLAGS]
        if any(is_unknown(f) for f in flags):
            return None
        return all(f is True for f in flags)

    _judge_buckets(
        check,
        S3_PUBLIC_ACCESS_BLOCK,
        "a public access block",
        accept,
        "the bucket has no public access block with all four settings on",
        "add an aws:s3/bucketPublicAccessBlock with bucket set to this bucket and "
        "blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets all true",
    )


def _denies_insecure_transport(policy: StackResource) -> bool | None:
    document = policy.get("policy")
    if is_unknown(document):
        return None
    try:
        statements = policy_statements(document)
    except DocumentError:
        return False
    if not isinstance(statements, list):
        return None
    for statement in statements:
        secure = get(statement, "Condition.Bool.aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


@stack_rule(
    "s3-bucket-tls-only",
    level=MANDATORY,
    description=(
        "Every S3 bucket in the stack has a bucket policy denying requests without TLS "
        "(aws:SecureTransport false) (FSBP S3.5). Mandatory: otherwise objects can be read or "
        "written over plain HTTP."
    ),
)
def s3_bucket_tls_only(check: StackCheck) -> None:
    _judge_buckets(
        check,
        S3_BUCKET_POLICY,
        "a TLS-only bucket policy",
        _denies_insecure_transport,
        "no bucket policy denies requests over plain HTTP",
        'add to the aws:s3/bucketPolicy a statement {Effect: "Deny", Principal: "*", Action: '
        '"s3:*", Resource: [<bucket arn>, <bucket arn>/*], Condition: {Bool: '
        '{"aws:SecureTransport": "false"}}}',
    )


@stack_rule(
    "s3-bucket-acls-disabled",
    level=MANDATORY,
    description=(
        "Every S3 bucket in the stack disables ACLs with aws:s3/bucketOwnershipControls "
        'objectOwnership="BucketOwnerEnforced" (FSBP S3.12). Mandatory: ACLs are a second, '
        "easily forgotten permission system; with them off only policies grant access."
    ),
)
def s3_bucket_acls_disabled(check: StackCheck) -> None:
    def accept(controls: StackResource) -> bool | None:
        ownership = get(controls.get("rule"), "objectOwnership")
        return None if is_unknown(ownership) else ownership == "BucketOwnerEnforced"

    _judge_buckets(
        check,
        S3_OWNERSHIP_CONTROLS,
        "ownership controls",
        accept,
        "ACLs are not disabled (no BucketOwnerEnforced ownership controls)",
        "add an aws:s3/bucketOwnershipControls with bucket set to this bucket and rule="
        '{objectOwnership: "BucketOwnerEnforced"}',
    )


@stack_rule(
    "s3-bucket-lifecycle",
    level=MANDATORY,
    description=(
        "Every S3 bucket in the stack has a lifecycle configuration with at least one enabled "
        "rule (FSBP S3.13). Mandatory: log buckets otherwise grow, and cost, forever."
    ),
)
def s3_bucket_lifecycle(check: StackCheck) -> None:
    def accept(lifecycle: StackResource) -> bool | None:
        rules = lifecycle.get("rules")
        if is_unknown(rules):
            return None
        statuses = [get(r, "status") for r in rules or []]
        if any(is_unknown(s) for s in statuses):
            return None
        return "Enabled" in statuses

    _judge_buckets(
        check,
        S3_LIFECYCLE,
        "a lifecycle configuration",
        accept,
        "the bucket has no enabled lifecycle rule",
        "add an aws:s3/bucketLifecycleConfiguration with bucket set to this bucket and rules="
        '[{id: "expire", status: "Enabled", filter: {}, expiration: {days: 90}}]',
    )


def _selects_every_object(rule: Any) -> bool | None:
    """Does a lifecycle rule apply to the whole bucket (no filter, an empty one, or prefix "")?"""
    prefix, chosen = get(rule, "prefix"), get(rule, "filter")
    if is_unknown(prefix) or find_unknown(chosen) is not None:
        return None
    if isinstance(chosen, list):  # a filter block serialized as a one-item list
        chosen = chosen[0] if chosen else None
    narrowing = [v for v in (chosen or {}).values() if v not in (None, "", {}, [])]
    return prefix in (None, "") and not narrowing


def _aborts_incomplete_uploads(lifecycle: StackResource) -> bool | None:
    rules = lifecycle.get("rules")
    if is_unknown(rules):
        return None
    verdicts = []
    for rule in rules or []:
        status = get(rule, "status")
        days = get(rule, "abortIncompleteMultipartUpload.daysAfterInitiation")
        if is_unknown(status) or is_unknown(days):
            verdicts.append(None)
            continue
        whole = _selects_every_object(rule)
        verdicts.append(
            None
            if whole is None
            else (status == "Enabled" and isinstance(days, int) and days >= 1 and whole)
        )
    if True in verdicts:
        return True
    return None if None in verdicts else False


@stack_rule(
    "s3-bucket-aborts-incomplete-uploads",
    level=MANDATORY,
    description=(
        "Every S3 bucket in the stack has an enabled lifecycle rule over the whole bucket that "
        "aborts incomplete multipart uploads (abortIncompleteMultipartUpload.daysAfterInitiation; "
        "Checkov CKV_AWS_300). Mandatory: the parts of an upload that never completes are stored, "
        "and billed, until it is aborted, yet no listing of objects shows them (S3 user guide, "
        '"Configuring a bucket lifecycle configuration to delete incomplete multipart uploads").'
    ),
)
def s3_bucket_aborts_incomplete_uploads(check: StackCheck) -> None:
    _judge_buckets(
        check,
        S3_LIFECYCLE,
        "a rule aborting incomplete multipart uploads",
        _aborts_incomplete_uploads,
        "no enabled lifecycle rule over the whole bucket aborts incomplete multipart uploads",
        "add to its aws:s3/bucketLifecycleConfiguration a rule {id: "
        '"abort-incomplete-multipart-uploads", status: "Enabled", filter: {prefix: ""}, '
        "abortIncompleteMultipartUpload: {daysAfterInitiation: 7}}",
    )


POLICIES = [
    sns_topic_encrypted,
    kms_key_rotation,
    s3_public_access_block_on,
    s3_bucket_public_access_blocked,
    s3_bucket_tls_only,
    s3_bucket_acls_disabled,
    s3_bucket_lifecycle,
    s3_bucket_aborts_incomplete_uploads,
]
