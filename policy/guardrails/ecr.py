"""ECR guardrails: image scanning, tag immutability, lifecycle policies."""

from __future__ import annotations

from .aws_types import ECR_LIFECYCLE_POLICY, ECR_REPOSITORY
from .framework import ADVISORY, MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
from .properties import fmt, get, is_unknown, parse_json

_EXAMPLE_RULE = (
    '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": '
    '"sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]}'
)


@resource_rule(
    "ecr-scan-on-push",
    types=ECR_REPOSITORY,
    level=MANDATORY,
    description=(
        "ECR repositories scan every image on push (CKV_AWS_163, FSBP ECR.1). Mandatory: known "
        "CVEs are reported before the image is deployed, not after."
    ),
)
def ecr_scan_on_push(check: ResourceCheck) -> None:
    if check.known("imageScanningConfiguration.scanOnPush") is not True:
        check.violation(
            "images are not scanned on push",
            "set imageScanningConfiguration={scanOnPush: true}",
        )


@resource_rule(
    "ecr-immutable-tags",
    types=ECR_REPOSITORY,
    level=MANDATORY,
    description=(
        "ECR repositories make image tags immutable (CKV_AWS_51, FSBP ECR.2). Mandatory: a "
        "pushed tag can never be re-pointed, so what was tested is what runs."
    ),
)
def ecr_immutable_tags(check: ResourceCheck) -> None:
    mutability = check.known("imageTagMutability", "MUTABLE")
    if mutability != "IMMUTABLE":
        check.violation(
            f"imageTagMutability is {fmt(mutability)}", 'set imageTagMutability="IMMUTABLE"'
        )


@stack_rule(
    "ecr-repository-has-lifecycle-policy",
    level=ADVISORY,
    description=(
        "Every ECR repository in the stack has an aws:ecr/lifecyclePolicy (FSBP ECR.3). "
        "Advisory by default: a cost and hygiene rule; the stack configs make it mandatory."
    ),
)
def ecr_repository_has_lifecycle_policy(check: StackCheck) -> None:
    policies = check.of_type(ECR_LIFECYCLE_POLICY)
    for repository in check.of_type(ECR_REPOSITORY):
        links = [check.refers_to(p, "repository", repository, "name", "id") for p in policies]
        if True in links:
            continue
        if None in links:
            check.note(
                f"which repository the lifecycle policies of {repository.label()} target "
                "is unknown during preview"
            )
            continue
        check.violation(
            repository,
            "the repository has no lifecycle policy, so old images pile up forever",
            f"add an aws:ecr/lifecyclePolicy with repository set to this repository's name and "
            f"policy expiring old images, e.g. {_EXAMPLE_RULE}",
        )


@resource_rule(
    "ecr-lifecycle-policy-expires-images",
    types=ECR_LIFECYCLE_POLICY,
    level=ADVISORY,
    description=(
        "Every ECR lifecycle policy has at least one rule, and every rule expires images. "
        "Advisory by default: a cost and hygiene rule; the stack configs make it mandatory."
    ),
)
def ecr_lifecycle_policy_expires_images(check: ResourceCheck) -> None:
    document = parse_json(check.known("policy"), "policy")
    rules = get(document, "rules")
    if is_unknown(rules):
        check.note("policy.rules is unknown during preview")
        return
    if not isinstance(rules, list) or not rules:
        check.violation("the lifecycle policy has no rules", f"set policy to e.g. {_EXAMPLE_RULE}")
        return
    for i, rule in enumerate(rules):
        if get(rule, "action.type") != "expire":
            check.violation(
                f"rules[{i}] does not expire images", f'set rules[{i}].action={{"type": "expire"}}'
            )


POLICIES = [
    ecr_scan_on_push,
    ecr_immutable_tags,
    ecr_repository_has_lifecycle_policy,
    ecr_lifecycle_policy_expires_images,
]
