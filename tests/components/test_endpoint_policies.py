"""VPC endpoint policies: interface endpoints admit only this account; the S3 gateway admits ECR
layers, Amazon Linux 2023 repositories and the stack's own buckets, nothing else."""

from __future__ import annotations

import fnmatch
import json

import pulumi
import pytest

from components.endpoint_policies import (
    RESOURCE_ACCOUNT_SERVICES,
    S3GatewayAccess,
    S3GatewayAccessArgs,
    s3_gateway_statements,
)
from components.network import Network, NetworkArgs
from ops.synth.mocks import ACCOUNT_ID

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
NETWORK = NetworkArgs(
    cidr="10.20.0.0/16",
    availability_zones=["us-east-2a", "us-east-2b"],
    nat_strategy="none",
    interface_endpoints=True,
    extra_interface_endpoints=["sts"],
)


def test_every_interface_endpoint_admits_only_this_accounts_principals(mocked) -> None:
    rec = mocked(lambda: Network("net", NETWORK))
    interface = [r for r in rec.of_type(ENDPOINT) if r.inputs["vpcEndpointType"] == "Interface"]
    assert len(interface) == 10  # 6 defaults + 3 ECS agent endpoints (no NAT) + sts
    for endpoint in interface:
        service = endpoint.inputs["serviceName"].removeprefix("com.amazonaws.us-east-2.")
        (only,) = json.loads(endpoint.inputs["policy"])["Statement"]
        assert only["Effect"] == "Allow" and only["Principal"] == {"AWS": "*"}
        scope = only["Condition"]["StringEquals"]
        assert scope["aws:PrincipalAccount"] == ACCOUNT_ID, service
        if service in RESOURCE_ACCOUNT_SERVICES:
            assert scope["aws:ResourceAccount"] == ACCOUNT_ID, service
        else:
            assert "aws:ResourceAccount" not in scope, service


def test_the_gateway_endpoint_leaves_its_policy_to_s3_gateway_access(mocked) -> None:
    rec = mocked(lambda: Network("net", NETWORK))
    (gateway,) = [r for r in rec.of_type(ENDPOINT) if r.inputs["vpcEndpointType"] == "Gateway"]
    assert "policy" not in gateway.inputs


BUCKETS = ["arn:aws:s3:::blue-logs-bucket-1", "arn:aws:s3:::blue-logs-server-logs-bucket-2"]


def allowed(statements: list[dict], action: str, resource: str, principal_account: str) -> bool:
    """Whether an Allow statement admits ``action`` on ``resource`` for a principal of that
    account (evaluating the StringEquals aws:PrincipalAccount condition)."""
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if not any(fnmatch.fnmatchcase(action, a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in s["Resource"]):
            continue
        wanted = s.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalAccount")
        if wanted in (None, principal_account):
            return True
    return False


@pytest.mark.parametrize(
    ("action", "resource", "account", "expected"),
    [
        (
            "s3:GetObject",
            "arn:aws:s3:::prod-us-east-2-starport-layer-bucket/sha256/ab",
            "ecr",
            True,
        ),
        ("s3:GetObject", "arn:aws:s3:::al2023-repos-us-east-2-de612dc2/core/mirrors", "", True),
        ("s3:PutObject", "arn:aws:s3:::blue-logs-bucket-1/alb/x.log.gz", ACCOUNT_ID, True),
        ("s3:GetObject", "arn:aws:s3:::blue-logs-server-logs-bucket-2/s3/x", ACCOUNT_ID, True),
        ("s3:GetObject", "arn:aws:s3:::blue-logs-bucket-1/alb/x", "999999999999", False),
        ("s3:PutObject", "arn:aws:s3:::someone-elses-bucket/stolen.tar", ACCOUNT_ID, False),
        ("s3:PutObject", "arn:aws:s3:::prod-us-east-2-starport-layer-bucket/x", ACCOUNT_ID, False),
        ("s3:GetObject", "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/x", "ecr", False),
        ("s3:GetObject", "arn:aws:s3:::amazonlinux-2-repos-us-east-2/x", "", False),
    ],
)
def test_gateway_policy_admits_only_layers_repositories_and_own_buckets(
    action: str, resource: str, account: str, expected: bool
) -> None:
    statements = s3_gateway_statements("aws", "us-east-2", ACCOUNT_ID, BUCKETS)
    assert allowed(statements, action, resource, account) is expected


def test_gateway_access_attaches_the_policy_to_the_endpoint(mocked) -> None:
    def program() -> None:
        net = Network("net", NETWORK)
        access = S3GatewayAccess(
            "s3-gateway", S3GatewayAccessArgs(endpoint_id=net.s3_endpoint_id, bucket_arns=BUCKETS)
        )
        pulumi.export("policy", access.policy)

    rec = mocked(program)
    (attached,) = rec.of_type(ENDPOINT_POLICY)
    (gateway,) = [r for r in rec.of_type(ENDPOINT) if r.inputs["vpcEndpointType"] == "Gateway"]
    assert attached.inputs["vpcEndpointId"] == gateway.id
    document = json.loads(attached.inputs["policy"])
    assert document["Statement"] == s3_gateway_statements("aws", "us-east-2", ACCOUNT_ID, BUCKETS)


def test_without_buckets_the_gateway_admits_only_aws_owned_objects() -> None:
    statements = s3_gateway_statements("aws", "us-east-2", ACCOUNT_ID, [])
    assert [s["Sid"] for s in statements] == ["EcrImageLayers", "AmazonLinuxRepositories"]
