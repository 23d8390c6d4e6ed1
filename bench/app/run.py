"""``make bench``: the app against a replica of the autoscaling tutorial's serving stack (nginx ->
uwsgi -> Flask), on this machine, under the same wrk load, with two workers each; plus the servers
considered for the app and nginx serving a fixed body as the machine's ceiling.

Every target is started here on 127.0.0.1, checked to answer the expected JSON, warmed up, measured
for a bounded time, and stopped. Figures go to build/bench/app.json and build/bench/app.md, never a
tracked file; bench/results/ keeps a reference run, replaced by hand when a change is meant to move
it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
APP_DIR = ROOT / "app"
RESULTS = ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
WORKERS = 2
TARGET_RATIO = 3.0
CEILING_BODY = '{"status":"OK"}'


@dataclass
class Measurement:
    """One wrk run: throughput, latency percentiles, and anything that was not a 2xx answer."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class Result:
    """A target's rounds and their medians (each figure's median taken on its own)."""

    name: str
    stack: str
    rounds: list[Measurement]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> Measurement:
        def mid(values: list[float]) -> float:
            return round(statistics.median(values), 3)

        return Measurement(
            requests_per_s=mid([m.requests_per_s for m in self.rounds]),
            p50_ms=mid([m.p50_ms for m in self.rounds]),
            p99_ms=mid([m.p99_ms for m in self.rounds]),
            requests=sum(m.requests for m in self.rounds),
            errors=sum(m.errors for m in self.rounds),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_tool(name: str) -> str:
    """``name`` on PATH, in /usr/sbin (nginx, for non-root users) or beside this Python."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", str(BIN)])
    found = shutil.which(name, path=search)
    if found is None:
        hint = {
            "wrk": "apt-get install wrk",
            "nginx": "apt-get install nginx-light",
            "uwsgi": "pip install -r bench/app/requirements.txt",
        }[name]
        sys.exit(f"bench: {name} not found ({hint})")
    return found


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def is_api_payload(body: bytes) -> bool:
    """The autoscaling tutorial's /api contract: keys "0".."51", each a single ASCII letter."""
    payload = json.loads(body)
    return sorted(payload, key=int) == [str(i) for i in range(52)] and all(
        len(v) == 1 and v in string.ascii_letters for v in payload.values()
    )


class Processes:
    """Child processes in their own sessions, all stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            self.started.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def stop_all(self) -> None:
        for process in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.started.clear()


def app_env(**extra: str) -> dict[str, str]:
    """This environment without the app's settings (no faults, no dependencies)."""
    prefixes = ("APP_", "FAULT_", "DB_", "DATABASE_", "READY_", "PROBE_", "GRANIAN_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PYTHONPATH=str(APP_DIR), HOST="127.0.0.1", **extra)
    return env


def nginx_conf(tmp: Path, port: int, location: str) -> Path:
    """A self-contained nginx.conf under ``tmp``: two workers, no access log, daemon off."""
    conf = tmp / f"nginx-{port}.conf"
    conf.write_text(
        f"""
worker_processes {WORKERS};
daemon off;
pid {tmp}/nginx-{port}.pid;
error_log {tmp}/nginx-{port}-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ {location} }}
    }}
}}
"""
    )
    return conf


def start_seed(procs: Processes, tmp: Path, port: int) -> None:
    """The autoscaling tutorial's stack: nginx → uwsgi (unix socket, 2 processes) → Flask, as in its image."""
    sock = tmp / "uwsgi.sock"
    procs.start(
        "seed-uwsgi",
        [
            find_tool("uwsgi"),
            "--master",
            f"--processes={WORKERS}",
            f"--socket={sock}",
            "--chmod-socket=666",  # nginx's workers run as another user when started by root
            f"--virtualenv={sys.prefix}",
            f"--chdir={HERE}",
            "--wsgi-file=seed_app.py",
            "--callable=app",
            "--need-app",
            "--die-on-term",
            "--disable-logging",
        ],
    )
    location = f"include /etc/nginx/uwsgi_params; uwsgi_pass unix:{sock};"
    procs.start("seed-nginx", [find_tool("nginx"), "-c", str(nginx_conf(tmp, port, location))])


def start_ceiling(procs: Processes, tmp: Path, port: int) -> None:
    location = f"default_type application/json; return 200 '{CEILING_BODY}';"
    procs.start("ceiling-nginx", [find_tool("nginx"), "-c", str(nginx_conf(tmp, port, location))])


def start_command(name: str, command: Callable[[int], list[str]]) -> Callable[..., None]:
    def start(procs: Processes, tmp: Path, port: int) -> None:
        procs.start(name, command(port), app_env(PORT=str(port), WORKERS=str(WORKERS)))

    return start


PY = sys.executable
APP_TARGET = "steadystate_app.asgi:create_app"

# name -> (what it is, how to start it on a port, packages whose versions to record)
TARGETS: dict[str, tuple[str, Callable[..., None], tuple[str, ...]]] = {
    "nginx-ceiling": ("nginx returning a fixed JSON body", start_ceiling, ()),
    "seed-001": (
        "nginx → uwsgi → Flask (the autoscaling tutorial's stack)",
        start_seed,
        ("flask", "uwsgi"),
    ),
    "app": (
        "python -m steadystate_app.server: Granian, asyncio loop (the image's command)",
        start_command("app", lambda port: [PY, "-m", "steadystate_app.server"]),
        ("granian",),
    ),
    "granian-uvloop": (
        "Granian with uvloop",
        start_command(
            "granian-uvloop",
            lambda port: [
                *(str(BIN / "granian"), "--interface", "asgi", "--factory", "--no-ws"),
                *("--loop", "uvloop", "--workers", str(WORKERS), "--log-level", "warning"),
                *("--host", "127.0.0.1", "--port", str(port), APP_TARGET),
            ],
        ),
        ("granian", "uvloop"),
    ),
    "uvicorn": (
        "uvicorn --workers 2 with uvloop and httptools",
        start_command(
            "uvicorn",
            lambda port: [
                *(PY, "-m", "uvicorn", APP_TARGET, "--factory", "--workers", str(WORKERS)),
                *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
                *("--log-level", "warning", "--host", "127.0.0.1", "--port", str(port)),
            ],
        ),
        ("uvicorn", "uvloop", "httptools"),
    ),
    "gunicorn-uvicorn": (
        "gunicorn -w 2 with uvicorn workers (uvloop, httptools)",
        start_command(
            "gunicorn-uvicorn",
            lambda port: [
                *(PY, "-m", "gunicorn", f"{APP_TARGET}()", "-k", "uvicorn_worker.UvicornWorker"),
                *("-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level", "warning"),
            ],
        ),
        ("gunicorn", "uvicorn-worker", "uvicorn"),
    ),
}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> Measurement:
    """Requests/s, p50 and p99 (ms), request count and errors from ``wrk --latency`` output."""

    def number(pattern: str) -> float:
        match = re.search(pattern, text, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{text}")
        return float(match.group(1))

    def percentile(which: int) -> float:
        match = re.search(rf"^\s*{which}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output without p{which}:\n{text}")
        return float(match.group(1)) * _UNITS[match.group(2)]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return Measurement(
        requests_per_s=number(r"^Requests/sec:\s+([\d.]+)"),
        p50_ms=round(percentile(50), 3),
        p99_ms=round(percentile(99), 3),
        requests=int(number(r"^\s*(\d+) requests in")),
        errors=errors,
    )


def wrk(url: str, args: argparse.Namespace, seconds: int) -> str:
    command = [
        *(find_tool("wrk"), "--latency", "-t", str(args.threads), "-c", str(args.connections)),
        *("-d", f"{seconds}s", "--timeout", "5s", url),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def measure(name: str, args: argparse.Namespace, tmp: Path) -> Measurement:
    """Start ``name``, check its payload, warm it up, run wrk once, stop it."""
    _, start, _ = TARGETS[name]
    port = free_port()
    procs = Processes(tmp)
    path = "/" if name == "nginx-ceiling" else "/api"
    try:
        start(procs, tmp, port)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                status, body = get(port, path)
                if status == 200:
                    break
            if time.monotonic() > deadline:
                sys.exit(f"bench: {name} did not answer on port {port}; logs in {tmp}")
            time.sleep(0.2)
        expected = (
            body == CEILING_BODY.encode() if name == "nginx-ceiling" else is_api_payload(body)
        )
        if not expected:
            sys.exit(f"bench: {name} answered {body[:80]!r}, not the expected payload")
        url = f"http://127.0.0.1:{port}{path}"
        wrk(url, args, args.warmup)
        measurement = parse_wrk(wrk(url, args, args.duration))
    finally:
        procs.stop_all()
    print(
        f"{name:18} {measurement.requests_per_s:>10,.0f} req/s  p50 {measurement.p50_ms:7.2f} ms"
        f"  p99 {measurement.p99_ms:7.2f} ms  errors {measurement.errors}",
        flush=True,
    )
    return measurement


def tool_version(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    return (result.stdout + result.stderr).strip().splitlines()[0]


def report(results: dict[str, Result], args: argparse.Namespace) -> dict[str, Any]:
    seed, app = results["seed-001"].median, results["app"].median
    ratio = round(app.requests_per_s / seed.requests_per_s, 2)
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "nginx": tool_version([find_tool("nginx"), "-v"]),
            "wrk": tool_version([find_tool("wrk"), "--version"]),
        },
        "load": {
            "path": "/api (the ceiling: /)",
            "workers_per_server": WORKERS,
            "wrk_threads": args.threads,
            "connections": args.connections,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "rounds": args.rounds,
        },
        "summary": {
            "app_vs_seed_requests_per_s": ratio,
            "app_p99_ms": app.p99_ms,
            "seed_p99_ms": seed.p99_ms,
            "target": f">= {TARGET_RATIO}x the tutorial stack's requests/s with p99 no worse",
            "target_met": ratio >= TARGET_RATIO and app.p99_ms <= seed.p99_ms,
            "app_share_of_ceiling": round(
                app.requests_per_s / results["nginx-ceiling"].median.requests_per_s, 2
            ),
        },
        "results": {
            name: {"median": asdict(result.median), **asdict(result)}
            for name, result in results.items()
        },
    }


def markdown(data: dict[str, Any]) -> str:
    summary, load = data["summary"], data["load"]
    lines = [
        "# App benchmark (`make bench`)",
        "",
        f"{data['generated_at']} · {data['machine']['cpus']} CPUs · {data['machine']['wrk']} · "
        f"{data['machine']['nginx']} · Python {data['machine']['python']}",
        "",
        f"wrk: {load['wrk_threads']} thread(s), {load['connections']} connections, "
        f"{load['warmup_s']:g} s warm-up then {load['duration_s']:g} s, `GET /api`; "
        f"{load['workers_per_server']} workers per server; {load['rounds']} interleaved rounds, "
        "medians shown.",
        "",
        "| target | stack | requests/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, result in data["results"].items():
        m = result["median"]
        lines.append(
            f"| {name} | {result['stack']} | {m['requests_per_s']:,.0f} | {m['p50_ms']:.2f} "
            f"| {m['p99_ms']:.2f} | {m['errors']} |"
        )
    verdict = "met" if summary["target_met"] else "NOT met"
    lines += [
        "",
        f"**app / the autoscaling tutorial's stack: {summary['app_vs_seed_requests_per_s']}x requests/s; p99 "
        f"{summary['app_p99_ms']:.2f} ms vs {summary['seed_p99_ms']:.2f} ms** "
        f"(target {summary['target']}: {verdict}). The app reaches "
        f"{summary['app_share_of_ceiling']:.0%} of nginx's fixed-body ceiling.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    parser.add_argument("--only", nargs="*", choices=list(TARGETS), help="measure only these")
    args = parser.parse_args()
    names = args.only or list(TARGETS)
    with tempfile.TemporaryDirectory(prefix="steadystate-bench-") as tmp:
        Path(tmp).chmod(0o755)  # nginx's workers (another user under root) reach the socket
        rounds: dict[str, list[Measurement]] = {name: [] for name in names}
        for number in range(1, args.rounds + 1):
            print(f"round {number}/{args.rounds}", flush=True)
            for name in names:
                rounds[name].append(measure(name, args, Path(tmp)))
    results = {
        name: Result(
            name, TARGETS[name][0], measured, {pkg: version(pkg) for pkg in TARGETS[name][2]}
        )
        for name, measured in rounds.items()
    }
    if not {"seed-001", "app", "nginx-ceiling"} <= results.keys():
        return 0  # a partial run (--only) is printed, not recorded
    data = report(results, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "app.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / "app.md").write_text(markdown(data))
    print(markdown(data).split("\n\n")[-1].strip())
    print(f"written: {RESULTS / 'app.json'}, {RESULTS / 'app.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
