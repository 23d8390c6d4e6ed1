"""Chaos as a practice: EventBridge Scheduler schedules start the FIS templates often enough,
inside business hours, and in prod every template has an enabled schedule."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import limits
from . import schedule_expressions as se
from .aws_types import FIS_EXPERIMENT_TEMPLATE, SCHEDULE
from .framework import (
    MANDATORY,
    ResourceCheck,
    Skip,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import fmt, is_set, is_unknown

START_EXPERIMENT_TARGET = "arn:aws:scheduler:::aws-sdk:fis:startExperiment"
"""EventBridge Scheduler's universal target for FIS StartExperiment (any partition)."""


def starts_fis_experiment(target_arn: object) -> bool:
    """Is ``target_arn`` the universal target ``arn:<partition>:scheduler:::aws-sdk:fis:startExperiment``?"""
    if not isinstance(target_arn, str):
        return False
    parts = target_arn.split(":")
    return len(parts) == 8 and parts[2:] == [
        "scheduler",
        "",
        "",
        "aws-sdk",
        "fis",
        "startExperiment",
    ]


def _fis_schedule(check: ResourceCheck) -> bool:
    """Does this schedule start FIS experiments? Skip when its target is unknown during preview."""
    arn = check.get("target.arn")
    if is_unknown(arn):
        raise Skip("target.arn is unknown during preview")
    return starts_fis_experiment(arn)


def _cadence_config_check(props: Mapping[str, Any], level: str | None) -> list[str]:
    start, end = props.get("businessHoursStart"), props.get("businessHoursEnd")
    if isinstance(start, int | float) and isinstance(end, int | float) and start >= end:
        return [
            f"businessHoursStart {fmt(start)} must be below businessHoursEnd {fmt(end)}: the "
            "window would admit no hour"
        ]
    return []


def _suggestion(config: Mapping[str, Any]) -> str:
    start, end = config["businessHoursStart"], config["businessHoursEnd"]
    hour = max(start, min(10, end - 1))
    days = list(config["businessDays"])
    day = "TUE" if "TUE" in days or not days else days[0]
    weekly = f"cron(0 {hour} ? * {day} *)"
    if config["maxDaysBetweenRuns"] >= se.MONTHLY_LONGEST_GAP_DAYS:
        return f"{weekly} (weekly) or cron(0 {hour} ? * {day}#1 *) (monthly, 28-35 days apart)"
    if config["maxDaysBetweenRuns"] >= 7:
        return f"{weekly} (weekly)"
    return f"cron(0 {hour} ? * {','.join(config['businessDays'])} *)"


@resource_rule(
    "chaos-schedule-cadence",
    types=SCHEDULE,
    level=MANDATORY,
    config={
        "maxDaysBetweenRuns": {
            "type": "integer",
            "minimum": 1,
            "default": limits.CHAOS_MAX_DAYS_BETWEEN_RUNS,
            "description": "Most days between two runs of a schedule that starts FIS experiments.",
        },
        "businessHoursStart": {
            "type": "integer",
            "minimum": 0,
            "maximum": 23,
            "default": limits.BUSINESS_HOURS_START,
            "description": "First hour a run may start, in the schedule's time zone.",
        },
        "businessHoursEnd": {
            "type": "integer",
            "minimum": 1,
            "maximum": 24,
            "default": limits.BUSINESS_HOURS_END,
            "description": "Runs start before this hour, in the schedule's time zone.",
        },
        "businessDays": {
            "type": "array",
            "items": {"type": "string", "enum": list(se.WEEKDAY_NAMES)},
            "default": list(limits.BUSINESS_DAYS),
            "description": "Days of the week a run may fall on.",
        },
    },
    config_check=_cadence_config_check,
    description=(
        "Schedules whose target is FIS StartExperiment (arn:aws:scheduler:::aws-sdk:fis:"
        "startExperiment) run at least every maxDaysBetweenRuns days (default 35) and only "
        "inside business hours (default 9-17 on MON-FRI, in scheduleExpressionTimezone, "
        "including a flexible time window). cron() is read field by field (lists, ranges, "
        "steps, DAY#n, nL, L, W) and its run days walked over a full calendar cycle; at() runs "
        "once and rate() keeps no time of day, so both are refused. Mandatory: a chaos "
        "practice that lapses, or a fault injected at night, finds the failure nobody watches."
    ),
)
def chaos_schedule_cadence(check: ResourceCheck) -> None:
    if not _fis_schedule(check):
        return
    text = check.known("scheduleExpression")
    zone = check.known("scheduleExpressionTimezone") or "UTC"
    config = check.config
    limit, start, end = (
        config["maxDaysBetweenRuns"],
        config["businessHoursStart"],
        config["businessHoursEnd"],
    )
    days = list(config["businessDays"])
    fix = f"set scheduleExpression={_suggestion(config)}"
    try:
        expression = se.parse(str(text))
    except se.ScheduleExpressionError as error:
        check.violation(f"scheduleExpression is invalid: {error}", fix)
        return
    if isinstance(expression, se.At):
        check.violation(f"scheduleExpression {text} starts the experiment once, never again", fix)
        return
    if isinstance(expression, se.Rate):
        if expression.days > limit:
            check.violation(
                f"scheduleExpression {text} runs every {expression.days:g} days, more than {limit}",
                fix,
            )
        check.violation(
            f"scheduleExpression {text} keeps no time of day (runs follow the start time, "
            f"around the clock), so it cannot stay inside business hours {start}-{end} "
            f"{zone} on {','.join(days)}",
            fix,
        )
        return
    if expression.years is not None:
        check.violation(
            f"scheduleExpression {text} names years ({_ranges(expression.years)}): the "
            "schedule stops when they are over",
            f"set the year field to * ({fix})",
        )
        return
    cadence = se.cadence(expression)
    if cadence.longest_gap_days is None:
        check.violation(f"scheduleExpression {text} never runs twice", fix)
        return
    if cadence.longest_gap_days > limit and cadence.example_gap is not None:
        first, second = cadence.example_gap
        check.violation(
            f"scheduleExpression {text} leaves up to {cadence.longest_gap_days} days between "
            f"runs (e.g. {first.isoformat()} to {second.isoformat()}), more than {limit}",
            fix,
        )
    off_days = sorted(cadence.weekdays - set(days), key=se.WEEKDAY_NAMES.index)
    if off_days:
        check.violation(
            f"scheduleExpression {text} runs on {','.join(off_days)}, outside the business "
            f"days {','.join(days)}",
            fix,
        )
    late = sorted(h for h in expression.hours if not start <= h < end)
    if late:
        check.violation(
            f"scheduleExpression {text} starts at hour {','.join(map(str, late))} in {zone}, "
            f"outside business hours {start}-{end}",
            fix,
        )
        return
    window = _flexible_minutes(check)
    latest = max(expression.hours) * 60 + max(expression.minutes) + window
    if window and latest >= end * 60:
        check.violation(
            f"flexibleTimeWindow lets a run start up to {window} minutes after "
            f"{max(expression.hours):02d}:{max(expression.minutes):02d}, at or after "
            f"{end}:00 {zone}",
            f'set flexibleTimeWindow {{mode: "OFF"}} or maximumWindowInMinutes below '
            f"{end * 60 - latest + window}",
        )


def _flexible_minutes(check: ResourceCheck) -> int:
    if check.known("flexibleTimeWindow.mode") != "FLEXIBLE":
        return 0
    minutes = check.known("flexibleTimeWindow.maximumWindowInMinutes")
    return int(minutes) if isinstance(minutes, int | float) else 0


def _ranges(values: frozenset[int]) -> str:
    ordered = sorted(values)
    return f"{ordered[0]}-{ordered[-1]}" if len(ordered) > 1 else str(ordered[0])


@resource_rule(
    "chaos-schedule-enabled-in-prod",
    types=SCHEDULE,
    level=MANDATORY,
    prod_only=True,
    description=(
        "In prod, schedules that start FIS experiments are ENABLED (state unset means "
        "ENABLED). Prod-only (config environment=prod): mandatory, because a disabled schedule "
        "stops the chaos practice silently while the templates still look deployed; not "
        "applicable in dev, where schedulesEnabled=false is how to pause it."
    ),
)
def chaos_schedule_enabled_in_prod(check: ResourceCheck) -> None:
    if not _fis_schedule(check):
        return
    state = check.known("state")
    if state not in (None, "ENABLED"):
        check.violation(
            f"state is {fmt(state)}: the FIS experiment it starts never runs",
            'set state="ENABLED" (steadystate:chaos.schedulesEnabled: true); to stop chaos in '
            "prod remove the templates with it (steadystate:chaos.enabled: false)",
        )


def _named_template_id(schedule: StackResource) -> object:
    """The ExperimentTemplateId in a schedule's target input; Unknown/None when not readable."""
    body = schedule.get("target.input")
    if is_unknown(body) or not isinstance(body, str):
        return body
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(parsed, dict):
        return None
    return next(
        (v for k, v in parsed.items() if k.lower() == "experimenttemplateid"),
        None,
    )


def _starts(schedule: StackResource, template: StackResource) -> bool | None:
    """Does ``schedule`` start ``template``? None when unknown during preview."""
    if template.urn in schedule.depends_on("target"):
        return True
    named, template_id = _named_template_id(schedule), template.get("id")
    if is_unknown(named) or is_unknown(template_id):
        return None
    return named is not None and named == template_id


@stack_rule(
    "fis-templates-scheduled-in-prod",
    level=MANDATORY,
    prod_only=True,
    description=(
        "In prod, every AWS FIS experiment template is started by an aws:scheduler/schedule: "
        "its target is FIS StartExperiment and its target input names the template's id "
        "(ExperimentTemplateId; during preview, the input computed from the template). "
        "Prod-only (config environment=prod): mandatory, because a template nothing starts "
        "is a fault the service was never shown to survive; not applicable in dev."
    ),
)
def fis_templates_scheduled_in_prod(check: StackCheck) -> None:
    schedules, unknown_targets = [], []
    for schedule in check.of_type(SCHEDULE):
        arn = schedule.get("target.arn")
        if is_unknown(arn):
            unknown_targets.append(schedule)
        elif starts_fis_experiment(arn):
            schedules.append(schedule)
    for template in check.of_type(FIS_EXPERIMENT_TEMPLATE):
        links = [_starts(schedule, template) for schedule in schedules]
        if True in links:
            continue
        if None in links or unknown_targets:
            check.note(f"which schedule starts {template.label()} is unknown during preview")
            continue
        check.violation(
            template,
            "no schedule starts this experiment template, so it only ever runs by hand",
            f'add an aws:scheduler/schedule with target {{arn: "{START_EXPERIMENT_TARGET}", '
            'input: {"ExperimentTemplateId": <this template id>, "ClientToken": '
            '"<aws.scheduler.execution-id>"}} (steadystate:chaos.enabled creates one per '
            "template)",
        )


@resource_rule(
    "chaos-schedule-failures-kept",
    types=SCHEDULE,
    level=MANDATORY,
    config={
        "maxRetryAgeSeconds": {
            "type": "integer",
            "minimum": 60,
            "maximum": 86400,
            "default": limits.CHAOS_SCHEDULE_MAX_RETRY_AGE_SECONDS,
            "description": "Latest a retry of a failed start may run after the scheduled time.",
        }
    },
    description=(
        "Schedules whose target is FIS StartExperiment keep their failures: target."
        "deadLetterConfig names an SQS queue (EventBridge Scheduler sends the failed start "
        "there after its retries), and target.retryPolicy is set with maximumRetryAttempts "
        "of at least 1 and maximumEventAgeInSeconds of at most maxRetryAgeSeconds (default "
        "900). Without a dead-letter queue a failed start (a missing permission, a deleted "
        "template) is dropped without a trace; without a retry policy Scheduler retries 185 "
        "times for 24 hours, so an experiment refused at 10:00 can start in the night. "
        "Mandatory: a chaos practice that fails silently looks the same as one that holds "
        '(EventBridge Scheduler user guide, "Configuring a schedule\'s dead-letter queue").'
    ),
)
def chaos_schedule_failures_kept(check: ResourceCheck) -> None:
    if not _fis_schedule(check):
        return
    if not is_set(check.get("target.deadLetterConfig.arn")):
        check.violation(
            "target.deadLetterConfig is not set: a start that fails after its retries is "
            "dropped and nobody learns the experiment did not run",
            "set target.deadLetterConfig.arn to a standard SQS queue the schedule's role may "
            "sqs:SendMessage to, with an alarm on ApproximateNumberOfMessagesVisible > 0",
        )
    limit = check.config["maxRetryAgeSeconds"]
    fix = (
        f"set target.retryPolicy {{maximumRetryAttempts: 3, maximumEventAgeInSeconds: "
        f"{min(600, limit)}}}"
    )
    attempts = check.known("target.retryPolicy.maximumRetryAttempts")
    age = check.known("target.retryPolicy.maximumEventAgeInSeconds")
    if attempts is None or age is None:
        check.violation(
            "target.retryPolicy leaves Scheduler's defaults (185 retries within 24 hours): a "
            "start that fails in business hours can succeed at night",
            fix,
        )
        return
    if isinstance(attempts, int | float) and attempts < 1:
        check.violation(
            f"target.retryPolicy.maximumRetryAttempts is {fmt(attempts)}: one throttled call "
            "and the run is lost",
            fix,
        )
    if isinstance(age, int | float) and age > limit:
        check.violation(
            f"target.retryPolicy.maximumEventAgeInSeconds is {fmt(age)}, more than {limit}: a "
            "retry can start the experiment long after the scheduled time",
            fix,
        )


POLICIES = [
    chaos_schedule_cadence,
    chaos_schedule_enabled_in_prod,
    fis_templates_scheduled_in_prod,
    chaos_schedule_failures_kept,
]
