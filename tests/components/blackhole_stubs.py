"""Stub ``iptables``, ``docker`` and ``getent`` for running ``components/host_blackhole.sh``.

Each stub is a small Python program on ``PATH`` that appends its argv to ``calls.jsonl`` and keeps
state in files of one directory:

* ``iptables`` keeps chains in ``chains.json`` (``DOCKER-USER`` from the start) and answers
  ``-S`` the way iptables-save prints rules (``/32`` on single addresses; a comment or a string
  match's pattern quoted unless it is only letters, digits, ``-`` and ``_``, as
  ``xtables_save_string`` does); ``-N`` creates a chain (status 1 if it exists), ``-F`` empties
  one, ``-X`` deletes an empty chain no rule jumps to, ``-I``/``-A`` insert/append and ``-D``
  deletes an exact rule (status 1 when there is none, like iptables). With
  ``BLACKHOLE_STUB_NO_STRING`` set it refuses ``-m string`` as a kernel without ``xt_string``
  does, with ``BLACKHOLE_STUB_NO_CHAIN`` every call fails as without docker's chain;
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
    """Write the three stubs and the world (``resolutions``, ``containers``, ``rules`` of
    DOCKER-USER, optional ``chains`` left over)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("iptables", "docker", "getent"):
        path = bin_dir / name
        path.write_text(STUB.format(python=sys.executable, root=str(root), name=name))
        path.chmod(0o755)
    (directory / "world.json").write_text(json.dumps(world))
    chains = {CHAIN: list(world.get("rules", [])), **world.get("chains", {})}
    (directory / "chains.json").write_text(json.dumps(chains))
    (directory / "round").write_text("0")
    (directory / "calls.jsonl").write_text("")


def calls(directory: Path) -> list[list[str]]:
    lines = (directory / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line]


def chains(directory: Path) -> dict[str, list[str]]:
    """Every chain and its rules, as ``-S`` prints them."""
    return json.loads((directory / "chains.json").read_text())


def rules(directory: Path, chain: str = CHAIN) -> list[str]:
    return chains(directory).get(chain, [])


def _state() -> Path:
    return Path(os.environ["BLACKHOLE_STUB_DIR"])


def _save_string(value: str) -> str:
    if value and set(value) <= NO_QUOTE:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


FLAGS = {"--icase"}
"""Options that take no value."""


def _rule(chain: str, spec: list[str]) -> str:
    """``-s A -d B -m comment --comment C -j DROP`` as iptables -S prints it back."""
    out = ["-A", chain]
    words = iter(spec)
    for flag in words:
        if flag in FLAGS:
            out.append(flag)
            continue
        value = next(words)
        if flag in ("-s", "-d") and "/" not in value:
            value = f"{value}/32"
        if flag in ("--comment", "--hex-string", "--string"):
            value = _save_string(value)
        out += [flag, value]
    return " ".join(out)


def _fail(message: str, status: int = 1) -> int:
    print(message, file=sys.stderr)
    return status


def iptables(args: list[str]) -> int:
    args = [a for a in args if a != "-w"]
    state = _state()
    if os.environ.get("BLACKHOLE_STUB_NO_CHAIN"):
        return _fail(f"iptables: No chain/target/match by that name: {args[1:2]}")
    if os.environ.get("BLACKHOLE_STUB_NO_STRING") and "string" in args:
        return _fail("iptables v1.8.9 (nf_tables): Couldn't load match `string'", 2)
    table = chains(state)
    command, chain, spec = args[0], args[1], args[2:]
    missing = chain not in table
    if command == "-N":
        if not missing:
            return _fail("iptables: Chain already exists.")
        table[chain] = []
    elif missing:
        return _fail("iptables: No chain/target/match by that name.")
    elif command == "-S":
        print(f"-N {chain}")
        for line in table[chain]:
            print(line)
        return 0
    elif command == "-F":
        table[chain] = []
    elif command == "-X":
        if table[chain] or any(r.endswith(f"-j {chain}") for rs in table.values() for r in rs):
            return _fail("iptables: Directory not empty / Too many links.")
        del table[chain]
    elif command in ("-I", "-A"):
        rule = _rule(chain, spec)
        table[chain].insert(0 if command == "-I" else len(table[chain]), rule)
    elif command == "-D":
        rule = _rule(chain, spec)
        if rule not in table[chain]:
            return _fail("iptables: Bad rule (does a matching rule exist in that chain?).")
        table[chain].remove(rule)
    else:
        return _fail(f"stub iptables: unsupported {command}", 2)
    # replaced whole, so a test reading the chains never sees a half-written file
    (state / "chains.json.new").write_text(json.dumps(table))
    os.replace(state / "chains.json.new", state / "chains.json")
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
