"""Run a Python policy pack the way the Pulumi engine does and talk to it over the Analyzer protocol.

The engine (``pkg/resource/plugin/analyzer_plugin.go``, ``NewPolicyAnalyzer``) boots a Python pack
through the legacy ``pulumi-analyzer-policy-python`` shim, which is ``python -u -m pulumi.policy
<engine-address> <program>`` run with the pack directory as working directory and ``.`` as the
program. ``pulumi.policy`` executes ``./__main__.py``; constructing ``PolicyPack`` starts a gRPC
server on ``127.0.0.1:0``, writes the port on stdout and sleeps forever. The stack reaches the pack
through the environment: ``PULUMI_CONFIG`` (the stack config as a JSON object of strings),
``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` and, when known, ``PULUMI_ORGANIZATION``.

:class:`PolicyPackProcess` does exactly that, reads the port, opens ONE channel and exposes the RPCs
the engine makes, in the engine's order: ``Handshake`` (the Python pack answers UNIMPLEMENTED, which
the engine ignores), ``ConfigureStack``, ``GetAnalyzerInfo``, ``Configure``, then ``Remediate`` /
``Analyze`` per resource and ``AnalyzeStack`` once. The subprocess is always killed on close, also
when anything failed; use it as a context manager.

Spawning is split from waiting (:meth:`PolicyPackProcess.spawn` / :meth:`wait_ready`) so the caller
can let the pack boot while the program is being synthesized.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

# Same limit the policy SDK and the engine use for the channel (400 MiB).
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
# The pack never dials the engine (pulumi.policy only parses the argument), but the argument is
# required, so it gets a syntactically valid address.
OFFLINE_ENGINE_ADDRESS = "127.0.0.1:0"

LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVEL_NAMES.items()}
SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class PolicyPackError(Exception):
    """The policy pack failed to start, or an RPC to it failed (e.g. a policy raised)."""

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr

    def __str__(self) -> str:
        text = super().__str__()
        if self.stderr.strip():
            text += "\n--- policy pack stderr (last lines) ---\n" + self.stderr.rstrip()
        return text


# -- data the pack describes about itself ---------------------------------------------------------
@dataclass(frozen=True)
class PolicyInfo:
    """One policy as GetAnalyzerInfo describes it (schema kept as plain JSON Schema dicts)."""

    name: str
    description: str
    enforcement_level: str
    kind: str  # "resource" | "stack" | ""
    config_properties: dict[str, dict[str, Any]] | None = None
    config_required: tuple[str, ...] = ()
    severity: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    supports_config: bool
    policies: tuple[PolicyInfo, ...]
    initial_config: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnostic:
    """One AnalyzeDiagnostic, with the level as a word."""

    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    description: str
    message: str
    enforcement_level: str
    urn: str
    severity: str


@dataclass(frozen=True)
class Remediation:
    policy_name: str
    policy_pack_name: str
    description: str
    properties: dict[str, Any] | None
    diagnostic: str


# -- value conversion ---------------------------------------------------------------------------
_SIG = "4dabf18193072939515e22adb298388d"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def secret(value: Any) -> dict[str, Any]:
    """A value marked secret, as the engine marshals it with `KeepSecrets: true`."""
    return {_SIG: _SECRET_SIG, "value": value}


def to_wire(value: Any) -> Any:
    """Turn a recorded property value into what `MarshalProperties` would put in a Struct.

    Recorded inputs are already in wire form except for assets/archives (kept as SDK objects) and
    tuples; secrets are already ``{sig: secret, value}`` maps, which is what the engine sends with
    ``KeepSecrets: true``.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    import pulumi  # already imported by the caller; local to keep this module light

    if isinstance(value, pulumi.FileAsset):
        return {_SIG: _ASSET_SIG, "path": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {_SIG: _ASSET_SIG, "text": value.text}
    if isinstance(value, pulumi.RemoteAsset):
        return {_SIG: _ASSET_SIG, "uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {_SIG: _ARCHIVE_SIG, "assets": {k: to_wire(v) for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive):
        return {_SIG: _ARCHIVE_SIG, "path": str(value.path)}
    if isinstance(value, pulumi.RemoteArchive):
        return {_SIG: _ARCHIVE_SIG, "uri": value.uri}
    return str(value)


def to_struct(properties: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    if properties:
        struct.update(to_wire(properties))
    return struct


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


# -- the process --------------------------------------------------------------------------------
def _drain(stream: IO[bytes], sink: collections.deque[str], first_line: queue.Queue | None) -> None:
    """Read `stream` to EOF; hand the first line (with its arrival time) to `first_line`."""
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            if first_line is not None:
                first_line.put((line, time.perf_counter()))
                first_line = None
                continue
            sink.append(line)
    except (OSError, ValueError):
        pass
    finally:
        if first_line is not None:
            first_line.put(None)  # EOF before any line: the pack died while starting


@dataclass
class PackEnvironment:
    """What the engine tells a policy pack about the stack (`constructEnv` + ConfigureStack)."""

    project: str
    stack: str
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    dry_run: bool = True
    organization: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Never let a caller's own PULUMI_* leak into the pack's view of the stack.
        for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS", "PULUMI_ORGANIZATION"):
            env.pop(key, None)
        if self.config:
            env["PULUMI_CONFIG"] = json.dumps(self.config)
        if self.organization:
            env["PULUMI_ORGANIZATION"] = self.organization
        env["PULUMI_PROJECT"] = self.project
        env["PULUMI_STACK"] = self.stack
        env["PULUMI_DRY_RUN"] = "true" if self.dry_run else "false"
        return env


class PolicyPackProcess:
    """A running policy pack subprocess plus one gRPC channel to it.

    >>> with PolicyPackProcess(Path("policy"), PackEnvironment("p", "dev")) as pack:
    ...     info = pack.get_analyzer_info()
    """

    def __init__(
        self,
        pack_dir: Path,
        environment: PackEnvironment,
        *,
        python: str | None = None,
        start_timeout: float = 60.0,
        rpc_timeout: float = 120.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.environment = environment
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.rpc_timeout = rpc_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stdout: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._port_line: queue.Queue[tuple[str, float] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self.spawned_at = 0.0
        self.port_printed_at = 0.0  # when the pack printed its port: boot = this - spawned_at
        self.ready_at = 0.0
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def command(self) -> list[str]:
        return [self.python, "-u", "-m", "pulumi.policy", OFFLINE_ENGINE_ADDRESS, "."]

    def spawn(self) -> PolicyPackProcess:
        """Start the subprocess without waiting for it (idempotent; never again after close)."""
        if self._proc is not None:
            return self
        if self._closed:
            raise PolicyPackError(f"policy pack {self.pack_dir} was closed")
        if not (self.pack_dir / "__main__.py").is_file():
            raise PolicyPackError(f"policy pack {self.pack_dir} has no __main__.py")
        self.spawned_at = time.perf_counter()
        try:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.pack_dir,
                env=self.environment.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as err:
            raise PolicyPackError(f"cannot start {self.python}: {err}") from err
        assert self._proc.stdout is not None and self._proc.stderr is not None
        for stream, sink, first in (
            (self._proc.stdout, self._stdout, self._port_line),
            (self._proc.stderr, self._stderr, None),
        ):
            thread = threading.Thread(target=_drain, args=(stream, sink, first), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_ready(self) -> PolicyPackProcess:
        """Wait for the port line and a connected channel; PolicyPackError if the pack died."""
        if self._stub is not None:
            return self
        self.spawn()
        deadline = self.spawned_at + self.start_timeout
        try:
            item = self._port_line.get(timeout=max(0.0, deadline - time.perf_counter()))
        except queue.Empty:
            raise self._failure(
                f"policy pack did not print its port within {self.start_timeout:.0f}s"
            ) from None
        if item is None:
            raise self._failure("policy pack exited before it started serving")
        line, self.port_printed_at = item
        try:
            self.port = int(line.strip())
        except ValueError:
            raise self._failure(
                f"policy pack printed {line!r} instead of its port (stdout must stay clean "
                "until the PolicyPack is constructed)"
            ) from None
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(
                timeout=max(1.0, deadline - time.perf_counter())
            )
        except grpc.FutureTimeoutError:
            raise self._failure(f"cannot connect to the policy pack on port {self.port}") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.ready_at = time.perf_counter()
        return self

    def close(self) -> None:
        """Close the channel and kill the subprocess (always safe to call, also twice)."""
        self._closed = True
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=3)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        for thread in self._threads:
            thread.join(timeout=1)
        self._threads.clear()

    def __enter__(self) -> PolicyPackProcess:
        return self.spawn()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def stderr_tail(self) -> str:
        return "\n".join(list(self._stderr)[-60:])

    @property
    def stdout_lines(self) -> list[str]:
        """What the pack printed after its port (e.g. `print` calls in policies)."""
        return list(self._stdout)

    def _failure(self, message: str) -> PolicyPackError:
        if self._proc is not None and self._proc.poll() is not None:
            for thread in self._threads:
                thread.join(timeout=2)
            message += f" (exit code {self._proc.returncode})"
        return PolicyPackError(
            f"{message}\n  command: {' '.join(self.command)}\n  cwd: {self.pack_dir}",
            stderr=self.stderr_tail,
        )

    # -- RPCs --------------------------------------------------------------------------------
    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        self.wait_ready()
        assert self._stub is not None
        return self._stub

    def _rpc_error(self, what: str, err: grpc.RpcError) -> PolicyPackError:
        code = err.code() if hasattr(err, "code") else None
        details = err.details() if hasattr(err, "details") else str(err)
        name = code.name if code is not None else "ERROR"
        return PolicyPackError(f"{what} failed ({name}): {details}", stderr=self.stderr_tail)

    def handshake(self) -> bool:
        """Handshake as the engine does; False when the pack does not implement it (Python)."""
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=OFFLINE_ENGINE_ADDRESS,
            root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir),
        )
        try:
            self.stub.Handshake(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return False
            raise self._rpc_error("Handshake", err) from None
        return True

    def configure_stack(self) -> None:
        env = self.environment
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=env.stack,
            project=env.project,
            organization=env.organization,
            dry_run=env.dry_run,
            config=env.config,
            config_secret_keys=env.secret_keys,
            tags=env.tags,
        )
        try:
            self.stub.ConfigureStack(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._rpc_error("ConfigureStack", err) from None

    def get_plugin_info(self) -> str:
        try:
            info: plugin_pb2.PluginInfo = self.stub.GetPluginInfo(
                empty_pb2.Empty(), timeout=self.rpc_timeout
            )
        except grpc.RpcError as err:
            raise self._rpc_error("GetPluginInfo", err) from None
        return info.version

    def get_analyzer_info(self) -> AnalyzerInfo:
        try:
            info = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            raise self._rpc_error("GetAnalyzerInfo", err) from None
        policies = []
        for p in info.policies:
            properties = None
            if p.HasField("configSchema") and (
                p.configSchema.properties.fields or p.configSchema.required
            ):
                properties = struct_to_dict(p.configSchema.properties)
            kind = {
                analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
                analyzer_pb2.POLICY_TYPE_STACK: "stack",
            }.get(p.policy_type, "")
            policies.append(
                PolicyInfo(
                    name=p.name,
                    description=p.description,
                    enforcement_level=LEVEL_NAMES.get(p.enforcementLevel, "advisory"),
                    kind=kind,
                    config_properties=properties,
                    config_required=tuple(p.configSchema.required),
                    severity=SEVERITY_NAMES.get(p.severity, ""),
                    display_name=p.displayName,
                )
            )
        initial = {
            key: (
                LEVEL_NAMES.get(value.enforcementLevel, "advisory"),
                struct_to_dict(value.properties) if value.properties.fields else None,
            )
            for key, value in info.initialConfig.items()
        }
        return AnalyzerInfo(
            name=info.name,
            version=info.version,
            supports_config=info.supportsConfig,
            policies=tuple(policies),
            initial_config=initial,
        )

    def configure(self, policy_config: Mapping[str, tuple[str, Mapping[str, Any] | None]]) -> None:
        """Send the reconciled config: {policy: (enforcement level word, properties or None)}."""
        if not policy_config:
            return  # the engine returns early too
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, properties) in policy_config.items():
            if level not in LEVEL_VALUES:
                raise PolicyPackError(
                    f"policy config for {name!r}: invalid enforcement level {level!r}"
                )
            entry = request.policyConfig[name]
            entry.enforcementLevel = LEVEL_VALUES[level]
            if properties:
                entry.properties.update(to_wire(properties))
        try:
            self.stub.Configure(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            raise self._rpc_error("Configure", err) from None

    def remediate(self, request: analyzer_pb2.AnalyzeRequest) -> list[Remediation]:
        try:
            response = self.stub.Remediate(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return []
            raise self._rpc_error(f"Remediate({request.urn})", err) from None
        return [
            Remediation(
                policy_name=r.policyName,
                policy_pack_name=r.policyPackName,
                description=r.description,
                properties=struct_to_dict(r.properties) if r.HasField("properties") else None,
                diagnostic=r.diagnostic,
            )
            for r in response.remediations
        ]

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> list[Diagnostic]:
        try:
            response = self.stub.Analyze(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            raise self._rpc_error(f"Analyze({request.urn})", err) from None
        return _diagnostics(response)

    def analyze_async(self, request: analyzer_pb2.AnalyzeRequest) -> Any:
        """Send one Analyze without waiting; pass the future to `analyze_many` as `sent`."""
        return self.stub.Analyze.future(request, timeout=self.rpc_timeout)

    def analyze_many(
        self,
        requests: Sequence[analyzer_pb2.AnalyzeRequest],
        *,
        in_flight: int = 8,
        sent: Mapping[int, Any] | None = None,
    ) -> tuple[list[list[Diagnostic]], list[PolicyPackError]]:
        """Analyze every request over the one channel, up to `in_flight` calls outstanding.

        `sent` maps the index of a request already sent (`analyze_async`) to its future; those
        are collected, not sent again. Returns the diagnostics per request (same order) and the
        failures (a policy that raised fails only the call for that resource; every other
        resource is still judged).
        """
        results: list[list[Diagnostic]] = [[] for _ in requests]
        errors: list[PolicyPackError] = []
        sent = sent or {}
        stub = self.stub
        if in_flight <= 1 and not sent:
            for i, request in enumerate(requests):
                try:
                    results[i] = self.analyze(request)
                except PolicyPackError as err:
                    errors.append(err)
            return results, errors
        pending: collections.deque[tuple[int, Any]] = collections.deque()

        def collect() -> None:
            i, future = pending.popleft()
            try:
                results[i] = _diagnostics(future.result())
            except grpc.RpcError as err:
                errors.append(self._rpc_error(f"Analyze({requests[i].urn})", err))

        for i, request in enumerate(requests):
            future = sent.get(i)
            if future is None:
                if len(pending) >= in_flight:
                    collect()
                future = stub.Analyze.future(request, timeout=self.rpc_timeout)
            pending.append((i, future))
        while pending:
            collect()
        return results, errors

    def analyze_stack(self, resources: Iterable[analyzer_pb2.AnalyzerResource]) -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeStackRequest(resources=list(resources))
        try:
            response = self.stub.AnalyzeStack(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return []
            raise self._rpc_error("AnalyzeStack", err) from None
        return _diagnostics(response)


def _diagnostics(response: analyzer_pb2.AnalyzeResponse) -> list[Diagnostic]:
    return [
        Diagnostic(
            policy_name=d.policyName,
            policy_pack_name=d.policyPackName,
            policy_pack_version=d.policyPackVersion,
            description=d.description,
            message=d.message,
            enforcement_level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
            urn=d.urn,
            severity=SEVERITY_NAMES.get(d.severity, ""),
        )
        for d in response.diagnostics
    ]
