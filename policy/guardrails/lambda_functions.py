"""Lambda guardrails: no function callable by anyone, no function on a deprecated runtime, no
asynchronously invoked function whose failed invocations vanish."""

from __future__ import annotations

from . import limits
from .aws_types import (
    EVENT_TARGET,
    LAMBDA_EVENT_INVOKE_CONFIG,
    LAMBDA_FUNCTION,
    LAMBDA_PERMISSION,
)
from .framework import MANDATORY, ResourceCheck, StackCheck, resource_rule, stack_rule
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


ASYNC_INVOKERS = frozenset(
    f"{service}.amazonaws.com"
    for service in ("events", "s3", "sns", "ses", "logs", "cloudformation", "codecommit",
                    "config", "iot")
)  # fmt: skip
"""Service principals that invoke Lambda asynchronously (Lambda developer guide, "Invoking
Lambda with events from other AWS services")."""


@stack_rule(
    "lambda-async-failures-kept",
    level=MANDATORY,
    description=(
        "A Lambda function invoked asynchronously — the target of an EventBridge rule "
        "(aws:cloudwatch/eventTarget), or allowed by an aws:lambda/permission to be invoked by "
        "a service that invokes asynchronously (EventBridge, S3, SNS, SES, CloudWatch Logs, "
        "CloudFormation, CodeCommit, Config, IoT) — keeps its failed invocations: an "
        "aws:lambda/functionEventInvokeConfig of the function with destinationConfig.onFailure, "
        "or the function's deadLetterConfig. A function only ever invoked synchronously is not "
        "judged. Mandatory: after its retries Lambda drops a failed asynchronous event unless "
        'it has somewhere to send it (Lambda developer guide, "Capturing records of Lambda '
        'asynchronous invocations"), so the work it stood for is lost without a trace.'
    ),
)
def lambda_async_failures_kept(check: StackCheck) -> None:
    invokers = [p for p in check.of_type(LAMBDA_PERMISSION) if p.get("principal") in ASYNC_INVOKERS]
    targets = check.of_type(EVENT_TARGET)
    configs = check.of_type(LAMBDA_EVENT_INVOKE_CONFIG)
    for function in check.of_type(LAMBDA_FUNCTION):
        called = any(
            check.refers_to(p, "function", function, "name", "arn") for p in invokers
        ) or any(check.refers_to(t, "arn", function, "arn") for t in targets)
        if not called or is_set(function.get("deadLetterConfig.targetArn")):
            continue
        if any(
            check.refers_to(c, "functionName", function, "name", "arn")
            and is_set(c.get("destinationConfig.onFailure.destination"))
            for c in configs
        ):
            continue
        check.violation(
            function,
            "is invoked asynchronously but has neither an on-failure destination nor a "
            "dead-letter queue: an event it fails to process is dropped after Lambda's retries",
            "add an aws:lambda/functionEventInvokeConfig with functionName=<this function> and "
            "destinationConfig.onFailure.destination=<an SQS queue ARN> (the function's role "
            "may sqs:SendMessage to it), with an alarm on the queue",
        )


POLICIES = [lambda_permission_not_public, lambda_supported_runtime, lambda_async_failures_kept]
