"""CI release pipeline on the Pulumi Automation API: one environment at a time — blue (onebox,
bake, fleet), then green — so the standby environment is the fallback while the active one changes.

    python -m ops.release.pipeline --stack prod [--bake-seconds 300] [--load-rate 20]
        [--load-seconds S] [--smoke-samples 600] [--skip-preview] [--dry-run] [--json]
        [--rollout-timeout 1800] [--poll-interval 15] [--show-pulumi-output]
        [--fault latency=MS [--fault-service blue-onebox]]

Release state lives with the stack: every service runs what its release pin recorded
(``components/release_pins.py``). Each ``up`` gets a throwaway copy of ``Pulumi.<stack>.yaml``
(``--config-file``) naming the pins that move (``release.rollout``), so the committed file is never
written. For each environment, active (``dns.primary``) first:

1. ``up`` with the environment's onebox added to the rollout; watch its deployment to COMPLETED;
   smoke test (``/health`` 200, ``/version`` shows the new version);
2. bake ``--bake-seconds`` while sending ``--load-rate`` requests/s to the environment: the onebox's
   deployment alarms must stay out of ALARM and out of INSUFFICIENT_DATA at the end (every deployment
   alarm has a verdict in a healthy minute, idle or busy, so INSUFFICIENT_DATA means CloudWatch is
   not judging the release), and the load must get answers (a bake nobody called fails). The bake
   lasts at least as long as its slowest deployment alarm needs to fire on a failing release, as
   the alarm replay (``ops.alarm_replay``, scenario 'a failing release') of the alarms' real
   definitions (``DescribeAlarms``) says; the log and ``--json`` name each replay. A failed
   bake puts the onebox back on its
   previous release (an ``up`` with ``release.pins``) — ECS no longer acts on alarms once the
   rollout is COMPLETED;
3. ``up`` with the fleet added; watch; smoke test (every ``/version`` answer is the new version);
   a failed fleet rollout (ECS rolls back) sets the fleet's pin back too.

Without onebox (dev) each environment is one ``up``, watch and smoke test. The first release of an
empty stack is one ``up`` for everything (every pin is created with the new image).

With ``cluster.capacityPerEnvironment`` (prod) each environment has hosts of its own, and their
AMI, instance type and user data are pinned like the releases (``components/host_pins.py``). The
application steps hold every host pin (``release.hostRollout: []``); then a host step per
environment, active first: an ``up`` that moves that environment's host pin
(``release.hostRollout``), the instance refresh it starts followed to ``Successful``
(``ops/release/host_refresh.py``), then its services baked ``--bake-seconds`` (no deployment alarm
fires, no deployment fails) before the next environment's hosts move. A failed host step stops
(exit 15) with the next environment on its old hosts.

``--fault latency=MS`` makes a **fault release** (the bad-release drill of the onebox/fleet article): one ``up``
re-releasing the active environment's onebox on the release it runs (its pin) with the app's latency
fault switch on (``release.faults``; ``components/fault_switch.py``), then watch, smoke and bake as
above. Nothing else moves; a fleet never gets a fault (refused, exit 2). The onebox is put back on
its release without the fault whatever the bake says: exit 10 when the deployment alarms caught the
fault (ECS rolled back, or the bake failed), 14 when they did not.

``--dry-run`` (``make release-plan``) touches nothing: it runs the offline gate first
(``ops.release.plan_gate``: the settings and the policy pack, as ``make check``) and refuses what the
gate refuses (exit 3 for a mandatory violation or a failed pack, 2 for bad settings), then prints the
plan.

Exit codes — below 10 nothing changed, 10 and up the stack already changed:
0 released (or nothing to do); 2 usage or configuration error; 3 ``pulumi`` failed before any change
(selecting the stack, preview, a mandatory policy violation); 4 ECS or CloudWatch unreadable at
preflight; 10 a deployment failed, was rolled back, an alarm fired, the bake saw no data or the watch
timed out (the failed service was put back); 11 a smoke test failed; 12 ``pulumi up`` failed (the
stack may be partly updated); 13 AWS (ECS/CloudWatch) unreadable, or a stack output missing, after
the stack changed; 14 a fault release passed the bake (its alarms missed the fault; the onebox was
put back).
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "ops/release/pipeline.py is a module: run `python -m ops.release.pipeline` in the project, or `make release`\n"
    )
    raise SystemExit(2)

import argparse
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import yaml
from pulumi import automation as auto

from components.fault_switch import fault_environment, fault_summary, key_problem, parse_cli_fault
from ops.cli.options import JSON_HELP, add_stack_option, unknown_stack_message
from ops.gate.policy_choice import choose_policy_config, stack_stage
from ops.release.bake_window import bake_window
from ops.release.deployment_watch import (
    DeploymentWatcher,
    WatchError,
    WatchReport,
    deployment_alarm_names,
)
from ops.release.host_refresh import HostRefreshWatcher, refresh_ids
from ops.release.http_probe import Fetch, fetch_for, http_get, public_name
from ops.release.load import BackgroundLoad, LoadResult, check_bounds
from ops.release.plan_gate import GATE_MANDATORY, GATE_PACK, judge_stack
from ops.release.run_config import RunConfigError, write_run_config
from ops.release.smoke import SmokeResult, smoke_test

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_POLICY_PACK = REPO_DIR / "policy"
DIGEST_RE = re.compile(r"\S+@sha256:[0-9a-f]{64}")
EXIT_OK, EXIT_USAGE, EXIT_PULUMI, EXIT_PREFLIGHT = 0, 2, 3, 4
EXIT_DEPLOY_FAILED, EXIT_SMOKE, EXIT_UP_FAILED, EXIT_AWS_AFTER = 10, 11, 12, 13
EXIT_FAULT_MISSED = 14
EXIT_HOSTS_FAILED = 15
EXIT_MEANINGS = {
    EXIT_OK: "released (or nothing to do)",
    EXIT_USAGE: "usage or configuration error; nothing changed",
    EXIT_PULUMI: "pulumi failed before any change (select, preview, policy); nothing changed",
    EXIT_PREFLIGHT: "ECS or CloudWatch unreadable at preflight; nothing changed",
    EXIT_DEPLOY_FAILED: "a deployment failed or the bake did not pass; the stack changed and the "
    "failed service was put back",
    EXIT_SMOKE: "a smoke test failed after an up; the stack changed",
    EXIT_UP_FAILED: "pulumi up failed; the stack may be partly updated",
    EXIT_AWS_AFTER: "ECS/CloudWatch unreadable or an output missing after the stack changed",
    EXIT_FAULT_MISSED: "a fault release passed the bake: the deployment alarms missed the fault; "
    "the onebox was put back",
    EXIT_HOSTS_FAILED: "an environment's new hosts did not prove healthy (instance refresh failed, "
    "or its services or alarms did not settle); the next environment's hosts were not moved",
}
PULUMI_INSTALL_PAGE = "https://www.pulumi.com/docs/iac/download-install/"
CLI_MISSING = f"needs the pulumi CLI on PATH (install it: {PULUMI_INSTALL_PAGE})"


class StackLike(Protocol):
    """The part of ``pulumi.automation.Stack`` the pipeline uses (tests pass a fake)."""

    @property
    def name(self) -> str: ...

    # read-only (covariant) members: Stack's methods have many more keyword arguments
    @property
    def preview(self) -> Callable[..., Any]: ...
    @property
    def up(self) -> Callable[..., Any]: ...
    @property
    def outputs(self) -> Callable[[], Any]: ...
    @property
    def get_all_config(self) -> Callable[[], Any]: ...


WatcherFactory = Callable[[str | None], DeploymentWatcher]
HostWatcherFactory = Callable[[str | None], HostRefreshWatcher]


class PipelineError(Exception):
    """A problem with the stack's configuration or outputs."""


class PreflightError(Exception):
    """AWS could not be read before anything changed."""


# -- small pure helpers ----------------------------------------------------------------------------
class Log:
    """``2025-01-31T12:00:00Z [step] message`` lines; ``now`` is injectable for tests."""

    def __init__(
        self, out: TextIO | None = None, now: Callable[[], datetime] | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.now = now or (lambda: datetime.now(UTC))

    def __call__(self, step: str, message: str) -> None:
        stamp = self.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.out.write(f"{stamp} [{step}] {message}\n")
        self.out.flush()


def plain(value: Any) -> Any:
    """An automation-API ``OutputValue``/``ConfigValue`` → its value; plain values unchanged."""
    return value.value if hasattr(value, "value") and hasattr(value, "secret") else value


def plain_outputs(outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: plain(value) for key, value in (outputs or {}).items()}


def _object(raw: Any, key: str) -> Any:
    """A structured config value: the CLI hands objects and lists over JSON-encoded."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError as err:
        raise PipelineError(f"{key} is not valid JSON: {raw!r}") from err


@dataclass(frozen=True)
class ReleaseConfig:
    onebox: bool
    region: str | None
    environments: tuple[str, ...] = ("blue",)
    primary: str | None = None
    hosts_per_environment: bool = False
    """``cluster.capacityPerEnvironment``: host changes get a step per environment."""

    @property
    def order(self) -> list[str]:
        """Active environment first, then the others in their configured order."""
        first = [self.primary] if self.primary in self.environments else []
        return [*first, *(e for e in self.environments if e not in first)]

    @property
    def roles(self) -> tuple[str, ...]:
        return ("onebox", "fleet") if self.onebox else ("fleet",)


def read_release_config(config: Mapping[str, Any], namespace: str) -> ReleaseConfig:
    """``<ns>:release``, ``<ns>:environments``, ``<ns>:dns`` (JSON from the CLI) and ``aws:region``."""
    release = _object(plain(config.get(f"{namespace}:release")), f"{namespace}:release") or {}
    if not isinstance(release, dict):
        raise PipelineError(f"{namespace}:release must be an object, got {release!r}")
    envs = _object(plain(config.get(f"{namespace}:environments")), f"{namespace}:environments")
    dns = _object(plain(config.get(f"{namespace}:dns")), f"{namespace}:dns") or {}
    region = plain(config.get("aws:region"))
    environments = tuple(str(e) for e in envs) if isinstance(envs, list) and envs else ("blue",)
    primary = dns.get("primary", "blue") if isinstance(dns, dict) and dns.get("enabled") else None
    cluster = _object(plain(config.get(f"{namespace}:cluster")), f"{namespace}:cluster") or {}
    return ReleaseConfig(
        onebox=release.get("onebox") is True,
        region=str(region) if region else None,
        environments=environments,
        primary=str(primary) if primary else None,
        hosts_per_environment=isinstance(cluster, dict)
        and cluster.get("capacityPerEnvironment") is True,
    )


def short_digest(ref: str | None) -> str:
    """``repo@sha256:0123456789ab…`` for logs (the full digest is in the JSON summary)."""
    if not ref:
        return "(none)"
    repo, _, digest = ref.partition("@")
    return f"{repo.rsplit('/', 1)[-1]}@{digest[:19]}…" if digest else ref


def change_summary(changes: Mapping[Any, int] | None) -> str:
    if not changes:
        return "no change summary"
    parts = [f"{getattr(op, 'value', op)}={count}" for op, count in changes.items() if count]
    return ", ".join(sorted(parts)) or "no changes"


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(str(text).strip().splitlines()[-lines:])


def project_name(project_dir: Path) -> str:
    data = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    name = data.get("name")
    if not name:
        raise PipelineError(f"{project_dir / 'Pulumi.yaml'}: no project name")
    return str(name)


@dataclass(frozen=True)
class Step:
    """One ``up``: the pins that move and the services to watch afterwards."""

    name: str
    environment: str | None
    role: str | None
    rollout: tuple[str, ...]
    pins: Mapping[str, Mapping[str, str]] | None = None
    """Pins set to a given release in this ``up`` (a fault release re-pins the onebox)."""
    faults: Mapping[str, Mapping[str, int]] | None = None
    """``release.faults`` of this ``up``: the fault switch a onebox release carries."""
    host_rollout: tuple[str, ...] | None = None
    """``release.hostRollout`` of this ``up``: environments whose host pins move; None: unset."""
    hosts: bool = False
    """A host step: ``environment``'s hosts move (no application pin does)."""

    @property
    def key(self) -> str | None:
        return f"{self.environment}-{self.role}" if self.environment and self.role else None


def plan_steps(config: ReleaseConfig, first_release: bool) -> list[Step]:
    every = tuple(f"{e}-{r}" for e in config.order for r in config.roles)
    if first_release:
        return [Step("everything", None, None, every)]
    # With hosts per environment the application steps hold every host pin; the host steps
    # after them move one environment's hosts per ``up``, active first.
    held = () if config.hosts_per_environment else None
    steps: list[Step] = []
    moved: list[str] = []
    for env in config.order:
        for role in config.roles:
            moved.append(f"{env}-{role}")
            steps.append(Step(f"{env} {role}", env, role, tuple(moved), host_rollout=held))
    if config.hosts_per_environment:
        steps.extend(host_steps(config, every))
    return steps


def host_steps(config: ReleaseConfig, every: tuple[str, ...]) -> list[Step]:
    """One ``up`` per environment, active first, each moving one more environment's host pin;
    every application pin follows (they already run this release)."""
    order = config.order
    return [
        Step(f"{env} hosts", env, None, every, host_rollout=tuple(order[: i + 1]), hosts=True)
        for i, env in enumerate(order)
    ]


def fault_step(
    config: ReleaseConfig,
    previous_pins: Mapping[str, Mapping[str, str]],
    faults: Mapping[str, int],
    key: str | None = None,
) -> Step:
    """The one ``up`` of a fault release: ``key`` (default: the active environment's onebox) on
    the release it runs, with ``faults``; nothing follows, so nothing else moves."""
    if not config.onebox:
        raise PipelineError(
            "a fault release goes to a onebox, and this stack has none (release.onebox is false)"
        )
    key = key or f"{config.order[0]}-onebox"
    if problem := key_problem(key):
        raise PipelineError(f"--fault-service {problem}")
    known = [f"{env}-onebox" for env in config.order]
    if key not in known:
        raise PipelineError(
            f"--fault-service {key} names no onebox of this stack ({', '.join(known)})"
        )
    pin = previous_pins.get(key)
    if not pin or not pin.get("image") or not pin.get("version"):
        raise PipelineError(
            f"no release recorded for {key} (releasePins output): a fault release re-releases what "
            "the onebox runs; release the stack first"
        )
    env = key.removesuffix("-onebox")
    return Step(
        f"{env} onebox fault {fault_summary(faults)}",
        env,
        "onebox",
        (),
        pins={key: {"image": str(pin["image"]), "version": str(pin["version"])}},
        faults={key: dict(faults)},
        host_rollout=() if config.hosts_per_environment else None,
    )


# -- the pipeline ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineOptions:
    bake_seconds: float = 300.0
    rollout_timeout: float = 1800.0
    skip_preview: bool = False
    namespace: str = "steadystate"
    policy_pack: Path | None = DEFAULT_POLICY_PACK
    policy_config: Path | None = None
    """Default: ``<policy_pack>/config/<stack>.json`` when that file exists, else the file of the
    stack's stage (``ops.gate.policy_choice``)."""
    show_pulumi_output: bool = False
    project_dir: Path = REPO_DIR
    load_rate: float = 20.0
    load_seconds: float | None = None
    """Default: the bake's length."""
    smoke_samples: int = 600
    faults: Mapping[str, int] | None = None
    """``--fault``: make a fault release of ``fault_service`` instead of a release."""
    fault_service: str | None = None
    """The onebox a fault release goes to; None: the active environment's."""


@dataclass
class Summary:
    """What the run did, for ``--json``: stages, timings, digests, verdicts."""

    stack: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    image: dict[str, Any] = field(default_factory=dict)
    previous_pins: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None
    changed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "exitCode": self.exit_code,
            "exitMeaning": EXIT_MEANINGS.get(self.exit_code or 0, "")
            if self.exit_code is not None
            else None,
            "stackChanged": self.changed,
            "image": self.image,
            "previousPins": self.previous_pins,
            "stages": self.stages,
        }


class Pipeline:
    """Drives one release of ``stack``; every outside effect goes through the stack, the watcher or
    HTTP to the service."""

    def __init__(
        self,
        stack: StackLike,
        watcher_factory: WatcherFactory,
        options: PipelineOptions | None = None,
        *,
        log: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        fetch: Fetch = http_get,
        host_watcher_factory: HostWatcherFactory | None = None,
    ) -> None:
        self.stack = stack
        self.watcher_factory = watcher_factory
        self.host_watcher_factory = host_watcher_factory or boto_host_watcher_factory()
        self.region: str | None = None
        self.options = options or PipelineOptions()
        self.log = log or Log()
        self.clock = clock
        self.fetch = fetch
        self.summary = Summary(stack.name)
        self.service_url = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._outputs: dict[str, Any] = {}

    # pulumi calls ------------------------------------------------------------------------------
    def policy_args(self) -> dict[str, Any]:
        pack = self.options.policy_pack
        if pack is None:
            return {}
        if not (pack / "PulumiPolicy.yaml").exists():
            raise PipelineError(f"policy pack {pack} has no PulumiPolicy.yaml")
        args: dict[str, Any] = {"policy_packs": [str(pack)]}
        named = self.options.policy_config
        if named is not None:
            if not named.exists():
                raise PipelineError(f"policy config {named} not found")
            args["policy_pack_configs"] = [str(named)]
            return args
        config = {k: plain(v) for k, v in self.stack.get_all_config().items()}
        stage = stack_stage(config, self.options.namespace)
        choice = choose_policy_config(pack, self.stack.name, stage)
        if choice.note is not None:
            self.log("policy", choice.note)
        if choice.path is not None:
            args["policy_pack_configs"] = [str(choice.path)]
        return args

    def _run_config(
        self,
        rollout: Sequence[str],
        pins: Mapping[str, Mapping[str, str]] | None = None,
        faults: Mapping[str, Mapping[str, int]] | None = None,
        host_rollout: Sequence[str] | None = None,
    ) -> str:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="steadystate-release-")
        try:
            path = write_run_config(
                self.options.project_dir,
                self.stack.name,
                self.options.namespace,
                rollout=rollout,
                pins=pins,
                faults=faults,
                host_rollout=host_rollout,
                directory=Path(self._tmp.name),
            )
        except RunConfigError as err:
            raise PipelineError(str(err)) from err
        return str(path)

    def _cli_kwargs(self, config_file: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "color": "never",
            "config_file": config_file,
            **self.policy_args(),
        }
        if self.options.show_pulumi_output:
            kwargs["on_output"] = lambda line: print(f"    | {line}", flush=True)
        return kwargs

    def _up(
        self,
        step: str,
        rollout: Sequence[str],
        pins: Mapping[str, Mapping[str, str]] | None = None,
        faults: Mapping[str, Mapping[str, int]] | None = None,
        host_rollout: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        moving = ", ".join(rollout) or "nothing"
        extra = f"; pins {', '.join(pins)} set" if pins else ""
        if host_rollout is not None:
            extra += f"; hosts of {', '.join(host_rollout) or 'no environment'} move"
        self.log(step, f"pulumi up (policy pack enforced): rollout {moving}{extra}")
        for key, switch in (faults or {}).items():
            env = ", ".join(f"{k}={v}" for k, v in fault_environment(switch).items())
            self.log(
                step, f"FAULT RELEASE: {key} gets {env} (tag FaultSwitch={fault_summary(switch)})"
            )
        started = self.clock()
        self.summary.changed = True  # from here on, a failure is "the stack already changed"
        result = self.stack.up(
            **self._cli_kwargs(self._run_config(rollout, pins, faults, host_rollout))
        )
        summary = getattr(result, "summary", None)
        changes = getattr(summary, "resource_changes", None)
        self.log(step, f"up finished: {change_summary(changes)}")
        self._stage(step, "up", started, change_summary(changes))
        outputs = plain_outputs(getattr(result, "outputs", None) or self.stack.outputs())
        for key in ("clusterName", "serviceNames", "imageRef", "imageVersion", "environmentUrls"):
            if not outputs.get(key):
                raise PipelineError(f"stack output {key!r} is missing after up")
        if not DIGEST_RE.fullmatch(str(outputs["imageRef"])):
            raise PipelineError(f"imageRef {outputs['imageRef']!r} is not pinned by digest")
        return outputs

    def _fetch_for(self, environment_url: str) -> Fetch:
        """HTTPS to an environment's load balancer presents the service's public name (its
        certificate's), HTTP goes as is."""
        name = public_name(self.service_url, environment_url)
        return fetch_for(name) if name else self.fetch

    def _stage(self, step: str, kind: str, started: float, result: str, **extra: Any) -> None:
        self.summary.stages.append(
            {
                "step": step,
                "kind": kind,
                "seconds": round(self.clock() - started, 3),
                "result": result,
                **extra,
            }
        )

    # watching ----------------------------------------------------------------------------------
    def _watch(
        self,
        watcher: DeploymentWatcher,
        step: str,
        cluster: str,
        services: dict[str, str],
        *,
        check_alarms: bool = True,
    ) -> tuple[WatchReport, dict[str, str | None]]:
        """Follow each service's new PRIMARY deployment to COMPLETED (ids for a later bake)."""
        watcher.log = lambda line: self.log(step, line)
        names = list(services.values())
        self.log(step, f"watching {', '.join(services)} in {cluster}")
        started = self.clock()
        ids = watcher.primary_ids(cluster, names)
        report = watcher.wait_for_rollout(
            cluster,
            names,
            timeout=self.options.rollout_timeout,
            deployment_ids=ids,
            check_alarms=check_alarms,
        )
        self._stage(step, "watch", started, "ok" if report.ok else "failed", reason=report.reason)
        return report, ids

    def _bake(
        self,
        watcher: DeploymentWatcher,
        step: str,
        cluster: str,
        services: dict[str, str],
        ids: dict[str, str | None],
        url: str,
    ) -> WatchReport:
        opts = self.options
        names = [
            name
            for svc in watcher.describe(cluster, list(services.values())).values()
            for name in deployment_alarm_names(svc)
        ]
        window = bake_window(opts.bake_seconds, watcher.alarms(names) if names else [])
        for line in window.lines:
            self.log(step, line)
        seconds = window.seconds
        load_seconds = opts.load_seconds or seconds
        self.log(
            step,
            f"baking {', '.join(services)} for {seconds:.0f}s with {opts.load_rate:g} requests/s "
            f"to {url} for {load_seconds:.0f}s",
        )
        watcher.log = lambda line: self.log(step, line)
        started = self.clock()
        load = BackgroundLoad(
            url, rate=opts.load_rate, seconds=load_seconds, fetch=self._fetch_for(url)
        )
        load.start()
        try:
            report = watcher.bake(
                cluster, list(services.values()), seconds=seconds, deployment_ids=ids
            )
        finally:
            traffic: LoadResult = load.finish()
        self.log(step, f"load: {traffic.summary()}")
        if report.ok and traffic.answered == 0:
            report = WatchReport(
                False, f"no request reached the service during the bake ({traffic.summary()})"
            )
        if report.ok:
            silent = watcher.alarms_without_data(cluster, list(services.values()))
            if silent:
                report = WatchReport(
                    False,
                    f"deployment alarm(s) {', '.join(silent)} in INSUFFICIENT_DATA after the bake: "
                    "nothing measured the new release, so it did not pass",
                )
        self._stage(
            step,
            "bake",
            started,
            "ok" if report.ok else "failed",
            reason=report.reason,
            load=traffic.to_json(),
            alarm_replays=list(window.lines),
        )
        return report

    def _smoke(
        self,
        step: str,
        env: str,
        url: str,
        new_version: str,
        *,
        every: bool,
        fleet_version: str | None,
    ) -> SmokeResult:
        started = self.clock()
        result = smoke_test(
            url,
            new_version,
            every=every,
            also_allowed=[fleet_version] if fleet_version else [],
            samples=self.options.smoke_samples,
            fetch=self._fetch_for(url),
        )
        self.log(step, f"smoke {env}: {'ok' if result.ok else 'FAILED'}: {result.reason}")
        self._stage(step, "smoke", started, "ok" if result.ok else "failed", smoke=result.to_json())
        return result

    def _preflight(self, watcher: DeploymentWatcher, previous: Mapping[str, Any]) -> None:
        """Before changing anything: can we read ECS (the last release's services) and CloudWatch
        (their deployment alarms)?"""
        watcher.log = lambda line: self.log("preflight", line)
        cluster, services = previous.get("clusterName"), previous.get("serviceNames") or {}
        try:
            watcher.check_cloudwatch()
            if not cluster or not services:
                self.log("preflight", "CloudWatch readable; no previous outputs: first release")
                return
            found = watcher.describe(str(cluster), list(services.values()))
            alarm_names = [
                name
                for svc in found.values()
                for name in (svc.get("deploymentConfiguration") or {})
                .get("alarms", {})
                .get("alarmNames", [])
            ]
            alarms = watcher.alarms(alarm_names) if alarm_names else []
        except WatchError as err:
            raise PreflightError(str(err)) from err
        missing = sorted(name for name, svc in found.items() if svc.get("status") != "ACTIVE")
        note = f"; not ACTIVE: {', '.join(missing)}" if missing else ""
        self.log(
            "preflight",
            f"ECS reachable: {len(found) - len(missing)} ACTIVE service(s) in {cluster}{note}; "
            f"CloudWatch reachable: {len(alarms)} deployment alarm(s)",
        )

    def _report_failure(self, step: str, report: WatchReport) -> None:
        self.log(step, f"FAILED: {report.reason}")
        for service, events in report.recent_events.items():
            for event in events:
                self.log(step, f"  {service} event: {event}")

    # the release -------------------------------------------------------------------------------
    def run(self) -> int:
        start = self.clock()
        try:
            code = self._run()
        except PipelineError as err:
            self.log("error", str(err))
            code = EXIT_AWS_AFTER if self.summary.changed else EXIT_USAGE
        except PreflightError as err:
            self.log("error", f"preflight: {err}; nothing changed")
            code = EXIT_PREFLIGHT
        except WatchError as err:
            self.log("error", f"cannot watch the deployment: {err}")
            code = EXIT_AWS_AFTER if self.summary.changed else EXIT_PREFLIGHT
        except auto.CommandError as err:
            self.log("error", f"pulumi failed ({type(err).__name__}); last lines:")
            for line in tail(str(err)).splitlines():
                self.log("error", f"  {line}")
            code = EXIT_UP_FAILED if self.summary.changed else EXIT_PULUMI
            if self.summary.changed:
                self.log(
                    "error",
                    "the stack may be partly updated; the release pins say what each service "
                    "should run: re-run the pipeline",
                )
        finally:
            self._cleanup()
        self.summary.exit_code = code
        self.log("done", f"exit {code} ({EXIT_MEANINGS[code]}) after {self.clock() - start:.0f}s")
        return code

    def _run(self) -> int:
        stack, opts = self.stack, self.options
        if problem := check_bounds(opts.load_rate, opts.load_seconds or opts.bake_seconds or 1):
            raise PipelineError(problem)
        config = read_release_config(stack.get_all_config(), opts.namespace)
        previous = plain_outputs(stack.outputs())
        previous_pins: dict[str, dict[str, str]] = dict(previous.get("releasePins") or {})
        self.summary.previous_pins = previous_pins
        first = not previous.get("serviceNames")
        if opts.faults:
            steps = [fault_step(config, previous_pins, opts.faults, opts.fault_service)]
        else:
            steps = plan_steps(config, first)
        self.log(
            "plan",
            f"stack {stack.name}: onebox {'on' if config.onebox else 'off'}, order "
            f"{' -> '.join(s.name for s in steps)}, bake {opts.bake_seconds:.0f}s, "
            f"rollout timeout {opts.rollout_timeout:.0f}s",
        )
        watcher = self.watcher_factory(config.region)
        self.region = config.region
        self._outputs = previous
        self._preflight(watcher, previous)

        if opts.skip_preview:
            self.log("preview", "skipped (--skip-preview)")
        else:
            self.log(
                "preview",
                f"pulumi preview with the policy pack: rollout {', '.join(steps[0].rollout)}",
            )
            first_step = steps[0]
            result = stack.preview(
                **self._cli_kwargs(
                    self._run_config(
                        first_step.rollout,
                        first_step.pins,
                        first_step.faults,
                        first_step.host_rollout,
                    )
                )
            )
            self.log("preview", f"ok: {change_summary(getattr(result, 'change_summary', None))}")

        for step in steps:
            code = self._step(watcher, config, step, previous_pins)
            if step.faults:
                return self._after_fault(watcher, step, previous_pins, code)
            if code != EXIT_OK:
                return code
        self.log("done", f"{short_digest(self.summary.image.get('ref'))} is live on every service")
        return EXIT_OK

    def _step(
        self,
        watcher: DeploymentWatcher,
        config: ReleaseConfig,
        step: Step,
        previous_pins: Mapping[str, Mapping[str, str]],
    ) -> int:
        if step.hosts:
            return self._host_step(watcher, step)
        outputs = self._up(step.name, step.rollout, step.pins, step.faults, step.host_rollout)
        cluster = str(outputs["clusterName"])
        names: dict[str, str] = dict(outputs["serviceNames"])
        new_image, new_version = str(outputs["imageRef"]), str(outputs["imageVersion"])
        if step.key and step.pins and step.key in step.pins:  # re-pinned: its own release
            new_image, new_version = step.pins[step.key]["image"], step.pins[step.key]["version"]
        self._outputs = outputs
        self.summary.image = {"ref": new_image, "version": new_version}
        urls: dict[str, str] = dict(outputs["environmentUrls"])
        self.service_url = str(outputs.get("url") or "")
        key = step.key
        watched = {k: v for k, v in names.items() if key is None or k == key}
        report, ids = self._watch(watcher, f"watch {step.name}", cluster, watched)
        if not report.ok:
            self._report_failure(f"watch {step.name}", report)
            return self._put_back(watcher, step, previous_pins, cluster, names)

        envs = [step.environment] if step.environment else list(config.order)
        for env in envs:
            fleet_pin = previous_pins.get(f"{env}-fleet") or {}
            onebox_stage = step.role == "onebox"
            smoke = self._smoke(
                f"smoke {step.name}",
                env,
                urls[env],
                new_version,
                every=not onebox_stage,
                fleet_version=fleet_pin.get("version") if onebox_stage else None,
            )
            if not smoke.ok:
                self._put_back(watcher, step, previous_pins, cluster, names)
                return EXIT_SMOKE

        if step.role == "onebox" and step.environment and self.options.bake_seconds > 0:
            report = self._bake(
                watcher, f"bake {step.name}", cluster, watched, ids, urls[step.environment]
            )
            if not report.ok:
                self._report_failure(f"bake {step.name}", report)
                return self._put_back(watcher, step, previous_pins, cluster, names)
            self.log(f"bake {step.name}", "onebox healthy")
        return EXIT_OK

    def _host_step(self, watcher: DeploymentWatcher, step: Step) -> int:
        """Move ``step.environment``'s hosts: ``up``, follow the instance refresh it started, then
        bake the environment's services (no alarm fires, no deployment fails)."""
        env = str(step.environment)
        groups = dict(self._outputs.get("hostGroups") or {})
        group = groups.get(env)
        if not group:
            raise PipelineError(
                f"stack output hostGroups names no Auto Scaling group for {env} (got {groups}); "
                "cluster.capacityPerEnvironment needs the program's hostGroups export"
            )
        hosts = self.host_watcher_factory(self.region)
        before = refresh_ids(hosts.refreshes(str(group)))
        outputs = self._up(step.name, step.rollout, step.pins, step.faults, step.host_rollout)
        started = self.clock()
        verdict = hosts.wait(
            str(group),
            before,
            timeout=self.options.rollout_timeout,
            log=lambda line: self.log(f"hosts {env}", line),
        )
        self._stage(
            f"hosts {env}",
            "refresh",
            started,
            "ok" if verdict.ok else "failed",
            reason=verdict.reason,
        )
        if not verdict.ok:
            self.log(
                f"hosts {env}", f"FAILED: {verdict.reason}; later environments keep their hosts"
            )
            return EXIT_HOSTS_FAILED
        cluster = str(outputs["clusterName"])
        names = {k: v for k, v in dict(outputs["serviceNames"]).items() if k.startswith(f"{env}-")}
        if self.options.bake_seconds > 0 and names:
            watcher.log = lambda line: self.log(f"bake {step.name}", line)
            started = self.clock()
            report = watcher.bake(
                cluster,
                list(names.values()),
                seconds=self.options.bake_seconds,
                deployment_ids=watcher.primary_ids(cluster, list(names.values())),
            )
            self._stage(
                f"bake {step.name}",
                "bake",
                started,
                "ok" if report.ok else "failed",
                reason=report.reason,
            )
            if not report.ok:
                self._report_failure(f"bake {step.name}", report)
                return EXIT_HOSTS_FAILED
        self.log(step.name, f"{env}'s hosts proved healthy")
        return EXIT_OK

    def release_onebox_with_fault(
        self, faults: Mapping[str, int], key: str | None = None
    ) -> dict[str, Any]:
        """The ``up`` of a fault release and nothing else (the bad-release experiment's method:
        ECS and the onebox's deployment alarms do the rest). Returns the onebox's key, its
        release before (the rollback's pin), and the stack outputs after the ``up``."""
        config = read_release_config(self.stack.get_all_config(), self.options.namespace)
        previous_pins = dict(plain_outputs(self.stack.outputs()).get("releasePins") or {})
        step = fault_step(config, previous_pins, faults, key)
        try:
            outputs = self._up(step.name, step.rollout, step.pins, step.faults)
        finally:
            self._cleanup()
        assert step.key is not None and step.pins is not None
        return {"key": step.key, "previous": dict(step.pins[step.key]), "outputs": outputs}

    def set_pin_back(self, key: str, pin: Mapping[str, str]) -> dict[str, Any]:
        """An ``up`` setting ``key`` to ``pin`` with no fault (the fault release's rollback)."""
        try:
            return self._up(f"put back {key}", (), pins={key: dict(pin)})
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _after_fault(
        self,
        watcher: DeploymentWatcher,
        step: Step,
        previous_pins: Mapping[str, Mapping[str, str]],
        code: int,
    ) -> int:
        """A fault never stays: put the onebox back whatever happened; say whether it was caught."""
        if code != EXIT_OK:
            self.log("fault", f"the fault was caught (exit {code}); the onebox was put back")
            return code
        self.log("fault", "the fault release PASSED the bake: its deployment alarms missed it")
        outputs = self._outputs
        self._put_back(
            watcher,
            step,
            previous_pins,
            str(outputs.get("clusterName")),
            dict(outputs.get("serviceNames") or {}),
        )
        return EXIT_FAULT_MISSED

    def _put_back(
        self,
        watcher: DeploymentWatcher,
        step: Step,
        previous_pins: Mapping[str, Mapping[str, str]],
        cluster: str,
        names: Mapping[str, str],
    ) -> int:
        """Set the failed service's pin back to its previous release and wait for it to settle."""
        key = step.key
        pin = previous_pins.get(key) if key else None
        if key is None or not pin:
            self.log(step.name, "no previous release recorded for it: nothing to put back")
            return EXIT_DEPLOY_FAILED
        where = f"put back {key}"
        self.log(
            where,
            f"NOT continuing; {key} goes back to {short_digest(pin.get('image'))} "
            f"({pin.get('version')})",
        )
        self._up(where, step.rollout, pins={key: pin})
        # the alarm that stopped the release may still be in ALARM: follow the deployment alone
        report, _ = self._watch(watcher, where, cluster, {key: names[key]}, check_alarms=False)
        if not report.ok:
            self._report_failure(where, report)
        else:
            self.log(where, f"{key} runs {short_digest(pin.get('image'))} again")
        return EXIT_DEPLOY_FAILED


# -- dry run ---------------------------------------------------------------------------------------
def describe_plan(project_dir: Path, stack: str, args: argparse.Namespace) -> dict[str, Any]:
    """What a release of ``stack`` would do, from the files alone (no CLI, no AWS).

    The stack's settings are validated exactly as ``make check`` does: a bad stack raises
    :class:`settings.SettingsError` with the same messages.
    """
    from ops.synth.stack_config import load_stack_config
    from settings import load_settings

    config = load_stack_config(project_dir, stack)
    load_settings(config.values, config.project)
    release = read_release_config(config.values, config.project)
    policy = "--policy-pack policy"
    choice = choose_policy_config(
        project_dir / "policy", stack, stack_stage(config.raw, config.project)
    )
    if choice.path is not None:
        policy += f" --policy-pack-config policy/config/{choice.path.name}"
    load_seconds = args.load_seconds or args.bake_seconds
    header = (
        f"stack {stack} (project {config.project}, region {release.region or 'default'}): "
        f"onebox {'on' if release.onebox else 'off'}, environments {' then '.join(release.order)}"
    )
    steps = [
        "preflight: ECS DescribeServices for the last outputs' services, CloudWatch DescribeAlarms "
        "for their deployment alarms (retried with backoff; unreadable: exit 4, nothing changed)",
        "skip preview"
        if args.skip_preview
        else f"pulumi preview {policy} --config-file <run copy>",
    ]
    watch = (
        f"watch to COMPLETED within {args.rollout_timeout:.0f}s, deployment alarms not in ALARM "
        f"(poll {args.poll_interval:.0f}s)"
    )
    faults = getattr(args, "faults", None)
    if faults:
        key = getattr(args, "fault_service", None) or f"{release.order[0]}-onebox"
        if not release.onebox:
            raise PipelineError(
                "a fault release goes to a onebox, and this stack has none (release.onebox is "
                "false)"
            )
        if key not in {f"{env}-onebox" for env in release.order}:
            raise PipelineError(f"--fault-service {key} names no onebox of this stack")
        env = ", ".join(f"{k}={v}" for k, v in fault_environment(faults).items())
        steps += [
            f"pulumi up {policy} --config-file <run copy: release.rollout=[], release.pins={key}: "
            f"its recorded release, release.faults={key}: {fault_summary(faults)}> — FAULT "
            f"RELEASE: {key} gets {env}, tagged FaultSwitch; nothing else moves",
            f"{key}: {watch}",
            f"smoke {key.removesuffix('-onebox')}: /health 200, /version shows the pinned version",
            f"bake {key} {args.bake_seconds:.0f}s with load {args.load_rate:g} requests/s: its "
            "deployment alarms must catch the fault (exit 10)",
            f"put {key} back on its release without the fault, whatever the bake said (a bake "
            "that passed: exit 14)",
        ]
    for step in [] if faults else plan_steps(release, first_release=False):
        rollout = ",".join(step.rollout)
        hosts = (
            f", release.hostRollout={','.join(step.host_rollout)}"
            if step.host_rollout is not None
            else ""
        )
        steps.append(
            f"pulumi up {policy} --config-file <run copy: release.rollout={rollout}{hosts}>"
        )
        if step.hosts:
            steps.append(
                f"{step.name}: the {step.environment} Auto Scaling group's instance refresh to "
                f"Successful within {args.rollout_timeout:.0f}s, then bake its services "
                f"{args.bake_seconds:.0f}s (no deployment alarm, no failed deployment); failure: "
                "the next environment's hosts do not move (exit 15)"
            )
            continue
        steps.append(f"{step.name}: {watch}")
        if step.role == "onebox":
            steps.append(
                f"smoke {step.environment}: /health 200, /version shows the new version (up to "
                f"{args.smoke_samples} samples: the onebox has its listener weight)"
            )
            steps.append(
                f"bake {step.environment} onebox {args.bake_seconds:.0f}s with load "
                f"{args.load_rate:g} requests/s for {load_seconds:.0f}s to the {step.environment} "
                "URL (at least as long as the deployment alarms' replayed detection of a failing "
                "release): alarms out of ALARM and not INSUFFICIENT_DATA at the end; failure: put "
                f"{step.key} back on its previous release (exit 10)"
            )
        else:
            steps.append(
                f"smoke {step.environment}: /health 200, every /version answer the new version; "
                f"failure: put {step.key} back (exit 11)"
            )
    first = (
        "a fault release needs the onebox's recorded release: on an empty stack it is refused "
        "(exit 2)"
        if faults
        else "first release of an empty stack: one up for every service, watch, smoke each "
        "environment"
    )
    return {
        "stack": stack,
        "project": config.project,
        "onebox": release.onebox,
        "order": release.order,
        "summary": header,
        "steps": steps,
        "policyConfigNote": choice.note,
        "firstRelease": first,
        "exitCodes": {str(k): v for k, v in EXIT_MEANINGS.items()},
    }


# -- CLI -------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.release.pipeline",
        description="Release a stack one environment at a time: onebox, bake, fleet.",
        epilog="exit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_MEANINGS.items()),
    )
    add_stack_option(parser)
    parser.add_argument(
        "--bake-seconds",
        type=float,
        default=300.0,
        help="how long a onebox bakes under load before the fleet moves (default: 300)",
    )
    parser.add_argument("--load-rate", type=float, default=20.0, help="requests/s during the bake")
    parser.add_argument(
        "--load-seconds",
        type=float,
        default=None,
        help="how long the load runs (default: the bake)",
    )
    parser.add_argument(
        "--smoke-samples",
        type=int,
        default=600,
        help="/version answers a fleet's smoke test reads; all must show the new version (default: 600)",
    )
    parser.add_argument(
        "--rollout-timeout",
        type=float,
        default=1800.0,
        help="seconds a deployment may take to reach COMPLETED (default: 1800)",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=15.0,
        help="seconds between looks at ECS and CloudWatch while watching (default: 15)",
    )
    parser.add_argument(
        "--skip-preview",
        action="store_true",
        help="go straight to the first up, without `pulumi preview` and its policy pack",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, touch nothing")
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"{JSON_HELP}: the plan (--dry-run) or the run's summary, at the end",
    )
    parser.add_argument(
        "--show-pulumi-output",
        action="store_true",
        help="stream pulumi's own output into the log",
    )
    parser.add_argument(
        "--fault",
        metavar="latency=MS",
        help="fault release: re-release the active onebox on its release with the app's latency "
        "fault on (1..60000 ms), bake, put it back; never a fleet",
    )
    parser.add_argument(
        "--fault-service",
        metavar="ENV-onebox",
        help="the onebox a fault release goes to (default: the active environment's)",
    )
    parser.add_argument("--work-dir", type=Path, default=REPO_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag in ("bake_seconds", "rollout_timeout", "poll_interval"):
        if getattr(args, flag) < 0 or (flag == "poll_interval" and args.poll_interval == 0):
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    if args.smoke_samples < 1:
        parser.error("--smoke-samples must be at least 1")
    if problem := check_bounds(args.load_rate, args.load_seconds or args.bake_seconds or 1):
        parser.error(problem)
    args.faults = None
    if args.fault_service is not None and args.fault is None:
        parser.error("--fault-service needs --fault")
    if args.fault is not None:
        try:
            args.faults = parse_cli_fault(args.fault)
        except ValueError as err:
            parser.error(f"--fault: {err}")
    if args.fault_service is not None and (problem := key_problem(args.fault_service)):
        parser.error(f"--fault-service: {problem}")
    return args


def boto_watcher_factory(poll_interval: float) -> WatcherFactory:
    def make(region: str | None) -> DeploymentWatcher:
        import boto3.session
        from botocore.config import Config

        session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
        config = Config(retries={"max_attempts": 1, "mode": "standard"})  # the watcher retries
        return DeploymentWatcher(
            session.client("ecs", config=config),
            session.client("cloudwatch", config=config),
            poll_interval=poll_interval,
        )

    return make


def boto_host_watcher_factory(poll_interval: float = 15.0) -> HostWatcherFactory:
    def make(region: str | None) -> HostRefreshWatcher:
        import boto3.session

        session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
        return HostRefreshWatcher(session.client("autoscaling"), poll_interval=poll_interval)

    return make


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    args = parse_args(argv)
    stdout = out or sys.stdout
    # With --json the document alone goes to stdout; the log lines go to stderr.
    log = Log((stderr or sys.stderr) if args.json else stdout)

    def emit(document: Mapping[str, Any]) -> None:
        if args.json:
            stdout.write(json.dumps(document, indent=2, sort_keys=True) + "\n")

    project_dir = args.work_dir.resolve()
    if (message := unknown_stack_message(args.stack, project_dir)) is not None:
        log("error", message)
        emit({"stack": args.stack, "error": message, "exitCode": EXIT_USAGE})
        return EXIT_USAGE
    if args.dry_run:
        try:
            plan = describe_plan(project_dir, args.stack, args)
        except Exception as err:  # a missing/malformed stack file or bad settings is the message
            log("error", str(err))
            emit({"stack": args.stack, "error": str(err), "exitCode": EXIT_USAGE})
            return EXIT_USAGE
        verdict = judge_stack(project_dir, args.stack)
        if not verdict.ok:
            code = EXIT_PULUMI if verdict.exit_code in (GATE_MANDATORY, GATE_PACK) else EXIT_USAGE
            log(
                "error",
                f"the offline gate (make check) refuses stack {args.stack}: {verdict.summary}",
            )
            for finding in verdict.findings:
                log("error", finding)
            emit({"stack": args.stack, "error": verdict.summary, "exitCode": code})
            return code
        log("dry-run", f"gate: {verdict.summary}")
        log("dry-run", plan["summary"])
        if plan["policyConfigNote"]:
            log("dry-run", f"policy: {plan['policyConfigNote']}")
        for n, step in enumerate(plan["steps"], 1):
            log("dry-run", f"{n}. {step}")
        log("dry-run", plan["firstRelease"])
        log("dry-run", "dry run: nothing selected, changed or deployed")
        emit(plan)
        return EXIT_OK
    if shutil.which("pulumi") is None:
        log("error", f"ops.release.pipeline {CLI_MISSING}; try --dry-run")
        return EXIT_USAGE
    try:
        namespace = project_name(project_dir)
        log("select", f"selecting stack {args.stack} in {project_dir}")
        stack = auto.select_stack(args.stack, work_dir=str(project_dir))
    except (PipelineError, auto.CommandError) as err:
        log("error", f"cannot select stack {args.stack}: {tail(str(err), 5)}")
        return EXIT_PULUMI
    options = PipelineOptions(
        bake_seconds=args.bake_seconds,
        rollout_timeout=args.rollout_timeout,
        skip_preview=args.skip_preview,
        namespace=namespace,
        show_pulumi_output=args.show_pulumi_output,
        project_dir=project_dir,
        load_rate=args.load_rate,
        load_seconds=args.load_seconds,
        smoke_samples=args.smoke_samples,
        faults=args.faults,
        fault_service=args.fault_service,
    )
    pipeline = Pipeline(
        stack,
        boto_watcher_factory(args.poll_interval),
        options,
        log=log,
        host_watcher_factory=boto_host_watcher_factory(args.poll_interval),
    )
    code = pipeline.run()
    emit(pipeline.summary.to_json())
    return code


if __name__ == "__main__":
    from ops.cli.gc_tuning import tune_gc

    tune_gc()  # a run of the tool: its synthesis collects less often
    sys.exit(main())
