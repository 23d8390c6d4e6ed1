"""chaos.actions against moto: what is stopped or terminated, and what is refused."""

from __future__ import annotations

import random

import pytest
from chaosaws.ecs.actions import stop_random_tasks
from chaoslib.exceptions import FailedActivity

from chaos.actions import NothingToDo, stop_fraction_of_tasks, terminate_container_host
from chaos.probes import service_state
from tests.chaos.moto_world import REGION


def _describe(world, arns):
    return {
        t["taskArn"]: t
        for t in world.ecs.describe_tasks(cluster=world.cluster, tasks=arns)["tasks"]
    }


def test_chaosaws_stop_random_tasks_stops_exactly_one_of_n_with_the_reason(world):
    """kill-one-task's action is chaosaws's; it works against moto as the experiment calls it."""
    before = world.running()
    result = stop_random_tasks(
        world.cluster,
        task_count=1,
        service=world.service,
        reason="steadystate chaos: kill-one-task",
        configuration={"aws_region": REGION},
    )
    after = world.running()
    assert len(before) == 3 and len(after) == 2
    ((stopped, status),) = [(r["Task_Id"], r["Desired_Status"]) for r in result]
    assert stopped in before and stopped not in after and status == "STOPPED"
    task = _describe(world, [stopped])[stopped]
    assert task["stoppedReason"] == "steadystate chaos: kill-one-task"
    assert not service_state(world.ecs, world.cluster, world.service).ok


def test_chaosaws_stop_random_tasks_refuses_a_service_with_no_running_task(world):
    for arn in world.running():
        world.ecs.stop_task(cluster=world.cluster, task=arn, reason="test")
    with pytest.raises(FailedActivity, match="Not enough running tasks"):
        stop_random_tasks(
            world.cluster, task_count=1, service=world.service, configuration={"aws_region": REGION}
        )


def test_chaosaws_task_percent_would_stop_nothing_on_one_task_which_is_why_half_is_ours(world):
    """Why kill-half-the-tasks keeps chaos.actions.stop_fraction_of_tasks."""
    for arn in world.running()[1:]:
        world.ecs.stop_task(cluster=world.cluster, task=arn, reason="test")
    assert (
        stop_random_tasks(
            world.cluster,
            task_percent=50,
            service=world.service,
            configuration={"aws_region": REGION},
        )
        == []
    )
    assert len(stop_fraction_of_tasks(world.cluster, world.service, ecs=world.ecs)["stopped"]) == 1


def test_the_fraction_is_random_over_the_service_tasks_only(world):
    others = set(world.start_tasks(3, service="other"))
    mine = set(world.running())
    picked = {
        arn
        for seed in range(40)
        for arn in stop_fraction_of_tasks(
            world.cluster,
            world.service,
            fraction=0.01,
            ecs=FakeStop(world),
            rng=random.Random(seed),
        )["stopped"]
    }
    assert picked == mine  # every task of the service gets picked by some seed ...
    assert not picked & others  # ... and never one of another service


class FakeStop:
    """The world's ECS, except that StopTask only records (so every seed sees the same tasks)."""

    def __init__(self, world):
        self.world = world

    def __getattr__(self, name):
        return getattr(self.world.ecs, name)

    def stop_task(self, **_kwargs):
        return {}


def test_stop_fraction_stops_half_rounded_down_and_at_least_one(world):
    world.start_tasks(1)  # 4 tasks
    result = stop_fraction_of_tasks(world.cluster, world.service, fraction=0.5, ecs=world.ecs)
    assert result["runningBefore"] == 4
    assert len(result["stopped"]) == 2 and len(set(result["stopped"])) == 2
    assert len(world.running()) == 2
    result = stop_fraction_of_tasks(world.cluster, world.service, fraction=0.3, ecs=world.ecs)
    assert len(result["stopped"]) == 1  # floor(2 * 0.3) = 0 → at least one
    assert len(world.running()) == 1


def test_stop_fraction_rejects_a_silly_fraction(world):
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            stop_fraction_of_tasks(world.cluster, world.service, fraction=bad, ecs=world.ecs)
    assert len(world.running()) == 3


def test_nothing_to_stop_is_refused_clearly(world):
    for arn in world.running():
        world.ecs.stop_task(cluster=world.cluster, task=arn, reason="test")
    with pytest.raises(NothingToDo, match="service web in steadystate-test has no RUNNING task"):
        stop_fraction_of_tasks(world.cluster, world.service, ecs=world.ecs)


def test_terminate_container_host_terminates_the_ec2_instance_of_a_host_of_the_service(world):
    spare = world.add_host()  # runs nothing of the service: never a candidate with service=...
    result = terminate_container_host(
        world.cluster, world.service, ecs=world.ecs, ec2=world.ec2, rng=random.Random(1)
    )
    assert result["containerInstanceArn"] in world.hosts[:2]
    assert result["containerInstanceArn"] != spare
    assert result["ec2InstanceId"] == world.instance_ids[result["containerInstanceArn"]]
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in world.ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    terminated = {iid for iid, state in states.items() if state in ("shutting-down", "terminated")}
    assert terminated == {result["ec2InstanceId"]}


def test_terminate_any_active_host_without_a_service(world):
    result = terminate_container_host(world.cluster, ecs=world.ecs, ec2=world.ec2)
    assert result["containerInstanceArn"] in world.hosts


def test_terminate_refuses_when_no_host_runs_the_service(world):
    for arn in world.running():
        world.ecs.stop_task(cluster=world.cluster, task=arn, reason="test")
    with pytest.raises(NothingToDo, match="no container instance running a task of web"):
        terminate_container_host(world.cluster, world.service, ecs=world.ecs, ec2=world.ec2)


def test_host_kill_is_detected_until_the_test_plays_ecs_and_the_asg(world):
    """moto never replaces anything: after the kill the probe must see the loss, and only the
    test's own 'ECS' actions (host deregistered, new host, tasks placed again) make it whole."""
    result = terminate_container_host(world.cluster, world.service, ecs=world.ecs, ec2=world.ec2)
    lost = result["containerInstanceArn"]
    world.lose_host(lost)
    assert not service_state(world.ecs, world.cluster, world.service).ok
    replacement = world.add_host()
    world.start_tasks(result["tasksOnHost"] or 0, host=replacement)
    assert service_state(world.ecs, world.cluster, world.service).ok
