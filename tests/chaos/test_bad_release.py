"""The bad-release experiment against moto ECS: ``python -m chaos.run`` releases the onebox with
the latency switch on; the test plays ECS's alarm-driven rollback (or not) through the pause after
the method; "holds" and "deviates", and the fleet's task definition is watched throughout."""

from __future__ import annotations

import io
import json

from chaos import bad_release
from chaos import run as chaos_run
from chaos.runner import load_experiment, validate_experiment
from tests.chaos.moto_world import make_world

OUTPUTS = {"clusterName": "steadystate-test", "dnsPrimary": "blue", "url": "http://127.0.0.1:9",
           "serviceNames": {"blue-fleet": "blue", "blue-onebox": "blue-1box",
                            "green-fleet": "green"}}  # fmt: skip


def onebox_world():
    world = make_world(desired=2, hosts=2, service="blue")
    world.ecs.create_service(cluster=world.cluster, serviceName="blue-1box",
                             taskDefinition=world.task_definition, desiredCount=1)  # fmt: skip
    world.ecs.update_service(cluster=world.cluster, service="blue-1box", desiredCount=1)
    world.start_tasks(1, service="blue-1box")
    from moto.ecs.models import ecs_backends

    # moto fixes a deployment's rolloutState when the service is created (0 running: IN_PROGRESS)
    service = ecs_backends["123456789012"]["us-east-2"].services[f"{world.cluster}:blue-1box"]
    service.deployments[0]["rolloutState"] = "COMPLETED"
    return world


def task_definition(world, service):
    found = world.ecs.describe_services(cluster=world.cluster, services=[service])["services"]
    return found[0]["taskDefinition"]


def run(tmp_path, sleep):
    journal = tmp_path / "journal.json"
    out = io.StringIO()
    argv = ["--experiment", "bad-release", "--stack", "prod", "--var", "poll_interval=0.05",
            "--var", "rollback_within=0.3", "--var", "restore_within=0.3", "--no-metric",
            "--engine", "builtin", "--journal", str(journal)]  # fmt: skip
    code = chaos_run.main(argv, out=out, sleep=sleep, read_outputs=lambda _s: OUTPUTS)
    return code, out.getvalue(), json.loads(journal.read_text())


def released_environment(world) -> dict[str, str]:
    bad = task_definition(world, "blue-1box")
    definition = world.ecs.describe_task_definition(taskDefinition=bad)["taskDefinition"]
    env = definition["containerDefinitions"][0]["environment"]
    return {e["name"]: e["value"] for e in env}


def test_ecs_rolls_the_onebox_back_and_the_fleet_never_moves(moto, tmp_path):
    world = onebox_world()
    good = world.task_definition
    seen = {}

    def ecs_rolls_back(_seconds: float) -> None:  # the deployment alarm fired
        seen["env"] = released_environment(world)
        world.ecs.update_service(cluster=world.cluster, service="blue-1box", taskDefinition=good)

    code, log, journal = run(tmp_path, ecs_rolls_back)
    assert code == 0, log
    assert seen["env"]["FAULT_LATENCY_MS"] == "6000" and seen["env"]["APP_ALLOW_FAULTS"] == "true"
    bad = journal["run"][0]["output"]["bad"]
    assert bad != good and journal["run"][0]["output"]["good"] == good
    assert f"onebox blue-1box rolled back to {good}" in log
    assert f"fleet blue still on {good}" in log
    assert journal["rollbacks"][0]["status"] == "succeeded", log
    revision = world.ecs.describe_task_definition(taskDefinition=bad)["taskDefinition"]
    assert revision["status"] == "INACTIVE"  # the bad revision is deregistered
    assert bad_release.RELEASED == {}


def test_no_ecs_rollback_deviates_and_the_experiment_puts_the_onebox_back(moto, tmp_path):
    world = onebox_world()
    code, log, journal = run(tmp_path, lambda _s: None)  # no alarm, no rollback
    assert code == 1 and "outcome: deviated" in log, log
    assert "expected " + world.task_definition + " COMPLETED" in log
    assert journal["rollbacks"][0]["status"] == "succeeded", log
    assert task_definition(world, "blue-1box") == world.task_definition


def test_a_fleet_that_moves_deviates(moto, tmp_path):
    world = onebox_world()
    good = world.task_definition
    other = world.ecs.register_task_definition(
        family="other", containerDefinitions=[{"name": "app", "image": "x", "memory": 64}]
    )["taskDefinition"]["taskDefinitionArn"]

    def ecs_rolls_back_but_the_fleet_moves(_seconds: float) -> None:
        world.ecs.update_service(cluster=world.cluster, service="blue-1box", taskDefinition=good)
        world.ecs.update_service(cluster=world.cluster, service="blue", taskDefinition=other)

    code, log, _ = run(tmp_path, ecs_rolls_back_but_the_fleet_moves)
    assert code == 1 and "outcome: deviated" in log, log
    assert f"fleet blue moved: {other}, was {good}" in log


def test_the_experiment_validates():
    _, experiment = load_experiment("bad-release")
    validate_experiment(experiment)
