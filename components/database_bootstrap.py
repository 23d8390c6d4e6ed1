"""The one-off ECS task that creates (and rotates) the app's least-privilege database role, and
its rotation twin that a schedule runs (components.credential_rotation).

Not a service: a task definition run on demand (``aws ecs run-task``, by the operator or the release
pipeline) with the app's image and ``python -m steadystate_app.bootstrap_db``. Its task role is the
only one in the stack that may read the RDS master secret; it may also write the app secret. The
serving tasks' role may read only the app secret.

Bridge networking on the cluster's EC2 capacity, like the services: the task shares its host's
security group, the one the database admits.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .container_definitions import APP_USER
from .iam_documents import statement
from .task_roles import ecs_task_role, ecs_tasks_trust

BOOTSTRAP_CONTAINER = "bootstrap"
BOOTSTRAP_COMMAND = ("python", "-m", "steadystate_app.bootstrap_db")


@dataclass(frozen=True)
class DatabaseBootstrapArgs:
    image: pulumi.Input[str]
    """The app's image, pinned by digest: it carries the bootstrap module."""
    repository_arn: pulumi.Input[str]
    """ECR repository the execution role may pull from."""
    cluster_name: pulumi.Input[str]
    """Cluster the task runs on (for the printed run-task command)."""
    capacity_provider_name: pulumi.Input[str]
    """EC2 capacity provider the task is placed on."""
    environment: Mapping[str, pulumi.Input[str]]
    """DB_HOST, DB_PORT, DB_NAME, DB_SSLMODE, DB_SECRET_ARN, DB_MASTER_SECRET_ARN, DB_APP_USERNAME."""
    task_role_statements: Sequence[Mapping[str, Any]]
    """What the bootstrap may do: read the master secret, read and write the app secret."""
    log_retention_days: int = 30
    memory: int = 256
    cpu: int = 128
    tags: dict[str, str] = field(default_factory=dict)


def run_task_command(
    cluster: str, family: str, capacity_provider: str, *, rotate: bool = False
) -> str:
    """The ``aws ecs run-task`` command line that runs the bootstrap once."""
    parts = [
        "aws",
        "ecs",
        "run-task",
        "--cluster",
        cluster,
        "--task-definition",
        family,
        "--capacity-provider-strategy",
        f"capacityProvider={capacity_provider},weight=1",
        "--started-by",
        "steadystate-db-bootstrap",
    ]
    if rotate:
        override = {
            "containerOverrides": [
                {"name": BOOTSTRAP_CONTAINER, "command": [*BOOTSTRAP_COMMAND, "--rotate"]}
            ]
        }
        parts += ["--overrides", json.dumps(override, separators=(",", ":"))]
    return shlex.join(parts)


def bootstrap_container(
    image: str,
    log_group: str,
    region: str,
    environment: Mapping[str, str],
    memory: int,
    *,
    rotate: bool = False,
) -> list[dict[str, Any]]:
    """The task's one container: non-root, read-only root, logs to ``log_group``; with
    ``rotate`` its command is the rotation (``--rotate``)."""
    return [
        {
            "name": BOOTSTRAP_CONTAINER,
            "image": image,
            "essential": True,
            "command": [*BOOTSTRAP_COMMAND, *(["--rotate"] if rotate else [])],
            "user": APP_USER,
            "readonlyRootFilesystem": True,
            "memory": memory,
            "environment": [
                {"name": key, "value": value}
                for key, value in sorted({**environment, "AWS_REGION": region}.items())
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": BOOTSTRAP_CONTAINER,
                },
            },
        }
    ]


class DatabaseBootstrap(pulumi.ComponentResource):
    """Two task definitions sharing two roles and a log group: the database bootstrap, and the
    same container running ``--rotate`` (the one a schedule starts: ScheduledRotation)."""

    task_definition_arn: pulumi.Output[str]
    family: str
    rotate_task_definition_arn: pulumi.Output[str]
    rotate_family: str
    """``<family>-rotate``: runs ``python -m steadystate_app.bootstrap_db --rotate``."""
    role_arns: list[pulumi.Output[str]]
    """The execution and task roles whoever runs the tasks must be allowed to pass."""
    run_command: pulumi.Output[str]
    """``aws ecs run-task ...`` for the first deploy (creates the role, fills the app secret)."""
    rotate_command: pulumi.Output[str]
    """The same with ``--rotate``: a new password for the app role."""

    def __init__(
        self, name: str, args: DatabaseBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:database:DatabaseBootstrap", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        trust = ecs_tasks_trust(self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(retention_in_days=args.log_retention_days, tags=tags),
            opts=child,
        )
        execution_role = ecs_task_role(
            self,
            f"{name}-execution",
            f"ECS agent for {name}: pull the image, write logs",
            [
                statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
                statement(
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    [args.repository_arn],
                    sid="PullAppImage",
                ),
                statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [pulumi.Output.concat(log_group.arn, ":*")],
                    sid="WriteContainerLogs",
                ),
            ],
            tags,
            trust=trust,
        )
        task_role = ecs_task_role(
            self,
            f"{name}-task",
            f"{name}: create the app's database role and write its secret",
            [dict(item) for item in args.task_role_statements],
            tags,
            trust=trust,
        )
        values = pulumi.Output.all(
            image=args.image,
            log_group=log_group.name,
            region=region,
            environment=pulumi.Output.all(**dict(args.environment)),
        )

        def task_definition(suffix: str, family: str, rotate: bool) -> aws.ecs.TaskDefinition:
            containers = values.apply(
                lambda v: json.dumps(
                    bootstrap_container(
                        v["image"],
                        v["log_group"],
                        v["region"],
                        v["environment"],
                        args.memory,
                        rotate=rotate,
                    )
                )
            )
            return aws.ecs.TaskDefinition(
                f"{name}-{suffix}",
                aws.ecs.TaskDefinitionArgs(
                    family=family,
                    network_mode="bridge",
                    requires_compatibilities=["EC2"],
                    cpu=str(args.cpu),
                    memory=str(args.memory),
                    execution_role_arn=execution_role.arn,
                    task_role_arn=task_role.arn,
                    container_definitions=containers,
                    tags=tags,
                ),
                # The run command may start a task at once: its roles' rights must exist first.
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[*execution_role.grants, *task_role.grants]
                ),
            )

        self.family = f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
        self.rotate_family = f"{self.family}-rotate"
        self.task_definition_arn = task_definition("taskdef", self.family, False).arn
        self.rotate_task_definition_arn = task_definition(
            "rotate-taskdef", self.rotate_family, True
        ).arn
        self.role_arns = [execution_role.arn, task_role.arn]
        commands = pulumi.Output.all(args.cluster_name, args.capacity_provider_name)
        self.run_command = commands.apply(
            lambda v: run_task_command(str(v[0]), self.family, str(v[1]))
        )
        self.rotate_command = commands.apply(
            lambda v: run_task_command(str(v[0]), self.family, str(v[1]), rotate=True)
        )
        self.register_outputs(
            {
                "task_definition_arn": self.task_definition_arn,
                "rotate_task_definition_arn": self.rotate_task_definition_arn,
                "run_command": self.run_command,
                "rotate_command": self.rotate_command,
            }
        )
