"""The edge guardrails' stack rules: VPC endpoint policies scoped to the account, and S3 server
access logging, with known values and with preview-time unknowns."""

from __future__ import annotations

import json

from policy_harness import UNKNOWN_STRING, Res, run_resource, run_stack

from policy.guardrails import aws_types as t
from policy.guardrails.edges import BUCKET_LOGGINGS, BUCKETS, VPC_ENDPOINT, VPC_ENDPOINT_POLICY


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
SCOPED = {
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "*",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
}
LAYERS = {
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "s3:GetObject",
    "Resource": ["arn:aws:s3:::prod-us-east-2-starport-layer-bucket/*"],
}


def endpoint(name: str = "vpce-logs", **props) -> Res:
    return Res(VPC_ENDPOINT, name, {"id": f"{name}-id", "vpcEndpointType": "Interface", **props})


def assert_reported(outcome, resource: Res, *fragments: str) -> None:
    message = next(m for m, urn in outcome.violations if urn == resource.urn)
    assert f'"{resource.name}"' in message and "Fix: " in message
    for fragment in fragments:
        assert fragment in message


def assert_clean(outcome) -> None:
    assert outcome.violations == []
    assert outcome.not_applicable is None


# vpc-endpoint-policy-scoped ---------------------------------------------------------------


def test_endpoint_without_policy_is_reported() -> None:
    subject = endpoint()
    outcome = run_stack("vpc-endpoint-policy-scoped", [subject])
    assert_reported(outcome, subject, "no policy", "aws:PrincipalAccount")


def test_endpoint_open_to_every_principal_is_reported() -> None:
    subject = endpoint(policy=doc(OPEN))
    outcome = run_stack("vpc-endpoint-policy-scoped", [subject])
    assert_reported(outcome, subject, "Statement[0]", "without an account condition")


def test_endpoint_scoped_to_the_account_passes() -> None:
    assert_clean(run_stack("vpc-endpoint-policy-scoped", [endpoint(policy=doc(SCOPED))]))


def test_gateway_policy_attached_separately_counts_and_is_judged() -> None:
    gateway = endpoint("vpce-s3", vpcEndpointType="Gateway")
    good = Res(
        VPC_ENDPOINT_POLICY,
        "s3-policy",
        {"vpcEndpointId": "vpce-s3-id", "policy": doc(LAYERS, SCOPED)},
    )
    assert_clean(run_stack("vpc-endpoint-policy-scoped", [gateway, good]))
    bad = Res(
        VPC_ENDPOINT_POLICY,
        "s3-policy",
        {"vpcEndpointId": "vpce-s3-id", "policy": doc(LAYERS, OPEN)},
    )
    assert_reported(
        run_stack("vpc-endpoint-policy-scoped", [gateway, bad]), gateway, "Statement[1]"
    )


def test_policy_of_another_endpoint_does_not_count() -> None:
    gateway = endpoint("vpce-s3", vpcEndpointType="Gateway")
    other = Res(VPC_ENDPOINT_POLICY, "p", {"vpcEndpointId": "vpce-other", "policy": doc(SCOPED)})
    assert_reported(run_stack("vpc-endpoint-policy-scoped", [gateway, other]), gateway, "no policy")


def test_attached_policy_is_matched_by_dependency_and_skipped_while_unknown() -> None:
    gateway = endpoint("vpce-s3", id=UNKNOWN_STRING)
    attached = Res(
        VPC_ENDPOINT_POLICY,
        "s3-policy",
        {"vpcEndpointId": UNKNOWN_STRING, "policy": UNKNOWN_STRING},
        {"vpcEndpointId": ["vpce-s3"]},
    )
    outcome = run_stack("vpc-endpoint-policy-scoped", [gateway, attached])
    assert outcome.violations == []
    assert "unknown during preview" in outcome.not_applicable


def test_account_condition_keys_are_configurable() -> None:
    vpc_scoped = dict(OPEN, Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    subject = endpoint(policy=doc(vpc_scoped))
    assert run_stack("vpc-endpoint-policy-scoped", [subject]).violations
    config = {"accountConditionKeys": ["aws:SourceVpc"]}
    assert_clean(run_stack("vpc-endpoint-policy-scoped", [subject], config=config))


# iam-service-trust-source-account ------------------------------------------------------------


def test_other_service_principals_are_not_judged_unless_configured() -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "ec2.amazonaws.com"},
        }
    )
    props = {"assumeRolePolicy": trust}
    assert run_resource("iam-service-trust-source-account", t.IAM_ROLE, props).messages == []
    config = {"services": ["ec2.amazonaws.com"]}
    outcome = run_resource("iam-service-trust-source-account", t.IAM_ROLE, props, config=config)
    assert "ec2.amazonaws.com" in outcome.text


# s3-bucket-server-access-logging -----------------------------------------------------------

BUCKET, LOGGING = BUCKETS[0], BUCKET_LOGGINGS[0]
SOURCE = Res(BUCKET, "logs-bucket", {"id": "logs-1", "bucket": "logs-1"})
TARGET = Res(BUCKET, "server-logs-bucket", {"id": "server-logs-2", "bucket": "server-logs-2"})


def test_bucket_without_server_access_logging_is_reported() -> None:
    outcome = run_stack("s3-bucket-server-access-logging", [SOURCE])
    assert_reported(outcome, SOURCE, "no server access logging", "aws:s3/bucketLogging")


def test_bucket_logging_into_a_separate_bucket_passes_and_the_target_is_exempt() -> None:
    logging = Res(
        LOGGING,
        "logging",
        {"bucket": "logs-1", "targetBucket": "server-logs-2", "targetPrefix": "s3/"},
    )
    assert_clean(run_stack("s3-bucket-server-access-logging", [SOURCE, TARGET, logging]))


def test_bucket_logging_into_itself_is_reported() -> None:
    logging = Res(
        LOGGING, "logging", {"bucket": "logs-1", "targetBucket": "logs-1", "targetPrefix": "s3/"}
    )
    outcome = run_stack("s3-bucket-server-access-logging", [SOURCE, logging])
    assert_reported(outcome, SOURCE, "into itself", "separate log bucket")


def test_logging_is_matched_by_dependency_during_preview() -> None:
    source = Res(BUCKET, "logs-bucket", {"id": UNKNOWN_STRING, "bucket": UNKNOWN_STRING})
    target = Res(BUCKET, "server-logs-bucket", {"id": UNKNOWN_STRING, "bucket": UNKNOWN_STRING})
    logging = Res(
        LOGGING,
        "logging",
        {"bucket": UNKNOWN_STRING, "targetBucket": UNKNOWN_STRING, "targetPrefix": "s3/"},
        {"bucket": ["logs-bucket"], "targetBucket": ["server-logs-bucket"]},
    )
    assert_clean(run_stack("s3-bucket-server-access-logging", [source, target, logging]))
