"""db-app-secret-rotation: a prod secret rotates at least every 30 days — through a
secretRotation or through an ENABLED schedule running the --rotate task for it — at the boundary
(30 and 31 days, rate and cron), with its exemptions (dev, disabled schedule, another secret's
task) and preview-time unknowns; and the real components judged as deployed."""

from __future__ import annotations

import json

import pytest
from policy_harness import UNKNOWN_STRING, Res, run_stack
from test_policy_stack_preview import preview_resources
from test_policy_stack_rules import assert_clean, assert_reported

from components.credential_rotation import ScheduledRotation, ScheduledRotationArgs
from components.database_bootstrap import DatabaseBootstrap, DatabaseBootstrapArgs
from policy.guardrails import aws_types as t

POLICY = "db-app-secret-rotation"
PROD = {"environment": "prod"}
SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:db-app-credentials-AbCdEf"
TASKDEF_ARN = "arn:aws:ecs:us-east-2:123456789012:task-definition/steady-rotate:1"
SECRET = Res(t.SECRET, "db-app-credentials", {"arn": SECRET_ARN, "id": SECRET_ARN})


def taskdef(command: list[str] | None = None, secret_arn: str = SECRET_ARN, **props) -> Res:
    container = {
        "name": "bootstrap",
        "command": command or ["python", "-m", "steadystate_app.bootstrap_db", "--rotate"],
        "environment": [{"name": "DB_SECRET_ARN", "value": secret_arn}],
    }
    return Res(
        t.ECS_TASK_DEFINITION,
        "rotate-taskdef",
        {"arn": TASKDEF_ARN, "containerDefinitions": json.dumps([container]), **props},
    )


def schedule(expression: str = "rate(30 days)", state: str = "ENABLED", **deps) -> Res:
    return Res(
        t.SCHEDULE,
        "db-rotation-schedule",
        {
            "scheduleExpression": expression,
            "state": state,
            "target": {"arn": "cluster", "ecsParameters": {"taskDefinitionArn": TASKDEF_ARN}},
        },
        deps,
    )


def rotation(**rules) -> Res:
    return Res(
        t.SECRET_ROTATION, "rotation", {"secretId": SECRET_ARN, "rotationRules": dict(rules)}
    )


def test_a_secret_that_never_rotates_is_reported_in_prod() -> None:
    outcome = run_stack(POLICY, [SECRET], config=PROD)
    assert_reported(outcome, SECRET, "never rotated", "database.rotationDays")


def test_dev_is_not_judged() -> None:
    outcome = run_stack(POLICY, [SECRET], config={"environment": "dev"})
    assert outcome.violations == [] and "prod-only" in (outcome.not_applicable or "")


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ("rate(30 days)", True),
        ("rate(31 days)", False),
        ("rate(720 hours)", True),
        ("rate(721 hours)", False),
        ("cron(0 10 ? * TUE#1 *)", False),  # first Tuesday: up to 35 days apart
        ("cron(0 10 1 * ? *)", False),  # the 1st of each month: up to 31 days apart
        ("cron(0 10 1,15 * ? *)", True),
    ],
)
def test_a_rotation_schedule_at_the_boundary(expression: str, ok: bool) -> None:
    outcome = run_stack(POLICY, [SECRET, taskdef(), schedule(expression)], config=PROD)
    if ok:
        assert_clean(outcome)
    else:
        assert_reported(outcome, SECRET, "rotates only every", "at most 30 allowed")


def test_a_disabled_schedule_does_not_count() -> None:
    outcome = run_stack(POLICY, [SECRET, taskdef(), schedule(state="DISABLED")], config=PROD)
    assert_reported(outcome, SECRET, "rotation schedule is disabled")


def test_a_schedule_of_a_task_without_rotate_does_not_count() -> None:
    plain = taskdef(["python", "-m", "steadystate_app.bootstrap_db"])
    assert_reported(run_stack(POLICY, [SECRET, plain, schedule()], config=PROD), SECRET)


def test_a_rotate_task_for_another_secret_does_not_count() -> None:
    other = taskdef(secret_arn=SECRET_ARN.replace("AbCdEf", "XyZxYz"))
    assert_reported(run_stack(POLICY, [SECRET, other, schedule()], config=PROD), SECRET)


def test_an_unparseable_expression_rotates_nothing() -> None:
    outcome = run_stack(POLICY, [SECRET, taskdef(), schedule("every month")], config=PROD)
    assert_reported(outcome, SECRET, "never rotated")


@pytest.mark.parametrize(
    ("rules", "ok"),
    [
        ({"automaticallyAfterDays": 30}, True),
        ({"automaticallyAfterDays": 31}, False),
        ({"scheduleExpression": "rate(7 days)"}, True),
        ({"scheduleExpression": "rate(60 days)"}, False),
    ],
)
def test_a_secrets_manager_rotation_counts(rules: dict, ok: bool) -> None:
    outcome = run_stack(POLICY, [SECRET, rotation(**rules)], config=PROD)
    assert_clean(outcome) if ok else assert_reported(outcome, SECRET, "rotates only every")


def test_the_limit_comes_from_config() -> None:
    stack = [SECRET, taskdef(), schedule("rate(30 days)")]
    outcome = run_stack(POLICY, stack, config={**PROD, "maximumDays": 7})
    assert_reported(outcome, SECRET, "at most 7 allowed")


def test_preview_unknowns_are_explained_not_reported() -> None:
    unknown_containers = taskdef(containerDefinitions=UNKNOWN_STRING)
    outcome = run_stack(POLICY, [SECRET, unknown_containers, schedule()], config=PROD)
    assert outcome.violations == [] and "unknown during preview" in (outcome.not_applicable or "")


# the components ------------------------------------------------------------------------------


def rotation_program(days: int) -> None:
    import pulumi_aws as aws

    secret = aws.secretsmanager.Secret("db-app-credentials")
    bootstrap = DatabaseBootstrap(
        "db-bootstrap",
        DatabaseBootstrapArgs(
            image="123456789012.dkr.ecr.us-east-2.amazonaws.com/app@sha256:" + "a" * 64,
            repository_arn="arn:aws:ecr:us-east-2:123456789012:repository/app",
            cluster_name="steady",
            capacity_provider_name="steady-cp",
            environment={"DB_SECRET_ARN": secret.arn, "DB_HOST": "db.internal"},
            task_role_statements=[],
        ),
    )
    ScheduledRotation(
        "db-rotation",
        ScheduledRotationArgs(
            cluster_arn="arn:aws:ecs:us-east-2:123456789012:cluster/steady",
            capacity_provider_name="steady-cp",
            task_definition_arn=bootstrap.rotate_task_definition_arn,
            task_family=bootstrap.rotate_family,
            pass_role_arns=bootstrap.role_arns,
            alarm_topic_arn="arn:aws:sns:us-east-2:123456789012:alerts",
            rotation_days=days,
        ),
    )


def test_the_components_pass(mocked) -> None:
    resources = preview_resources(mocked(lambda: rotation_program(30)), unknown=False)
    assert_clean(run_stack(POLICY, resources, config=PROD))


def test_the_components_at_preview_are_not_reported(mocked) -> None:
    resources = preview_resources(mocked(lambda: rotation_program(30)), unknown=True)
    outcome = run_stack(POLICY, resources, config=PROD)
    assert outcome.violations == []


def test_without_the_schedule_the_component_s_secret_is_reported(mocked) -> None:
    resources = [
        r
        for r in preview_resources(mocked(lambda: rotation_program(30)), unknown=False)
        if r.type != t.SCHEDULE
    ]
    (secret,) = [r for r in resources if r.type == t.SECRET]
    assert_reported(run_stack(POLICY, resources, config=PROD), secret, "never rotated")
