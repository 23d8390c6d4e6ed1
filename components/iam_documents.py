"""IAM policy documents as plain JSON strings, built from small pure helpers.

Documents are written here rather than with `aws.iam.get_policy_document` so they need no provider
call, can hold Pulumi outputs through `pulumi.Output.json_dumps`, and read the same in tests.
"""

from __future__ import annotations

from typing import Any

import pulumi


def statement(
    actions: list[str],
    resources: list[pulumi.Input[str]] | None = None,
    *,
    sid: str | None = None,
    effect: str = "Allow",
    conditions: dict[str, Any] | None = None,
    principals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One IAM statement; `resources` defaults to none (for trust policies that use principals)."""
    body: dict[str, Any] = {"Effect": effect, "Action": sorted(actions)}
    if sid:
        body["Sid"] = sid
    if resources is not None:
        body["Resource"] = resources
    if principals:
        body["Principal"] = principals
    if conditions:
        body["Condition"] = conditions
    return body


def document(*statements: dict[str, Any]) -> pulumi.Output[str]:
    """A policy document; outputs inside statements are resolved before serialisation."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(
    service: str,
    *,
    source_account: pulumi.Input[str] | None = None,
    source_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    """Trust policy letting `service` (e.g. `ecs-tasks.amazonaws.com`) assume the role.

    With `source_account` (`aws:SourceAccount`) and `source_arn` (`aws:SourceArn`, an ARN pattern
    matched with ArnLike), the service may assume the role only on behalf of this account's (and
    that pattern's) resources: the confused-deputy guard AWS recommends for service roles
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    """
    conditions: dict[str, Any] = {}
    if source_account:
        conditions["StringEquals"] = {"aws:SourceAccount": source_account}
    if source_arn:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        statement(
            ["sts:AssumeRole"], principals={"Service": service}, conditions=conditions or None
        )
    )


def ecs_tasks_source_arn(partition: str, region: str, account: str) -> str:
    """`arn:<partition>:ecs:<region>:<account>:*`: the `aws:SourceArn` pattern ECS documents for
    task roles (the task, task set or service assuming it is in this account and region;
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html, trust
    policy example)."""
    return f"arn:{partition}:ecs:{region}:{account}:*"
