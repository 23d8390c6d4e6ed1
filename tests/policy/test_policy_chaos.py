"""Chaos as a practice (issue 11): the schedule-expression reader behind chaos-schedule-cadence,
its configured thresholds, and the prod stack rule that every FIS template has a schedule —
with known values and with preview-time unknowns resolved through property dependencies."""

from __future__ import annotations

import json

import policy_cases  # noqa: F401  # before policy_cases_chaos, which it imports
import pytest
from policy_cases_chaos import GOOD_TEMPLATE, KEPT, MONTHLY, START, schedule
from policy_harness import UNKNOWN_STRING, Res, run_resource, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from components import chaos_experiments as component
from policy.guardrails import aws_types as t
from policy.guardrails import limits
from policy.guardrails import schedule_expressions as se
from policy.guardrails.config_file import PolicyConfigError, parse_config
from policy.guardrails.registry import all_policies, config_schemas

CADENCE = "chaos-schedule-cadence"


# the expression reader -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "longest", "weekdays"),
    [
        ("cron(0 10 ? * TUE *)", 7, {"TUE"}),
        ("cron(0 10 ? * 3#1 *)", 35, {"TUE"}),  # DAY#n: 28 or 35 days apart
        ("cron(0 10 ? * FRI#3 *)", 35, {"FRI"}),
        ("cron(0 10 ? * FRIL *)", 35, {"FRI"}),  # the last Friday of the month
        ("cron(0 10 ? * L *)", 7, {"SAT"}),  # L alone in day-of-week is Saturday
        ("cron(0 10 L * ? *)", 31, set(se.WEEKDAY_NAMES)),  # the last day of the month
        ("cron(0 10 LW * ? *)", 33, {"MON", "TUE", "WED", "THU", "FRI"}),
        ("cron(0 10 1W * ? *)", 33, {"MON", "TUE", "WED", "THU", "FRI"}),
        ("cron(0 9-16/2 ? * MON-FRI *)", 3, {"MON", "TUE", "WED", "THU", "FRI"}),
        ("cron(0 10 1 1/2 ? *)", 62, set(se.WEEKDAY_NAMES)),
        ("cron(0 10 ? JAN,JUL MON#1 *)", 189, {"MON"}),
        ("cron(0 10 29 FEB ? *)", 1461, set(se.WEEKDAY_NAMES)),
    ],
)
def test_cron_run_days_and_longest_gap(expression: str, longest: int, weekdays: set) -> None:
    cadence = se.cadence(se.parse(expression))  # type: ignore[arg-type]
    assert cadence.longest_gap_days == longest
    assert cadence.weekdays == weekdays


def test_nearest_weekday_never_leaves_the_month() -> None:
    cron = se.parse("cron(0 10 1W * ? *)")
    assert isinstance(cron, se.Cron)
    # 2022-01-01 is a Saturday: 1W is Monday the 3rd, not Friday 31 December
    assert [d.day for d in se.run_dates(cron) if (d.year, d.month) == (2022, 1)] == [3]


def test_rate_and_at_are_read() -> None:
    assert se.parse("rate(7 days)") == se.Rate(7, "days")
    assert se.parse("rate(1 hour)") == se.Rate(1, "hours")
    assert se.parse("at(2026-12-08T10:00:00)") == se.At("2026-12-08T10:00:00")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 10 * * MON *)", "exactly one of day-of-month (*) and day-of-week (MON) must be ?"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 10 ? * TUE)", "takes six fields"),
        ("cron(0 24 ? * TUE *)", "hours value '24' is not 0-23"),
        ("cron(0 10 ? * TUE#6 *)", "day-of-week value 'TUE#6'"),
        ("cron(0 10 ? 13 TUE *)", "month value '13' is not 1-12 or JAN-DEC"),
        ("cron(0 17-9 ? * TUE *)", "runs backwards"),
        ("rate(0 days)", "positive whole number"),
        ("rate(2 weeks)", "minute(s), hour(s) or day(s)"),
        ("at(tomorrow)", "yyyy-mm-ddThh:mm:ss"),
        ("every tuesday", "is not at(...), rate(...) or cron(...)"),
    ],
)
def test_malformed_expressions_are_refused_with_the_reason(expression: str, problem: str) -> None:
    with pytest.raises(se.ScheduleExpressionError) as raised:
        se.parse(expression)
    assert problem in str(raised.value)


# chaos-schedule-cadence ------------------------------------------------------------------------


def test_other_schedules_are_not_judged() -> None:
    nightly = schedule("cron(0 3 * * ? *)", target={"arn": "arn:aws:lambda:us-east-2:1:function:f"})
    assert run_resource(CADENCE, t.SCHEDULE, nightly).messages == []


def test_a_fis_target_of_another_partition_is_judged() -> None:
    china = schedule(
        "cron(0 3 ? * TUE *)", target={"arn": "arn:aws-cn:scheduler:::aws-sdk:fis:startExperiment"}
    )
    assert "outside business hours 9-17" in run_resource(CADENCE, t.SCHEDULE, china).text


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(60 days)", "runs every 60 days, more than 35"),
        ("cron(0 10 1 1/2 ? *)", "leaves up to 62 days between runs"),
        ("cron(0 10 ? * TUE 2026-2030 *)", "takes six fields"),
        ("cron(0 10 ? * TUE 2026-2030)", "names years (2026-2030)"),
        ("cron(0 10 31 2 ? *)", "never runs twice"),
        ("cron(0 10 ? * SAT *)", "runs on SAT, outside the business days"),
        ("cron(0 8,10 ? * TUE *)", "starts at hour 8 in Europe/Berlin"),
        ("cron(0 10 ? * TUE#1", "scheduleExpression is invalid"),
    ],
)
def test_cadence_and_window_violations_read_as_the_problem(expression: str, fragment: str) -> None:
    outcome = run_resource(CADENCE, t.SCHEDULE, schedule(expression), name="chaos-stop-task")
    assert fragment in outcome.text
    assert outcome.messages[0].startswith('aws:scheduler/schedule "chaos-stop-task": ')


def test_a_sixty_day_cadence_passes_only_when_configured() -> None:
    sixty = schedule("cron(0 10 1 1/2 ? *)")
    weekends = {"businessDays": list(se.WEEKDAY_NAMES)}
    assert run_resource(CADENCE, t.SCHEDULE, sixty, config=weekends).messages
    relaxed = {"maxDaysBetweenRuns": 62, **weekends}
    assert run_resource(CADENCE, t.SCHEDULE, sixty, config=relaxed).messages == []


def test_the_window_is_configurable_and_the_fix_stays_inside_it() -> None:
    early = schedule("cron(0 7 ? * TUE *)")
    assert run_resource(CADENCE, t.SCHEDULE, early).messages
    config = {"businessHoursStart": 6, "businessHoursEnd": 9, "maxDaysBetweenRuns": 7}
    assert run_resource(CADENCE, t.SCHEDULE, early, config=config).messages == []
    late = run_resource(CADENCE, t.SCHEDULE, schedule("cron(0 10 ? * TUE *)"), config=config)
    assert "scheduleExpression=cron(0 8 ? * TUE *) (weekly)" in late.text
    assert "TUE#1" not in late.text  # monthly is 35 days apart: not a fix under a 7-day limit


def test_a_window_that_admits_no_hour_is_refused() -> None:
    config = {CADENCE: {"businessHoursStart": 17, "businessHoursEnd": 9}}
    with pytest.raises(PolicyConfigError) as raised:
        parse_config(config, all_policies(), "stack.json")
    assert any(
        "businessHoursStart 17 must be below businessHoursEnd 9" in p for p in raised.value.problems
    )


def test_thresholds_default_to_the_shared_limits() -> None:
    cadence = config_schemas()[CADENCE]["properties"]
    assert cadence["maxDaysBetweenRuns"]["default"] == limits.CHAOS_MAX_DAYS_BETWEEN_RUNS == 35
    assert (cadence["businessHoursStart"]["default"], cadence["businessHoursEnd"]["default"]) == (
        9,
        17,
    )
    assert cadence["businessDays"]["default"] == ["MON", "TUE", "WED", "THU", "FRI"]
    bounded = config_schemas()["fis-template-bounded-targets"]["properties"]
    assert bounded["countCeiling"]["default"] == limits.PROD_MINIMUM_CAPACITY - 1
    assert bounded["percentCeiling"]["default"] == 50


def test_every_schedule_the_component_can_build_passes_the_policy() -> None:
    """The settings' choices (cadence, weekday, hour) and the policy's defaults agree."""
    assert component.MAX_DAYS_BETWEEN_RUNS == limits.CHAOS_MAX_DAYS_BETWEEN_RUNS
    assert list(component.BUSINESS_HOURS) == list(
        range(limits.BUSINESS_HOURS_START, limits.BUSINESS_HOURS_END)
    )
    assert set(component.WEEKDAYS) <= set(limits.BUSINESS_DAYS)
    for cadence in component.CADENCES:
        for weekday in component.WEEKDAYS:
            for hour in component.BUSINESS_HOURS:
                for nth in (1, 2, 3, 4):
                    expression = component.schedule_expression(cadence, weekday, hour, nth)
                    outcome = run_resource(CADENCE, t.SCHEDULE, schedule(expression))
                    assert outcome.messages == [], expression
                    parsed = se.parse(expression)
                    assert isinstance(parsed, se.Cron)
                    gap = se.cadence(parsed).longest_gap_days
                    assert gap == component.max_days_between_runs(cadence), expression


# chaos-schedule-enabled-in-prod ------------------------------------------------------------------


def test_a_disabled_schedule_is_not_applicable_in_dev() -> None:
    outcome = run_resource(
        "chaos-schedule-enabled-in-prod",
        t.SCHEDULE,
        {**MONTHLY, "state": "DISABLED"},
        config={"environment": "dev"},
    )
    assert outcome.messages == []
    assert "prod-only" in (outcome.not_applicable or "")


def test_an_unset_state_is_enabled() -> None:
    unset = {k: v for k, v in MONTHLY.items() if k != "state"}
    assert run_resource("chaos-schedule-enabled-in-prod", t.SCHEDULE, unset).messages == []


# fis-templates-scheduled-in-prod -----------------------------------------------------------------

SCHEDULED = "fis-templates-scheduled-in-prod"
TEMPLATE = Res(t.FIS_EXPERIMENT_TEMPLATE, "chaos-stop-task", {**GOOD_TEMPLATE, "id": "EXT1"})


def _schedule(name: str, template_id: object, deps: dict | None = None, arn: object = START) -> Res:
    body = (
        template_id
        if template_id is UNKNOWN_STRING
        else json.dumps({"ExperimentTemplateId": template_id, "ClientToken": "x"})
    )
    props = schedule("cron(0 10 ? * TUE#1 *)")
    props["target"] = {**props["target"], "arn": arn, "input": body}
    return Res(t.SCHEDULE, name, props, deps or {})


def test_a_template_no_schedule_starts_is_reported() -> None:
    other = _schedule("chaos-other", "EXT2")
    outcome = run_stack(SCHEDULED, [TEMPLATE, other])
    assert_reported(outcome, TEMPLATE, "no schedule starts", "ExperimentTemplateId")


def test_a_schedule_with_another_target_does_not_count() -> None:
    lambda_arn = "arn:aws:lambda:us-east-2:1:function:f"
    outcome = run_stack(
        SCHEDULED, [TEMPLATE, _schedule("chaos-stop-task-schedule", "EXT1", arn=lambda_arn)]
    )
    assert_reported(outcome, TEMPLATE)


def test_a_scheduled_template_passes() -> None:
    assert_clean(run_stack(SCHEDULED, [TEMPLATE, _schedule("chaos-stop-task-schedule", "EXT1")]))


def test_during_preview_the_input_computed_from_the_template_counts() -> None:
    template = Res(
        t.FIS_EXPERIMENT_TEMPLATE, "chaos-stop-task", {**GOOD_TEMPLATE, "id": UNKNOWN_STRING}
    )
    linked = _schedule("chaos-stop-task-schedule", UNKNOWN_STRING, {"target": ["chaos-stop-task"]})
    assert_clean(run_stack(SCHEDULED, [template, linked]))


def test_during_preview_an_input_of_unknown_origin_skips_with_reason() -> None:
    template = Res(
        t.FIS_EXPERIMENT_TEMPLATE, "chaos-stop-task", {**GOOD_TEMPLATE, "id": UNKNOWN_STRING}
    )
    outcome = run_stack(
        SCHEDULED, [template, _schedule("chaos-stop-task-schedule", UNKNOWN_STRING)]
    )
    assert outcome.violations == []
    assert "unknown during preview" in (outcome.not_applicable or "")
    unknown_target = _schedule("chaos-stop-task-schedule", "EXT9", arn=UNKNOWN_STRING)
    outcome = run_stack(SCHEDULED, [TEMPLATE, unknown_target])
    assert outcome.violations == []
    assert "unknown during preview" in (outcome.not_applicable or "")


def test_the_stack_rule_is_not_applicable_in_dev() -> None:
    outcome = run_stack(SCHEDULED, [TEMPLATE], config={"environment": "dev"})
    assert outcome.violations == []
    assert "prod-only" in (outcome.not_applicable or "")


# chaos-schedule-failures-kept ---------------------------------------------------------------------

KEPT_RULE = "chaos-schedule-failures-kept"


def test_a_schedule_with_another_target_keeps_its_own_failure_handling() -> None:
    """The exemption: only schedules that start FIS experiments are judged."""
    other = {
        **MONTHLY,
        "target": {**MONTHLY["target"], "arn": "arn:aws:lambda:us-east-2:1:function:f"},
    }
    assert run_resource(KEPT_RULE, t.SCHEDULE, other).messages == []


def test_a_dead_letter_queue_computed_during_preview_counts() -> None:
    preview = {**KEPT, "target": {**KEPT["target"], "deadLetterConfig": {"arn": UNKNOWN_STRING}}}
    assert run_resource(KEPT_RULE, t.SCHEDULE, preview).messages == []


def test_the_components_retry_age_is_inside_the_policys_limit() -> None:
    """One limit, two uses: the schedules ChaosExperiments writes pass the rule's default."""
    assert component.SCHEDULE_MAX_EVENT_AGE_SECONDS <= limits.CHAOS_SCHEDULE_MAX_RETRY_AGE_SECONDS
    assert component.SCHEDULE_RETRY_ATTEMPTS >= 1
