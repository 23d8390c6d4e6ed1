"""chaos.probes against moto (service_is_steady) and a local http.server (http_ok)."""

from __future__ import annotations

import pytest

from chaos.probes import NotSteady, http_ok, service_is_steady, service_state


# -- service_is_steady -----------------------------------------------------------------------------
def test_a_whole_service_is_steady_at_once(world, fake_time):
    steady = service_is_steady(
        world.cluster, world.service, timeout=60, ecs=world.ecs, clock=fake_time.clock,
        sleep=fake_time.sleep,
    )  # fmt: skip
    assert steady is True
    assert fake_time.slept == []


def test_a_missing_task_is_not_steady_until_ecs_replaces_it(world, fake_time):
    stopped = world.running()[0]
    world.ecs.stop_task(cluster=world.cluster, task=stopped, reason="test")
    state = service_state(world.ecs, world.cluster, world.service)
    assert not state.ok
    assert state.reason == "2 RUNNING task(s) on ACTIVE, connected hosts for desiredCount 3"

    fake_time.at(30, lambda: world.start_tasks(1))  # the test plays the ECS scheduler
    steady = service_is_steady(
        world.cluster, world.service, timeout=120, interval=10, ecs=world.ecs,
        clock=fake_time.clock, sleep=fake_time.sleep,
    )  # fmt: skip
    assert steady is True
    assert fake_time.now == 30  # polled at 0, 10, 20, 30: steady on the poll after the hook


def test_no_replacement_within_the_timeout_is_false_or_raises_with_the_reason(world, fake_time):
    world.ecs.stop_task(cluster=world.cluster, task=world.running()[0], reason="test")
    kwargs = dict(timeout=25, interval=10, ecs=world.ecs, clock=fake_time.clock)
    assert service_is_steady(world.cluster, world.service, sleep=fake_time.sleep, **kwargs) is False
    assert fake_time.slept == [10, 10, 5]  # never sleeps past the deadline
    with pytest.raises(NotSteady, match=r"not steady after 25s: 2 RUNNING task\(s\)"):
        service_is_steady(
            world.cluster, world.service, raise_on_failure=True, sleep=fake_time.sleep, **kwargs
        )


def test_tasks_of_another_service_do_not_count(world):
    world.ecs.stop_task(cluster=world.cluster, task=world.running()[0], reason="test")
    world.start_tasks(
        2, service="other"
    )  # moto's list_tasks ignores serviceName: the probe must not
    assert not service_state(world.ecs, world.cluster, world.service).ok


def test_tasks_on_a_lost_host_do_not_count_until_replaced_elsewhere(world, fake_time):
    lost = world.hosts[0]
    on_lost = len(world.ecs.list_tasks(cluster=world.cluster, containerInstance=lost)["taskArns"])
    assert on_lost == 2  # round-robin over two hosts: tasks 0 and 2
    world.lose_host(lost)  # moto leaves its tasks RUNNING; the probe looks at the host
    state = service_state(world.ecs, world.cluster, world.service)
    assert state.reason == (
        "1 RUNNING task(s) on ACTIVE, connected hosts for desiredCount 3 "
        "(2 more on a lost or draining host)"
    )
    new_host = world.add_host()
    fake_time.at(50, lambda: world.start_tasks(2, host=new_host))
    assert service_is_steady(
        world.cluster, world.service, timeout=300, interval=25, ecs=world.ecs,
        clock=fake_time.clock, sleep=fake_time.sleep,
    )  # fmt: skip
    assert fake_time.now == 50


def test_draining_host_and_inactive_service_and_missing_service_are_not_steady(world):
    world.ecs.update_container_instances_state(
        cluster=world.cluster, containerInstances=[world.hosts[1]], status="DRAINING"
    )
    assert "lost or draining" in service_state(world.ecs, world.cluster, world.service).reason
    missing = service_state(world.ecs, world.cluster, "nope")
    assert not missing.ok and "nope" in missing.reason and "MISSING" in missing.reason
    world.ecs.update_service(cluster=world.cluster, service=world.service, desiredCount=0)
    world.ecs.delete_service(cluster=world.cluster, service=world.service)
    assert "not ACTIVE" in service_state(world.ecs, world.cluster, world.service).reason


def test_counts_that_ecs_reports_short_are_not_steady(world):
    world.ecs.update_service(cluster=world.cluster, service=world.service, desiredCount=4)
    # moto sets runningCount = desiredCount, so the 3 tasks fall short of 4
    assert service_state(world.ecs, world.cluster, world.service).reason == (
        "3 RUNNING task(s) on ACTIVE, connected hosts for desiredCount 4"
    )


# -- http_ok ---------------------------------------------------------------------------------------
def test_http_ok_on_200(server):
    url, _ = server
    assert http_ok(f"{url}/health", timeout=2) is True


def test_http_ok_retries_within_the_window_until_200(server, fake_time):
    url, handler = server
    handler.statuses = [502, 503, 200]
    ok = http_ok(
        f"{url}/health", timeout=2, within=30, interval=5, clock=fake_time.clock,
        sleep=fake_time.sleep,
    )  # fmt: skip
    assert ok is True
    assert fake_time.slept == [5, 5]


def test_http_ok_false_on_5xx_and_raises_with_the_status(server, fake_time):
    url, handler = server
    handler.statuses = [503]
    assert http_ok(f"{url}/health", timeout=2) is False
    with pytest.raises(NotSteady, match=r"HTTP 503, expected HTTP 200"):
        http_ok(
            f"{url}/health", timeout=2, within=4, interval=3, raise_on_failure=True,
            clock=fake_time.clock, sleep=fake_time.sleep,
        )  # fmt: skip
    assert fake_time.slept == [3, 1]


def test_http_ok_false_when_nothing_listens():
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago, now closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert http_ok(f"http://127.0.0.1:{port}/health", timeout=1) is False


def test_http_ok_refuses_non_http_urls():
    with pytest.raises(ValueError, match="http"):
        http_ok("file:///etc/passwd")
