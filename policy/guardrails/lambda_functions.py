"""Lambda guardrails: no function callable by anyone, no function on a deprecated runtime."""

from __future__ import annotations

from . import limits
from .aws_types import LAMBDA_FUNCTION, LAMBDA_PERMISSION
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import fmt, is_set


@resource_rule(
    "lambda-permission-not-public",
    types=LAMBDA_PERMISSION,
    level=MANDATORY,
    description=(
        'A Lambda permission names who may invoke: never principal "*", and an AWS service '
        "principal (…amazonaws.com) only with sourceArn or sourceAccount, so no other account's "
        "resource can use the service to call the function (FSBP Lambda.1, CKV_AWS_364). "
        "Mandatory: a public or unscoped function policy lets anyone run the function with its "
        "role's permissions."
    ),
)
def lambda_permission_not_public(check: ResourceCheck) -> None:
    principal = check.known("principal")
    if principal == "*":
        check.violation(
            'principal is "*": anyone may invoke the function',
            "set principal to the one service or account that calls it (for EventBridge "
            'principal="events.amazonaws.com" with sourceArn=<the rule\'s ARN>)',
        )
        return
    service = isinstance(principal, str) and principal.endswith(".amazonaws.com")
    if service and not (is_set(check.known("sourceArn")) or is_set(check.known("sourceAccount"))):
        check.violation(
            f"principal {fmt(principal)} is a service, but neither sourceArn nor "
            "sourceAccount limits which of its resources may invoke",
            "set sourceArn to the calling resource's ARN (an EventBridge rule's arn) and "
            "sourceAccount to this account",
        )


@resource_rule(
    "lambda-supported-runtime",
    types=LAMBDA_FUNCTION,
    level=MANDATORY,
    config={
        "allowedRuntimes": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(limits.LAMBDA_SUPPORTED_RUNTIMES),
            "description": "Runtimes AWS has not deprecated (update as its schedule moves).",
        }
    },
    description=(
        "Zip-packaged Lambda functions run on a runtime AWS still supports (FSBP Lambda.2): "
        "one of allowedRuntimes (default: the runtimes not deprecated by 2026-12). Container "
        "images (packageType Image) bring their own runtime and are not judged. Mandatory: a "
        "deprecated runtime gets no security patches, and AWS then blocks creating and, later, "
        "updating functions on it: the next `pulumi up` fails."
    ),
)
def lambda_supported_runtime(check: ResourceCheck) -> None:
    if check.known("packageType") == "Image":
        return
    runtime = check.known("runtime")
    allowed = list(check.config["allowedRuntimes"])
    if runtime not in allowed:
        check.violation(
            f"runtime {fmt(runtime)} is not a supported Lambda runtime",
            f"set runtime to one of {', '.join(allowed)} (python3.13 for the FIS run recorder)",
        )


POLICIES = [lambda_permission_not_public, lambda_supported_runtime]
