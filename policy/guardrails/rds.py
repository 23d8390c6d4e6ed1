"""RDS guardrails: network exposure, encryption, backups, availability, credentials."""

from __future__ import annotations

from . import limits
from .aws_types import RDS_INSTANCE
from .framework import MANDATORY, ResourceCheck, resource_rule
from .limits import TEARDOWN_ARMED, TEARDOWN_TAG, is_armed_for_teardown
from .properties import is_set


@resource_rule(
    "rds-not-publicly-accessible",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "RDS instances are never publicly accessible (AWSGuard, CKV_AWS_17, FSBP RDS.2). "
        "Mandatory: a public endpoint exposes the database to password guessing from anywhere."
    ),
)
def rds_not_publicly_accessible(check: ResourceCheck) -> None:
    if check.known("publiclyAccessible") is True:
        check.violation(
            "publiclyAccessible is true",
            "set publiclyAccessible=false and reach the database from the service's security "
            "group inside the VPC",
        )


@resource_rule(
    "rds-storage-encrypted",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "RDS storage is encrypted at rest (AWSGuard, CKV_AWS_16, FSBP RDS.3). Mandatory: "
        "snapshots and disks of an unencrypted instance can be copied and read."
    ),
)
def rds_storage_encrypted(check: ResourceCheck) -> None:
    if check.known("storageEncrypted") is not True:
        check.violation(
            "storage is not encrypted",
            "set storageEncrypted=true (optionally kmsKeyId); an existing instance must be "
            "restored from an encrypted snapshot",
        )


@resource_rule(
    "rds-backup-retention",
    types=RDS_INSTANCE,
    level=MANDATORY,
    config={
        "minimumBackupRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 35,
            "default": limits.BACKUP_RETENTION_MINIMUM_DAYS,
            "description": "Shortest automated-backup retention in days.",
        }
    },
    description=(
        "RDS instances keep automated backups for at least the configured days (default 7) "
        "(CKV_AWS_133, FSBP RDS.11). Mandatory: point-in-time recovery is the only undo for "
        "bad data."
    ),
)
def rds_backup_retention(check: ResourceCheck) -> None:
    if is_set(check.get("replicateSourceDb")):
        return
    minimum = check.config["minimumBackupRetentionDays"]
    problem = limits.backup_retention_problem(check.known("backupRetentionPeriod", 0), minimum)
    if problem:
        check.violation(
            f"backupRetentionPeriod {problem}",
            f"set backupRetentionPeriod between {minimum} and 35",
        )


@resource_rule(
    "rds-multi-az",
    types=RDS_INSTANCE,
    level=MANDATORY,
    prod_only=True,
    description=(
        "RDS instances run Multi-AZ (AWSGuard, CKV_AWS_157, FSBP RDS.5). Prod-only (config "
        "environment=prod): mandatory, because a zone outage must fail over to the standby; not "
        "applicable in dev."
    ),
)
def rds_multi_az(check: ResourceCheck) -> None:
    # limits.multi_az_problem is also the settings' rule for database.multiAz in prod.
    if problem := limits.multi_az_problem(check.known("multiAz")):
        check.violation(problem, "set multiAz=true")


@resource_rule(
    "rds-deletion-protection",
    types=RDS_INSTANCE,
    level=MANDATORY,
    prod_only=True,
    description=(
        "RDS instances have deletion protection (CKV_AWS_293, FSBP RDS.8). Prod-only (config "
        "environment=prod): mandatory, because a stray delete would lose the data; not "
        "applicable in dev."
    ),
)
def rds_deletion_protection(check: ResourceCheck) -> None:
    enabled = check.known("deletionProtection")
    # limits.deletion_protection_problem is also the settings' rule in prod.
    if limits.deletion_protection_problem(enabled, is_armed_for_teardown(check.tags)) is None:
        if enabled is not True:
            check.note(
                f"armed for teardown ({TEARDOWN_TAG}={TEARDOWN_ARMED}); teardown-armed says so"
            )
        return
    check.violation(
        "deletionProtection is not enabled",
        "set deletionProtection=true (to tear prod down, set steadystate:teardown.allowDataLoss "
        "instead)",
    )


@resource_rule(
    "rds-managed-master-password",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "The RDS master password is generated and rotated by RDS in Secrets Manager "
        "(manageMasterUserPassword=true), never given as a value. Mandatory: a literal or "
        "program-generated password lands in the stack state and in every preview."
    ),
)
def rds_managed_master_password(check: ResourceCheck) -> None:
    literal = [key for key in ("password", "passwordWo") if is_set(check.get(key))]
    fix = "remove password and set manageMasterUserPassword=true; the app reads the secret ARN"
    if literal:
        check.violation(
            f"{' and '.join(literal)} is set, so the program chooses and knows the master password",
            fix,
        )
        return
    inherits_credentials = any(
        is_set(check.get(key))
        for key in ("replicateSourceDb", "snapshotIdentifier", "restoreToPointInTime")
    )
    if not inherits_credentials and check.known("manageMasterUserPassword") is not True:
        check.violation("manageMasterUserPassword is not true", fix)


POLICIES = [
    rds_not_publicly_accessible,
    rds_storage_encrypted,
    rds_backup_retention,
    rds_multi_az,
    rds_deletion_protection,
    rds_managed_master_password,
]
