"""lambda-async-failures-kept: a function invoked asynchronously (an EventBridge rule's target,
or allowed to be invoked by a service that invokes asynchronously) has an on-failure destination
or a dead-letter queue; one invoked only synchronously is not judged. Links are found by value
(name, ARN) and, during preview, by property dependencies."""

from __future__ import annotations

import policy_cases  # noqa: F401  # before policy_cases_lambda, which it imports
from policy_cases_lambda import FUNCTION, PERMISSION
from policy_harness import UNKNOWN_STRING, Res, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from policy.guardrails import aws_types as t

RULE = "lambda-async-failures-kept"
FUNCTION_ARN = "arn:aws:lambda:us-east-2:123456789012:function:fis-runs"
QUEUE_ARN = "arn:aws:sqs:us-east-2:123456789012:fis-runs-dlq"
FN = Res(t.LAMBDA_FUNCTION, "fis-runs-fn", {**FUNCTION, "name": "fis-runs", "arn": FUNCTION_ARN})
INVOKED_BY_EVENTS = Res(t.LAMBDA_PERMISSION, "fis-runs-invoke", PERMISSION)
TARGET = Res(t.EVENT_TARGET, "fis-runs-fis-ended", {"rule": "fis-ended", "arn": FUNCTION_ARN})


def on_failure(destination: object = QUEUE_ARN, function: object = "fis-runs", deps=None) -> Res:
    return Res(
        t.LAMBDA_EVENT_INVOKE_CONFIG,
        "fis-runs-fn-config",
        {
            "functionName": function,
            "destinationConfig": {"onFailure": {"destination": destination}},
        },
        deps or {},
    )


def test_an_eventbridge_invoked_function_without_a_destination_is_reported() -> None:
    outcome = run_stack(RULE, [FN, INVOKED_BY_EVENTS, TARGET])
    assert_reported(outcome, FN, "neither an on-failure destination", "destinationConfig.onFailure")


def test_an_on_failure_destination_keeps_the_failures() -> None:
    assert_clean(run_stack(RULE, [FN, INVOKED_BY_EVENTS, TARGET, on_failure()]))


def test_a_dead_letter_queue_on_the_function_keeps_them_too() -> None:
    with_dlq = Res(
        t.LAMBDA_FUNCTION, FN.name, {**FN.props, "deadLetterConfig": {"targetArn": QUEUE_ARN}}
    )
    assert_clean(run_stack(RULE, [with_dlq, TARGET]))


def test_a_config_without_an_on_failure_destination_does_not_count() -> None:
    only_success = Res(
        t.LAMBDA_EVENT_INVOKE_CONFIG, "fis-runs-fn-config",
        {"functionName": "fis-runs", "destinationConfig": {"onSuccess": {"destination": QUEUE_ARN}}},
    )  # fmt: skip
    assert_reported(run_stack(RULE, [FN, TARGET, only_success]), FN)


def test_a_config_of_another_function_does_not_count() -> None:
    assert_reported(run_stack(RULE, [FN, INVOKED_BY_EVENTS, on_failure(function="other")]), FN)


def test_a_permission_alone_marks_an_asynchronous_invoker() -> None:
    sns = Res(t.LAMBDA_PERMISSION, "from-sns", {**PERMISSION, "principal": "sns.amazonaws.com"})
    assert_reported(run_stack(RULE, [FN, sns]), FN)


def test_a_function_invoked_only_synchronously_is_not_judged() -> None:
    """The exemption: API Gateway (and any caller without a permission here) invokes
    synchronously, and the caller sees the error."""
    api = Res(
        t.LAMBDA_PERMISSION, "from-api", {**PERMISSION, "principal": "apigateway.amazonaws.com"}
    )
    assert_clean(run_stack(RULE, [FN, api]))
    assert_clean(run_stack(RULE, [FN]))


def test_during_preview_links_come_from_property_dependencies() -> None:
    fn = Res(
        t.LAMBDA_FUNCTION,
        "fis-runs-fn",
        {**FUNCTION, "name": UNKNOWN_STRING, "arn": UNKNOWN_STRING},
    )
    target = Res(
        t.EVENT_TARGET, TARGET.name, {"rule": "r", "arn": UNKNOWN_STRING}, {"arn": [fn.name]}
    )
    config = on_failure(UNKNOWN_STRING, UNKNOWN_STRING, {"functionName": [fn.name]})
    assert_reported(run_stack(RULE, [fn, target]), fn)
    assert_clean(run_stack(RULE, [fn, target, config]))
