"""IAM roles for ECS tasks: the trust every task or execution role shares, and the role itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .iam_documents import assume_role_policy, document, ecs_tasks_source_arn


def ecs_tasks_trust(parent: pulumi.Resource) -> pulumi.Output[str]:
    """Trust policy for an ECS task or execution role, limited to this account and region."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=invoke).region
    account = aws.get_caller_identity_output(opts=invoke).account_id
    partition = aws.get_partition_output(opts=invoke).partition
    return assume_role_policy(
        "ecs-tasks.amazonaws.com",
        source_account=account,
        source_arn=pulumi.Output.all(partition, region, account).apply(
            lambda parts: ecs_tasks_source_arn(*parts)
        ),
    )


@dataclass(frozen=True)
class TaskRole:
    """A role ECS tasks assume and the inline policy that gives it its rights."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy | None

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.role.arn

    @property
    def grants(self) -> list[pulumi.Resource]:
        """What a task definition naming this role must depend on: the role's ARN alone exists
        before its policy, so a task started in between would run without its rights."""
        return [self.policy] if self.policy is not None else []


def ecs_task_role(
    parent: pulumi.Resource,
    name: str,
    description: str,
    statements: Sequence[dict[str, Any]],
    tags: dict[str, str],
    trust: pulumi.Input[str],
) -> TaskRole:
    """A role ECS tasks assume (`<name>-role`), with its inline policy when it needs one."""
    role = aws.iam.Role(
        f"{name}-role",
        aws.iam.RoleArgs(description=description, assume_role_policy=trust, tags=tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = (
        aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(role=role.name, policy=document(*statements)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        if statements
        else None
    )
    return TaskRole(role, policy)
