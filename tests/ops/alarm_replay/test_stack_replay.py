"""Every alarm both stacks define, replayed through every named scenario, and the mistakes the
replay exists to catch (each planted on a real synthesized alarm)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ops.alarm_replay.definition import AlarmDefinition, MetricStat, Query, from_describe_alarms
from ops.alarm_replay.scenarios import SCENARIOS
from ops.alarm_replay.stack import UnclassifiedAlarm, outcome, replay_all, stack_alarms
from tests.support.stacks import synthesize_shipped_stacks


@pytest.fixture(scope="module")
def alarms() -> dict[str, list[AlarmDefinition]]:
    return {name: stack_alarms(s.records) for name, s in synthesize_shipped_stacks().items()}


def named(alarms: list[AlarmDefinition], part: str) -> AlarmDefinition:
    return next(a for a in alarms if part in a.name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alarm_ends_in_the_state_its_purpose_needs_in_time(alarms, stack) -> None:
    outcomes = replay_all(alarms[stack])
    assert len(outcomes) == len(alarms[stack]) * len(SCENARIOS) > 0
    failed = [o.describe() for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)


def test_the_old_5xx_rate_sits_in_insufficient_data_on_an_idle_standby(alarms) -> None:
    """Planted: the 5xx rate before issue 19.2 (no FILL, prod's ``missing``)."""
    alarm = named(alarms["prod"], "green-onebox-5xx-rate")
    old = replace(
        alarm,
        treat_missing_data="missing",
        queries=tuple(
            replace(q, expression="IF(requests >= 10, 100 * errors / requests, 0)")
            if q.expression
            else q
            for q in alarm.queries
        ),
    )
    result = outcome(old, SCENARIOS["healthy and idle"])
    assert not result.ok and result.final == "INSUFFICIENT_DATA"
    assert outcome(alarm, SCENARIOS["healthy and idle"]).ok


def test_a_plain_alarm_on_a_sparse_alb_count_reading_missing_data_as_missing_is_caught() -> None:
    metric = MetricStat(
        "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", {"LoadBalancer": "app/x"}, "Sum", 60
    )
    planted = AlarmDefinition(
        "planted-5xx",
        60,
        1,
        1,
        50.0,
        "GreaterThanOrEqualToThreshold",
        "missing",
        (Query("m1", metric, "", True),),
    )
    result = outcome(planted, SCENARIOS["healthy under the bake's load"])
    assert not result.ok and result.insufficient_after_onset


def test_filling_the_request_count_would_keep_prods_1_of_1_alarm_from_ever_firing(alarms) -> None:
    """CloudWatch's metric-math guide: FILL puts its value in a newest minute not yet published."""
    alarm = named(alarms["prod"], "blue-onebox-5xx-rate")
    assert (alarm.datapoints_to_alarm, alarm.evaluation_periods) == (1, 1)
    filled = replace(
        alarm,
        queries=tuple(
            replace(q, expression=q.expression.replace("requests >=", "FILL(requests, 0) >=", 1))
            if q.expression
            else q
            for q in alarm.queries
        ),
    )
    assert "FILL(requests, 0)" in filled.result.expression
    assert outcome(filled, SCENARIOS["a failing release"]).seconds is None
    assert outcome(alarm, SCENARIOS["a failing release"]).ok


def test_an_alarm_on_a_metric_the_replay_does_not_know_fails_naming_it() -> None:
    metric = MetricStat("AWS/SQS", "NumberOfMessagesSent", {}, "Sum", 60)
    sent = AlarmDefinition(
        "runs-sent",
        60,
        1,
        1,
        0.0,
        "GreaterThanThreshold",
        "notBreaching",
        (Query("m1", metric, "", True),),
    )
    with pytest.raises(
        UnclassifiedAlarm,
        match=r"alarm 'runs-sent' watches AWS/SQS/NumberOfMessagesSent.*classify it",
    ):
        replay_all([sent])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_dead_letter_alarm_reading_quiet_as_ok_would_clear_an_unread_failure(
    alarms, stack
) -> None:
    """Planted: ``notBreaching`` on a dead-letter alarm. SQS stops reporting a queue six hours
    after its last API call, so the page would clear while the failure still waits."""
    dlq = next(
        a
        for a in alarms[stack]
        if a.queries[0].metric and a.queries[0].metric.metric_name.endswith("MessagesVisible")
    )
    gone_quiet = SCENARIOS["an unread failure gone quiet"]
    assert outcome(dlq, gone_quiet).ok
    result = outcome(replace(dlq, treat_missing_data="notBreaching"), gone_quiet)
    assert not result.ok and result.final == "OK"


def test_describe_alarms_gives_the_same_definition_as_the_synthesized_inputs(alarms) -> None:
    alarm = named(alarms["prod"], "blue-onebox-5xx-rate")
    described = {
        "AlarmName": alarm.name,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
        "Metrics": [
            {"Id": q.id, "Expression": q.expression, "ReturnData": True}
            if q.metric is None
            else {
                "Id": q.id,
                "ReturnData": False,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.metric.namespace,
                        "MetricName": q.metric.metric_name,
                        "Dimensions": [
                            {"Name": k, "Value": v} for k, v in q.metric.dimensions.items()
                        ],
                    },
                    "Period": q.metric.period,
                    "Stat": q.metric.stat,
                },
            }
            for q in alarm.queries
        ],
    }
    assert from_describe_alarms(described) == alarm


def test_the_zone_alarm_fires_for_a_zone_it_watches_and_filling_would_silence_it(alarms) -> None:
    """Planted: ``FILL(zoneN, 0)`` in the zone alarm. CloudWatch's metric-math guide: FILL puts its
    value in the newest minute before the load balancer has published it; there every zone reads
    0 hosts (not "one zone alone"), so a 3-of-3 alarm never fires."""
    alarm = named(alarms["prod"], "blue-zonal-zone-lost")
    lost = SCENARIOS["a zone lost"]
    result = outcome(alarm, lost)
    assert result.ok and result.seconds is not None
    assert outcome(alarm, SCENARIOS["an environment lost"]).final == "OK"  # not zonal
    zones = [q.id for q in alarm.queries if q.metric]
    filled = replace(
        alarm,
        queries=tuple(
            replace(q, expression=_filled(q.expression, zones)) if q.expression else q
            for q in alarm.queries
        ),
    )
    assert "FILL(zone0, 0)" in filled.result.expression
    assert outcome(filled, lost).seconds is None


def _filled(expression: str, ids: list[str]) -> str:
    for query_id in ids:
        expression = expression.replace(f"({query_id} <", f"(FILL({query_id}, 0) <")
    return expression


def test_the_practice_outcome_alarms_stay_quiet_when_a_zone_is_lost(alarms) -> None:
    """ARC ends a practice run as FAILED when an outcome alarm fires: losing one zone of capacity
    the other zones carry is no failure, a failing release and a dead environment are."""
    for kind, scenario in (("target", "a failing release"), ("elb", "an environment lost")):
        alarm = named(alarms["prod"], f"green-zonal-lb-{kind}-5xx-rate")
        assert outcome(alarm, SCENARIOS["a zone lost"]).ok
        assert outcome(alarm, SCENARIOS[scenario]).final == "ALARM"
