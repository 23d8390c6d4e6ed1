"""ecs-exec-encrypted: violating and compliant stacks, each exemption (no exec configuration,
dev), preview-time unknowns, and the real EcsCluster judged as deployed and as a first preview."""

from __future__ import annotations

import pytest
from policy_harness import UNKNOWN_OBJECT, UNKNOWN_STRING, Res, run_stack
from test_policy_stack_preview import preview_resources
from test_policy_stack_rules import assert_clean, assert_reported

from components.ecs_cluster import EcsCluster, EcsClusterArgs
from policy.guardrails import aws_types as t

POLICY = "ecs-exec-encrypted"
KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP = Res(t.LOG_GROUP, "exec-logs", {"name": "exec-logs-1a2b3c4", "kmsKeyId": KEY_ARN})


def cluster(**exec_config: object) -> Res:
    config = {
        "kmsKeyId": KEY_ARN,
        "logging": "OVERRIDE",
        "logConfiguration": {
            "cloudWatchLogGroupName": "exec-logs-1a2b3c4",
            "cloudWatchEncryptionEnabled": True,
        },
        **exec_config,
    }
    return Res(
        t.ECS_CLUSTER,
        "main",
        {"name": "main", "configuration": {"executeCommandConfiguration": config}},
    )


def test_encrypted_sessions_and_log_group_pass() -> None:
    assert_clean(run_stack(POLICY, [cluster(), GROUP]))


def test_sessions_without_a_customer_key_are_reported() -> None:
    main = cluster(kmsKeyId=None)
    assert_reported(run_stack(POLICY, [main, GROUP]), main, "kmsKeyId", "kms:Decrypt")


@pytest.mark.parametrize("value", [False, None])
def test_logs_not_required_to_be_encrypted_are_reported(value) -> None:
    main = cluster(
        logConfiguration={
            "cloudWatchLogGroupName": "exec-logs-1a2b3c4",
            "cloudWatchEncryptionEnabled": value,
        }
    )
    assert_reported(run_stack(POLICY, [main, GROUP]), main, "cloudWatchEncryptionEnabled=true")


def test_an_unencrypted_exec_log_group_is_reported() -> None:
    plain = Res(t.LOG_GROUP, "exec-logs", {"name": "exec-logs-1a2b3c4"})
    assert_reported(run_stack(POLICY, [cluster(), plain]), plain, "kmsKeyId", "logs.<region>")


def test_a_log_group_outside_the_stack_is_reported() -> None:
    other = Res(t.LOG_GROUP, "app-logs", {"name": "app-logs-9z8y7x6", "kmsKeyId": KEY_ARN})
    main = cluster()
    assert_reported(run_stack(POLICY, [main, other]), main, "does not manage")


def test_without_exec_logging_only_the_key_is_required() -> None:
    assert_clean(run_stack(POLICY, [cluster(logConfiguration=None, logging="DEFAULT")]))


def test_a_cluster_without_exec_configuration_is_exempt() -> None:
    assert_clean(run_stack(POLICY, [Res(t.ECS_CLUSTER, "main", {"name": "main"})]))


def test_dev_is_exempt() -> None:
    outcome = run_stack(POLICY, [cluster(kmsKeyId=None)], config={"environment": "dev"})
    assert outcome.violations == []
    assert outcome.not_applicable and "prod-only" in outcome.not_applicable


def test_preview_link_through_the_property_dependency_passes() -> None:
    group = Res(t.LOG_GROUP, "exec-logs", {"name": UNKNOWN_STRING, "kmsKeyId": UNKNOWN_STRING})
    main = cluster(
        kmsKeyId=UNKNOWN_STRING,
        logConfiguration={
            "cloudWatchLogGroupName": UNKNOWN_STRING,
            "cloudWatchEncryptionEnabled": True,
        },
    )
    main.deps["configuration"] = ["exec-logs"]
    assert_clean(run_stack(POLICY, [main, group]))


def test_preview_unknowns_are_explained_not_reported() -> None:
    whole = Res(t.ECS_CLUSTER, "main", {"name": "main", "configuration": UNKNOWN_OBJECT})
    outcome = run_stack(POLICY, [whole])
    assert outcome.violations == []
    assert outcome.not_applicable and "unknown during preview" in outcome.not_applicable


# the component --------------------------------------------------------------------------------

ARGS = EcsClusterArgs(
    vpc_id="vpc-1",
    private_subnet_ids=["subnet-a", "subnet-b"],
    instance_type="t3.small",
    min_instances=1,
    max_instances=2,
    exec_log_retention_days=90,
)


@pytest.mark.parametrize("unknown", [False, True], ids=["deployed", "first-preview"])
def test_the_component_s_exec_configuration_passes(mocked, unknown: bool) -> None:
    rec = mocked(lambda: EcsCluster("app", ARGS))
    assert_clean(run_stack(POLICY, preview_resources(rec, unknown=unknown)))
