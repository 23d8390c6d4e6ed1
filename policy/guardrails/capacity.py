"""EC2 capacity guardrails: the container instances' launch template and the ECS capacity
provider that scales them."""

from __future__ import annotations

from .aws_types import ECS_CAPACITY_PROVIDER, LAUNCH_TEMPLATE
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import fmt, is_set


@resource_rule(
    "launch-template-imdsv2",
    types=LAUNCH_TEMPLATE,
    level=MANDATORY,
    description=(
        "Container instances require IMDSv2 session tokens (FSBP EC2.8). Mandatory: IMDSv1 lets "
        "any SSRF bug in a container read the instance role's credentials."
    ),
)
def launch_template_imdsv2(check: ResourceCheck) -> None:
    if check.known("metadataOptions.httpEndpoint") == "disabled":
        return
    tokens = check.known("metadataOptions.httpTokens")
    if tokens != "required":
        check.violation(
            f"metadataOptions.httpTokens is {fmt(tokens) if tokens else 'unset (IMDSv1 allowed)'}",
            'set metadataOptions={httpEndpoint: "enabled", httpTokens: "required", '
            "httpPutResponseHopLimit: 1} (hop limit 1 keeps bridge-mode containers from reaching "
            "the instance role; tasks get credentials from their task role)",
        )


@resource_rule(
    "ecs-capacity-provider-managed-scaling",
    types=ECS_CAPACITY_PROVIDER,
    level=MANDATORY,
    description=(
        "ECS capacity providers backed by an Auto Scaling group use managed scaling. Mandatory: "
        "without it the cluster does not grow when the service scales out, and new tasks stay "
        "PENDING."
    ),
)
def ecs_capacity_provider_managed_scaling(check: ResourceCheck) -> None:
    if not is_set(check.get("autoScalingGroupProvider")):
        return  # ECS Managed Instances / Fargate scale themselves.
    status = check.known("autoScalingGroupProvider.managedScaling.status")
    if status != "ENABLED":
        check.violation(
            f"managed scaling is {fmt(status) if status else 'not configured'}",
            'set autoScalingGroupProvider.managedScaling={status: "ENABLED", targetCapacity: 100}',
        )


POLICIES = [launch_template_imdsv2, ecs_capacity_provider_managed_scaling]
