"""Secrets Manager secrets of a prod stack rotate at least every N days (default 30).

A secret counts as rotated when either
- an aws:secretsmanager/secretRotation names it with ``rotationRules`` of at most N days
  (``automaticallyAfterDays``, or a ``scheduleExpression``), as FSBP SecretsManager.1/.4 ask; or
- an ENABLED aws:scheduler/schedule runs, at most N days apart, an ECS task definition whose
  container runs with ``--rotate`` and the secret's ARN as ``DB_SECRET_ARN`` (the stack's
  ScheduledRotation: components/credential_rotation.py).
"""

from __future__ import annotations

from typing import Any

from . import schedule_expressions as se
from .aws_types import ECS_TASK_DEFINITION, SCHEDULE, SECRET, SECRET_ROTATION
from .framework import MANDATORY, StackCheck, StackResource, stack_rule
from .properties import Unknown, container_definitions, is_unknown

ROTATE_FLAG = "--rotate"
SECRET_VARIABLE = "DB_SECRET_ARN"


def expression_days(expression: str) -> float | None:
    """Most days between two runs of a schedule expression; None for a one-time ``at()`` or an
    expression that runs at most once. Raises ScheduleExpressionError for a bad one."""
    parsed = se.parse(expression)
    if isinstance(parsed, se.Rate):
        return parsed.days
    if isinstance(parsed, se.Cron):
        return se.cadence(parsed).longest_gap_days
    return None


def _rotation_gap(rotation: StackResource) -> float | Unknown | None:
    """Days between a secretRotation's rotations (None: no usable rules)."""
    rules = rotation.get("rotationRules")
    if is_unknown(rules):
        return rules
    if not isinstance(rules, dict):
        return None
    days, expression = rules.get("automaticallyAfterDays"), rules.get("scheduleExpression")
    if isinstance(days, int | float) and days > 0:
        return float(days)
    if isinstance(expression, str) and expression:
        return expression_days(expression)
    return None


def _task_rotates(task_definition: StackResource, secret: StackResource) -> bool | None:
    """Does the task definition run ``--rotate`` for ``secret``? None while unknown."""
    containers = container_definitions(task_definition.get("containerDefinitions"))
    if isinstance(containers, Unknown):
        return None
    secret_arn = secret.get("arn")
    depends = secret.urn in task_definition.depends_on("containerDefinitions")
    for container in containers:
        command = container.get("command") or []
        if ROTATE_FLAG not in command:
            continue
        environment = {
            item.get("name"): item.get("value") for item in container.get("environment") or []
        }
        value = environment.get(SECRET_VARIABLE)
        if value is not None and (value == secret_arn or (is_unknown(secret_arn) and depends)):
            return True
    return False


def _schedule_task(check: StackCheck, schedule: StackResource) -> StackResource | None:
    """The task definition the schedule's ECS target runs, if it is in the stack."""
    arn = schedule.get("target.ecsParameters.taskDefinitionArn")
    task_definitions = check.of_type(ECS_TASK_DEFINITION)
    if isinstance(arn, str):
        found = check.find_by(task_definitions, arn, "arn")
        if found is not None:
            return found
    for task_definition in task_definitions:
        if task_definition.urn in schedule.depends_on("target") and is_unknown(arn):
            return task_definition
    return None


def _schedules_for(check: StackCheck, secret: StackResource) -> list[tuple[StackResource, Any]]:
    """(schedule, its longest gap in days) for every schedule that rotates ``secret``."""
    found = []
    for schedule in check.of_type(SCHEDULE):
        task_definition = _schedule_task(check, schedule)
        if task_definition is None:
            continue
        rotates = _task_rotates(task_definition, secret)
        if rotates is None:
            found.append((schedule, Unknown("containerDefinitions")))
        elif not rotates:
            continue
        elif schedule.get("state", "ENABLED") == "DISABLED":
            found.append((schedule, "disabled"))
        else:
            found.append((schedule, _schedule_gap(schedule.get("scheduleExpression"))))
    return found


def _schedule_gap(expression: Any) -> float | Unknown | None:
    if not isinstance(expression, str):
        return expression if is_unknown(expression) else None
    try:
        return expression_days(expression)
    except se.ScheduleExpressionError:
        return None  # Scheduler refuses it at deploy time: it rotates nothing


@stack_rule(
    "db-app-secret-rotation",
    level=MANDATORY,
    prod_only=True,
    config={
        "maximumDays": {
            "type": "integer",
            "minimum": 1,
            "maximum": 365,
            "default": 30,
            "description": "Most days a secret may go without a rotation.",
        }
    },
    description=(
        "Every aws:secretsmanager/secret of a prod stack rotates at least every maximumDays "
        "(default 30): an aws:secretsmanager/secretRotation with rotationRules that often, or an "
        "ENABLED aws:scheduler/schedule that often running an ECS task definition whose "
        "container runs --rotate with the secret as DB_SECRET_ARN (FSBP SecretsManager.1/.4). "
        "Mandatory in prod: a password that never changes stays valid for whoever once read it."
    ),
)
def db_app_secret_rotation(check: StackCheck) -> None:
    limit = check.config["maximumDays"]
    rotations = check.of_type(SECRET_ROTATION)
    for secret in check.of_type(SECRET):
        gaps: list[Any] = []
        for rotation in rotations:
            link = check.refers_to(rotation, "secretId", secret, "arn", "id")
            if link is None:
                check.note(f"whether a secretRotation names {secret.label()} is unknown")
            elif link:
                try:
                    gaps.append(_rotation_gap(rotation))
                except se.ScheduleExpressionError:
                    gaps.append(None)  # Secrets Manager refuses it: it rotates nothing
        gaps += [gap for _, gap in _schedules_for(check, secret)]
        if any(isinstance(g, int | float) and g <= limit for g in gaps):
            continue
        if any(isinstance(g, Unknown) for g in gaps):
            check.note(f"the rotation schedule of {secret.label()} is unknown during preview")
            continue
        check.violation(
            secret,
            f"{_problem(gaps)} (at most {limit} allowed)",
            f"run its rotation at least every {limit} days: steadystate:database.rotationDays "
            f"1..{limit} (an ENABLED aws:scheduler/schedule, rate({limit} days), running the "
            "bootstrap's --rotate task definition), or an aws:secretsmanager/secretRotation "
            f"with rotationRules.automaticallyAfterDays <= {limit}",
        )


def _problem(gaps: list[Any]) -> str:
    """What is wrong with a secret's rotations, none of which is often enough."""
    days = [g for g in gaps if isinstance(g, int | float)]
    if days:
        return f"the secret rotates only every {min(days):g} days"
    if "disabled" in gaps:
        return "the secret's rotation schedule is disabled"
    return "the secret is never rotated"


POLICIES = [db_app_secret_rotation]
