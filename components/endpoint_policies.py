"""What may pass through the VPC's endpoints: policy documents, and the S3 gateway's policy.

An endpoint policy does not grant anything; it caps what any request through the endpoint may
do, so credentials from another account (or a stolen role talking to someone else's bucket)
cannot use the VPC's private path to AWS.

* Interface endpoints admit only principals of this account (``aws:PrincipalAccount``). Where
  every resource the workload touches through that service is this account's own, the
  resource's account is pinned too (``aws:ResourceAccount``): image manifests and layer URLs
  from the stack's own repository (``ecr.dkr``) and the stack's secrets (``secretsmanager``),
  whose every action names a resource. ``ecr.api`` (``GetAuthorizationToken`` names no
  resource), CloudWatch Logs (ECS Exec's agent calls ``DescribeLogGroups``, which names none),
  SSM and Session Manager (AWS-owned documents such as ``AmazonECS-ExecuteInteractiveCommand``),
  and the ECS agent endpoints (``DiscoverPollEndpoint`` names no resource) are scoped by
  principal only: an account condition on a request that names no resource could refuse it.
* The S3 gateway endpoint admits: ``s3:GetObject`` on the region's ECR layer bucket
  (``prod-<region>-starport-layer-bucket``; ECR hands out URLs presigned by ECR's own account,
  so no principal condition can apply), ``s3:GetObject`` on the Amazon Linux 2023 package
  repositories (``al2023-repos-<region>-*``; dnf on the ECS-optimized AL2023 hosts fetches them
  anonymously, and every in-region S3 request from a private subnet takes the gateway route,
  NAT or not), and this account's principals on the stack's own buckets. Amazon Linux 2 repository
  buckets are not admitted: the hosts run AL2023. SSM Agent buckets (``amazon-ssm-<region>``,
  patching baselines, agent updates) are not admitted either: the stack uses Session Manager
  and ECS Exec only, which need none.

Sources: what an endpoint policy is and that it must name a principal,
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html; ``aws:PrincipalAccount``
and ``aws:ResourceAccount``, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html;
the ECR layer bucket an S3 gateway endpoint must admit ("Minimum Amazon S3 bucket permissions for
Amazon ECR"), https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html; which
actions name no resource (``ecr:GetAuthorizationToken``, ``logs:DescribeLogGroups``,
``ecs:DiscoverPollEndpoint``), the Service Authorization Reference as tests/stacks/test_iam_reference.py
reads it. The AL2023 repository bucket pattern ``al2023-repos-<region>-*`` has no AWS document
cited here: it is the host the AL2023 ``dnf`` mirror list resolves to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .iam_documents import document, statement

RESOURCE_ACCOUNT_SERVICES = frozenset({"ecr.dkr", "secretsmanager"})
"""Interface endpoint services whose every resource the stack uses lives in this account."""


def interface_endpoint_statement(service: str, account: pulumi.Input[str]) -> dict[str, Any]:
    """The one statement of an interface endpoint's policy: this account's principals only (and
    this account's resources for :data:`RESOURCE_ACCOUNT_SERVICES`)."""
    scope: dict[str, Any] = {"aws:PrincipalAccount": account}
    if service in RESOURCE_ACCOUNT_SERVICES:
        scope["aws:ResourceAccount"] = account
    return statement(
        ["*"],
        ["*"],
        sid="ThisAccountOnly",
        principals={"AWS": "*"},
        conditions={"StringEquals": scope},
    )


def ecr_layer_objects(partition: str, region: str) -> str:
    """Objects of the region's ECR layer bucket (where image layers are downloaded from)."""
    return f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*"


def amazon_linux_repository_objects(partition: str, region: str) -> str:
    """Objects of the region's Amazon Linux 2023 package repository buckets (dnf)."""
    return f"arn:{partition}:s3:::al2023-repos-{region}-*/*"


def s3_gateway_statements(
    partition: str, region: str, account: str, bucket_arns: Sequence[str]
) -> list[dict[str, Any]]:
    """The statements of the S3 gateway endpoint's policy (plain values, for tests and docs)."""
    statements = [
        statement(
            ["s3:GetObject"],
            [ecr_layer_objects(partition, region)],
            sid="EcrImageLayers",
            principals={"AWS": "*"},
        ),
        statement(
            ["s3:GetObject"],
            [amazon_linux_repository_objects(partition, region)],
            sid="AmazonLinuxRepositories",
            principals={"AWS": "*"},
        ),
    ]
    if bucket_arns:
        resources: list[pulumi.Input[str]] = [
            arn for bucket in sorted(bucket_arns) for arn in (bucket, f"{bucket}/*")
        ]
        statements.append(
            statement(
                ["s3:*"],
                resources,
                sid="StackBuckets",
                principals={"AWS": "*"},
                conditions={"StringEquals": {"aws:PrincipalAccount": account}},
            )
        )
    return statements


@dataclass(frozen=True)
class S3GatewayAccessArgs:
    """Inputs of :class:`S3GatewayAccess`."""

    endpoint_id: pulumi.Input[str]
    """The S3 gateway endpoint (``Network.s3_endpoint_id``)."""
    bucket_arns: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """ARNs of the stack's own buckets (access logs and their server access logs)."""


class S3GatewayAccess(pulumi.ComponentResource):
    """The S3 gateway endpoint's policy: ECR layers, Amazon Linux 2023 repositories and the
    stack's own buckets, nothing else.

    A separate resource (``aws:ec2/vpcEndpointPolicy``) rather than the endpoint's ``policy``
    input, because the stack's buckets are created after the network that the endpoint belongs
    to; the endpoint itself leaves ``policy`` unset so the two never fight over it.
    """

    policy: pulumi.Output[str]
    """The policy document attached to the endpoint."""

    def __init__(
        self, name: str, args: S3GatewayAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:endpoint_policies:S3GatewayAccess", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self.policy = pulumi.Output.all(partition, region, account, *args.bucket_arns).apply(
            lambda values: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": s3_gateway_statements(
                        values[0], values[1], values[2], list(values[3:])
                    ),
                }
            )
        )
        aws.ec2.VpcEndpointPolicy(
            f"{name}-policy",
            aws.ec2.VpcEndpointPolicyArgs(vpc_endpoint_id=args.endpoint_id, policy=self.policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"policy": self.policy})


def interface_endpoint_policy(service: str, account: pulumi.Input[str]) -> pulumi.Output[str]:
    """The policy document of the interface endpoint for ``service`` (``ecr.api``, ``logs``...)."""
    return document(interface_endpoint_statement(service, account))
