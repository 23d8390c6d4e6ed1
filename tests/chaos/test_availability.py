"""Availability during the fault, end to end: ``python -m chaos.run`` against moto and a real HTTP
server on 127.0.0.1 standing in for the load balancer. The test plays ECS in the runner's pause
(a real, short sleep, so the load really runs through the fault): it stops serving /api while the
service has no RUNNING task, then starts the replacement."""

from __future__ import annotations

import io
import json
import threading
import time

import boto3
import pytest

from chaos import run as chaos_run
from chaos.runner import chaoslib_available
from tests.chaos.moto_world import REGION, EcsWorld, make_world

FAST = ["--var", "recovery_timeout=0", "--var", "poll_interval=1", "--var", "pause_after_fault=1",
        "--var", "sample_seconds=0.3", "--var", "load_rate=20", "--no-metric"]  # fmt: skip


def play_ecs(world: EcsWorld, handler: type, *, replace: int = 1, new_host: bool = False):
    """The runner's sleep: the load balancer answers 503 on /api while no task runs, for the
    real pause; then ECS (and, with ``new_host``, the Auto Scaling group) replaces what was lost."""

    def sleep(seconds: float) -> None:
        handler.fixed = {"/api": 200 if world.running() else 503}
        time.sleep(min(seconds, 1.0))
        for host in list(world.hosts):  # ECS notices a terminated instance, stops its tasks
            instance = world.ec2.describe_instances(InstanceIds=[world.instance_ids[host]])
            state = instance["Reservations"][0]["Instances"][0]["State"]["Name"]
            if state in ("shutting-down", "terminated"):
                on_host = world.ecs.list_tasks(cluster=world.cluster, containerInstance=host)
                for task in on_host["taskArns"]:
                    world.ecs.stop_task(cluster=world.cluster, task=task, reason="host lost")
                world.lose_host(host)
                world.hosts.remove(host)
                if new_host:  # the Auto Scaling group launches a replacement
                    world.add_host()
        if len(world.running()) < int(
            world.ecs.describe_services(cluster=world.cluster, services=[world.service])[
                "services"
            ][0]["desiredCount"]
        ):
            world.start_tasks(replace)
        handler.fixed = {"/api": 200 if world.running() else 503}

    return sleep


def run(world, url, sleep, tmp_path, *extra):
    journal = tmp_path / "journal.json"
    out = io.StringIO()
    argv = ["--experiment", "kill-one-task", "--cluster", world.cluster, "--service",
            world.service, "--url", url, *FAST, *extra]  # fmt: skip
    if "--engine" not in extra:
        argv += ["--engine", "builtin"]
    code = chaos_run.main([*argv, "--journal", str(journal)], out=out, sleep=sleep)
    return code, out.getvalue(), json.loads(journal.read_text())


def measured(journal) -> dict:
    (finish,) = [r for r in journal["run"] if r["activity"]["name"].startswith("measure-the-load")]
    return finish["output"]


def test_losing_one_of_three_tasks_holds_with_no_errors(moto, server, tmp_path):
    url, handler = server
    world = make_world(desired=3)
    code, log, journal = run(world, url, play_ecs(world, handler), tmp_path)
    assert code == 0, log
    load = measured(journal)
    assert load["requests"] >= 10 and load["errors"] == 0  # ~1 s at 20/s through the fault
    assert load["p99_ms"] is not None
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["stop-any-load-still-running"]


def test_losing_the_only_task_is_an_outage_and_deviates(moto, server, tmp_path):
    url, handler = server
    world = make_world(desired=1, hosts=1)
    code, log, journal = run(world, url, play_ecs(world, handler), tmp_path)
    assert len(world.running()) == 1  # ECS did replace the task: only the tolerance catches it
    assert code == 1, log
    assert "outcome: deviated" in log
    load = measured(journal)
    assert load["error_rate"] > 0.5 and load["statuses"].get("503", 0) >= 10
    after = journal["steady_states"]["after"]["probes"][0]
    assert after["activity"]["name"] == "error-rate-under-load-within-tolerance"
    assert after["tolerance_met"] is False


@pytest.mark.skipif(not chaoslib_available(), reason="chaostoolkit-lib not installed")
def test_chaostoolkit_also_sees_the_outage(moto, server, tmp_path):
    url, handler = server
    world = make_world(desired=1, hosts=1)
    handler.fixed = {"/api": 200}
    # chaoslib sleeps for itself: the outage is played from a thread that watches the task count
    done = threading.Event()

    def balancer() -> None:
        ecs = boto3.client("ecs", region_name=REGION)
        while not done.is_set():
            tasks = ecs.list_tasks(cluster=world.cluster, desiredStatus="RUNNING")["taskArns"]
            handler.fixed = {"/api": 200 if tasks else 503}
            done.wait(0.05)

    watcher = threading.Thread(target=balancer, daemon=True)
    watcher.start()
    try:
        code, log, journal = run(world, url, time.sleep, tmp_path, "--engine", "chaostoolkit")
    finally:
        done.set()
        watcher.join(5)
    assert code == 1, log
    assert "outcome: deviated" in log
    assert measured(journal)["error_rate"] > 0.5


def test_a_killed_host_must_be_gone_and_replaced(moto, server, tmp_path):
    url, handler = server
    world = make_world(desired=3, hosts=2)
    sleep = play_ecs(world, handler, replace=2, new_host=True)
    code, log, journal = run(world, url, sleep, tmp_path, "--experiment", "kill-a-container-host")
    assert code == 0, log
    killed = journal["run"][1]["output"]["ec2InstanceId"]
    assert "is terminated; 2 host(s) serve the cluster again" in log
    assert killed not in [world.instance_ids[h] for h in world.hosts]
    assert len(world.hosts) == 2


def test_a_killed_host_without_a_replacement_deviates(moto, server, tmp_path):
    url, handler = server
    world = make_world(desired=3, hosts=2)
    # ECS places the lost tasks on the surviving host, but no new instance ever joins
    sleep = play_ecs(world, handler, replace=2, new_host=False)
    code, log, journal = run(world, url, sleep, tmp_path, "--experiment", "kill-a-container-host")
    assert code == 1, log
    probes = journal["steady_states"]["after"]["probes"]
    assert probes[-1]["activity"]["name"] == "killed-host-is-gone-and-replaced"
    assert probes[-1]["tolerance_met"] is False
    assert "1 ACTIVE, connected host(s), 2 before the kill: no replacement yet" in log
