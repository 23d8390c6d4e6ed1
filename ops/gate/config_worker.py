"""Check the policy config in a process of its own, off the gate's critical path.

While the program runs, the gate's process is busy on one core (one GIL) importing pulumi-aws and
building resources. Checking the policy config there cost that process about 0.3 s of CPU: the
pack's own check (``policy_config.pack_config_check``) imports the whole pack again, and
reconciling validates every policy's properties with ``jsonschema``. :class:`ConfigWorker` runs
both in a subprocess, on the other core, while the program runs:

1. it starts as soon as the pack is up, imports what the checks need and runs the pack's own
   check of the config file (``--config``), lowering its own priority so that it never takes a
   core from the program;
2. the gate sends it one JSON line: the policies' schemas and the pack's initial config (from
   ``GetAnalyzerInfo``), the file's entries and the name to show for the file;
3. it answers with one JSON line: the pack's problems, or the reconciled config, or the
   reconcile problems; then it exits.

The answers are the ones the gate's own process gives (``tests/ops/gate/test_config_worker.py``
compares both). If the worker cannot start or answer, :meth:`ConfigWorker.check` returns None and
the gate runs the same checks itself: only slower, never different.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ops.gate.policy_config import (
    PolicyConfigEntry,
    PolicyConfigError,
    PolicySchema,
    pack_config_check,
    reconcile_policy_config,
)

REPO_DIR = Path(__file__).resolve().parents[2]
NICENESS = 5


@dataclass(frozen=True)
class ConfigOutcome:
    """What the checks found: the pack's problems (None: the pack has no check of its own), then
    either the reconciled config or the reconcile problems (none when the pack's check failed)."""

    pack_problems: list[str] | None
    resolved: dict[str, PolicyConfigEntry] | None = None
    problems: list[str] | None = None


def run_checks(
    pack_problems: list[str] | None,
    schemas: Sequence[PolicySchema],
    entries: Mapping[str, PolicyConfigEntry],
    initial: Mapping[str, PolicyConfigEntry],
    source: str,
) -> ConfigOutcome:
    """Reconcile after the pack's own check, as `configure_pack` does."""
    if pack_problems:
        return ConfigOutcome(pack_problems)
    try:
        resolved = reconcile_policy_config(schemas, entries, initial_config=initial, source=source)
    except PolicyConfigError as err:
        return ConfigOutcome(pack_problems, problems=err.problems)
    return ConfigOutcome(pack_problems, resolved=resolved)


# -- the wire: JSON both ways ----------------------------------------------------------------------
def _entries_to_json(entries: Mapping[str, PolicyConfigEntry]) -> dict[str, Any]:
    return {name: [e.enforcement_level, e.properties] for name, e in entries.items()}


def _entries_from_json(data: Mapping[str, Any]) -> dict[str, PolicyConfigEntry]:
    return {name: PolicyConfigEntry(level, props) for name, (level, props) in data.items()}


def request_line(
    schemas: Sequence[PolicySchema],
    entries: Mapping[str, PolicyConfigEntry],
    initial: Mapping[str, PolicyConfigEntry],
    source: str,
) -> str:
    document = {
        "schemas": [[s.name, s.enforcement_level, s.properties, list(s.required)] for s in schemas],
        "entries": _entries_to_json(entries),
        "initial": _entries_to_json(initial),
        "source": source,
    }
    return json.dumps(document) + "\n"


def _answer_line(outcome: ConfigOutcome) -> str:
    document = {
        "packProblems": outcome.pack_problems,
        "resolved": None if outcome.resolved is None else _entries_to_json(outcome.resolved),
        "problems": outcome.problems,
    }
    return json.dumps(document) + "\n"


def _outcome_from_line(line: str) -> ConfigOutcome:
    document = json.loads(line)
    resolved = document["resolved"]
    return ConfigOutcome(
        document["packProblems"],
        resolved=None if resolved is None else _entries_from_json(resolved),
        problems=document["problems"],
    )


def serve(pack_dir: Path, config: Path | None, stdin: IO[str], stdout: IO[str]) -> None:
    """The worker's side: the pack's own check now, then one request, one answer."""
    pack_problems = pack_config_check(pack_dir, config) if config is not None else None
    import jsonschema.validators  # noqa: F401  loaded before the request comes (~80 ms)

    line = stdin.readline()
    if not line:
        return  # the gate did not need the answer (e.g. the program failed first)
    request = json.loads(line)
    schemas = [
        PolicySchema(n, level, props, tuple(req)) for n, level, props, req in request["schemas"]
    ]
    outcome = run_checks(
        pack_problems,
        schemas,
        _entries_from_json(request["entries"]),
        _entries_from_json(request["initial"]),
        request["source"],
    )
    stdout.write(_answer_line(outcome))
    stdout.flush()


# -- the gate's side ---------------------------------------------------------------------------------
class ConfigWorker:
    """The subprocess, from the gate: `spawn`, then `check` once; always `close`."""

    def __init__(self, pack_dir: Path, config: Path | None, *, timeout: float = 60.0) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.config = config
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self.answered = False  # True once `check` returned the worker's answer

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "ops.gate.config_worker", str(self.pack_dir)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        return command

    def spawn(self) -> ConfigWorker:
        """Start the worker; if it cannot start, `check` answers None."""
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    self.command,
                    cwd=REPO_DIR,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            except OSError:
                self._proc = None
        return self

    def check(
        self,
        schemas: Sequence[PolicySchema],
        entries: Mapping[str, PolicyConfigEntry],
        initial: Mapping[str, PolicyConfigEntry],
        source: str,
    ) -> ConfigOutcome | None:
        """The worker's answer, or None when it has none (the caller then checks in-process)."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            return None
        try:
            answer, _ = proc.communicate(
                request_line(schemas, entries, initial, source), timeout=self.timeout
            )
            if proc.returncode != 0:
                return None
            lines = answer.strip().splitlines()  # the answer is the last line, whatever came before
            outcome = _outcome_from_line(lines[-1]) if lines else None
            self.answered = outcome is not None
            return outcome
        except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError):
            return None
        finally:
            self.close()

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m ops.gate.config_worker",
        description="Check a policy config for the offline gate (started by ops.gate.check).",
    )
    parser.add_argument("pack_dir", type=Path, help="the policy pack")
    parser.add_argument("--config", type=Path, help="the policy config file to check")
    args = parser.parse_args(argv)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)  # the gate's program has the first claim on the cores
    serve(args.pack_dir, args.config, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
