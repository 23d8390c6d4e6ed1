"""``components/host_blackhole.sh`` run for real: rendered as SSM renders it, started with ``sh``
as aws:runShellScript starts it, with stub ``iptables``/``docker``/``getent`` on PATH
(``tests/components/blackhole_stubs.py``). Which rules it adds for which containers, that a
re-resolved address and a new task's container get rules too, that exactly its rules go at the
end, on TERM and (through the detached reaper) after a SIGKILL, and that bad parameters are
refused before anything changes. Waits are on conditions (rules present, a process gone), with a
generous bound only so a broken script cannot hang the suite."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
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


def expected_rules() -> set[str]:
    return {
        f"-A DOCKER-USER -s {src}/32 -d {dst}/32 -m comment --comment {TAG} -j DROP"
        for src in BLUE_SOURCES
        for dst in ADDRESSES
    }


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


def inserted(host: Path) -> list[str]:
    return [" ".join(c[1:]) for c in stubs.calls(host) if c[0] == "iptables" and "-I" in c]


def ours(host: Path) -> set[str]:
    return {r for r in stubs.rules(host) if TAG in r}


def test_blue_containers_lose_every_address_the_host_resolves_to_then_a_term_removes_them(
    host: Path,
) -> None:
    proc = start(host, values())
    pid = reaper_pid(host)
    wait_until(lambda: ours(host) == expected_rules(), "a rule per blue container and address")
    # green's container (172.17.0.5) was never cut; the chain's other rules are untouched
    assert not any("172.17.0.5" in r for r in stubs.rules(host))
    assert [r for r in stubs.rules(host) if TAG not in r] == FOREIGN
    # each (container, address) pair is inserted once, at the top of DOCKER-USER, as a DROP
    assert len(inserted(host)) == len(expected_rules())
    assert all(
        i.startswith("-w -I DOCKER-USER -s ") and i.endswith("-j DROP") for i in inserted(host)
    )
    # the containers are chosen by their task definition family label, blue's two families only
    filters = {c[-1] for c in stubs.calls(host) if c[:2] == ["docker", "ps"]}
    assert filters == {
        "label=com.amazonaws.ecs.task-definition-family=steadystate-prod-blue-fleet",
        "label=com.amazonaws.ecs.task-definition-family=steadystate-prod-blue-1box",
    }
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert stubs.rules(host) == FOREIGN
    out = (host / "stdout").read_text()
    assert "blackhole: removed 8 rule(s)" in out and "stopped by signal" in out
    wait_until(lambda: not alive(pid), "the reaper killed with the run")


def test_the_rules_go_at_the_end_of_the_duration(host: Path) -> None:
    proc = start(host, values(DurationSeconds="1"))
    assert proc.wait(timeout=60) == 0
    assert stubs.rules(host) == FOREIGN
    assert inserted(host), "the run added no rule"
    deleted = [c for c in stubs.calls(host) if c[0] == "iptables" and "-D" in c]
    assert len(deleted) == len(inserted(host))
    assert "done after 1s" in (host / "stdout").read_text()


def test_after_a_sigkill_the_detached_reaper_removes_the_rules_at_the_deadline(
    host: Path,
) -> None:
    proc = start(host, values(DurationSeconds="2"))
    pid = reaper_pid(host)
    wait_until(lambda: bool(ours(host)), "the first rule")
    proc.kill()
    proc.wait(timeout=60)
    assert ours(host)  # nothing of the run's own cleanup ran
    wait_until(lambda: not alive(pid), "the reaper's deadline")
    assert stubs.rules(host) == FOREIGN


def test_rules_a_killed_earlier_run_left_are_removed_first(tmp_path: Path) -> None:
    leftover = (
        f"-A DOCKER-USER -s 172.17.0.7/32 -d 203.0.113.99/32 -m comment --comment {TAG} -j DROP"
    )
    stubs.install(tmp_path, ROOT, {**WORLD, "rules": [leftover, *FOREIGN]})
    proc = start(tmp_path, values(DurationSeconds="1"))
    assert proc.wait(timeout=60) == 0
    assert stubs.rules(tmp_path) == FOREIGN
    assert "removed 1 rule(s)" in (tmp_path / "stdout").read_text()


def test_no_docker_chain_changes_nothing(host: Path) -> None:
    proc = start(host, values(), BLACKHOLE_STUB_NO_CHAIN="1")
    assert proc.wait(timeout=60) == 1
    assert "no iptables chain DOCKER-USER" in (host / "stdout").read_text()
    assert not inserted(host)


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
