"""Fixtures for the chaos tests: in-process moto with an ECS cluster the test plays (see
``tests/chaos/moto_world.py``), a fake clock, and a local HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from chaos import actions as chaos_actions
from chaos import bad_release, dependency_blackhole
from chaos import journals as chaos_journals
from chaos import load as chaos_load
from tests.chaos.moto_world import (
    EcsWorld,
    FakeTime,
    Handler,
    fake_aws_env,
    make_world,
    moto_sandbox,
)


@pytest.fixture(autouse=True)
def no_chaos_state_between_tests() -> Iterator[None]:
    """chaos.load and chaos.actions keep a run's state in the module: none leaks between tests."""
    yield
    chaos_load.stop_load()
    chaos_load.reset()
    chaos_actions.TERMINATED.clear()
    dependency_blackhole.RUNNING.clear()
    bad_release.SEEN.clear()
    bad_release.RELEASED.clear()
    bad_release.ALARMED.clear()


@pytest.fixture(autouse=True)
def journals_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """``chaos.run`` keeps every journal: in the tests, never in the checkout's chaos/journals."""
    directory = tmp_path_factory.mktemp("journals")
    monkeypatch.setattr(chaos_journals, "JOURNAL_DIR", directory)
    return directory


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_aws_env(monkeypatch)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_sandbox(monkeypatch):
        yield


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def world(moto: None) -> EcsWorld:
    """Three RUNNING tasks of service ``web`` spread over two hosts."""
    return make_world()


@pytest.fixture
def server() -> Iterator[tuple[str, type[Handler]]]:
    handler = type("ScriptedHandler", (Handler,), {"statuses": [200], "paths": [], "fixed": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", handler
    httpd.shutdown()
    httpd.server_close()
