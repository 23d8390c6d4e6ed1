"""The bake's load generator and the post-``up`` smoke test against a real HTTP server on loopback."""

from __future__ import annotations

import socket

import pytest

from ops.release.load import BackgroundLoad, check_bounds, generate_load
from ops.release.smoke import smoke_test
from tests.ops.release.local_service import LocalService, serving


def test_load_sends_at_most_rate_times_seconds_and_counts_answers():
    with serving(LocalService(["v1"], api_status=200)) as svc:
        result = generate_load(svc.url, rate=40, seconds=0.5)
    assert result.planned == 20
    assert 1 <= result.sent <= 20 and svc.hits["/api"] == result.sent
    assert result.statuses == {200: result.sent} and not result.failures
    assert result.to_json()["url"] == f"{svc.url}/api"


def test_load_counts_server_errors_and_unanswered_requests():
    with serving(LocalService(["v1"], api_status=503)) as svc:
        result = generate_load(svc.url, rate=50, seconds=0.2)
    assert result.server_errors == result.sent > 0
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    lost = generate_load(f"http://127.0.0.1:{port}", rate=20, seconds=0.2, timeout=1)
    assert lost.answered == 0 and sum(lost.failures.values()) == lost.sent > 0


def test_background_load_runs_beside_the_bake_and_stops_when_told():
    with serving(LocalService(["v1"])) as svc:
        load = BackgroundLoad(svc.url, rate=50, seconds=60).start()
        while svc.hits["/api"] < 5:
            pass
        result = load.finish()
    assert 5 <= result.sent < result.planned == 3000  # stopped long before its 60 s


@pytest.mark.parametrize(
    ("rate", "seconds", "message"),
    [(0, 10, "--load-rate must be above 0"), (500, 10, "at most 200"), (5, 7200, "--load-seconds")],
)
def test_load_flags_are_bounded(rate, seconds, message):
    assert message in (check_bounds(rate, seconds) or "")
    with pytest.raises(ValueError, match=message):
        generate_load("http://127.0.0.1:1", rate=rate, seconds=seconds)


def test_smoke_after_a_fleet_up_needs_every_answer_on_the_new_version():
    with serving(LocalService(["v2"])) as svc:
        result = smoke_test(svc.url, "v2", every=True)
    assert result.ok and result.versions == {"v2": 20}
    with serving(LocalService(["v2", "v2", "v1"])) as svc:
        result = smoke_test(svc.url, "v2", every=True)
    assert not result.ok and result.reason.endswith("reports 'v1', expected v2")


def test_smoke_after_a_onebox_up_samples_until_the_onebox_answers():
    with serving(LocalService(["v1"] * 99 + ["v2"])) as svc:  # a 1 % listener weight
        result = smoke_test(svc.url, "v2", every=False, also_allowed=["v1"])
    assert result.ok and result.versions == {"v1": 99, "v2": 1}
    with serving(LocalService(["v1"])) as svc:
        result = smoke_test(svc.url, "v2", every=False, also_allowed=["v1"], samples=50)
    assert not result.ok and "never reported 'v2' in 50 requests" in result.reason
    with serving(LocalService(["v1", "v0"])) as svc:
        result = smoke_test(svc.url, "v2", every=False, also_allowed=["v1"])
    assert not result.ok and "reports 'v0', expected v1 or v2" in result.reason


def test_smoke_fails_on_an_unhealthy_service():
    sleeps: list[float] = []
    with serving(LocalService(["v2"], health=503)) as svc:
        result = smoke_test(svc.url, "v2", every=True, health_attempts=3, sleep=sleeps.append)
    assert not result.ok and result.reason == f"{svc.url}/health HTTP 503 after 3 tries"
    assert sleeps == [2.0, 2.0]
