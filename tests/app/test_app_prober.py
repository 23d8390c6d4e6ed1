"""The connectivity prober against a real moto_server: metrics, a dependency going down and
coming back, and the retry path while CloudWatch is unreachable."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_support import (
    Process,
    TcpListener,
    clean_env,
    cloudwatch,
    free_port,
    spawn,
    start_moto,
    wait_for,
)


def series(
    client: Any, namespace: str, metric: str, host: str, since: dt.datetime
) -> list[tuple[dt.datetime, float]]:
    """``metric``'s datapoints since ``since``, oldest first (moto answers 1-second periods)."""
    answer = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "Host", "Value": host}],
                    },
                    "Period": 1,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=since - dt.timedelta(seconds=1),
        EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
        ScanBy="TimestampAscending",
    )
    result = answer["MetricDataResults"][0]
    return [
        (stamp, value)
        for stamp, value in zip(result["Timestamps"], result["Values"], strict=True)
        if stamp >= since.replace(microsecond=0)
    ]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def names() -> tuple[str, str]:
    """A namespace and Host value of this test's own, so tests never see each other's data."""
    suffix = uuid.uuid4().hex[:8]
    return f"steadystate-test-{suffix}", f"blue-fleet-{suffix}"


def test_publishes_each_dependency_with_host_dimension(
    moto: Process,
    start_prober: Callable[..., Process],
    tcp_listener: TcpListener,
    names: tuple[str, str],
) -> None:
    namespace, host = names
    client = cloudwatch(moto.port)
    since = now()
    start_prober(
        moto.port,
        PROBE_TARGETS=(
            f"db=tcp://127.0.0.1:{tcp_listener.port},"
            f"cache=127.0.0.1:{free_port()},"
            f"cdn=http://127.0.0.1:{moto.port}/moto-api/"
        ),
        PROBE_NAMESPACE=namespace,
        PROBE_HOST_DIMENSION=host,
    )

    def listed() -> list[dict[str, Any]]:
        metrics = client.list_metrics(Namespace=namespace)["Metrics"]
        return metrics if len(metrics) == 4 else []

    metrics = wait_for(listed, 10, "four metrics in ListMetrics")
    assert sorted(m["MetricName"] for m in metrics) == [
        "all-connectivity",
        "cache-connectivity",
        "cdn-connectivity",
        "db-connectivity",
    ]
    assert all(m["Dimensions"] == [{"Name": "Host", "Value": host}] for m in metrics)
    latest = {
        name: series(client, namespace, f"{name}-connectivity", host, since)[-1][1]
        for name in ("db", "cache", "cdn", "all")
    }
    assert latest == {"db": 1.0, "cache": 0.0, "cdn": 1.0, "all": 0.0}
    stats = client.get_metric_statistics(
        Namespace=namespace,
        MetricName="db-connectivity",
        Dimensions=[{"Name": "Host", "Value": host}],
        StartTime=since - dt.timedelta(minutes=1),
        EndTime=now() + dt.timedelta(minutes=1),
        Period=60,
        Statistics=["Minimum"],
        Unit="Count",
    )
    assert stats["Datapoints"], "published with Unit=Count"


def test_dependency_down_then_back_shows_within_an_interval(
    moto: Process,
    start_prober: Callable[..., Process],
    tcp_listener: TcpListener,
    names: tuple[str, str],
) -> None:
    namespace, host = names
    client = cloudwatch(moto.port)
    prober = start_prober(
        moto.port,
        PROBE_TARGETS=f"db=tcp://127.0.0.1:{tcp_listener.port}",
        PROBE_NAMESPACE=namespace,
        PROBE_HOST_DIMENSION=host,
    )

    def values_since(moment: dt.datetime, metric: str = "db") -> Callable[[], list[float]]:
        name = f"{metric}-connectivity"
        return lambda: [v for _, v in series(client, namespace, name, host, moment)]

    assert 1.0 in wait_for(values_since(now()), 10, "db-connectivity = 1")

    tcp_listener.down()
    went_down = now()
    # The first cycle that starts after the outage reports it: interval 1 s, so within ~2 s.
    after_outage = went_down + dt.timedelta(seconds=1)
    assert wait_for(values_since(after_outage), 5, "a datapoint after")[0] == 0.0
    assert wait_for(values_since(after_outage, "all"), 5, "an aggregate after")[0] == 0.0

    tcp_listener.up()
    came_back = now()
    after_recovery = came_back + dt.timedelta(seconds=1)
    assert wait_for(values_since(after_recovery), 5, "a datapoint after")[0] == 1.0
    assert wait_for(values_since(after_recovery, "all"), 5, "an aggregate after")[0] == 1.0

    logged = [r["message"] for r in prober.log_records() if r.get("dependency") == "db"]
    assert [m for m in logged if m.startswith("dependency is")] == [
        "dependency is up",
        "dependency is down",
        "dependency is up",
    ]


def test_retries_while_cloudwatch_is_unreachable_then_recovers(
    start_prober: Callable[..., Process],
    tcp_listener: TcpListener,
    names: tuple[str, str],
    tmp_path: Path,
) -> None:
    namespace, host = names
    late_port = free_port()  # moto_server will start here only later
    prober = start_prober(
        late_port,
        PROBE_TARGETS=f"db=127.0.0.1:{tcp_listener.port}",
        PROBE_NAMESPACE=namespace,
        PROBE_HOST_DIMENSION=host,
        PROBE_INTERVAL_SECONDS="2",
        PROBE_PUBLISH_ATTEMPTS="3",
    )

    def gave_up_once() -> list[dict[str, Any]]:
        records = prober.log_records()
        return (
            records if any(r["message"] == "dropping this cycle's metrics" for r in records) else []
        )

    records = wait_for(gave_up_once, 10, "the prober to give up on one cycle")
    failures = [r for r in records if r["message"] == "PutMetricData failed"]
    assert [r["attempt"] for r in failures[:3]] == [1, 2, 3]
    assert [r["retry_in_s"] for r in failures[:3]] == [0.5, 1.0, None]  # bounded backoff
    assert "Could not connect" in failures[0]["error"]

    moto = start_moto(late_port, tmp_path / "late-moto.log")
    try:
        client = cloudwatch(late_port)
        wait_for(
            lambda: client.list_metrics(Namespace=namespace)["Metrics"],
            10,
            "metrics once CloudWatch is back",
        )
        assert prober.popen.poll() is None, "the loop survived the outage"
    finally:
        moto.stop()


def test_sigterm_stops_the_prober_cleanly(
    moto: Process, start_prober: Callable[..., Process], tcp_listener: TcpListener
) -> None:
    prober = start_prober(
        moto.port, PROBE_TARGETS=f"db=127.0.0.1:{tcp_listener.port}", PROBE_HOST_DIMENSION="dev"
    )
    assert prober.stop(timeout=5) == 0
    assert prober.log_records()[-1]["message"] == "prober stopped"


@pytest.mark.parametrize(
    "env",
    [
        {"PROBE_TARGETS": ""},
        {"PROBE_TARGETS": "db=ftp://host:21", "PROBE_HOST_DIMENSION": "dev"},
        {
            "PROBE_TARGETS": "db=host:1",
            "PROBE_HOST_DIMENSION": "dev",
            "PROBE_TIMEOUT_SECONDS": "20",
        },
        {"PROBE_TARGETS": "db=host:1"},
        {"PROBE_TARGETS": "all=host:1", "PROBE_HOST_DIMENSION": "dev"},
    ],
    ids=["no-targets", "bad-scheme", "timeout-over-interval", "no-host-dimension", "reserved"],
)
def test_bad_configuration_stops_start_up(env: dict[str, str], tmp_path: Path) -> None:
    process = spawn(
        [sys.executable, "-m", "steadystate_app.prober"],
        clean_env(AWS_REGION="us-east-1", **env),
        tmp_path / "prober.log",
    )
    assert process.popen.wait(10) == 2
    assert "refusing to start" in process.log_records()[-1]["message"]
