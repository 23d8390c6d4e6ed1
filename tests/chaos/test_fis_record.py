"""The FIS run recorder's handler end to end against moto (FIS and CloudWatch): each terminal
status mapped to the schema's outcome, the error rate read from the load balancer's metrics, a
second delivery of the same event not counted twice, and templates without their key tag.

moto runs FIS experiments through a state machine the test drives (manual transitions) and keeps
no clock of its own, so the test plays FIS: it sets an experiment's start and end time and its
terminal status on moto's model, as FIS would have when it sends the state-change event."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.fis.models import Experiment, fis_backends
from moto.moto_api import state_manager

from chaos import fis_record
from chaos.metrics import NAMESPACE, OUTCOME_METRICS
from tests.chaos.moto_world import REGION

STACK = "prod"
LB = "app/steady-blue/0123456789abcdef"
GUARDS = ("chaos-guard-elb-5xx", "chaos-guard-target-5xx")
FAULT_SECONDS = 300


class FisPlay:
    """One template (``stop-task``) with two guard alarms as stop conditions, and the means to
    end an experiment of it the way FIS would."""

    def __init__(self) -> None:
        self.fis = boto3.client("fis", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.backend = fis_backends[DEFAULT_ACCOUNT_ID][REGION]
        self.never_started: set[str] = set()
        arns = []
        for name in GUARDS:
            self.cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_ELB_5XX_Count",
                Dimensions=[{"Name": "LoadBalancer", "Value": LB}], Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanOrEqualToThreshold",
            )  # fmt: skip
            self.cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="start")
            arns.append(
                self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
            )
        self.template_id = self.template({"steadystate:experiment": "stop-task"}, arns)
        self.guard_arns = arns

    def template(self, tags: dict[str, str], alarm_arns: list[str]) -> str:
        return self.fis.create_experiment_template(
            description="stop one task", roleArn="arn:aws:iam::123456789012:role/fis",
            stopConditions=[{"source": "aws:cloudwatch:alarm", "value": a} for a in alarm_arns],
            actions={"stop-one-task": {"actionId": "aws:ecs:stop-task"}}, tags=tags,
        )["experimentTemplate"]["id"]  # fmt: skip

    def end(self, status: str, template_id: str | None = None, started: bool = True) -> str:
        """Start an experiment that ran for FAULT_SECONDS up to a minute ago and ended with
        ``status``; ``started=False``: FIS never started its actions."""
        experiment_id = self.fis.start_experiment(
            experimentTemplateId=template_id or self.template_id
        )["experiment"]["id"]
        model = self.backend.experiments[experiment_id]
        model.start_time = time.time() - 60 - FAULT_SECONDS
        if status in Experiment.TERMINAL_STATUSES:
            model.end_time = time.time() - 60
        if not started:
            self.never_started.add(experiment_id)
        model.status = status
        return experiment_id

    def event(self, experiment_id: str, status: str) -> dict[str, Any]:
        """FIS's ``FIS Experiment State Change`` event, as EventBridge delivers it."""
        return {
            "version": "0", "id": f"event-{experiment_id}", "detail-type": fis_record.DETAIL_TYPE,
            "source": fis_record.SOURCE, "account": DEFAULT_ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
            "resources": [f"arn:aws:fis:{REGION}:{DEFAULT_ACCOUNT_ID}:experiment/{experiment_id}"],
            "detail": {"experiment-id": experiment_id,
                       "experiment-template-id": self.backend.experiments[experiment_id].experiment_template_id,
                       "new-state": {"status": status, "reason": "r"},
                       "old-state": {"status": "running", "reason": "r"}},
        }  # fmt: skip

    def record(self, experiment_id: str, status: str) -> dict[str, Any]:
        event = self.event(experiment_id, status)
        return fis_record.record(event, self.fis, self.cloudwatch, STACK, LB)

    def alb(self, metric: str, value: float, seconds_after_start: float) -> None:
        experiment_start = time.time() - 60 - FAULT_SECONDS
        when = datetime.fromtimestamp(experiment_start + seconds_after_start, UTC)
        self.cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[{"MetricName": metric, "Value": value, "Timestamp": when, "Unit": "Count",
                         "Dimensions": [{"Name": "LoadBalancer", "Value": LB}]}],
        )  # fmt: skip

    def published(self, experiment: str) -> dict[str, tuple[float, float]]:
        """metric -> (Sum, SampleCount) of the last hour, ``Experiment`` + ``Stack`` series."""
        now = datetime.now(UTC)
        out = {}
        for metric in [*OUTCOME_METRICS.values(), "ErrorRateDuringFault", "TimeToRecover"]:
            points = self.cloudwatch.get_metric_statistics(
                Namespace=NAMESPACE, MetricName=metric,
                Dimensions=[{"Name": "Experiment", "Value": experiment},
                            {"Name": "Stack", "Value": STACK}],
                StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1),
                Period=3600, Statistics=["Sum", "SampleCount"],
            )["Datapoints"]  # fmt: skip
            if points:
                out[metric] = (sum(p["Sum"] for p in points), sum(p["SampleCount"] for p in points))
        return out


@pytest.fixture
def play(moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FisPlay]:
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 10**9}
    )
    fis_play = FisPlay()
    original = Experiment._sync_state

    def sync(self: Experiment) -> str:
        """moto moves every action with its experiment; FIS never starts the actions of an
        experiment that failed before its fault (they stay without a startTime)."""
        status = original(self)
        if self.id in fis_play.never_started:
            for action in self.actions.values():
                action.pop("startTime", None)
                action.pop("endTime", None)
                action["state"] = {"status": "cancelled", "reason": "experiment failed"}
        return status

    monkeypatch.setattr(Experiment, "_sync_state", sync)
    try:
        yield fis_play
    finally:
        state_manager.unset_transition("fis::experiment")


def outcome_counts(published: dict[str, tuple[float, float]]) -> dict[str, float]:
    return {name: published[metric][0] for name, metric in OUTCOME_METRICS.items()}


def test_a_completed_run_succeeds_with_the_error_rate_of_the_fault_window(play) -> None:
    play.alb("RequestCount", 150, 30)
    play.alb("RequestCount", 50, FAULT_SECONDS - 30)
    play.alb("HTTPCode_Target_5XX_Count", 3, 90)
    play.alb("HTTPCode_ELB_5XX_Count", 2, 150)
    play.alb("HTTPCode_ELB_5XX_Count", 500, -600)  # before the experiment: not its errors
    experiment_id = play.end("completed")
    result = play.record(experiment_id, "completed")
    assert result["outcome"] == "succeeded" and result["experiment"] == "fis-stop-task"
    published = play.published("fis-stop-task")
    assert outcome_counts(published) == {"succeeded": 1, "deviated": 0, "aborted": 0, "failed": 0}
    assert published["ErrorRateDuringFault"][0] == pytest.approx(100 * 5 / 200)
    assert "TimeToRecover" not in published  # no sound source for FIS runs
    end = play.fis.get_experiment(id=experiment_id)["experiment"]["endTime"]
    assert result["when"] == end.isoformat()  # stamped with the experiment's end


def test_no_requests_during_the_fault_means_no_error_rate(play) -> None:
    play.alb("RequestCount", 1000, -600)
    experiment_id = play.end("completed")
    assert play.record(experiment_id, "completed")["error_rate"] is None
    assert "ErrorRateDuringFault" not in play.published("fis-stop-task")


def test_stopped_by_a_guard_alarm_deviates(play) -> None:
    experiment_id = play.end("stopped")
    play.cloudwatch.set_alarm_state(AlarmName=GUARDS[1], StateValue="ALARM", StateReason="5xx")
    assert play.record(experiment_id, "stopped")["outcome"] == "deviated"
    assert outcome_counts(play.published("fis-stop-task"))["deviated"] == 1


def test_stopped_by_a_person_is_aborted_not_failed(play) -> None:
    experiment_id = play.end("stopped")  # every guard alarm is OK
    assert play.record(experiment_id, "stopped")["outcome"] == "aborted"
    counts = outcome_counts(play.published("fis-stop-task"))
    assert counts == {"succeeded": 0, "deviated": 0, "aborted": 1, "failed": 0}


def test_a_guard_already_in_alarm_before_the_start_aborts(play) -> None:
    play.cloudwatch.set_alarm_state(AlarmName=GUARDS[0], StateValue="ALARM", StateReason="5xx")
    alarm = cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].alarms[GUARDS[0]]
    alarm.state_updated_timestamp -= timedelta(minutes=20)  # in ALARM since before the start
    experiment_id = play.end("stopped")
    assert play.record(experiment_id, "stopped")["outcome"] == "aborted"


def test_failed_after_the_fault_started_is_failed(play) -> None:
    experiment_id = play.end("failed")
    assert play.record(experiment_id, "failed")["outcome"] == "failed"
    assert outcome_counts(play.published("fis-stop-task"))["failed"] == 1


def test_failed_before_any_action_started_is_aborted(play) -> None:
    experiment_id = play.end("failed", started=False)
    actions = play.fis.get_experiment(id=experiment_id)["experiment"]["actions"].values()
    assert not any("startTime" in a for a in actions)
    assert play.record(experiment_id, "failed")["outcome"] == "aborted"


def test_cancelled_is_aborted_and_stamped_with_the_event_time(play) -> None:
    experiment_id = play.end("cancelled")
    event = play.event(experiment_id, "cancelled")
    result = fis_record.record(event, play.fis, play.cloudwatch, STACK, LB)
    assert result["outcome"] == "aborted"
    assert (
        result["when"] == datetime.fromisoformat(event["time"].replace("Z", "+00:00")).isoformat()
    )


def test_a_second_delivery_of_the_same_event_is_not_counted_again(play) -> None:
    experiment_id = play.end("completed")
    event = play.event(experiment_id, "completed")
    first = fis_record.record(event, play.fis, play.cloudwatch, STACK, LB)
    second = fis_record.record(event, play.fis, play.cloudwatch, STACK, LB)
    assert first["recorded"] and not second["recorded"] and second["why"] == "duplicate"
    assert play.published("fis-stop-task")["ExperimentSucceeded"] == (1.0, 1.0)


def test_a_template_without_its_key_tag_is_recorded_as_fis_unknown(play, caplog) -> None:
    untagged = play.template({"Name": "someone-elses"}, play.guard_arns)
    experiment_id = play.end("completed", template_id=untagged)
    with caplog.at_level(logging.WARNING, logger="steadystate.chaos.fis_record"):
        result = play.record(experiment_id, "completed")
    assert result["experiment"] == "fis-unknown"
    assert f"template {untagged} has no steadystate:experiment tag" in caplog.text
    assert outcome_counts(play.published("fis-unknown"))["succeeded"] == 1


def test_events_that_are_not_a_finished_experiment_publish_nothing(play) -> None:
    running = play.end("running")
    assert play.record(running, "running") == {"recorded": False, "why": "status running"}
    other = {"detail-type": "EC2 Instance State-change Notification", "detail": {}}
    assert not fis_record.record(other, play.fis, play.cloudwatch, STACK, LB)["recorded"]
    assert play.published("fis-stop-task") == {}


def test_the_lambda_entry_point_reads_stack_and_load_balancer_from_its_environment(
    play, monkeypatch
) -> None:
    monkeypatch.setenv("STACK", STACK)
    monkeypatch.setenv("LOAD_BALANCER", LB)
    experiment_id = play.end("completed")
    assert fis_record.handler(play.event(experiment_id, "completed"), None)["recorded"]
    assert outcome_counts(play.published("fis-stop-task"))["succeeded"] == 1


def test_a_status_that_is_not_terminal_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"status 'running' is not terminal \(completed, "):
        fis_record.outcome_of({"state": {"status": "running"}}, {})


# the cut check of dependency templates ----------------------------------------------------------

PROBE = ("steadystate", "blue")


def prober(play: FisPlay, value: float, every: int = 10, metric: str = "cdn-connectivity") -> None:
    """The primary's prober through the whole fault, a sample every ``every`` seconds."""
    start = time.time() - 60 - FAULT_SECONDS
    play.cloudwatch.put_metric_data(
        Namespace=PROBE[0],
        MetricData=[{"MetricName": metric, "Value": value, "Unit": "Count",
                     "Timestamp": datetime.fromtimestamp(start + s, UTC),
                     "Dimensions": [{"Name": "Host", "Value": PROBE[1]}]}
                    for s in range(0, FAULT_SECONDS, every)],
    )  # fmt: skip


def cut_run(play: FisPlay) -> dict[str, Any]:
    template = play.template({"steadystate:experiment": "dependency-cdn"}, play.guard_arns)
    experiment_id = play.end("completed", template)
    event = play.event(experiment_id, "completed")
    return fis_record.record(event, play.fis, play.cloudwatch, STACK, LB, probe=PROBE)


def test_a_completed_cut_whose_prober_failed_throughout_succeeds(play) -> None:
    prober(play, 0.0)
    result = cut_run(play)
    assert result["outcome"] == "succeeded" and result["cut_not_held"] is None


def test_a_completed_cut_the_prober_got_through_is_recorded_failed(play) -> None:
    """Never a success: a leaked cut tested nothing (the same check as cut_held)."""
    prober(play, 1.0, every=60)  # one sample a minute reaches the CDN
    prober(play, 0.0)
    result = cut_run(play)
    assert result["outcome"] == "failed"
    assert result["cut_not_held"].startswith("the cut leaked: cdn-connectivity of blue")
    assert outcome_counts(play.published("fis-dependency-cdn"))["failed"] == 1


def test_a_completed_cut_without_prober_samples_is_recorded_failed(play) -> None:
    prober(play, 0.0, metric="db-connectivity")  # another dependency's samples do not count
    result = cut_run(play)
    assert result["outcome"] == "failed"
    assert result["cut_not_held"].startswith("no cdn-connectivity samples of blue")


def test_without_the_probe_settings_no_cut_is_checked(play) -> None:
    template = play.template({"steadystate:experiment": "dependency-cdn"}, play.guard_arns)
    experiment_id = play.end("completed", template)
    assert play.record(experiment_id, "completed")["outcome"] == "succeeded"
