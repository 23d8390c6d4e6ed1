"""The environment-loss experiment end to end: ``python -m chaos.run`` against moto (ECS, EC2,
Auto Scaling: blue's own host group), two real app processes on 127.0.0.1
(``APP_ENVIRONMENT=blue`` / ``green``) and a loopback front door that plays Route 53 failover in
front of their ``/version``; both "holds" and "deviates". moto's Auto Scaling group replaces
instances that EC2 terminated, as AWS's does; the tests play Route 53 following blue's health."""

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
    """GETs go to the environment in ``route["to"]`` (what Route 53's answer would be), or to the
    one it names when called."""
    route: dict = {"to": "blue"}

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            to = route["to"]() if callable(route["to"]) else route["to"]
            target = f"http://127.0.0.1:{apps[to].port}{self.path}"
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


class BlueHosts:
    """Blue's Auto Scaling group in moto, and what AWS would do after its hosts are terminated."""

    def __init__(self) -> None:
        import boto3

        self.ec2 = boto3.client("ec2", region_name="us-east-2")
        self.asg = boto3.client("autoscaling", region_name="us-east-2")
        template = self.ec2.create_launch_template(
            LaunchTemplateName="blue-hosts",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.medium"},
        )["LaunchTemplate"]["LaunchTemplateId"]
        self.asg.create_auto_scaling_group(
            AutoScalingGroupName="blue-hosts",
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=2,
            MaxSize=4,
            DesiredCapacity=2,
            AvailabilityZones=["us-east-2a", "us-east-2b"],
        )
        self.original = self.instance_ids()

    def instance_ids(self) -> list[str]:
        group = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=["blue-hosts"])
        return [i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]]

    def terminated(self) -> bool:
        found = self.ec2.describe_instances(InstanceIds=self.original)["Reservations"]
        states = [i["State"]["Name"] for r in found for i in r["Instances"]]
        return bool(states) and all(state == "terminated" for state in states)

    def never_replaced(self) -> None:
        """A group that cannot launch (say its AMI is gone): no host comes back."""
        self.asg.update_auto_scaling_group(
            AutoScalingGroupName="blue-hosts", MinSize=0, DesiredCapacity=0
        )


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
                            "green-fleet": "green"},
           "hostGroups": {"blue": "blue-hosts", "green": "green-hosts"}}  # fmt: skip


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


def test_blue_hosts_lost_fails_over_to_green_and_blue_comes_back(moto, front_door, tmp_path):
    url, route = front_door
    world = blue_green_world()
    hosts = BlueHosts()

    seen = {"failed_over": False}

    def route53(_seconds: float) -> None:
        if hosts.terminated():
            seen["failed_over"] = True  # blue's load balancer has no healthy target

    def answer() -> str:
        # Green while blue is down; blue again once the rollback saw its new hosts and tasks.
        return "green" if seen["failed_over"] and environment_loss.HOSTS else "blue"

    route["to"] = answer
    code, log, journal = run(url, route53, tmp_path)
    assert code == 0, log
    assert "failover budget: 3.0s" in log
    output = journal["run"][0]["output"]
    assert output == {"group": "blue-hosts", "terminatedInstances": hosts.original}
    after = journal["steady_states"]["after"]["probes"][0]
    assert after["tolerance_met"] is True  # green answered /version with blue's hosts gone
    assert f"GET {url}/version: environment green, as expected" in log
    assert journal["rollbacks"][0]["status"] == "succeeded", log
    assert journal["rollbacks"][0]["output"] == {"back": {"blue-hosts": 2}}
    assert answer() == "blue" and set(hosts.instance_ids()).isdisjoint(hosts.original)
    assert (desired(world, "blue"), desired(world, "blue-1box")) == (2, 1)  # never touched
    assert environment_loss.HOSTS == {}


def test_no_failover_within_the_budget_deviates(moto, front_door, tmp_path):
    url, route = front_door
    blue_green_world()
    BlueHosts()
    code, log, journal = run(url, lambda _s: None, tmp_path)  # Route 53 never switches
    assert code == 1, log
    assert "outcome: deviated" in log
    assert "environment blue after 3s, expected environment green" in log
    assert journal["rollbacks"][0]["status"] == "succeeded"
    assert route["to"] == "blue"


def test_blue_not_coming_back_fails_the_rollback(moto, front_door, tmp_path):
    url, route = front_door
    blue_green_world()
    hosts = BlueHosts()

    def hosts_never_replaced(_seconds: float) -> None:
        if hosts.terminated() and route["to"] == "blue":
            route["to"] = "green"
            hosts.never_replaced()

    _, log, journal = run(url, hosts_never_replaced, tmp_path)
    assert journal["rollbacks"][0]["status"] == "failed", log
    assert "blue-hosts: 0 of 2 new hosts InService" in log
    environment_loss.HOSTS.clear()


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
    assert environment_loss.HOSTS == {}


def test_the_experiment_validates_and_the_budget_comes_from_the_resilience_model():
    _, experiment = load_experiment("environment-loss")
    validate_experiment(experiment)
    prod = environment_failover_seconds("prod")
    assert 0 < prod < 3600
    with pytest.raises(NoFailover, match="no Route 53 failover records"):
        environment_failover_seconds("dev")
