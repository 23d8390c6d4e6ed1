"""ops.release.deployment_watch: the verdict on one describe_services entry, and the poller against moto.

moto fills ``deployments`` (one static PRIMARY with rolloutState) but never progresses it and
drops ``deploymentConfiguration``; the tests play ECS's deployment controller on moto's model
(``tests.chaos.moto_world.Rollouts``) between polls, through the fake clock. Alarms are real moto
CloudWatch alarms moved with ``set_alarm_state`` (moto never evaluates them).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from ops.release.deployment_watch import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    DeploymentWatcher,
    WatchError,
    deployment_alarm_names,
    judge_rollout,
)
from tests.chaos.moto_world import REGION, FakeTime, Rollouts, moto_sandbox

CLUSTER = "steadystate-prod"


# -- judge_rollout: pure ---------------------------------------------------------------------------
def deployment(id_: str, status: str = "PRIMARY", **fields: object) -> dict:
    return {
        "id": id_,
        "status": status,
        "taskDefinition": f"td:{id_}",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        **fields,
    }


def service(*deployments: dict, status: str = "ACTIVE") -> dict:
    return {"serviceName": "svc", "status": status, "deployments": list(deployments)}


@pytest.mark.parametrize(
    ("svc", "target", "state", "reason"),
    [
        (service(deployment("d2", rolloutState="COMPLETED")), "d2", COMPLETED, "COMPLETED"),
        (
            service(deployment("d2", rolloutState="IN_PROGRESS", runningCount=1)),
            "d2",
            IN_PROGRESS,
            "rolloutState IN_PROGRESS",
        ),
        (
            service(
                deployment("d1", rolloutState="IN_PROGRESS"),
                deployment(
                    "d2",
                    "ACTIVE",
                    rolloutState="FAILED",
                    rolloutStateReason="tasks failed to start",
                ),
            ),
            "d2",
            FAILED,
            "rolloutState FAILED: tasks failed to start",
        ),
        (
            service(deployment("d1", rolloutState="COMPLETED")),
            "d2",
            FAILED,
            "deployment d2 is gone; PRIMARY is now d1 (td:d1): ECS rolled it back",
        ),
        (  # no PRIMARY left at all (e.g. mid-replacement): a verdict, not an AttributeError
            service(deployment("d1", "ACTIVE")),
            "d2",
            FAILED,
            "deployment d2 is gone: ECS rolled it back",
        ),
        (
            service(deployment("d3", rolloutState="COMPLETED"), deployment("d2", "ACTIVE")),
            "d2",
            FAILED,
            "no longer PRIMARY (status ACTIVE): ECS rolled back to td:d3",
        ),
        (service(deployment("d2")), "d2", COMPLETED, "rolloutState absent: complete by counts"),
        (
            service(deployment("d2"), deployment("d1", "ACTIVE")),
            "d2",
            IN_PROGRESS,
            "rolloutState absent: 2 deployment(s), counts not settled",
        ),
        (
            service(deployment("d2", runningCount=1, pendingCount=1)),
            "d2",
            IN_PROGRESS,
            "counts not settled",
        ),
        (service(deployment("d2"), status="DRAINING"), "d2", FAILED, "DRAINING, not ACTIVE"),
        (service(deployment("d9", rolloutState="COMPLETED")), None, COMPLETED, "COMPLETED"),
    ],
)
def test_judge_rollout(svc, target, state, reason):
    verdict = judge_rollout(svc, target)
    assert verdict.state == state
    assert reason in verdict.reason


def test_a_completed_rollback_is_never_a_success():
    """After a rollback the new PRIMARY (the old image) completes; the followed one did not."""
    svc = service(
        deployment("d3", rolloutState="COMPLETED"),
        deployment("d2", "ACTIVE", rolloutState="FAILED", rolloutStateReason="alarm latency"),
    )
    assert judge_rollout(svc, "d2").state == FAILED
    assert judge_rollout(svc, None).state == COMPLETED  # only "whatever is PRIMARY" would say so


def test_deployment_alarm_names():
    alarms = {"alarmNames": ["a", "b"], "enable": True, "rollback": True}
    assert deployment_alarm_names({"deploymentConfiguration": {"alarms": alarms}}) == ["a", "b"]
    alarms["enable"] = False
    assert deployment_alarm_names({"deploymentConfiguration": {"alarms": alarms}}) == []
    assert deployment_alarm_names({}) == []


# -- the poller against moto -------------------------------------------------------------------------
@pytest.fixture
def aws(monkeypatch) -> Iterator[dict]:
    with moto_sandbox(monkeypatch):
        ecs = boto3.client("ecs", region_name=REGION)
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        task_definition = ecs.register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}]
        )["taskDefinition"]["taskDefinitionArn"]
        for name in ("onebox", "fleet"):
            ecs.create_service(
                cluster=CLUSTER, serviceName=name, taskDefinition=task_definition, desiredCount=2
            )
        for name in ("onebox-latency", "onebox-5xx", "fleet-latency"):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/ApplicationELB",
                MetricName="TargetResponseTime",
                Statistic="Average",
                Period=60,
                EvaluationPeriods=1,
                Threshold=3.0,
                ComparisonOperator="GreaterThanThreshold",
            )
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fine")
        rollouts = Rollouts(CLUSTER)
        rollouts.set_alarms("onebox", ["onebox-latency", "onebox-5xx"])
        rollouts.settle("onebox")
        rollouts.settle("fleet")
        yield {"ecs": ecs, "cloudwatch": cloudwatch, "rollouts": rollouts}


def watcher_for(aws: dict, time: FakeTime, lines: list[str] | None = None) -> DeploymentWatcher:
    log = lines.append if lines is not None else (lambda _line: None)
    return DeploymentWatcher(
        aws["ecs"], aws["cloudwatch"], poll_interval=15, clock=time.clock, sleep=time.sleep, log=log
    )


def test_moto_describe_services_fields_the_watcher_relies_on(aws):
    """Pin what moto 5.2.5 returns, so a moto upgrade that changes it shows up here first."""
    fresh = aws["ecs"].describe_services(cluster=CLUSTER, services=["fleet"])["services"][0]
    assert "deploymentConfiguration" not in fresh  # moto drops it; Rollouts.set_alarms adds it
    onebox = aws["ecs"].describe_services(cluster=CLUSTER, services=["onebox"])["services"][0]
    assert onebox["deploymentConfiguration"]["alarms"]["alarmNames"] == [
        "onebox-latency",
        "onebox-5xx",
    ]
    (primary,) = onebox["deployments"]
    assert {"id", "status", "rolloutState", "runningCount", "desiredCount", "pendingCount"} <= set(
        primary
    )


def test_rollout_completes_when_ecs_says_so(aws):
    time, lines = FakeTime(), []
    new_id = aws["rollouts"].start("onebox")
    time.at(40, lambda: aws["rollouts"].complete("onebox"))
    report = watcher_for(aws, time, lines).wait_for_rollout(CLUSTER, ["onebox"], timeout=600)
    assert report.ok, report.reason
    assert report.verdicts["onebox"].deployment_id == new_id
    assert time.now == 45  # polls at 0, 15, 30, 45
    assert lines == [
        "onebox: IN_PROGRESS (running 0/2, pending 2; rolloutState IN_PROGRESS)",
        "onebox: COMPLETED (running 2/2, pending 0; rolloutState COMPLETED)",
    ]


def test_circuit_breaker_failure_and_rollback_stop_the_watch(aws):
    time = FakeTime()
    new_id = aws["rollouts"].start("onebox")
    reason = "ECS deployment circuit breaker: tasks failed to start."
    time.at(30, lambda: aws["rollouts"].fail("onebox", reason))
    report = watcher_for(aws, time).wait_for_rollout(
        CLUSTER, ["onebox"], timeout=600, deployment_ids={"onebox": new_id}
    )
    assert not report.ok
    assert report.reason == f"onebox: rolloutState FAILED: {reason}"
    assert time.now == 30


def test_a_replaced_deployment_fails_even_when_the_new_primary_completes(aws):
    time = FakeTime()
    new_id = aws["rollouts"].start("onebox")

    def someone_else_deploys() -> None:
        aws["rollouts"].start("onebox")
        aws["rollouts"].complete("onebox")

    time.at(15, someone_else_deploys)
    report = watcher_for(aws, time).wait_for_rollout(
        CLUSTER, ["onebox"], timeout=600, deployment_ids={"onebox": new_id}
    )
    assert not report.ok
    assert f"deployment {new_id} is gone" in report.reason


def test_a_deployment_alarm_in_alarm_stops_the_watch_before_ecs_rolls_back(aws):
    time = FakeTime()
    aws["rollouts"].start("onebox")
    aws["cloudwatch"].set_alarm_state(
        AlarmName="fleet-latency", StateValue="ALARM", StateReason="x"
    )
    time.at(
        30,
        lambda: aws["cloudwatch"].set_alarm_state(
            AlarmName="onebox-5xx", StateValue="ALARM", StateReason="Threshold Crossed: 5xx 12%"
        ),
    )
    report = watcher_for(aws, time).wait_for_rollout(CLUSTER, ["onebox"], timeout=600)
    assert not report.ok
    assert report.reason == "alarm onebox-5xx is in ALARM (Threshold Crossed: 5xx 12%)"
    assert [a.name for a in report.alarms] == ["onebox-5xx"]  # fleet-latency is not onebox's
    assert report.verdicts["onebox"].state == IN_PROGRESS
    assert time.now == 30


def test_timeout_without_completion(aws):
    time = FakeTime()
    aws["rollouts"].start("fleet")
    report = watcher_for(aws, time).wait_for_rollout(CLUSTER, ["fleet"], timeout=100)
    assert not report.ok
    assert report.reason == "timed out after 100s waiting for fleet to reach COMPLETED"
    assert sum(time.slept) == 100 and max(time.slept) == 15


def test_several_services_at_once_wait_for_the_slowest(aws):
    time = FakeTime()
    aws["rollouts"].start("onebox")
    aws["rollouts"].start("fleet")
    time.at(15, lambda: aws["rollouts"].complete("fleet"))
    time.at(60, lambda: aws["rollouts"].complete("onebox"))
    report = watcher_for(aws, time).wait_for_rollout(CLUSTER, ["onebox", "fleet"], timeout=600)
    assert report.ok and time.now == 60


def test_absent_rollout_state_is_judged_by_counts_and_said_so(aws):
    time, lines = FakeTime(), []
    primary = aws["rollouts"].primary("fleet")
    for key in ("rolloutState", "rolloutStateReason"):
        primary.pop(key)
    report = watcher_for(aws, time, lines).wait_for_rollout(CLUSTER, ["fleet"], timeout=60)
    assert report.ok
    assert "rolloutState absent: complete by counts" in lines[0]
    assert "no deployment alarms configured" in lines[1]


def test_bake_passes_when_nothing_fires_for_the_whole_time(aws):
    time = FakeTime()
    ids = {"onebox": aws["rollouts"].primary("onebox")["id"]}
    report = watcher_for(aws, time).bake(CLUSTER, ["onebox"], seconds=300, deployment_ids=ids)
    assert report.ok, report.reason
    assert time.now == 300


def test_bake_fails_on_an_alarm_late_in_the_bake(aws):
    time = FakeTime()
    ids = {"onebox": aws["rollouts"].primary("onebox")["id"]}
    time.at(
        200,
        lambda: aws["cloudwatch"].set_alarm_state(
            AlarmName="onebox-latency", StateValue="ALARM", StateReason="p90 4.2 s"
        ),
    )
    report = watcher_for(aws, time).bake(CLUSTER, ["onebox"], seconds=300, deployment_ids=ids)
    assert not report.ok
    assert "onebox-latency" in report.reason
    assert time.now == 210


def test_missing_service_and_missing_cluster(aws):
    time = FakeTime()
    report = watcher_for(aws, time).wait_for_rollout(CLUSTER, ["ghost"], timeout=60)
    assert not report.ok and report.reason == f"ghost: service not found in {CLUSTER}"
    with pytest.raises(
        WatchError, match="ECS DescribeServices on cluster 'nope' failed: ClusterNotFoundException"
    ):
        watcher_for(aws, time).wait_for_rollout("nope", ["onebox"], timeout=60)
