"""The environment-loss experiment end to end: ``python -m chaos.run`` against moto (ECS), two
real app processes on 127.0.0.1 (``APP_ENVIRONMENT=blue`` / ``green``) and a loopback front door
that plays Route 53 failover in front of their ``/version``; both "holds" and "deviates"."""

from __future__ import annotations

import http.server
import io
import json
import sys
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from chaos import environment_loss
from chaos import run as chaos_run
from chaos.failover_budget import NoFailover, environment_failover_seconds
from chaos.runner import load_experiment, validate_experiment
from tests.app.app_support import Process, clean_env, free_port, spawn, wait_until_serving
from tests.chaos.moto_world import make_world


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Iterator[dict[str, Process]]:
    started: dict[str, Process] = {}
    tmp = tmp_path_factory.mktemp("apps")
    try:
        for env in ("blue", "green"):
            port = free_port()
            settings = {"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1",
                        "APP_ENVIRONMENT": env, "APP_VERSION": "7"}  # fmt: skip
            process = spawn([sys.executable, "-m", "steadystate_app.server"],
                            clean_env(**settings), tmp / f"{env}.log", port)  # fmt: skip
            started[env] = process
            wait_until_serving(process)
        yield started
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture
def front_door(apps) -> Iterator[tuple[str, dict[str, str]]]:
    """GETs go to the environment in ``route["to"]`` (what Route 53's answer would be)."""
    route = {"to": "blue"}

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = f"http://127.0.0.1:{apps[route['to']].port}{self.path}"
            with urllib.request.urlopen(target, timeout=5) as answer:
                body = answer.read()
                self.send_response(answer.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", route
    httpd.shutdown()
    httpd.server_close()


def blue_green_world():
    world = make_world(desired=2, hosts=2, service="blue")
    world.ecs.create_service(cluster=world.cluster, serviceName="blue-1box",
                             taskDefinition=world.task_definition, desiredCount=1)  # fmt: skip
    world.ecs.update_service(cluster=world.cluster, service="blue-1box", desiredCount=1)
    world.start_tasks(1, service="blue-1box")
    world.ecs.create_service(cluster=world.cluster, serviceName="green",
                             taskDefinition=world.task_definition, desiredCount=2)  # fmt: skip
    world.ecs.update_service(cluster=world.cluster, service="green", desiredCount=2)
    world.start_tasks(2, service="green")
    return world


OUTPUTS = {"clusterName": "steadystate-test", "dnsPrimary": "blue",
           "serviceNames": {"blue-fleet": "blue", "blue-onebox": "blue-1box",
                            "green-fleet": "green"}}  # fmt: skip


def run(url, sleep, tmp_path, *extra):
    journal = tmp_path / "journal.json"
    out = io.StringIO()
    argv = ["--experiment", "environment-loss", "--stack", "prod", "--url", url,
            "--var", "poll_interval=0.2", "--var", "restore_within=2", "--no-metric",
            "--engine", "builtin", "--journal", str(journal), *extra]  # fmt: skip
    code = chaos_run.main(
        argv, out=out, sleep=sleep, read_outputs=lambda _s: OUTPUTS,
        failover_seconds=lambda _s: 3.0,
    )  # fmt: skip
    return code, out.getvalue(), json.loads(journal.read_text())


def desired(world, service):
    found = world.ecs.describe_services(cluster=world.cluster, services=[service])["services"]
    return found[0]["desiredCount"]


def test_blue_down_fails_over_to_green_and_the_rollback_brings_blue_back(
    moto, front_door, tmp_path
):
    url, route = front_door
    world = blue_green_world()

    def route53(_seconds: float) -> None:  # health check follows blue's state
        route["to"] = "blue" if desired(world, "blue") else "green"

    code, log, journal = run(url, route53, tmp_path)
    assert code == 0, log
    assert "failover budget: 3.0s" in log
    assert journal["run"][0]["output"] == {"desiredCountsBefore": {"blue": 2, "blue-1box": 1}}
    after = journal["steady_states"]["after"]["probes"][0]
    assert after["tolerance_met"] is True  # green answered /version with blue down
    assert f"GET {url}/version: environment green, as expected" in log
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert (desired(world, "blue"), desired(world, "blue-1box")) == (2, 1)
    assert environment_loss.DOWN == {}


def test_no_failover_within_the_budget_deviates_and_blue_still_comes_back(
    moto, front_door, tmp_path
):
    url, route = front_door
    world = blue_green_world()
    code, log, journal = run(url, lambda _s: None, tmp_path)  # Route 53 never switches
    assert code == 1, log
    assert "outcome: deviated" in log
    assert "environment blue after 3s, expected environment green" in log
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert desired(world, "blue") == 2 and route["to"] == "blue"


def test_a_standby_that_is_not_whole_aborts_before_taking_blue_down(moto, front_door, tmp_path):
    url, _ = front_door
    world = blue_green_world()
    world.ecs.update_service(cluster=world.cluster, service="green", desiredCount=3)
    world.ecs.update_service(cluster=world.cluster, service="green", desiredCount=2)
    from moto.ecs.models import ecs_backends

    backend = ecs_backends["123456789012"]["us-east-2"]
    backend.services[f"{world.cluster}:green"].running_count = 1  # green lost a task
    code, log, _ = run(url, lambda _s: None, tmp_path)
    assert code == 1 and "outcome: aborted" in log, log
    assert "probe 'standby-runs-every-desired-task' not within tolerance" in log
    assert desired(world, "blue") == 2  # nothing was taken down


def test_the_experiment_validates_and_the_budget_comes_from_the_resilience_model():
    _, experiment = load_experiment("environment-loss")
    validate_experiment(experiment)
    prod = environment_failover_seconds("prod")
    assert 0 < prod < 3600
    with pytest.raises(NoFailover, match="no Route 53 failover records"):
        environment_failover_seconds("dev")
