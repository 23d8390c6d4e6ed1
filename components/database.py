"""A private, encrypted Postgres on RDS whose master password lives only in Secrets Manager.

Network: the instance sits in a DB subnet group over the isolated subnets (no route to the
internet), is not publicly accessible, and its security group admits TCP 5432 only from the
given client security groups, one ingress rule each. The group has no egress rule: security
groups are stateful, so replies to admitted connections flow anyway, and Postgres on RDS opens
no connections of its own (the provider removes AWS's default allow-all egress rule).

Credentials: ``manage_master_user_password`` makes RDS generate the master password and keep it
in a Secrets Manager secret (JSON with ``username`` and ``password``), rotated by RDS. The app
does not use it: it logs in as a least-privilege role whose credentials live in a second secret
made here, *empty* (:attr:`Database.app_secret_arn`). The one-shot bootstrap task
(:mod:`components.database_bootstrap`, ``python -m steadystate_app.bootstrap_db``) reads the
master secret, creates the role and writes the role's generated password into the app secret.
The program never sees either password, so no password input exists to leak into state. The app
reads the app secret at connect time (``DB_SECRET_ARN``); the host, port and database name are
not secret and go through ``environment`` (:meth:`Database.ecs_environment`).

Generations (:mod:`components.database_names`): the instance identifier, its final snapshot and
its Postgres log group are named per instance generation, so a replacement or a second deletion
never meets the previous generation's snapshot. The log group RDS exports to is created by the
stack, before the instance, with the stack's retention, and is deleted with the stack.

Events: with ``event_topic_arn`` RDS notifies that SNS topic of the instance's maintenance,
configuration change and failure events (FSBP RDS.20), of configuration changes to its parameter
group (RDS.21) and of DB security group configuration changes and failures (RDS.22). The topic
must admit ``events.rds.amazonaws.com`` (:class:`components.alert_topic.AlertTopicArgs`
``rds_events``). DB security groups belong to EC2-Classic, retired in 2022, so that subscription
never fires for a VPC instance; it exists because Security Hub judges the account's
subscriptions, and RDS.22 fails once any subscription exists without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import database_names, iam_documents
from policy.guardrails.limits import (
    RDS_INSTANCE_EVENT_CATEGORIES,
    RDS_PARAMETER_GROUP_EVENT_CATEGORIES,
    RDS_SECURITY_GROUP_EVENT_CATEGORIES,
)

POSTGRES_PORT = 5432
"""Port Postgres listens on and the only port the security group opens."""

_MAJOR_RE = re.compile(r"^(\d{2,})(\.\d+)?$")
_DB_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
# 57 = 63 (Postgres) - len("_clone"): the rotation alternates the role with its twin
# (app/steadystate_app/bootstrap_db.py, TWIN_SUFFIX).
_APP_USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,56}$")
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
    """Delete without a final snapshot (non-prod). False takes one named after the instance
    generation (``<identifier>-final``)."""
    backup_retention_days: int = 7
    """Days of automated backups and point-in-time recovery (7..35)."""
    performance_insights: bool = False
    """Turn on Performance Insights with the free 7-day retention (prod)."""
    iam_database_authentication: bool = False
    monitoring_interval_seconds: int = 60
    """Enhanced Monitoring granularity (OS metrics); 0 turns it off (FSBP RDS.6)."""
    """Also allow IAM authentication tokens as passwords."""
    kms_key_id: pulumi.Input[str] | None = None
    """Customer managed key ARN for storage; None uses the AWS managed ``aws/rds`` key."""
    master_user_secret_kms_key_id: pulumi.Input[str] | None = None
    """Customer managed key for the master-user secret; None uses ``aws/secretsmanager``."""
    log_retention_days: int = 30
    """Retention of the ``postgresql`` log group the instance exports to."""
    app_username: str = "steadystate_app"
    """The app's least-privilege role, created by the bootstrap task (not the master user)."""
    event_topic_arn: pulumi.Input[str] | None = None
    """SNS topic RDS event notifications go to (FSBP RDS.20/21/22); it must admit
    ``events.rds.amazonaws.com``. None: no event subscriptions."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for every taggable child (copied to snapshots)."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"DatabaseArgs.{arg} must be {allowed} (got {value!r})")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
"""Enhanced Monitoring intervals RDS accepts, in seconds."""

ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


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
    if args.monitoring_interval_seconds not in MONITORING_INTERVALS:
        raise _problem(
            "monitoring_interval_seconds",
            args.monitoring_interval_seconds,
            "one of " + ", ".join(map(str, MONITORING_INTERVALS)) + " (0 = off)",
        )
    if not _APP_USERNAME_RE.match(args.app_username) or args.app_username.startswith(
        ("pg_", "rds")
    ):
        raise _problem(
            "app_username",
            args.app_username,
            "lower-case letters, digits, '_' (max 57: rotation alternates it with <name>_clone), "
            "not pg_* or rds*",
        )
    if args.app_username == args.username.lower():
        raise _problem("app_username", args.app_username, "a role other than the master user")
    if not _whole(args.log_retention_days) or args.log_retention_days < 1:
        raise _problem("log_retention_days", args.log_retention_days, "a positive whole number")
    low, high = BACKUP_RETENTION_RANGE
    if not _whole(args.backup_retention_days) or not low <= args.backup_retention_days <= high:
        raise _problem("backup_retention_days", args.backup_retention_days, f"{low}..{high}")


class Database(pulumi.ComponentResource):
    """A Postgres RDS instance reachable only from the client security groups on 5432.

    Guarantees: isolated subnets only, not publicly accessible, storage encrypted (gp3), TLS
    enforced by ``rds.force_ssl=1``, master password generated and held by RDS in Secrets
    Manager (never an input), automated backups kept ``backup_retention_days`` days, tags copied
    to snapshots, minor versions upgraded automatically, Postgres logs exported to CloudWatch
    Logs, Enhanced Monitoring every ``monitoring_interval_seconds`` (default 60) through a role
    only RDS monitoring of this account can assume; multi-AZ, deletion protection, a final snapshot and Performance Insights exactly as the
    arguments say. No bastion, no SSH: the only way in is Postgres from the client groups.
    """

    address: pulumi.Output[str]
    """Host name of the instance endpoint."""
    port: pulumi.Output[int]
    """Port of the instance endpoint (5432)."""
    db_name: str
    """Name of the database created at launch."""
    secret_arn: pulumi.Output[str]
    """ARN of the RDS-managed master-user secret (JSON keys ``username``, ``password``): for the
    bootstrap task only, never for the serving tasks."""
    app_secret_arn: pulumi.Output[str]
    """ARN of the app role's secret, empty until the bootstrap task writes it."""
    app_username: str
    """The app's role."""
    log_group_name: pulumi.Output[str]
    """The ``postgresql`` log group the instance exports to (owned by the stack)."""
    security_group_id: pulumi.Output[str]
    """Security group of the instance."""
    identifier: pulumi.Output[str]
    """RDS instance identifier (the ``DBInstanceIdentifier`` metric dimension), one per
    generation."""
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
        monitoring_role = (
            self._monitoring_role(name, tags, child) if args.monitoring_interval_seconds else None
        )
        ceiling = args.max_allocated_storage
        marker = aws.ssm.Parameter(
            f"{name}-generation",
            aws.ssm.ParameterArgs(
                type="String",
                description=(
                    f"{name}: generation marker of the RDS instance. Its auto-generated name picks "
                    "the instance identifier and final snapshot name; it is replaced when an "
                    "input that replaces the instance changes."
                ),
                value=pulumi.Output.all(
                    engine="postgres",
                    db_name=args.db_name,
                    username=args.username,
                    storage_encrypted=True,
                    kms_key_id=args.kms_key_id,
                ).apply(database_names.marker_value),
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["value"]),
        )
        prefix = database_names.identifier_prefix(pulumi.get_project(), pulumi.get_stack(), name)
        identifier = marker.name.apply(
            lambda marker_name: database_names.instance_identifier(prefix, marker_name)
        )
        # RDS creates this group itself on the first export (retention: never expire) unless it
        # exists already: so it is created first, and the instance depends on it.
        postgres_logs = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-logs",
            aws.cloudwatch.LogGroupArgs(
                name=identifier.apply(database_names.postgres_log_group_name),
                retention_in_days=args.log_retention_days,
                tags=tags,
            ),
            opts=child,
        )
        app_secret = aws.secretsmanager.Secret(
            f"{name}-app-credentials",
            aws.secretsmanager.SecretArgs(
                description=(
                    f"{name}: login of the app's least-privilege role {args.app_username!r}; "
                    "written by the bootstrap task (python -m steadystate_app.bootstrap_db)"
                ),
                kms_key_id=args.master_user_secret_kms_key_id,
                tags=tags,
            ),
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-db",
            aws.rds.InstanceArgs(
                identifier=identifier,
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
                else identifier.apply(database_names.final_snapshot_identifier),
                backup_retention_period=args.backup_retention_days,
                copy_tags_to_snapshot=True,
                performance_insights_enabled=args.performance_insights,
                performance_insights_retention_period=7 if args.performance_insights else None,
                enabled_cloudwatch_logs_exports=["postgresql"],
                monitoring_interval=args.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[postgres_logs]),
        )

        if args.event_topic_arn is not None:
            self._event_subscriptions(
                name, args.event_topic_arn, instance.identifier, parameters.name, tags, child
            )

        self.address = instance.address
        self.port = instance.port
        self.db_name = args.db_name
        self.secret_arn = instance.master_user_secrets.apply(_first_secret_arn)
        self.app_secret_arn = app_secret.arn
        self.app_username = args.app_username
        self.log_group_name = postgres_logs.name
        self.security_group_id = security_group.id
        self.identifier = instance.identifier
        self.arn = instance.arn

        self.register_outputs(
            {
                "address": self.address,
                "port": self.port,
                "db_name": self.db_name,
                "secret_arn": self.secret_arn,
                "app_secret_arn": self.app_secret_arn,
                "log_group_name": self.log_group_name,
                "security_group_id": self.security_group_id,
                "identifier": self.identifier,
            }
        )

    def _event_subscriptions(
        self,
        name: str,
        topic_arn: pulumi.Input[str],
        identifier: pulumi.Input[str],
        parameter_group_name: pulumi.Input[str],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """RDS event subscriptions to ``topic_arn``: this instance, its parameter group, and DB
        security groups (none exist for VPC instances; see the module docstring)."""
        sources: list[tuple[str, str, tuple[str, ...], list[pulumi.Input[str]] | None]] = [
            ("instance", "db-instance", RDS_INSTANCE_EVENT_CATEGORIES, [identifier]),
            (
                "parameter-group",
                "db-parameter-group",
                RDS_PARAMETER_GROUP_EVENT_CATEGORIES,
                [parameter_group_name],
            ),
            ("security-group", "db-security-group", RDS_SECURITY_GROUP_EVENT_CATEGORIES, None),
        ]
        for suffix, source_type, categories, source_ids in sources:
            aws.rds.EventSubscription(
                f"{name}-{suffix}-events",
                aws.rds.EventSubscriptionArgs(
                    sns_topic=topic_arn,
                    source_type=source_type,
                    source_ids=source_ids,
                    event_categories=list(categories),
                    enabled=True,
                    tags=tags,
                ),
                opts=child,
            )

    def _monitoring_role(
        self, name: str, tags: dict[str, str], child: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        """The role RDS Enhanced Monitoring assumes to publish OS metrics to CloudWatch Logs."""
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        role = aws.iam.Role(
            f"{name}-monitoring",
            aws.iam.RoleArgs(
                assume_role_policy=iam_documents.assume_role_policy(
                    "monitoring.rds.amazonaws.com", source_account=account
                ),
                description=f"{name}: RDS Enhanced Monitoring publishes OS metrics",
                tags=tags,
            ),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=ENHANCED_MONITORING_POLICY),
            opts=child,
        )
        return role

    def ecs_environment(self, prefix: str = "DB_") -> pulumi.Output[list[dict[str, str]]]:
        """ECS container ``environment`` entries ``<prefix>HOST``, ``PORT`` and ``NAME``."""
        return pulumi.Output.all(self.address, self.port).apply(
            lambda values: [
                {"name": f"{prefix}HOST", "value": str(values[0])},
                {"name": f"{prefix}PORT", "value": str(values[1])},
                {"name": f"{prefix}NAME", "value": self.db_name},
            ]
        )

    def app_secret_read_statements(self) -> list[dict[str, Any]]:
        """IAM statements for the serving tasks' *task* role: read the app secret, nothing else.

        ``secretsmanager:GetSecretValue`` on the app secret's ARN only (never the master secret);
        ``kms:Decrypt`` through Secrets Manager when a customer managed key encrypts it. Use with
        :func:`components.iam_documents.document`.
        """
        return [
            iam_documents.statement(
                ["secretsmanager:GetSecretValue"], [self.app_secret_arn], sid="ReadAppDbSecret"
            ),
            *self._kms_statements(["kms:Decrypt"]),
        ]

    def bootstrap_statements(self) -> list[dict[str, Any]]:
        """IAM statements for the bootstrap task role: read the master secret, read and write
        the app secret (plus the customer managed key through Secrets Manager, if any)."""
        return [
            iam_documents.statement(
                ["secretsmanager:GetSecretValue"], [self.secret_arn], sid="ReadMasterDbSecret"
            ),
            iam_documents.statement(
                ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                [self.app_secret_arn],
                sid="WriteAppDbSecret",
            ),
            *self._kms_statements(["kms:Decrypt", "kms:GenerateDataKey"]),
        ]

    def _kms_statements(self, actions: list[str]) -> list[dict[str, Any]]:
        if self._secret_kms_key_id is None:
            return []  # the AWS managed aws/secretsmanager key needs no statement
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        return [
            iam_documents.statement(
                actions,
                [self._secret_kms_key_id],
                sid="DatabaseSecretKey",
                conditions={
                    "StringEquals": {
                        "kms:ViaService": pulumi.Output.concat(
                            "secretsmanager.", region, ".amazonaws.com"
                        )
                    }
                },
            )
        ]


def _first_secret_arn(secrets: Sequence[Any] | None) -> str:
    """ARN of the first (only) master-user secret; RDS creates it with the instance."""
    if not secrets:
        raise ValueError("RDS returned no master_user_secrets although manage_master_user_password")
    first = secrets[0]
    return first["secret_arn"] if isinstance(first, dict) else first.secret_arn
