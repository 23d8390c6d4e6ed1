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


#: What the CloudWatch Logs service principal needs on a key that encrypts a log group
#: ("Encrypt log data in CloudWatch Logs using AWS KMS", step 2: set permissions on the key,
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
#: The guide's example lists ``kms:Describe*`` under the same encryption-context condition, but
#: DescribeKey takes no encryption context (Service Authorization Reference, AWS KMS: its condition
#: keys), so that grant never matches; as AWS's managed policy CloudWatchLogsAPIKeyAccess does,
#: DescribeKey gets a statement of its own, held to this account with aws:SourceAccount.
LOGS_KEY_ACTIONS = [
    "kms:Decrypt*",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]


def log_group_key_policy(
    partition: str, region: str, account: str, log_group_name_pattern: str
) -> dict[str, Any]:
    """Key policy for a customer managed key that encrypts log groups (and ECS Exec sessions).

    Three statements: the account may administer and use the key through IAM policies (AWS's
    default key policy statement; without it no IAM policy, such as a task role's kms:Decrypt,
    could grant use of the key, and KMS refuses a policy that locks its caller out); CloudWatch
    Logs in this region may use it only for log groups of this account named by
    `log_group_name_pattern` (the `kms:EncryptionContext:aws:logs:arn` condition the CloudWatch
    Logs guide gives), and may describe the key for this account (see LOGS_KEY_ACTIONS).
    """
    log_groups = f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name_pattern}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            statement(
                ["kms:*"],
                ["*"],
                sid="AccountAdministersThroughIam",
                principals={"AWS": f"arn:{partition}:iam::{account}:root"},
            ),
            statement(
                LOGS_KEY_ACTIONS,
                ["*"],
                sid="CloudWatchLogsEncryptsTheseGroups",
                principals={"Service": f"logs.{region}.amazonaws.com"},
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            ),
            statement(
                ["kms:DescribeKey"],
                ["*"],
                sid="CloudWatchLogsDescribesTheKey",
                principals={"Service": f"logs.{region}.amazonaws.com"},
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            ),
        ],
    }
