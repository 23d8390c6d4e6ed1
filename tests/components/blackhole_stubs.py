"""Stub ``iptables``, ``docker`` and ``getent`` for running ``components/host_blackhole.sh``.

Each stub is a small Python program on ``PATH`` that appends its argv to ``calls.jsonl`` and keeps
state in files of one directory:

* ``iptables`` holds a ``DOCKER-USER`` chain in ``rules`` and answers ``-S`` the way
  iptables-save prints rules (``/32`` on single addresses; a comment quoted unless it is only
  letters, digits, ``-`` and ``_``, as ``xtables_save_string`` does), inserts with ``-I`` and
  deletes an exact rule with ``-D`` (status 1 when there is none, like iptables);
* ``getent ahostsv4 HOST`` answers ``resolutions[min(n, last)]`` on its n-th call (n from 0) and
  counts the calls in ``round`` — the script resolves once per round;
* ``docker ps`` lists ``containers[min(round - 1, last)][family]`` for the family of its
  ``--filter label=...`` and ``docker inspect --format F ID`` prints the container's address when
  ``F`` is exactly docker's template for the addresses of every network.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

CHAIN = "DOCKER-USER"
LABEL = "com.amazonaws.ecs.task-definition-family"
IP_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
NO_QUOTE = set("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

STUB = """#!{python}
import sys
sys.path.insert(0, {root!r})
from tests.components.blackhole_stubs import main
sys.exit(main({name!r}, sys.argv[1:]))
"""


def install(directory: Path, root: Path, world: dict[str, Any]) -> None:
    """Write the three stubs and the world (``resolutions``, ``containers``, ``rules``)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("iptables", "docker", "getent"):
        path = bin_dir / name
        path.write_text(STUB.format(python=sys.executable, root=str(root), name=name))
        path.chmod(0o755)
    (directory / "world.json").write_text(json.dumps(world))
    (directory / "rules").write_text("".join(f"{r}\n" for r in world.get("rules", [])))
    (directory / "round").write_text("0")
    (directory / "calls.jsonl").write_text("")


def calls(directory: Path) -> list[list[str]]:
    lines = (directory / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line]


def rules(directory: Path) -> list[str]:
    return (directory / "rules").read_text().splitlines()


def _state() -> Path:
    return Path(os.environ["BLACKHOLE_STUB_DIR"])


def _save_string(value: str) -> str:
    if value and set(value) <= NO_QUOTE:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rule(chain: str, spec: list[str]) -> str:
    """``-s A -d B -m comment --comment C -j DROP`` as iptables -S prints it back."""
    out = ["-A", chain]
    for flag, value in zip(spec[::2], spec[1::2], strict=True):
        if flag in ("-s", "-d") and "/" not in value:
            value = f"{value}/32"
        if flag == "--comment":
            value = _save_string(value)
        out += [flag, value]
    return " ".join(out)


def iptables(args: list[str]) -> int:
    args = [a for a in args if a != "-w"]
    state = _state()
    if os.environ.get("BLACKHOLE_STUB_NO_CHAIN"):
        print(f"iptables: No chain/target/match by that name: {args[1:2]}", file=sys.stderr)
        return 1
    current = (state / "rules").read_text().splitlines()
    command, chain, spec = args[0], args[1], args[2:]
    if chain != CHAIN:
        print(f"stub iptables knows only {CHAIN}, got {chain}", file=sys.stderr)
        return 1
    if command == "-S":
        print(f"-N {CHAIN}")
        for line in current:
            print(line)
        return 0
    rule = _rule(chain, spec)
    if command == "-I":
        current.insert(0, rule)
    elif command == "-D":
        if rule not in current:
            print(
                "iptables: Bad rule (does a matching rule exist in that chain?).", file=sys.stderr
            )
            return 1
        current.remove(rule)
    else:
        print(f"stub iptables: unsupported {command}", file=sys.stderr)
        return 2
    (state / "rules").write_text("".join(f"{r}\n" for r in current))
    return 0


def _world() -> dict[str, Any]:
    return json.loads((_state() / "world.json").read_text())


def getent(args: list[str]) -> int:
    state, world = _state(), _world()
    n = int((state / "round").read_text())
    (state / "round").write_text(str(n + 1))
    if args[:1] != ["ahostsv4"] or args[1:] != [world["host"]]:
        return 2  # unknown host: getent prints nothing
    for address in world["resolutions"][min(n, len(world["resolutions"]) - 1)]:
        for kind in ("STREAM", "DGRAM", "RAW"):
            print(
                f"{address:<15} {kind} {world['host']}" if kind == "STREAM" else f"{address} {kind}"
            )
    return 0


def docker(args: list[str]) -> int:
    world = _world()
    n = max(int((_state() / "round").read_text()) - 1, 0)
    snapshot = world["containers"][min(n, len(world["containers"]) - 1)]
    if args[0] == "ps":
        label = args[args.index("--filter") + 1]
        prefix = f"label={LABEL}="
        if not label.startswith(prefix):
            return 1
        for container_id, _ in snapshot.get(label[len(prefix) :], []):
            print(container_id)
        return 0
    if args[0] == "inspect":
        fmt, container_id = args[args.index("--format") + 1], args[-1]
        if fmt != IP_FORMAT:
            print(f"template parsing error: {fmt!r}", file=sys.stderr)
            return 1
        for containers in snapshot.values():
            for cid, address in containers:
                if cid == container_id:
                    print(f"{address} ")
                    return 0
        print(f"Error: No such object: {container_id}", file=sys.stderr)
        return 1
    return 1


def main(name: str, args: list[str]) -> int:
    with (_state() / "calls.jsonl").open("a") as log:
        log.write(json.dumps([name, *args]) + "\n")
    return {"iptables": iptables, "docker": docker, "getent": getent}[name](args)
