"""The offline gate: synthesize a stack under mocks and judge it with the policy pack over gRPC.

    python -m ops.gate.check --stack dev|prod [--program PATH] [--project-dir DIR] [--json]
                        [--graph FILE.svg|FILE.png] [--graph-level resources|components]
                        [--policy-pack DIR] [--policy-config FILE]

What it does, in the engine's order (see ``ops.gate.analyzer_client`` for how the pack is started):

1. boot the policy pack subprocess (it starts while the program runs);
2. run the program under mocks (``ops.synth.runner.synthesize``); meanwhile (:class:`EarlyAnalysis`)
   steps 3 and 4 already start, as the engine analyzes each resource when it is registered;
3. ``Handshake``, ``ConfigureStack``, ``GetAnalyzerInfo``, then ``Configure`` with the stack's policy
   config (default ``<pack>/config/<stack>.json``, else its stage's: ``ops.gate.policy_choice``) reconciled like the engine does
   (``ops.gate.policy_config``), after the pack's own stricter check of that file when it ships one
   (``guardrails/config_file.py``); both checks run in a worker process of their own
   (``ops.gate.config_worker``), off the program's core; only then print the resource tree, so a
   bad policy config is the first thing shown;
4. ``Remediate`` (only when a policy is at ``remediate`` level) and ``Analyze`` for every resource
   registration, in registration order: the root stack, each component, each explicit provider,
   each default provider (just before the first resource that uses it) and each custom resource,
   with its inputs, options, parent and provider, as the step generator does;
5. ``AnalyzeStack`` once with every resource's outputs, parent, dependencies and property
   dependencies;
6. print the report grouped by enforcement level (or ``--json``) and exit.

Exit codes: 0 no mandatory violation; 1 mandatory violation(s); 2 the program (or its stack
config) failed; 3 the policy pack failed (did not start, invalid policy config, a policy raised);
4 usage or environment error (bad arguments, ``--graph-level`` without ``--graph``, graphviz missing
for ``--graph``, a ``--graph`` file that is neither .svg nor .png or whose folder does not exist).
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "ops/gate/check.py is a module: run `python -m ops.gate.check` in the project, or `make check`\n"
    )
    raise SystemExit(2)

if __name__ == "__main__":  # a run of the gate, not an import: before the heavy imports below
    from ops.cli.gc_tuning import tune_gc

    tune_gc()

import argparse
import json
import os
import re
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ops.cli.options import add_json_option, add_stack_option
from ops.gate.analyzer_client import (
    AnalyzerInfo,
    PackEnvironment,
    PolicyPackError,
    PolicyPackProcess,
    secret,
    to_struct,
)
from ops.gate.config_worker import ConfigWorker, run_checks
from ops.gate.policy_choice import choose_policy_config, stack_stage
from ops.gate.policy_config import (
    PolicyConfigEntry,
    PolicyConfigError,
    PolicySchema,
    load_policy_config_file,
    pack_config_check,
)
from ops.gate.policy_report import PolicyReport, Violation, violation_from
from ops.gate.resource_tree import STACK_TYPE, render_tree, stack_urn, type_counts
from ops.gate.tracebacks import is_config_error, trim_traceback
from ops.synth.stack_config import StackConfig, StackConfigError, load_stack_config

if TYPE_CHECKING:
    from ops.synth.runner import Synthesis

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_PACK_DIR = REPO_DIR / "policy"
EXIT_OK, EXIT_MANDATORY, EXIT_PROGRAM, EXIT_PACK, EXIT_USAGE = 0, 1, 2, 3, 4
# Analyze calls kept in flight on the one channel. The pack is CPU-bound (one GIL), so this only
# hides round trips: 116 calls took 0.17 s one at a time, 0.14-0.15 s with 4 or more in flight.
DEFAULT_IN_FLIGHT = 4


# -- resource registrations as the engine sees them ----------------------------------------------
@dataclass
class Registration:
    """One resource the engine would register, with what the analyzer needs to know about it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: Registration | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "resource"  # stack | component | provider | default-provider | resource


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: str | float | None) -> float:
    """Go duration ("5m", "1h30m", "250ms") -> seconds, as the engine stores custom timeouts."""
    if text in (None, ""):
        return 0.0
    if isinstance(text, int | float):
        return float(text)
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"invalid duration {text!r}")
    return total


def _provider_urn(reference: str) -> str:
    """A provider reference is `<urn>::<id>`; the URN is everything before the last `::`."""
    return reference.rsplit("::", 1)[0] if reference.count("::") >= 4 else reference


def _default_provider_inputs(package: str, version: str, config: StackConfig) -> dict[str, Any]:
    """Default providers take their inputs from the `<package>:*` stack config, plus `version`."""
    inputs: dict[str, Any] = {}
    for key, value in config.values.items():
        namespace, _, name = key.partition(":")
        if namespace != package or not name:
            continue
        raw = config.raw.get(key)
        if key in config.secret_keys:
            inputs[name] = secret(value)
        elif isinstance(raw, dict | list):
            inputs[name] = raw
        else:
            inputs[name] = value
    if version:
        inputs["version"] = version
    return inputs


class RegistrationBuilder:
    """The engine's registrations, built record by record (see the module docstring).

    Starts with the root stack; :meth:`add` returns what one record registers: the default
    provider it needs (the first time) and the resource itself.
    """

    def __init__(self, config: StackConfig, outputs: dict[str, Any] | None = None) -> None:
        self._config = config
        self._providers: dict[str, Registration] = {}
        root = Registration(
            urn=stack_urn(config.project, config.stack),
            type=STACK_TYPE,
            name=f"{config.project}-{config.stack}",
            custom=False,
            parent="",
            provider=None,
            inputs={},
            outputs=dict(outputs or {}),
            kind="stack",
        )
        self.registrations: list[Registration] = [root]

    def add(self, record: Any) -> list[Registration]:
        added: list[Registration] = []
        is_provider = record.type.startswith("pulumi:providers:")
        provider = None
        if record.custom and not is_provider and record.provider:
            urn = _provider_urn(record.provider)
            provider = self._providers.get(urn)
            if provider is None:
                # Not registered by the program: a default provider, registered by the engine
                # right before the first resource that needs it.
                type_ = urn.split("::")[2]
                package = type_.split(":")[-1]
                version = record.options.get("version") or ""
                inputs = _default_provider_inputs(package, version, self._config)
                provider = Registration(
                    urn=urn,
                    type=type_,
                    name=urn.split("::", 3)[3],
                    custom=True,
                    parent="",
                    provider=None,
                    inputs=inputs,
                    outputs=dict(inputs),
                    kind="default-provider",
                )
                self._providers[urn] = provider
                added.append(provider)
        registration = Registration(
            urn=record.urn,
            type=record.type,
            name=record.name,
            custom=record.custom,
            parent=record.parent,
            provider=provider,
            inputs=record.inputs,
            outputs=record.outputs,
            options=record.options,
            dependencies=record.dependencies,
            property_dependencies=record.property_dependencies,
            kind="provider" if is_provider else ("resource" if record.custom else "component"),
        )
        if is_provider:
            self._providers[record.urn] = registration
        added.append(registration)
        self.registrations.extend(added)
        return added


def registrations(synthesis: Any) -> list[Registration]:
    """The engine's registrations for a synthesis, in order (see the module docstring)."""
    builder = RegistrationBuilder(synthesis.config, synthesis.outputs)
    for record in synthesis.records:
        builder.add(record)
    return builder.registrations


def _options(reg: Registration, *, with_parent: bool) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    o = reg.options
    timeouts = o.get("customTimeouts") or {}
    dbr = bool(o.get("deleteBeforeReplace"))
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect")),
        ignoreChanges=list(o.get("ignoreChanges") or []),
        deleteBeforeReplace=dbr,
        deleteBeforeReplaceDefined=dbr or bool(o.get("deleteBeforeReplaceDefined")),
        additionalSecretOutputs=list(o.get("additionalSecretOutputs") or []),
        aliases=list(o.get("aliases") or []),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=duration_seconds(timeouts.get("create")),
            update=duration_seconds(timeouts.get("update")),
            delete=duration_seconds(timeouts.get("delete")),
        ),
        parent=reg.parent if with_parent else "",
    )


def _provider(reg: Registration) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    if reg.provider is None:
        return None
    p = reg.provider
    return analyzer_pb2.AnalyzerProviderResource(
        type=p.type, properties=to_struct(p.inputs), urn=p.urn, name=p.name
    )


def analyze_request(reg: Registration, inputs: dict[str, Any] | None = None) -> Any:
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.AnalyzeRequest(
        type=reg.type,
        properties=to_struct(reg.inputs if inputs is None else inputs),
        urn=reg.urn,
        name=reg.name,
        options=_options(reg, with_parent=True),
        provider=_provider(reg),
    )


def stack_resource(reg: Registration) -> Any:
    """AnalyzeStack input: outputs as properties; parent on the resource, not in the options."""
    from pulumi.runtime.proto import analyzer_pb2

    return analyzer_pb2.AnalyzerResource(
        type=reg.type,
        properties=to_struct(reg.outputs),
        urn=reg.urn,
        name=reg.name,
        options=_options(reg, with_parent=False),
        provider=_provider(reg),
        parent=reg.parent,
        dependencies=list(reg.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in reg.property_dependencies.items()
            if urns
        },
    )


# -- the policy run -----------------------------------------------------------------------------
@dataclass
class PolicyRun:
    info: AnalyzerInfo
    version: str
    config: dict[str, PolicyConfigEntry]
    report: PolicyReport
    timings: dict[str, float]


def read_policy_project(pack_dir: Path) -> dict[str, Any]:
    """PulumiPolicy.yaml, checked like the engine's `LoadPolicyPack` (must exist, runtime python)."""
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise PolicyPackError(f"failed to load Pulumi policy project: {path} not found") from None
    except yaml.YAMLError as err:
        raise PolicyPackError(f"failed to load Pulumi policy project {path}: {err}") from err
    runtime = data.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PolicyPackError(f"{path}: runtime is {name!r}; this gate runs Python policy packs")
    return data


@dataclass
class ConfiguredPack:
    """The pack after `Configure`: what it reported about itself and the config it was given."""

    info: AnalyzerInfo
    version: str
    resolved: dict[str, PolicyConfigEntry]
    timings: dict[str, float]


def configure_pack(
    pack: PolicyPackProcess,
    *,
    config_path: Path | None,
    policy_project: dict[str, Any],
    worker: ConfigWorker | None = None,
) -> ConfiguredPack:
    """Handshake and configure the pack; raises PolicyConfigError for a bad policy config.

    The gate does this before it prints anything, so a config error is the first thing shown.
    With `worker` (started here once the pack is up), the config is checked in that subprocess
    instead of this process (see ``ops.gate.config_worker``); the outcome is the same.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    pack.wait_ready()
    timings["wait_for_pack"] = time.perf_counter() - t
    if worker is not None:
        worker.spawn()

    t = time.perf_counter()
    pack.handshake()
    pack.configure_stack()
    info = pack.get_analyzer_info()
    version = str(policy_project.get("version") or info.version)
    entries = load_policy_config_file(config_path) if config_path is not None else {}
    schemas = [
        PolicySchema(p.name, p.enforcement_level, p.config_properties, p.config_required)
        for p in info.policies
    ]
    initial = {
        k: PolicyConfigEntry(level, props) for k, (level, props) in info.initial_config.items()
    }
    source = str(config_path) if config_path is not None else "(no policy config file)"
    outcome = worker.check(schemas, entries, initial, source) if worker is not None else None
    if outcome is None:
        pack_problems = None
        if config_path is not None:
            pack_problems = pack_config_check(pack.pack_dir, config_path)
        outcome = run_checks(pack_problems, schemas, entries, initial, source)
    if config_path is not None:
        timings["pack_config_check"] = time.perf_counter() - t
    if outcome.pack_problems:
        raise PolicyConfigError(f"{source} (the pack's own check)", outcome.pack_problems)
    if outcome.resolved is None:
        raise PolicyConfigError(source, outcome.problems or [])
    resolved = outcome.resolved
    if info.supports_config:
        pack.configure({name: entry.as_wire() for name, entry in resolved.items()})
    timings["configure"] = time.perf_counter() - t
    return ConfiguredPack(info, version, resolved, timings)


def judge(
    pack: PolicyPackProcess,
    synthesis: Any,
    *,
    config_path: Path | None = None,
    policy_project: dict[str, Any] | None = None,
    configured: ConfiguredPack | None = None,
    in_flight: int = DEFAULT_IN_FLIGHT,
    early: EarlyAnalysis | None = None,
) -> PolicyRun:
    """Analyze every registration and the stack; configures the pack first unless `configured`.

    With `early` (the Analyze calls sent while the program ran), a registration already sent
    exactly as built here is collected instead of sent again; anything else is sent now.
    """
    if configured is None:
        configured = configure_pack(
            pack, config_path=config_path, policy_project=policy_project or {}
        )
    info, version, resolved = configured.info, configured.version, configured.resolved
    timings = dict(configured.timings)

    config: StackConfig = synthesis.config
    regs = registrations(synthesis)
    report = PolicyReport(
        pack_name=info.name,
        pack_version=version,
        policy_count=len(info.policies),
        resource_count=sum(1 for r in regs if r.kind != "default-provider"),
        project=config.project,
        stack=config.stack,
        disabled=sorted(
            p.name for p in info.policies if resolved[p.name].enforcement_level == "disabled"
        ),
    )

    # Remediate first (the engine's first pass), only when some policy can remediate: for every
    # other level the Python pack's Remediate does nothing.
    t = time.perf_counter()
    inputs: dict[str, dict[str, Any]] = {}
    if any(resolved[p.name].enforcement_level == "remediate" for p in info.policies):
        inputs = remediate_all(pack, regs, report)
    timings["remediate"] = time.perf_counter() - t

    t = time.perf_counter()
    sent = early.sent_for(regs) if early is not None and not inputs else {}
    requests = [
        sent[i][0] if i in sent else analyze_request(reg, inputs.get(reg.urn))
        for i, reg in enumerate(regs)
    ]
    futures = {i: future for i, (_, future) in sent.items()}
    # AnalyzeStack's resources are built while the pack still works through the Analyze calls
    # sent early (it is sent only after they are all answered, as the engine does).
    stack_resources = [stack_resource(reg) for reg in regs] if futures else None
    results, errors = pack.analyze_many(requests, in_flight=in_flight, sent=futures)
    for reg, diagnostics in zip(regs, results, strict=True):
        # The engine always attributes Analyze diagnostics to the resource analyzed.
        report.add(violation_from(d, urn=reg.urn, stage="resource") for d in diagnostics)
    report.errors.extend(str(e) for e in errors)
    timings["analyze"] = time.perf_counter() - t

    t = time.perf_counter()
    known = {reg.urn for reg in regs}
    if stack_resources is None:
        stack_resources = [stack_resource(reg) for reg in regs]
    try:
        stack_diagnostics = pack.analyze_stack(stack_resources)
    except PolicyPackError as err:
        report.errors.append(str(err))
        stack_diagnostics = []
    for d in stack_diagnostics:
        # A URN that names no resource of the stack is attributed to the root stack.
        urn = d.urn if d.urn in known else regs[0].urn
        report.add([violation_from(d, urn=urn, stage="stack")])
    timings["analyze_stack"] = time.perf_counter() - t
    report.pack_output = pack.stdout_lines
    return PolicyRun(info, version, resolved, report, timings)


def _request_key(reg: Registration) -> tuple[Any, ...]:
    """Everything `analyze_request(reg)` is built from. Records are never changed once kept, so
    the same objects compare equal at once; a changed registration compares unequal."""
    provider = reg.provider
    return (
        reg.type,
        reg.urn,
        reg.name,
        reg.inputs,
        reg.options,
        reg.parent,
        None if provider is None else (provider.type, provider.urn, provider.name, provider.inputs),
    )


class EarlyAnalysis:
    """Configure the pack and send `Analyze` for each resource while the program still runs.

    The engine analyzes each resource as it is registered; so does this. A thread configures the
    pack (`configure_pack`) while the program imports and builds its resources; from then on each
    record (`record`, the synthesis's `on_record`, called on the SDK's executor threads) is sent
    as it arrives, and the records that came before are sent first. `finish` waits for the
    configuration and raises its error (a bad policy config, a pack that did not start) only
    then, so a failing program is still reported first. Nothing is sent early when a policy
    remediates: the engine remediates before it analyzes.
    """

    def __init__(
        self,
        pack: PolicyPackProcess,
        config: StackConfig,
        *,
        config_path: Path | None,
        policy_project: dict[str, Any],
        worker: ConfigWorker | None = None,
    ) -> None:
        self._pack = pack
        self._config = config
        self._config_path = config_path
        self._policy_project = policy_project
        self._worker = worker
        self._thread = threading.Thread(target=self._configure, name="early-analysis", daemon=True)
        self._configured: ConfiguredPack | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._backlog: list[Any] = []  # records that came before the pack was configured
        self._builder: RegistrationBuilder | None = None  # set once records are sent as they come
        self._closed = False  # nothing (more) is sent: stopped, finished, failed or remediating
        self._sent: dict[str, tuple[tuple[Any, ...], Any, Any]] = {}

    def start(self) -> EarlyAnalysis:
        self._thread.start()
        return self

    def record(self, record: Any) -> None:
        with self._lock:
            if self._closed:
                return
            if self._builder is None:
                self._backlog.append(record)
                return
            self._send(self._builder.add(record))

    def stop(self) -> None:
        """The program failed: send nothing more (the pack is killed right after)."""
        with self._lock:
            self._closed = True

    def finish(self) -> ConfiguredPack:
        """After the program: the configured pack, or the configuration's error."""
        self._thread.join()
        with self._lock:
            self._closed = True
        if self._error is not None:
            raise self._error
        assert self._configured is not None
        return self._configured

    def sent_for(self, regs: Sequence[Registration]) -> dict[int, tuple[Any, Any]]:
        """Index -> (request, future) of each registration that was sent early exactly as given."""
        sent: dict[int, tuple[Any, Any]] = {}
        for i, reg in enumerate(regs):
            early = self._sent.get(reg.urn)
            if early is not None and early[0] == _request_key(reg):
                sent[i] = (early[1], early[2])
        return sent

    def _configure(self) -> None:
        try:
            configured = configure_pack(
                self._pack,
                config_path=self._config_path,
                policy_project=self._policy_project,
                worker=self._worker,
            )
        except BaseException as err:  # re-raised by finish(), in the main thread
            self._error = err
            return
        self._configured = configured
        if any(entry.enforcement_level == "remediate" for entry in configured.resolved.values()):
            return
        with self._lock:
            if self._closed:
                return
            builder = RegistrationBuilder(self._config)
            self._builder = builder
            self._send(builder.registrations)
            for record in self._backlog:
                self._send(builder.add(record))
            self._backlog.clear()

    def _send(self, regs: Sequence[Registration]) -> None:
        """Send each registration's Analyze (the lock is held)."""
        if self._closed:
            return
        try:
            for reg in regs:
                request = analyze_request(reg)
                future = self._pack.analyze_async(request)
                self._sent[reg.urn] = (_request_key(reg), request, future)
        except Exception:
            # Only a head start (e.g. the pack was closed because the program failed): judge()
            # sends whatever was not sent and reports any failure itself.
            self._closed = True


def remediate_all(
    pack: PolicyPackProcess, regs: list[Registration], report: PolicyReport
) -> dict[str, dict[str, Any]]:
    """Remediate every registration; the rewritten inputs by URN (also overlaid on outputs)."""
    inputs: dict[str, dict[str, Any]] = {}
    for reg in regs:
        try:
            remediations = pack.remediate(analyze_request(reg))
        except PolicyPackError as err:
            report.errors.append(str(err))
            continue
        for r in remediations:
            if r.diagnostic:  # e.g. "can't run remediation during preview": shown as advisory
                level, message = "advisory", r.diagnostic
            elif r.properties is not None:
                before = inputs.get(reg.urn, reg.inputs)
                changed = sorted(
                    k for k in {*before, *r.properties} if before.get(k) != r.properties.get(k)
                )
                inputs[reg.urn] = r.properties
                reg.outputs = {**reg.outputs, **r.properties}  # what the provider would create
                level, message = "remediated", f"rewrote {', '.join(changed) or 'nothing'}"
            else:
                continue
            report.add(
                [
                    Violation(
                        level,
                        r.policy_name,
                        reg.urn,
                        message,
                        r.description,
                        "resource",
                        pack=r.policy_pack_name,
                    )
                ]
            )
    return inputs


# -- CLI ----------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m ops.gate.check",
        description="Synthesize a stack offline under mocks and judge it with the policy pack.",
        epilog="exit codes: 0 ok, 1 mandatory violation, 2 program failed, "
        "3 policy pack failed, 4 usage/environment error",
    )
    add_stack_option(parser)
    parser.add_argument("--project-dir", type=Path, default=REPO_DIR, help="Pulumi project dir")
    parser.add_argument(
        "--program", type=Path, help="program file (default: <project-dir>/__main__.py)"
    )
    add_json_option(parser)
    parser.add_argument(
        "--graph",
        type=Path,
        metavar="FILE",
        help="draw the stack with graphviz: FILE.svg or FILE.png (the suffix picks the format)",
    )
    parser.add_argument(
        "--graph-level",
        choices=("resources", "components"),
        help="with --graph: resources draws every resource, components as clusters (default); "
        "components an overview of the components only, parent to child, with their resource "
        "counts",
    )
    parser.add_argument(
        "--policy-pack",
        type=Path,
        default=DEFAULT_PACK_DIR,
        metavar="DIR",
        help="the policy pack to judge with (default: the project's policy/)",
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="default: <pack>/config/<stack>.json, else the file of the stack's stage (dev/prod)",
    )
    parser.add_argument("--in-flight", type=int, default=DEFAULT_IN_FLIGHT, help=argparse.SUPPRESS)
    parser.add_argument("--timings", action="store_true", help="print phase timings to stderr")
    return parser


def _stack_tags(project_dir: Path, project: str) -> dict[str, str]:
    """The tags a DIY backend gives a stack: project, runtime and description."""
    tags = {"pulumi:project": project}
    try:
        data = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return tags
    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name:
        tags["pulumi:runtime"] = str(runtime_name)
    if data.get("description"):
        tags["pulumi:description"] = str(data["description"])
    return tags


def _emit_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.graph_level is not None and args.graph is None:
        parser.error("--graph-level only applies to a graph: add --graph FILE.svg or FILE.png")
    project_dir = args.project_dir.resolve()
    program = args.program.resolve() if args.program else None
    pack_dir = args.policy_pack.resolve()
    timings: dict[str, float] = {}
    document: dict[str, Any] = {"stack": args.stack, "projectDir": str(project_dir)}

    def fail(code: int, status: str, message: str, **extra: Any) -> int:
        if args.json:
            _emit_json(
                {
                    **document,
                    "status": status,
                    "exitCode": code,
                    "error": {"message": message, **extra},
                }
            )
        else:
            print(message, file=sys.stderr)
        return code

    dot = None
    if args.graph is not None:
        from ops.gate.graph import GraphError, check_target, require_dot

        try:
            check_target(args.graph)
            dot = require_dot()
        except GraphError as err:
            return fail(EXIT_USAGE, "usage-error", f"--graph: {err}")

    config_path: Path | None = None
    if args.policy_config is not None:
        named: Path = args.policy_config.resolve()
        if not named.is_file():
            return fail(EXIT_PACK, "policy-error", f"--policy-config {named}: file not found")
        config_path = named

    try:
        stack_config = load_stack_config(project_dir, args.stack)
    except StackConfigError as err:
        return fail(
            EXIT_PROGRAM,
            "program-error",
            f"stack configuration error: {err}",
            type="StackConfigError",
        )
    config_note: str | None = None
    if args.policy_config is None:
        stage = stack_stage(stack_config.raw, stack_config.project)
        choice = choose_policy_config(pack_dir, args.stack, stage)
        config_path, config_note = choice.path, choice.note
        if config_note is not None and not args.json:
            print(f"note: {config_note}", file=sys.stderr)
    try:
        policy_project = read_policy_project(pack_dir)
    except PolicyPackError as err:
        return fail(EXIT_PACK, "policy-error", f"policy pack error: {err}")

    environment = PackEnvironment(
        project=stack_config.project,
        stack=args.stack,
        config=dict(stack_config.values),
        secret_keys=list(stack_config.secret_keys),
        dry_run=True,  # the gate stands in for `pulumi preview --policy-pack`
        tags=_stack_tags(project_dir, stack_config.project),
    )
    pack = PolicyPackProcess(pack_dir, environment)
    worker = ConfigWorker(pack_dir, config_path)  # checks the policy config on the other core
    try:
        try:
            pack.spawn()  # boots while the program runs
        except PolicyPackError as err:
            return fail(EXIT_PACK, "policy-error", f"policy pack failed to start: {err}")

        early = EarlyAnalysis(
            pack,
            stack_config,
            config_path=config_path,
            policy_project=policy_project,
            worker=worker,
        ).start()
        t = time.perf_counter()
        try:
            from ops.synth.runner import synthesize

            synthesis = synthesize(args.stack, project_dir, program, on_record=early.record)
        except (Exception, SystemExit) as exc:  # the program's own failure
            early.stop()
            if is_config_error(exc):
                return fail(
                    EXIT_PROGRAM,
                    "program-error",
                    f"program configuration error:\n{exc}",
                    type=type(exc).__name__,
                )
            trimmed = trim_traceback(
                exc, [project_dir, REPO_DIR, (program or project_dir).parent], relative_to=REPO_DIR
            )
            return fail(
                EXIT_PROGRAM,
                "program-error",
                f"program failed:\n{trimmed}",
                type=type(exc).__name__,
                exception=str(exc),
            )
        timings["synthesize"] = time.perf_counter() - t
        document.update(project=stack_config.project, status="ok")

        try:
            # Before the tree: a bad policy config is the first (and only) thing shown.
            configured = early.finish()
        except PolicyConfigError as err:
            return fail(
                EXIT_PACK, "policy-error", f"policy config error: {err}", problems=err.problems
            )
        except PolicyPackError as err:
            return fail(EXIT_PACK, "policy-error", f"policy pack error: {err}")

        if not args.json:
            print(render_tree(synthesis.records, project=stack_config.project, stack=args.stack))
            print()
            sys.stdout.flush()

        try:
            run = judge(
                pack, synthesis, configured=configured, in_flight=args.in_flight, early=early
            )
        except PolicyPackError as err:
            return fail(EXIT_PACK, "policy-error", f"policy pack error: {err}")
        timings.update(run.timings)
        timings["pack_boot"] = pack.port_printed_at - pack.spawned_at
    finally:
        worker.close()
        pack.close()

    report = run.report
    code = report.exit_code
    if args.graph is not None:
        from ops.gate.graph import GraphError, components_dot, to_dot, write_graph

        rank = {"mandatory": 2, "advisory": 1}
        worst: dict[str, str] = {}
        for v in report.violations:
            if rank.get(v.level, 0) > rank.get(worst.get(v.urn, ""), 0):
                worst[v.urn] = v.level
        draw = components_dot if args.graph_level == "components" else to_dot
        source = draw(
            synthesis.records, project=stack_config.project, stack=args.stack, levels=worst
        )
        try:
            write_graph(source, args.graph, dot=dot)
        except GraphError as err:
            print(f"--graph: {err}", file=sys.stderr)
            code = max(code, EXIT_USAGE)

    cost = _cost(synthesis, stack_config)
    timings["total"] = time.perf_counter() - started
    if args.json:
        status = {0: "ok", 1: "violations", 3: "policy-error", 4: "usage-error"}[code]
        _emit_json(
            {
                **document,
                "status": status,
                "exitCode": code,
                "policyConfig": str(config_path) if config_path else None,
                "policyConfigNote": config_note,
                "resources": {
                    "total": report.resource_count,
                    "byType": [
                        {"type": c.type, "count": c.count, "kind": c.kind}
                        for c in type_counts(synthesis.records)
                    ],
                },
                **report.to_json(),
                "cost": cost[1],
                "graph": str(args.graph) if args.graph else None,
                "packOutput": report.pack_output,
                "timings": {k: round(v, 4) for k, v in timings.items()},
            }
        )
    else:
        print(cost[0])
        print()
        print(report.render_text())
        if args.graph is not None:
            print(f"graph written to {args.graph}")
        for line in report.pack_output:
            print(f"[policy pack] {line}", file=sys.stderr)
    if args.timings:
        shown = " ".join(f"{k}={v:.3f}s" for k, v in timings.items())
        print(f"timings: {shown}", file=sys.stderr)
    return code


def _cost(synthesis: Synthesis, stack_config: StackConfig) -> tuple[str, dict[str, Any]]:
    """The report's cost line and its JSON, or why the stack could not be priced."""
    from ops.cost.estimate import DEFAULT_REGION, estimate_records
    from ops.cost.price_table import PriceError, region_prices
    from ops.cost.render import summary, to_json

    try:
        region = stack_config.values.get("aws:region", DEFAULT_REGION)
        estimate = estimate_records(synthesis.records, region_prices(region), stack_config.stack)
    except PriceError as err:
        return f"cost: not priced: {err}", {"error": str(err)}
    document = to_json(estimate)
    return summary(estimate), {k: document[k] for k in ("region", "pricesCompiled", "monthly")}


class _Terminated(BaseException):
    """SIGTERM (e.g. a CI timeout): unwind so `finally` kills the pack subprocess."""


def _on_sigterm(signum: int, _frame: Any) -> None:
    raise _Terminated(signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        exit_code = main()
    except _Terminated:
        exit_code = 128 + signal.SIGTERM
    # Everything is reported and the pack subprocess is gone: skip tearing down thousands of
    # pulumi-aws modules (and asyncio's complaints about the loop a failed program left behind).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
