"""Fast scale-out's metric: the prober measures the task's CPU from the task metadata endpoint
(served here by a loopback stand-in that reports a real process's CPU time) and publishes it at
high resolution to moto_server in the same call as its connectivity metrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from app_support import Process, TcpListener, cloudwatch, wait_for
from steadystate_app.settings import SettingsError, prober_settings
from steadystate_app.task_cpu import METRIC_NAME, TaskCpuSampler, total_cpu_ns

TICKS = os.sysconf("SC_CLK_TCK")


def _stats(used_ns: int | None) -> dict[str, Any]:
    container = None if used_ns is None else {"cpu_stats": {"cpu_usage": {"total_usage": used_ns}}}
    return {"c1": container, "c2": {"cpu_stats": {"cpu_usage": {"total_usage": 0}}}}


def _sampler(readings: list[Any], times: list[int], units: int = 512) -> TaskCpuSampler:
    def fetch(url: str, timeout: float) -> Any:
        reading = readings.pop(0)
        if isinstance(reading, Exception):
            raise reading
        return reading

    return TaskCpuSampler("http://meta", units, fetch=fetch, clock=lambda: times.pop(0))


def test_utilisation_is_cpu_time_over_wall_time_over_reserved_vcpus() -> None:
    # 0.25 s of CPU in 1 s of wall time on a 512-unit (0.5 vCPU) task: 50 %.
    sampler = _sampler([_stats(10**9), _stats(10**9 + 250_000_000)], [0, 10**9])
    assert asyncio.run(sampler.sample()) is None  # no baseline yet
    assert asyncio.run(sampler.sample()) == 50.0


def test_a_restarted_container_or_an_unreachable_endpoint_gives_no_sample() -> None:
    sampler = _sampler(
        [
            _stats(5 * 10**9),
            _stats(10**9),
            OSError("refused"),
            _stats(2 * 10**9),
            _stats(3 * 10**9),
        ],
        [0, 10**9, 2 * 10**9, 3 * 10**9, 4 * 10**9],
        units=1024,
    )
    assert asyncio.run(sampler.sample()) is None
    assert asyncio.run(sampler.sample()) is None  # counter went backwards: a container restarted
    assert asyncio.run(sampler.sample()) is None  # endpoint down: baseline dropped
    assert asyncio.run(sampler.sample()) is None  # new baseline
    assert asyncio.run(sampler.sample()) == 100.0


def test_stopped_containers_count_nothing() -> None:
    assert total_cpu_ns(_stats(None)) == 0
    assert total_cpu_ns(_stats(7)) == 7


def test_the_metric_needs_the_task_cpu() -> None:
    base = {"PROBE_TARGETS": "db=tcp://127.0.0.1:5432", "PROBE_HOST_DIMENSION": "blue"}
    assert prober_settings(base).scaling_dimension is None
    with pytest.raises(SettingsError, match="set TASK_CPU_UNITS"):
        prober_settings({**base, "SCALING_METRIC_DIMENSION": "blue-fleet"})
    with pytest.raises(SettingsError, match="TASK_CPU_UNITS=64 is outside"):
        prober_settings({**base, "SCALING_METRIC_DIMENSION": "blue-fleet", "TASK_CPU_UNITS": "64"})
    s = prober_settings(
        {
            **base,
            "SCALING_METRIC_DIMENSION": "blue-fleet",
            "TASK_CPU_UNITS": "512",
            "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/abc",
        }
    )
    assert (s.scaling_dimension, s.task_cpu_units, s.metadata_uri) == (
        "blue-fleet",
        512,
        "http://169.254.170.2/v4/abc",
    )


def _cpu_ns(pid: int) -> int:
    """utime + stime of `pid` from /proc, in nanoseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 10**9 // TICKS


@pytest.fixture
def metadata_endpoint() -> Iterator[Callable[[int], str]]:
    """A task metadata endpoint stand-in reporting the CPU time of one real process."""
    servers: list[ThreadingHTTPServer] = []

    def serve(pid: int) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/v4/task/stats":
                    self.send_error(404)
                    return
                body = json.dumps(_stats(_cpu_ns(pid))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v4"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    """A process that keeps one core busy for at most 60 s."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 60\nwhile time.time() < end: pass"]
    )
    yield child
    child.kill()
    child.wait(timeout=10)


@pytest.mark.slow
def test_a_busy_task_reads_as_busy_and_an_idle_one_as_idle(
    metadata_endpoint: Callable[[int], str], busy: subprocess.Popen[bytes]
) -> None:
    idle = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
    )
    try:
        # Baseline only once the interpreter has started: its start-up is CPU, not idleness.
        assert idle.stdout is not None and idle.stdout.readline() == b"ready\n"
        hot = TaskCpuSampler(metadata_endpoint(busy.pid), 1024)
        cold = TaskCpuSampler(metadata_endpoint(idle.pid), 1024)
        for sampler in (hot, cold):
            assert asyncio.run(sampler.sample()) is None
        asyncio.run(asyncio.sleep(1.5))
        hot_percent, cold_percent = asyncio.run(hot.sample()), asyncio.run(cold.sample())
    finally:
        idle.kill()
        idle.wait(timeout=10)
    assert hot_percent is not None and cold_percent is not None
    # One busy core on a 1024-unit task is about 100 %; two shared cores make it noisy, not idle.
    assert 30 < hot_percent < 150, hot_percent
    assert cold_percent < 10, cold_percent


@pytest.mark.slow
def test_the_prober_publishes_task_cpu_at_high_resolution(
    moto: Process,
    start_prober: Callable[..., Process],
    tcp_listener: TcpListener,
    metadata_endpoint: Callable[[int], str],
    busy: subprocess.Popen[bytes],
) -> None:
    namespace, service = f"steadystate-test-{uuid.uuid4().hex[:8]}", "blue-fleet"
    client = cloudwatch(moto.port)
    since = dt.datetime.now(dt.UTC)
    start_prober(
        moto.port,
        PROBE_TARGETS=f"db=tcp://127.0.0.1:{tcp_listener.port}",
        PROBE_NAMESPACE=namespace,
        PROBE_HOST_DIMENSION="blue",
        SCALING_METRIC_DIMENSION=service,
        TASK_CPU_UNITS="1024",
        ECS_CONTAINER_METADATA_URI_V4=metadata_endpoint(busy.pid),
    )

    def published() -> list[float]:
        answer = client.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "cpu",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": METRIC_NAME,
                            "Dimensions": [{"Name": "Service", "Value": service}],
                        },
                        "Period": 1,
                        "Stat": "Maximum",
                        "Unit": "Percent",
                    },
                }
            ],
            StartTime=since - dt.timedelta(seconds=1),
            EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
        )
        return list(answer["MetricDataResults"][0]["Values"])

    values = wait_for(published, 15, "task-cpu-utilization datapoints")
    assert max(values) > 30, values
    names = {m["MetricName"] for m in client.list_metrics(Namespace=namespace)["Metrics"]}
    assert names == {METRIC_NAME, "db-connectivity", "all-connectivity"}
