"""Every policy document a synthesized stack creates, with whose permissions it holds.

Identity policies (a role's `inlinePolicies`, `aws:iam/rolePolicy`, `aws:iam/policy` attached with
`aws:iam/rolePolicyAttachment`) are grouped by role, so dependent actions are checked per
principal. Trust policies (`assumeRolePolicy`) and resource policies (key, topic, bucket, queue,
repository, secret, endpoint, log resource policies) are checked statement by statement. AWS
managed policies attached by ARN are not in the stack, so their contents are not checked; they are
listed in `PolicyInventory.managed_policies`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from ops.synth.mocks import ResourceRecord
from ops.synth.runner import Recording

from .rules import Finding, check_dependencies, check_document, statements

RESOURCE_POLICIES: dict[str, str] = {
    "aws:kms/key:Key": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "policy",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "policy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
}
"""Resource type → the input holding its resource policy (pulumi-aws 7 property names)."""

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


@dataclass(frozen=True)
class PolicyDocument:
    """One document: the resource that holds it, the input, and its parsed JSON."""

    resource: str
    where: str
    document: dict[str, Any]


@dataclass
class PolicyInventory:
    """The documents of one stack: identity policies per role, and every other document."""

    identity: dict[str, list[PolicyDocument]] = field(default_factory=lambda: defaultdict(list))
    other: list[PolicyDocument] = field(default_factory=list)
    managed_policies: list[str] = field(default_factory=list)

    def documents(self) -> list[PolicyDocument]:
        return [d for docs in self.identity.values() for d in docs] + self.other


def _parse(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.strip():
        return json.loads(value)
    return value if isinstance(value, dict) else None


def _label(record: ResourceRecord) -> str:
    return f"{record.type.split(':')[1]} {record.name}"


def _role_names(record: ResourceRecord) -> set[str]:
    """What another resource may use to name this role: physical name, id, ARN."""
    names = {record.id, record.outputs.get("name"), record.outputs.get("arn")}
    return {n for n in names if isinstance(n, str) and n}


def inventory(recording: Recording) -> PolicyInventory:
    """Collect every policy document `recording` registered."""
    found = PolicyInventory()
    roles = recording.of_type(ROLE)
    role_of = {name: role.name for role in roles for name in _role_names(role)}
    policies = {p.outputs.get("arn"): p for p in recording.of_type(MANAGED_POLICY)}
    for role in roles:
        trust = _parse(role.inputs.get("assumeRolePolicy"))
        if trust:
            found.other.append(PolicyDocument(_label(role), "assumeRolePolicy", trust))
        for i, inline in enumerate(role.inputs.get("inlinePolicies") or []):
            document = _parse(inline.get("policy"))
            if document:
                where = f"inlinePolicies[{i}]"
                found.identity[role.name].append(PolicyDocument(_label(role), where, document))
    for record in recording.of_type(ROLE_POLICY):
        document = _parse(record.inputs.get("policy"))
        owner = role_of.get(str(record.inputs.get("role")), f"role {record.inputs.get('role')}")
        if document:
            found.identity[owner].append(PolicyDocument(_label(record), "policy", document))
    for record in recording.of_type(ATTACHMENT):
        arn = record.inputs.get("policyArn")
        owner = role_of.get(str(record.inputs.get("role")), f"role {record.inputs.get('role')}")
        policy = policies.get(arn)
        document = _parse(policy.inputs.get("policy")) if policy else None
        if policy and document:
            found.identity[owner].append(PolicyDocument(_label(policy), "policy", document))
        elif isinstance(arn, str):
            found.managed_policies.append(arn)
    for record in recording.records:
        key = RESOURCE_POLICIES.get(record.type)
        document = _parse(record.inputs.get(key)) if key else None
        if key and document:
            found.other.append(PolicyDocument(_label(record), key, document))
    return found


def check_recording(recording: Recording, stack: str) -> list[Finding]:
    """Every finding of every rule over every policy document `recording` registered."""
    found = inventory(recording)
    findings: list[Finding] = []
    for doc in found.documents():
        findings.extend(check_document(doc.document, doc.resource, doc.where))
    for docs in found.identity.values():
        principal = [s for d in docs for s in statements(d.document, d.resource, d.where)]
        findings.extend(check_dependencies(principal))
    return [replace(f, stack=stack) for f in findings]
