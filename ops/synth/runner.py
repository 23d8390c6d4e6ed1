"""Run the real Pulumi program under the SDK's mock runtime and record what it registers.

`synthesize()` is the single way the project executes `__main__.py` without the Pulumi CLI: the
offline gate, the resilience report and the whole-stack tests all call it. The program runs with the
stack's configuration exactly as the CLI would pass it (see `ops.synth.stack_config`).
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ops.synth.mocks import RecordingMonitor, ResourceRecord, SteadyMocks
from ops.synth.stack_config import StackConfig, load_stack_config

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class Recording:
    """Everything one mocked run produced: resources in registration order, outputs, invokes."""

    records: list[ResourceRecord]
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        """Records whose type is `type_token` (full token like `aws:ecs/service:Service`)."""
        return [r for r in self.records if r.type == type_token]

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.records}

    def named(self, name: str) -> ResourceRecord:
        """The record with logical name `name`; KeyError naming the candidates if absent."""
        matches = [r for r in self.records if r.name == name]
        if len(matches) != 1:
            names = sorted(r.name for r in self.records)
            raise KeyError(f"{len(matches)} resources named {name!r}; names: {names}")
        return matches[0]

    def children_of(self, parent: ResourceRecord) -> list[ResourceRecord]:
        """Records whose parent is `parent`."""
        return [r for r in self.records if r.parent == parent.urn]


@dataclass
class Synthesis(Recording):
    """A mocked run of the real program for one stack, with the configuration it ran with."""

    config: StackConfig | None = None


@contextmanager
def _program_context(project_dir: Path) -> Iterator[None]:
    """Run with the project directory as cwd and first on sys.path, as the CLI does."""
    old_cwd, old_path = Path.cwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def _stack_outputs() -> dict[str, Any]:
    root = runtime_settings.get_root_resource()
    outputs = getattr(root, "outputs", {}) or {}
    resolved: dict[str, Any] = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[key] = _sync_await(output.future())
    return resolved


def run_under_mocks(
    program: Callable[[], Any],
    *,
    project: str = "steadystate",
    stack: str = "test",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    region: str = "us-east-2",
    mocks: SteadyMocks | None = None,
    on_record: Callable[[ResourceRecord], None] | None = None,
) -> Recording:
    """Run `program` (a callable that registers resources) under `mocks` (default: fresh
    SteadyMocks answering for `region`; pass one to make AWS answer differently, e.g. a zone's state).
    `on_record` sees each record as soon as it is registered (see `RecordingMonitor`).

    Each call starts from a clean runtime: new monitor, new root stack, new config.
    """
    mocks = mocks or SteadyMocks(region=region)
    monitor = RecordingMonitor(mocks, on_record)
    values = dict(config or {})
    values.setdefault("aws:region", region)
    pulumi.runtime.set_all_config(values, list(secret_keys or []))
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # pulumi's @contextproperty descriptor hides both attributes from checkers (the SDK type-ignores them too).
    runtime_settings.SETTINGS.rpc_manager.clear()  # pyright: ignore[reportAttributeAccessIssue]  contextproperty, see above
    runtime_settings.SETTINGS.outputs.clear()  # pyright: ignore[reportAttributeAccessIssue]  contextproperty, see above
    try:
        _sync_await(run_pulumi_func(program))
    except BaseException as err:
        # The exception propagates unchanged; what was registered before it stays inspectable.
        err.partial_recording = Recording(monitor.records, {}, list(mocks.invokes))  # type: ignore[attr-defined]
        raise
    return Recording(monitor.records, _stack_outputs(), list(mocks.invokes))


def synthesize(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    program: Path | None = None,
    mocks: SteadyMocks | None = None,
    on_record: Callable[[ResourceRecord], None] | None = None,
) -> Synthesis:
    """Run `program` (default `<project_dir>/__main__.py`) for `stack` under mocks (`mocks`, or
    fresh ones for the stack's region); `on_record` as in `run_under_mocks`.

    Exceptions raised by the program propagate unchanged, so callers decide how to show them;
    each carries `partial_recording`: what was registered before it was raised.
    """
    project_dir = Path(project_dir).resolve()
    config = load_stack_config(project_dir, stack)
    main = program or project_dir / "__main__.py"
    with _program_context(project_dir):
        recording = run_under_mocks(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            project=config.project,
            stack=stack,
            config=config.values,
            secret_keys=config.secret_keys,
            region=config.values.get("aws:region", "us-east-2"),
            mocks=mocks,
            on_record=on_record,
        )
    return Synthesis(recording.records, recording.outputs, recording.invokes, config)
