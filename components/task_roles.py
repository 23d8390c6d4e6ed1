"""IAM roles for ECS tasks: the trust every task or execution role shares, and the role itself."""

from __future__ import annotations

from collections.abc import Sequence
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


def ecs_task_role(
    parent: pulumi.Resource,
    name: str,
    description: str,
    statements: Sequence[dict[str, Any]],
    tags: dict[str, str],
    trust: pulumi.Input[str],
) -> aws.iam.Role:
    """A role ECS tasks assume (`<name>-role`), with its inline policy when it needs one."""
    role = aws.iam.Role(
        f"{name}-role",
        aws.iam.RoleArgs(description=description, assume_role_policy=trust, tags=tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if statements:
        aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(role=role.name, policy=document(*statements)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return role
