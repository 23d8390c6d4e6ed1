"""A private, encrypted Postgres on RDS whose master password lives only in Secrets Manager.

Network: the instance sits in a DB subnet group over the isolated subnets (no route to the
internet), is not publicly accessible, and its security group admits TCP 5432 only from the
given client security groups, one ingress rule each. The group has no egress rule: security
groups are stateful, so replies to admitted connections flow anyway, and Postgres on RDS opens
no connections of its own (the provider removes AWS's default allow-all egress rule).

Credentials: ``manage_master_user_password`` makes RDS generate the password and keep it in a
Secrets Manager secret (JSON with ``username`` and ``password``). The program never sees the
password, so no ``password`` input exists to leak into state. Containers get the two values
through ECS ``secrets`` entries (see :meth:`Database.ecs_secrets`); the host, port and database
name are not secret and go through ``environment`` (:meth:`Database.ecs_environment`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam_documents

POSTGRES_PORT = 5432
"""Port Postgres listens on and the only port the security group opens."""

_MAJOR_RE = re.compile(r"^(\d{2,})(\.\d+)?$")
_DB_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_RESERVED_USERNAMES = frozenset({"rdsadmin", "rdsrepladmin", "rds_superuser", "postgres_admin"})
BACKUP_RETENTION_RANGE = (7, 35)
"""Automated backup retention accepted (7 is the project's floor, 35 the RDS maximum)."""


def parameter_group_family(engine_version: str) -> str:
    """``"16"`` or ``"16.4"`` -> ``"postgres16"`` (RDS families are per major version)."""
    match = _MAJOR_RE.match(engine_version)
    if not match:
        raise ValueError(
            f"DatabaseArgs.engine_version must be a Postgres major version like '16' or "
            f"'16.4' (got {engine_version!r})"
        )
    return f"postgres{match.group(1)}"


def final_snapshot_identifier(name: str) -> str:
    """A valid RDS snapshot identifier derived from the component name.

    Letters, digits and single hyphens, starting with a letter, at most 255 characters.
    """
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"db-{cleaned}".rstrip("-")
    return f"{cleaned[:230]}-final-snapshot"


def secret_value_from(secret_arn: str, json_key: str) -> str:
    """ECS ``valueFrom`` for one JSON key of a Secrets Manager secret, current version.

    Format ``<secret-arn>:<json-key>:<version-stage>:<version-id>``; empty stage and id mean
    AWSCURRENT. Example: ``arn:...:secret:rds!db-1-AbCdEf:password::``.
    """
    return f"{secret_arn}:{json_key}::"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of :class:`Database`; the instance's shape is known before deploy."""

    vpc_id: pulumi.Input[str]
    """VPC of the isolated subnets."""
    isolated_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets without a route to the internet, in at least two availability zones."""
    client_security_group_ids: Sequence[pulumi.Input[str]]
    """Security groups (ECS instances/tasks) allowed to connect on 5432; at least one."""
    instance_class: str = "db.t4g.micro"
    """RDS instance class."""
    allocated_storage: int = 20
    """Initial gp3 storage in GiB (20 is the gp3 minimum for Postgres)."""
    max_allocated_storage: int | None = 100
    """Ceiling for storage autoscaling in GiB; None or equal to allocated turns it off."""
    engine_version: str = "16"
    """Postgres major version ("16": RDS picks the minor and upgrades it automatically)."""
    db_name: str = "app"
    """Database created at launch."""
    username: str = "app_admin"
    """Master user name (its password is generated and kept by RDS in Secrets Manager)."""
    multi_az: bool = False
    """Keep a synchronous standby in a second AZ (prod)."""
    deletion_protection: bool = False
    """Refuse DeleteDBInstance until turned off (prod)."""
    skip_final_snapshot: bool = True
    """Delete without a final snapshot (non-prod). False takes one named after the component."""
    backup_retention_days: int = 7
    """Days of automated backups and point-in-time recovery (7..35)."""
    performance_insights: bool = False
    """Turn on Performance Insights with the free 7-day retention (prod)."""
    iam_database_authentication: bool = False
    """Also allow IAM authentication tokens as passwords."""
    kms_key_id: pulumi.Input[str] | None = None
    """Customer managed key ARN for storage; None uses the AWS managed ``aws/rds`` key."""
    master_user_secret_kms_key_id: pulumi.Input[str] | None = None
    """Customer managed key for the master-user secret; None uses ``aws/secretsmanager``."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child (copied to snapshots)."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"DatabaseArgs.{arg} must be {allowed} (got {value!r})")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_args(args: DatabaseArgs) -> None:
    """Raise ValueError naming the argument, its value and what is allowed."""
    subnets = args.isolated_subnet_ids
    # An Output's (or awaitable's) length is known only at deploy time; the settings check
    # zones >= 2 beforehand.
    if isinstance(subnets, str) or (isinstance(subnets, Sequence) and len(subnets) < 2):
        raise _problem(
            "isolated_subnet_ids", args.isolated_subnet_ids, "at least 2 subnets (2 AZs)"
        )
    if isinstance(args.client_security_group_ids, str) or not args.client_security_group_ids:
        raise _problem(
            "client_security_group_ids", args.client_security_group_ids, "at least 1 group"
        )
    if not args.instance_class.startswith("db."):
        raise _problem("instance_class", args.instance_class, "an RDS class like 'db.t4g.micro'")
    if not _whole(args.allocated_storage) or not 20 <= args.allocated_storage <= 65536:
        raise _problem("allocated_storage", args.allocated_storage, "20..65536 GiB")
    ceiling = args.max_allocated_storage
    if ceiling is not None and (
        not _whole(ceiling) or not args.allocated_storage <= ceiling <= 65536
    ):
        raise _problem(
            "max_allocated_storage",
            ceiling,
            f"None or {args.allocated_storage}..65536 GiB (not below allocated_storage)",
        )
    parameter_group_family(args.engine_version)
    if not _DB_NAME_RE.match(args.db_name):
        raise _problem("db_name", args.db_name, "a letter then letters, digits, '_' (max 63)")
    if not _USERNAME_RE.match(args.username) or args.username.lower() in _RESERVED_USERNAMES:
        raise _problem(
            "username", args.username, "a letter then letters, digits, '_' and not reserved"
        )
    low, high = BACKUP_RETENTION_RANGE
    if not _whole(args.backup_retention_days) or not low <= args.backup_retention_days <= high:
        raise _problem("backup_retention_days", args.backup_retention_days, f"{low}..{high}")


class Database(pulumi.ComponentResource):
    """A Postgres RDS instance reachable only from the client security groups on 5432.

    Guarantees: isolated subnets only, not publicly accessible, storage encrypted (gp3), TLS
    enforced by ``rds.force_ssl=1``, master password generated and held by RDS in Secrets
    Manager (never an input), automated backups kept ``backup_retention_days`` days, tags copied
    to snapshots, minor versions upgraded automatically, Postgres logs exported to CloudWatch
    Logs; multi-AZ, deletion protection, a final snapshot and Performance Insights exactly as the
    arguments say. No bastion, no SSH: the only way in is Postgres from the client groups.
    """

    address: pulumi.Output[str]
    """Host name of the instance endpoint."""
    port: pulumi.Output[int]
    """Port of the instance endpoint (5432)."""
    db_name: str
    """Name of the database created at launch."""
    secret_arn: pulumi.Output[str]
    """ARN of the RDS-managed master-user secret (JSON keys ``username``, ``password``)."""
    security_group_id: pulumi.Output[str]
    """Security group of the instance."""
    identifier: pulumi.Output[str]
    """RDS instance identifier (the ``DBInstanceIdentifier`` metric dimension)."""
    arn: pulumi.Output[str]
    """ARN of the instance."""

    def __init__(
        self,
        name: str,
        args: DatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self._secret_kms_key_id = args.master_user_secret_kms_key_id

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            aws.rds.SubnetGroupArgs(
                subnet_ids=args.isolated_subnet_ids,
                description=f"{name}: isolated subnets only",
                tags=tags,
            ),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"{name}: Postgres {POSTGRES_PORT} from the service only",
                tags=tags,
            ),
            opts=child,
        )
        for index, client in enumerate(args.client_security_group_ids):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-client-{index}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=security_group.id,
                    referenced_security_group_id=client,
                    ip_protocol="tcp",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    description=f"Postgres from client security group #{index}",
                    tags=tags,
                ),
                opts=child,
            )
        parameters = aws.rds.ParameterGroup(
            f"{name}-params",
            aws.rds.ParameterGroupArgs(
                family=parameter_group_family(args.engine_version),
                description=f"{name}: TLS required",
                parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")],
                tags=tags,
            ),
            opts=child,
        )
        ceiling = args.max_allocated_storage
        instance = aws.rds.Instance(
            f"{name}-db",
            aws.rds.InstanceArgs(
                engine="postgres",
                engine_version=args.engine_version,
                auto_minor_version_upgrade=True,
                allow_major_version_upgrade=False,
                instance_class=args.instance_class,
                allocated_storage=args.allocated_storage,
                max_allocated_storage=ceiling
                if ceiling and ceiling > args.allocated_storage
                else 0,
                storage_type="gp3",
                storage_encrypted=True,
                kms_key_id=args.kms_key_id,
                db_name=args.db_name,
                username=args.username,
                manage_master_user_password=True,
                master_user_secret_kms_key_id=args.master_user_secret_kms_key_id,
                iam_database_authentication_enabled=args.iam_database_authentication,
                db_subnet_group_name=subnet_group.name,
                vpc_security_group_ids=[security_group.id],
                parameter_group_name=parameters.name,
                port=POSTGRES_PORT,
                publicly_accessible=False,
                multi_az=args.multi_az,
                deletion_protection=args.deletion_protection,
                skip_final_snapshot=args.skip_final_snapshot,
                final_snapshot_identifier=None
                if args.skip_final_snapshot
                else final_snapshot_identifier(name),
                backup_retention_period=args.backup_retention_days,
                copy_tags_to_snapshot=True,
                performance_insights_enabled=args.performance_insights,
                performance_insights_retention_period=7 if args.performance_insights else None,
                enabled_cloudwatch_logs_exports=["postgresql"],
                tags=tags,
            ),
            opts=child,
        )

        self.address = instance.address
        self.port = instance.port
        self.db_name = args.db_name
        self.secret_arn = instance.master_user_secrets.apply(_first_secret_arn)
        self.security_group_id = security_group.id
        self.identifier = instance.identifier
        self.arn = instance.arn

        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "db_name": self.db_name,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
                "identifier": self.identifier,
            }
        )

    def ecs_secrets(self, prefix: str = "DB_") -> pulumi.Output[list[dict[str, str]]]:
        """ECS container ``secrets`` for the master user: ``<prefix>USERNAME``/``PASSWORD``.

        Each ``valueFrom`` names one JSON key of the RDS-managed secret, AWSCURRENT version, so
        the container sees the current values at start and after a forced new deployment.
        """
        return self.secret_arn.apply(
            lambda arn: [
                {"name": f"{prefix}USERNAME", "valueFrom": secret_value_from(arn, "username")},
                {"name": f"{prefix}PASSWORD", "valueFrom": secret_value_from(arn, "password")},
            ]
        )

    def ecs_environment(self, prefix: str = "DB_") -> pulumi.Output[list[dict[str, str]]]:
        """ECS container ``environment`` entries ``<prefix>HOST``, ``PORT`` and ``NAME``."""
        return pulumi.Output.all(self.address, self.port).apply(
            lambda values: [
                {"name": f"{prefix}HOST", "value": str(values[0])},
                {"name": f"{prefix}PORT", "value": str(values[1])},
                {"name": f"{prefix}NAME", "value": self.db_name},
            ]
        )

    def read_secret_policy_statements(self) -> list[dict[str, Any]]:
        """IAM statements for the ECS *execution* role: read exactly this secret.

        ``secretsmanager:GetSecretValue`` on the secret's ARN only; ``kms:Decrypt`` on the
        customer managed key, through Secrets Manager only, when one encrypts the secret (the
        AWS managed ``aws/secretsmanager`` key needs no statement). Use with
        :func:`components.iam_documents.document`.
        """
        statements = [self.read_secret_policy_statement()]
        if self._secret_kms_key_id is not None:
            region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
            statements.append(
                iam_documents.statement(
                    ["kms:Decrypt"],
                    [self._secret_kms_key_id],
                    sid="DecryptDatabaseSecret",
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": pulumi.Output.concat(
                                "secretsmanager.", region, ".amazonaws.com"
                            )
                        }
                    },
                )
            )
        return statements

    def read_secret_policy_statement(self) -> dict[str, Any]:
        """The ``secretsmanager:GetSecretValue`` statement on exactly this secret's ARN."""
        return iam_documents.statement(
            ["secretsmanager:GetSecretValue"], [self.secret_arn], sid="ReadDatabaseSecret"
        )


def _first_secret_arn(secrets: Sequence[Any] | None) -> str:
    """ARN of the first (only) master-user secret; RDS creates it with the instance."""
    if not secrets:
        raise ValueError("RDS returned no master_user_secrets although manage_master_user_password")
    first = secrets[0]
    return first["secret_arn"] if isinstance(first, dict) else first.secret_arn
