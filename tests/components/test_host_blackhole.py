"""``components/host_blackhole.sh`` run for real: rendered as SSM renders it, started with ``sh``
as aws:runShellScript starts it, with stub ``iptables``/``docker``/``getent`` on PATH
(``tests/components/blackhole_stubs.py``). Which rules it adds for which containers — by name
(the TLS server name and the HTTP Host header, whatever address the container resolved) and by
the addresses this host resolves —, that a re-resolved address and a new task's container get
rules too, that exactly its rules go at the end, on TERM and (through the detached reaper) after
a SIGKILL, that a kernel refusing the string match stops the run before any cut, and that bad
parameters are refused before anything changes. The name patterns are checked against what
Python's own TLS client and the prober's HTTP request put on the wire. Waits are on conditions
(rules present, a process gone), with a generous bound only so a broken script cannot hang the
suite."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components import host_blackhole
from tests.components import blackhole_stubs as stubs

ROOT = Path(__file__).resolve().parents[2]
HOST = "d1.cdn.example.net"
TAG = "steadystate-blackhole-d1_cdn_example_net"
BLUE = "steadystate-prod-blue-fleet,steadystate-prod-blue-1box"
FOREIGN = [
    "-A DOCKER-USER -s 172.17.0.9/32 -d 198.51.100.1/32 -m comment --comment other -j DROP",
    "-A DOCKER-USER -j RETURN",
]
WORLD: dict[str, Any] = {
    "host": HOST,
    # round 1 resolves one address; from round 2 the CDN hands out a second one
    "resolutions": [["203.0.113.10"], ["203.0.113.10", "203.0.113.11"]],
    # round 1: blue's fleet task (app + prober) and its onebox; from round 2 a replacement task
    "containers": [
        {
            "steadystate-prod-blue-fleet": [["c1" * 32, "172.17.0.2"], ["c2" * 32, "172.17.0.3"]],
            "steadystate-prod-blue-1box": [["c3" * 32, "172.17.0.4"]],
            "steadystate-prod-green-fleet": [["c4" * 32, "172.17.0.5"]],
        },
        {
            "steadystate-prod-blue-fleet": [
                ["c1" * 32, "172.17.0.2"],
                ["c2" * 32, "172.17.0.3"],
                ["c5" * 32, "172.17.0.6"],
            ],
            "steadystate-prod-blue-1box": [["c3" * 32, "172.17.0.4"]],
            "steadystate-prod-green-fleet": [["c4" * 32, "172.17.0.5"]],
        },
    ],
    "rules": FOREIGN,
}
BLUE_SOURCES = ("172.17.0.2", "172.17.0.3", "172.17.0.4", "172.17.0.6")
ADDRESSES = ("203.0.113.10", "203.0.113.11")
CUT = "sbh-" + hashlib.sha256(HOST.encode()).hexdigest()[:16]
JUMP = f"-A DOCKER-USER -m comment --comment {TAG} -j {CUT}"
SNI = '"|00 00 12|d1.cdn.example.net"'
HTTP_HOST = '"|0d 0a|host: d1.cdn.example.net"'


def name_rules(src: str) -> set[str]:
    return {
        f"-A {CUT} -s {src}/32 -p tcp -m string --algo bm --icase --hex-string {pattern} -j DROP"
        for pattern in (SNI, HTTP_HOST)
    }


def expected_rules() -> set[str]:
    by_address = {f"-A {CUT} -s {src}/32 -d {dst}/32 -j DROP" for src in BLUE_SOURCES
                  for dst in ADDRESSES}  # fmt: skip
    return by_address.union(*(name_rules(src) for src in BLUE_SOURCES))


def values(**change: str) -> dict[str, str]:
    base = {
        "Families": BLUE,
        "Host": HOST,
        "DurationSeconds": "60",
        "ResolveEverySeconds": "1",
    }
    return {**base, **change}


@pytest.fixture
def host(tmp_path: Path) -> Path:
    stubs.install(tmp_path, ROOT, WORLD)
    return tmp_path


def start(host: Path, params: dict[str, str], **env: str) -> subprocess.Popen[bytes]:
    script = host / "_script.sh"
    script.write_text(host_blackhole.render(host_blackhole.script(), params))
    environment = {
        **os.environ,
        "PATH": f"{host / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "BLACKHOLE_STUB_DIR": str(host),
        **env,
    }
    with (host / "stdout").open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            ["sh", str(script)], env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=host
        )


def wait_until(condition: Callable[[], bool], what: str, bound: float = 60) -> None:
    give_up = time.monotonic() + bound
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def reaper_pid(host: Path) -> int:
    wait_until(lambda: "reaper pid" in (host / "stdout").read_text(), "the reaper's pid")
    match = re.search(r"reaper pid (\d+)", (host / "stdout").read_text())
    assert match
    return int(match.group(1))


def added(host: Path) -> list[str]:
    return [" ".join(c[1:]) for c in stubs.calls(host) if c[0] == "iptables" and "-A" in c]


def ours(host: Path) -> set[str]:
    return set(stubs.rules(host, CUT))


def untouched(host: Path) -> bool:
    """DOCKER-USER as it was, and no chain of the run's left."""
    return stubs.chains(host) == {"DOCKER-USER": FOREIGN}


def hex_pattern(pattern: str) -> bytes:
    """iptables' ``--hex-string`` syntax (``|0d 0a|text``) to the bytes it matches."""
    parts = pattern.strip('"').split("|")
    return b"".join(
        bytes.fromhex(part) if odd else part.encode() for odd, part in
        ((i % 2 == 1, p) for i, p in enumerate(parts))
    )  # fmt: skip


def client_hello(server_name: str) -> bytes:
    """The first flight of Python's TLS client (the prober's) for ``server_name``."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_blue_containers_lose_the_host_by_name_and_by_address_then_a_term_removes_it(
    host: Path,
) -> None:
    proc = start(host, values())
    pid = reaper_pid(host)
    wait_until(lambda: ours(host) == expected_rules(), "name and address rules per blue source")
    # one jump from DOCKER-USER to the run's chain, above docker's RETURN; the rest untouched
    assert stubs.rules(host) == [JUMP, *FOREIGN]
    # green's container (172.17.0.5) was never cut
    assert not any("172.17.0.5" in r for r in ours(host))
    # each rule is added once
    assert len(added(host)) == len(expected_rules())
    # the containers are chosen by their task definition family label, blue's two families only
    filters = {c[-1] for c in stubs.calls(host) if c[:2] == ["docker", "ps"]}
    assert filters == {
        "label=com.amazonaws.ecs.task-definition-family=steadystate-prod-blue-fleet",
        "label=com.amazonaws.ecs.task-definition-family=steadystate-prod-blue-1box",
    }
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert untouched(host)
    out = (host / "stdout").read_text()
    assert f"removed chain {CUT}" in out and "removed 1 rule(s)" in out
    assert "stopped by signal" in out
    wait_until(lambda: not alive(pid), "the reaper killed with the run")


def test_the_name_rules_hold_whatever_the_host_resolves(tmp_path: Path) -> None:
    """A container resolves the CDN itself and may get an address this host never saw: the
    name rules do not depend on any answer, not even on the host resolving the name at all."""
    stubs.install(tmp_path, ROOT, {**WORLD, "resolutions": [[]]})
    proc = start(tmp_path, values())
    wait_until(
        lambda: ours(tmp_path) == set().union(*(name_rules(s) for s in BLUE_SOURCES)),
        "the name rules of every blue source",
    )
    assert not any(" -d " in r for r in ours(tmp_path))  # no address was resolved here
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert untouched(tmp_path)


def test_the_name_patterns_match_what_the_prober_sends_to_the_host_only() -> None:
    """RFC 6066 section 3: the SNI entry is name type 0, a two-byte length, the name. Checked
    against the ClientHello of Python's TLS client (the prober's) and the prober's HTTP request
    (``app.steadystate_app.dependencies.HttpDependency``): the pattern is in what is sent to the
    host and not in what is sent to a longer name that merely ends with it."""
    sni, http = hex_pattern(SNI), hex_pattern(HTTP_HOST)
    assert sni in client_hello(HOST)
    assert sni not in client_hello(f"static.{HOST}")
    assert sni not in client_hello("other.example.net")
    request = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: steadystate-probe/1\r\n\r\n"
    assert http in request.lower().encode()  # the rule matches case-insensitively (--icase)
    assert http not in f"GET / HTTP/1.1\r\nHost: static.{HOST}\r\n\r\n".lower().encode()


def test_a_kernel_without_the_string_match_stops_the_run_before_any_cut(host: Path) -> None:
    proc = start(host, values(), BLACKHOLE_STUB_NO_STRING="1")
    assert proc.wait(timeout=60) == 3
    out = (host / "stdout").read_text()
    assert "refused the string match" in out and "refused: no cut by name" in out
    assert untouched(host)
    assert not any(" -d " in " ".join(c) for c in stubs.calls(host))  # no address-only cut


def test_the_rules_go_at_the_end_of_the_duration(host: Path) -> None:
    proc = start(host, values(DurationSeconds="1"))
    assert proc.wait(timeout=60) == 0
    assert untouched(host)
    assert added(host), "the run added no rule"
    out = (host / "stdout").read_text()
    assert "done after 1s" in out and f"removed chain {CUT}" in out


def test_after_a_sigkill_the_detached_reaper_removes_the_rules_at_the_deadline(
    host: Path,
) -> None:
    proc = start(host, values(DurationSeconds="2"))
    pid = reaper_pid(host)
    wait_until(lambda: bool(ours(host)), "the first rule")
    proc.kill()
    proc.wait(timeout=60)
    assert ours(host) and JUMP in stubs.rules(host)  # nothing of the run's own cleanup ran
    wait_until(lambda: not alive(pid), "the reaper's deadline")
    assert untouched(host)


def test_rules_a_killed_earlier_run_left_are_removed_first(tmp_path: Path) -> None:
    # an older version's rule in DOCKER-USER, and this version's jump and chain
    leftover = (
        f"-A DOCKER-USER -s 172.17.0.7/32 -d 203.0.113.99/32 -m comment --comment {TAG} -j DROP"
    )
    stubs.install(
        tmp_path,
        ROOT,
        {**WORLD, "rules": [leftover, JUMP, *FOREIGN],
         "chains": {CUT: [f"-A {CUT} -s 172.17.0.7/32 -d 203.0.113.99/32 -j DROP"]}},
    )  # fmt: skip
    proc = start(tmp_path, values(DurationSeconds="1"))
    assert proc.wait(timeout=60) == 0
    assert untouched(tmp_path)
    out = (tmp_path / "stdout").read_text()
    assert out.index("removed 2 rule(s)") < out.index("dropping")


def test_no_docker_chain_changes_nothing(host: Path) -> None:
    proc = start(host, values(), BLACKHOLE_STUB_NO_CHAIN="1")
    assert proc.wait(timeout=60) == 1
    assert "no iptables chain DOCKER-USER" in (host / "stdout").read_text()
    assert not added(host)


BAD = [
    ("Host", "aws.amazon.com;reboot"),
    ("Host", "$(reboot).example.com"),
    ("Host", "localhost"),
    ("Host", "a" * 190 + ".example.com"),
    ("Families", "blue fleet"),
    ("Families", "blue,$(id)"),
    ("DurationSeconds", "0"),
    ("DurationSeconds", "43201"),
    ("ResolveEverySeconds", "5s"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_parameters_are_refused_before_anything_changes(host: Path, name, value) -> None:
    proc = start(host, values(**{name: value}))
    assert proc.wait(timeout=60) == 2
    out = (host / "stdout").read_text()
    assert f"parameter {name} must match" in out and "nothing changed" in out
    assert stubs.calls(host) == []  # not one iptables, docker or getent call
    assert host_blackhole.parameter_problem(name, value)  # and SSM's allowedPattern refuses it


@pytest.mark.parametrize(
    ("name", "value"), [("Host", "aws.amazon.com"), ("Host", HOST), ("Families", BLUE),
                        ("DurationSeconds", "300"), ("ResolveEverySeconds", "5")],
)  # fmt: skip
def test_good_parameters_pass_the_document_patterns(name, value) -> None:
    assert host_blackhole.parameter_problem(name, value) is None


def test_the_script_checks_the_documents_own_patterns() -> None:
    text = host_blackhole.script()
    names = {"Families": "FAMILY_RE", "Host": "HOST_RE", "DurationSeconds": "DURATION_RE",
             "ResolveEverySeconds": "EVERY_RE"}  # fmt: skip
    for parameter, variable in names.items():
        assert f"{variable}='{host_blackhole.PATTERNS[parameter]}'" in text, parameter
    # SSM would try to substitute any other double-brace reference (docker's template)
    assert host_blackhole.placeholders(text) == set(host_blackhole.PATTERNS)
    assert f"MAX_DURATION={host_blackhole.MAX_DURATION_SECONDS}" in text
    assert f"MAX_HOST_CHARS={host_blackhole.MAX_HOST_CHARS}" in text


def test_the_document_is_a_command_document_of_one_shell_step() -> None:
    content = json.loads(host_blackhole.document_content())
    assert content["schemaVersion"] == "2.2"
    assert set(content["parameters"]) == set(host_blackhole.PATTERNS)
    for name, spec in content["parameters"].items():
        assert spec["type"] == "String"
        assert spec["allowedPattern"] == host_blackhole.PATTERNS[name]
    [step] = content["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    assert "\n".join(step["inputs"]["runCommand"]) + "\n" == host_blackhole.script()
    assert int(step["inputs"]["timeoutSeconds"]) > host_blackhole.MAX_DURATION_SECONDS


def test_document_parameters_refuse_what_ssm_would_refuse() -> None:
    good = json.loads(host_blackhole.document_parameters(["a-b", "c_d"], "aws.amazon.com", 300))
    assert good == {"Families": "a-b,c_d", "Host": "aws.amazon.com", "DurationSeconds": "300",
                    "ResolveEverySeconds": "5"}  # fmt: skip
    with pytest.raises(ValueError, match="Host must match"):
        host_blackhole.document_parameters(["a"], "aws.amazon.com'; reboot; '", 300)
    assert host_blackhole.iso_duration_seconds("PT5M") == 300
    assert host_blackhole.iso_duration_seconds("PT90S") == 90


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_is_clean() -> None:
    subprocess.run(["shellcheck", "-s", "bash", str(host_blackhole.SCRIPT)], check=True)
