"""AccessLogBucket: a private S3 bucket that Elastic Load Balancing may write access logs into,
itself server-access-logged into a second, equally guarded bucket."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .iam_documents import document, statement

LOG_PREFIX = "alb"
SERVER_LOG_PREFIX = "s3/"
"""Key prefix of the access-log bucket's own server access logs in the server-log bucket."""
ABORT_UPLOADS_RULE = "abort-incomplete-multipart-uploads"
ABORT_UPLOADS_AFTER_DAYS = 7
"""Days after which S3 aborts a multipart upload that never completed and deletes its parts,
which are billed but listed nowhere else (S3 user guide, "Configuring a bucket lifecycle
configuration to delete incomplete multipart uploads"; the policy
`s3-bucket-aborts-incomplete-uploads`, Checkov CKV_AWS_300)."""


@dataclass(frozen=True)
class AccessLogBucketArgs:
    retention_days: int = 90
    """Days before log objects expire."""
    force_destroy: bool = False
    """Let `pulumi destroy` empty the bucket (dev only)."""


def _private_bucket(
    owner: pulumi.ComponentResource, name: str, args: AccessLogBucketArgs, expiry_rule: str
) -> tuple[aws.s3.Bucket, aws.s3.BucketPublicAccessBlock]:
    """A bucket with public access blocked, owner-enforced ownership, SSE-S3, expiry, and
    incomplete multipart uploads aborted."""
    child = pulumi.ResourceOptions(parent=owner)
    bucket = aws.s3.Bucket(
        f"{name}-bucket", aws.s3.BucketArgs(force_destroy=args.force_destroy), opts=child
    )
    blocked = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
        ),
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-expiry",
        aws.s3.BucketLifecycleConfigurationArgs(
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=expiry_rule,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.retention_days
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=ABORT_UPLOADS_RULE,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_UPLOADS_AFTER_DAYS
                    ),
                ),
            ],
        ),
        opts=child,
    )
    return bucket, blocked


def _deny_insecure_transport(bucket: aws.s3.Bucket) -> dict:
    return statement(
        ["s3:*"],
        [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
        sid="DenyInsecureTransport",
        effect="Deny",
        principals={"AWS": "*"},
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )


class AccessLogBucket(pulumi.ComponentResource):
    """Private (all public access blocked, owner-enforced), SSE-S3 encrypted (the only encryption
    ALB log delivery supports), TLS-only, expiring after `retention_days`; writable by the regional
    ELB account (regions before August 2022) and the log-delivery service principal (newer ones).

    Every request to it is server-access-logged into a second bucket (`<name>-server-logs`) with
    the same guardrails, writable only by the S3 logging service on behalf of this bucket in this
    account. That bucket does not log itself (logging a bucket into itself loops forever).
    """

    bucket_name: pulumi.Output[str]
    prefix: str
    bucket_arns: list[pulumi.Output[str]]
    """Both buckets (access logs, and its server access logs)."""

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:access_logs:AccessLogBucket", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        bucket, blocked = _private_bucket(self, name, args, "expire-access-logs")
        account = aws.get_caller_identity_output(opts=invoke).account_id
        elb_account = aws.elb.get_service_account_output(opts=invoke).arn
        objects = pulumi.Output.concat(bucket.arn, f"/{LOG_PREFIX}/AWSLogs/", account, "/*")
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=bucket.id,
                policy=document(
                    statement(
                        ["s3:PutObject"],
                        [objects],
                        sid="ElbAccountWrites",
                        principals={"AWS": elb_account},
                    ),
                    statement(
                        ["s3:PutObject"],
                        [objects],
                        sid="LogDeliveryWrites",
                        principals={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                    ),
                    _deny_insecure_transport(bucket),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[blocked]),
        )
        server_logs = self._server_access_logs(name, args, bucket, account)
        self.bucket_name = bucket.bucket
        self.prefix = LOG_PREFIX
        self.bucket_arns = [bucket.arn, server_logs.arn]
        self._policy = policy
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arns": self.bucket_arns})

    def _server_access_logs(
        self,
        name: str,
        args: AccessLogBucketArgs,
        source: aws.s3.Bucket,
        account: pulumi.Output[str],
    ) -> aws.s3.Bucket:
        """The bucket `source`'s server access logs go to, and the logging that sends them."""
        target, blocked = _private_bucket(
            self, f"{name}-server-logs", args, "expire-server-access-logs"
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-server-logs-policy",
            aws.s3.BucketPolicyArgs(
                bucket=target.id,
                policy=document(
                    statement(
                        ["s3:PutObject"],
                        [pulumi.Output.concat(target.arn, f"/{SERVER_LOG_PREFIX}*")],
                        sid="S3ServerAccessLogsWrite",
                        principals={"Service": "logging.s3.amazonaws.com"},
                        conditions={
                            "ArnLike": {"aws:SourceArn": source.arn},
                            "StringEquals": {"aws:SourceAccount": account},
                        },
                    ),
                    _deny_insecure_transport(target),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[blocked]),
        )
        aws.s3.BucketLogging(
            f"{name}-server-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=source.id, target_bucket=target.id, target_prefix=SERVER_LOG_PREFIX
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        return target

    @property
    def ready(self) -> pulumi.Resource:
        """Depend on this before enabling access logs: ELB checks write access on creation."""
        return self._policy
