"""Violating and compliant inputs for the Lambda policies (the FIS run recorder's function)."""

from __future__ import annotations

from policy_cases import Case, with_

from policy.guardrails import aws_types as t

RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/fis-runs"
PERMISSION = {
    "action": "lambda:InvokeFunction",
    "function": "fis-runs",
    "principal": "events.amazonaws.com",
    "sourceArn": RULE_ARN,
}
FUNCTION = {
    "role": "arn:aws:iam::123456789012:role/fis-runs",
    "handler": "chaos.fis_record.handler",
    "runtime": "python3.13",
    "packageType": "Zip",
}

LAMBDA_CASES = [
    Case(
        "lambda-permission-not-public",
        t.LAMBDA_PERMISSION,
        with_(PERMISSION, principal="*"),
        PERMISSION,
        'principal="events.amazonaws.com" with sourceArn',
    ),
    Case(
        "lambda-permission-not-public",
        t.LAMBDA_PERMISSION,
        {k: v for k, v in PERMISSION.items() if k != "sourceArn"},
        with_(
            {k: v for k, v in PERMISSION.items() if k != "sourceArn"},
            sourceAccount="123456789012",
        ),
        "set sourceArn to the calling resource's ARN",
    ),
    Case(
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        with_(FUNCTION, runtime="python3.9"),
        FUNCTION,
        "set runtime to one of python3.11",
    ),
    Case(
        "lambda-supported-runtime",
        t.LAMBDA_FUNCTION,
        FUNCTION,
        with_(FUNCTION, runtime="python3.12"),
        "set runtime to one of python3.12",
        config={"allowedRuntimes": ["python3.12"]},
    ),
]
