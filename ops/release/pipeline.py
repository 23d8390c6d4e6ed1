"""CI release pipeline on the Pulumi Automation API: onebox first, bake, then the fleet (seed 003).

    python -m ops.release.pipeline --stack prod [--bake-seconds 300] [--skip-preview] [--dry-run]
                           [--rollout-timeout 1800] [--poll-interval 15] [--show-pulumi-output]

With ``steadystate:release.onebox: true`` a release is two ``pulumi up``s:

0. preflight: read the config and the last outputs, and check ECS answers for the services the
   last release left (nothing has changed yet if AWS access is broken);
1. preview with the policy pack and ``policy/config/<stack>.json`` (the CLI fails the preview on a
   mandatory violation);
2. ``up``: the onebox services get the freshly built ``imageRef``; the fleet keeps
   ``release.fleetImage``;
3. watch each onebox deployment (``ecs.describe_services``: the PRIMARY deployment's
   ``rolloutState``, running vs desired) and its deployment alarms (CloudWatch); FAILED, replaced
   (ECS rolled back) or an alarm in ALARM stops the release: exit 1, nothing promoted;
4. bake: keep watching the onebox alarms and deployments for ``--bake-seconds``;
5. promote: ``release.fleetImage`` = the new ``imageRef`` (``config set --path``), ``up`` again,
   watch every fleet deployment to COMPLETED.

If ``release.fleetImage`` is unset the fleet would follow the fresh image in step 2, so the pipeline
first pins it to the image the stack runs now (the previous ``imageRef`` output). A stack without
onebox (dev) or its very first release is one ``up`` and a watch of every service.

``release.fleetImage`` lives in ``Pulumi.<stack>.yaml``: commit that file after a release (the log
says so). If the fleet rollout fails, the pipeline puts the previous digest back in the file, so the
next ``pulumi up`` brings Pulumi's state back in line with what ECS rolled back to.

Exit codes: 0 released (or nothing to do); 1 a deployment failed, was rolled back, an alarm fired
or the watch timed out — not promoted; 2 usage or configuration error, or ECS unreadable at
preflight; 3 ``pulumi`` failed (preview with a mandatory policy violation, an ``up`` error, a
missing stack).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import yaml
from pulumi import automation as auto

from ops.gate.policy_choice import choose_policy_config, stack_stage
from ops.release.deployment_watch import DeploymentWatcher, WatchError, WatchReport

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_POLICY_PACK = REPO_DIR / "policy"
FLEET_IMAGE_KEY = "release.fleetImage"
DIGEST_RE = re.compile(r"\S+@sha256:[0-9a-f]{64}")
EXIT_OK, EXIT_DEPLOY_FAILED, EXIT_USAGE, EXIT_PULUMI = 0, 1, 2, 3
CLI_MISSING = "needs the pulumi CLI on PATH (not installable from PyPI/apt here)"


class StackLike(Protocol):
    """The part of ``pulumi.automation.Stack`` the pipeline uses (tests pass a fake)."""

    name: str

    def preview(self, **kwargs: Any) -> Any: ...
    def up(self, **kwargs: Any) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...
    def get_all_config(self) -> Mapping[str, Any]: ...
    def set_config(self, key: str, value: Any, *, path: bool = False) -> None: ...
    def remove_config(self, key: str, *, path: bool = False) -> None: ...


WatcherFactory = Callable[[str | None], DeploymentWatcher]


class PipelineError(Exception):
    """A problem with the stack's configuration or outputs (exit 2)."""


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


@dataclass(frozen=True)
class ReleaseConfig:
    onebox: bool
    fleet_image: str | None
    region: str | None


def read_release_config(config: Mapping[str, Any], namespace: str) -> ReleaseConfig:
    """``steadystate:release`` (an object, JSON-encoded by the CLI) and ``aws:region``."""
    raw = plain(config.get(f"{namespace}:release"))
    if raw in (None, ""):
        release: dict[str, Any] = {}
    elif isinstance(raw, Mapping):
        release = dict(raw)
    else:
        try:
            release = json.loads(raw)
        except (TypeError, ValueError) as err:
            raise PipelineError(f"{namespace}:release is not a JSON object: {raw!r}") from err
        if not isinstance(release, dict):
            raise PipelineError(f"{namespace}:release must be an object, got {raw!r}")
    region = plain(config.get("aws:region"))
    return ReleaseConfig(
        onebox=release.get("onebox") is True,
        fleet_image=release.get("fleetImage") or None,
        region=str(region) if region else None,
    )


def split_services(service_names: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``serviceNames`` output ``{"blue-fleet": name, "blue-onebox": name}`` → (oneboxes, fleets)."""
    oneboxes = {k: v for k, v in service_names.items() if k.endswith("-onebox")}
    fleets = {k: v for k, v in service_names.items() if k not in oneboxes}
    return oneboxes, fleets


def short_digest(ref: str | None) -> str:
    """``repo@sha256:0123456789ab…`` for logs (the full digest is in the config file)."""
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


class Pipeline:
    """Drives one release of ``stack``; every outside effect goes through the stack or the watcher."""

    def __init__(
        self,
        stack: StackLike,
        watcher_factory: WatcherFactory,
        options: PipelineOptions | None = None,
        *,
        log: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.watcher_factory = watcher_factory
        self.options = options or PipelineOptions()
        self.log = log or Log()
        self.clock = clock
        self.promoted_from: str | None = None
        """Set once ``release.fleetImage`` was promoted: what it said before."""

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

    def _cli_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"color": "never", **self.policy_args()}
        if self.options.show_pulumi_output:
            kwargs["on_output"] = lambda line: print(f"    | {line}", flush=True)
        return kwargs

    def _up(self, step: str) -> dict[str, Any]:
        self.log(step, "pulumi up (policy pack enforced)")
        result = self.stack.up(**self._cli_kwargs())
        summary = getattr(result, "summary", None)
        changes = getattr(summary, "resource_changes", None)
        self.log(step, f"up finished: {change_summary(changes)}")
        outputs = plain_outputs(getattr(result, "outputs", None) or self.stack.outputs())
        for key in ("clusterName", "serviceNames", "imageRef"):
            if not outputs.get(key):
                raise PipelineError(f"stack output {key!r} is missing after up")
        return outputs

    def _set_fleet_image(self, ref: str) -> None:
        self.stack.set_config(FLEET_IMAGE_KEY, auto.ConfigValue(value=ref), path=True)

    # watching ----------------------------------------------------------------------------------
    def _watch(
        self, watcher: DeploymentWatcher, step: str, cluster: str, services: dict[str, str]
    ) -> tuple[WatchReport, dict[str, str | None]]:
        """Follow each service's new PRIMARY deployment to COMPLETED (ids for a later bake)."""
        watcher.log = lambda line: self.log(step, line)
        names = list(services.values())
        self.log(step, f"watching {', '.join(services)} in {cluster}")
        ids = watcher.primary_ids(cluster, names)
        report = watcher.wait_for_rollout(
            cluster, names, timeout=self.options.rollout_timeout, deployment_ids=ids
        )
        return report, ids

    def _bake(
        self,
        watcher: DeploymentWatcher,
        cluster: str,
        services: dict[str, str],
        ids: dict[str, str | None],
    ) -> WatchReport:
        seconds = self.options.bake_seconds
        self.log("bake", f"baking {', '.join(services)} for {seconds:.0f}s")
        watcher.log = lambda line: self.log("bake", line)
        return watcher.bake(cluster, list(services.values()), seconds=seconds, deployment_ids=ids)

    def _preflight(self, watcher: DeploymentWatcher, previous: Mapping[str, Any]) -> None:
        """Before changing anything: can we see the services the last release left behind?"""
        cluster, services = previous.get("clusterName"), previous.get("serviceNames") or {}
        if not cluster or not services:
            self.log("preflight", "no previous outputs: nothing to check before the first up")
            return
        try:
            found = watcher.describe(str(cluster), list(services.values()))
        except WatchError as err:
            raise PipelineError(f"cannot read ECS before releasing: {err}") from err
        missing = sorted(name for name, svc in found.items() if svc.get("status") != "ACTIVE")
        note = f"; not ACTIVE: {', '.join(missing)}" if missing else ""
        self.log(
            "preflight",
            f"ECS reachable: {len(found) - len(missing)} ACTIVE service(s) in {cluster}{note}",
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
            return EXIT_USAGE
        except WatchError as err:
            self.log("error", f"cannot watch the deployment: {err}")
            return EXIT_DEPLOY_FAILED
        except auto.CommandError as err:
            self.log("error", f"pulumi failed ({type(err).__name__}); last lines:")
            for line in tail(str(err)).splitlines():
                self.log("error", f"  {line}")
            if self.promoted_from:
                self.log(
                    "error",
                    f"{FLEET_IMAGE_KEY} already says the new image in Pulumi.{self.stack.name}"
                    f".yaml and the fleet may be partly updated: re-run the pipeline, or set it "
                    f"back to {self.promoted_from} and run pulumi up",
                )
            return EXIT_PULUMI
        self.log("done", f"exit {code} after {self.clock() - start:.0f}s")
        return code

    def _run(self) -> int:
        stack, opts = self.stack, self.options
        config = read_release_config(stack.get_all_config(), opts.namespace)
        previous = plain_outputs(stack.outputs())
        two_phase = config.onebox
        self.log(
            "plan",
            f"stack {stack.name}: onebox {'on' if config.onebox else 'off'}, "
            f"fleet image {short_digest(config.fleet_image) if config.fleet_image else 'unset'}, "
            f"bake {opts.bake_seconds:.0f}s, rollout timeout {opts.rollout_timeout:.0f}s",
        )
        watcher = self.watcher_factory(config.region)
        self._preflight(watcher, previous)
        if config.onebox and not config.fleet_image:
            running = previous.get("imageRef")
            if running and DIGEST_RE.fullmatch(str(running)):
                self.log(
                    "pin",
                    f"{FLEET_IMAGE_KEY} unset: pinning the fleet to the running image "
                    f"{short_digest(running)} so the first up moves only the onebox",
                )
                self._set_fleet_image(str(running))
                config = replace(config, fleet_image=str(running))
            else:
                self.log(
                    "pin",
                    "no previous imageRef (first release): onebox and fleet both get the new "
                    "image in one up; nothing to promote",
                )
                two_phase = False

        if opts.skip_preview:
            self.log("preview", "skipped (--skip-preview)")
        else:
            self.log("preview", "pulumi preview with the policy pack")
            result = stack.preview(**self._cli_kwargs())
            self.log("preview", f"ok: {change_summary(getattr(result, 'change_summary', None))}")

        step = "up 1/2" if two_phase else "up"
        outputs = self._up(step)
        cluster = str(outputs["clusterName"])
        oneboxes, fleets = split_services(outputs["serviceNames"])
        new_image = str(outputs["imageRef"])
        if not DIGEST_RE.fullmatch(new_image):
            raise PipelineError(f"imageRef {new_image!r} is not pinned by digest")

        if not two_phase or not oneboxes:
            if two_phase:
                self.log("watch", "onebox is on but the stack exports no onebox service")
            report, _ = self._watch(watcher, "watch", cluster, {**oneboxes, **fleets})
            if not report.ok:
                self._report_failure("watch", report)
                return EXIT_DEPLOY_FAILED
            self.log("watch", f"{short_digest(new_image)} is live on every service")
            return EXIT_OK

        report, ids = self._watch(watcher, "watch onebox", cluster, oneboxes)
        step = "watch onebox"
        if report.ok and opts.bake_seconds > 0:
            step = "bake"
            report = self._bake(watcher, cluster, oneboxes, ids)
        if not report.ok:
            self._report_failure(step, report)
            self.log(
                step,
                f"NOT promoting {short_digest(new_image)}; the fleet keeps "
                f"{short_digest(config.fleet_image)} (ECS rolls the onebox back on its own)",
            )
            return EXIT_DEPLOY_FAILED
        self.log(step, "onebox healthy")

        if new_image == config.fleet_image:
            self.log("promote", f"the fleet already runs {short_digest(new_image)}: no promotion")
            return EXIT_OK
        self.log(
            "promote",
            f"{FLEET_IMAGE_KEY}: {short_digest(config.fleet_image)} -> {short_digest(new_image)}",
        )
        self._set_fleet_image(new_image)
        self.promoted_from = config.fleet_image
        outputs = self._up("up 2/2")
        fleets = split_services(outputs["serviceNames"])[1]
        report, _ = self._watch(watcher, "watch fleet", str(outputs["clusterName"]), fleets)
        if not report.ok:
            self._report_failure("watch fleet", report)
            if config.fleet_image:
                self._set_fleet_image(config.fleet_image)
                self.log(
                    "watch fleet",
                    f"restored {FLEET_IMAGE_KEY} to {short_digest(config.fleet_image)} in "
                    f"Pulumi.{stack.name}.yaml; run the pipeline (or pulumi up) again to "
                    "bring Pulumi's state in line with ECS's rollback",
                )
            return EXIT_DEPLOY_FAILED
        self.log(
            "promote",
            f"{short_digest(new_image)} is live on onebox and fleet; commit "
            f"Pulumi.{stack.name}.yaml ({FLEET_IMAGE_KEY} changed)",
        )
        return EXIT_OK


# -- dry run ---------------------------------------------------------------------------------------
def describe_plan(project_dir: Path, stack: str, args: argparse.Namespace) -> list[str]:
    """What a release of ``stack`` would do, from the files alone (no CLI, no AWS)."""
    from ops.synth.stack_config import load_stack_config

    config = load_stack_config(project_dir, stack)
    release = read_release_config(config.raw, config.project)
    policy = "--policy-pack policy"
    choice = choose_policy_config(
        project_dir / "policy", stack, stack_stage(config.raw, config.project)
    )
    if choice.path is not None:
        policy += f" --policy-pack-config policy/config/{choice.path.name}"
    lines = [
        f"stack {stack} (project {config.project}, region {release.region or 'default'}): "
        f"onebox {'on' if release.onebox else 'off'}, {FLEET_IMAGE_KEY} "
        f"{short_digest(release.fleet_image) if release.fleet_image else 'unset'}",
    ]
    if choice.note is not None:
        lines.append(f"policy: {choice.note}")
    steps = ["preflight: describe the services of the last outputs (is ECS readable?)"]
    if release.onebox and not release.fleet_image:
        steps.append(
            f"pin {FLEET_IMAGE_KEY} to the current imageRef output (first release: skip, "
            "one up for everything)"
        )
    steps.append("skip preview" if args.skip_preview else f"pulumi preview {policy}")
    if release.onebox:
        steps += [
            f"pulumi up {policy}  # onebox gets the new imageRef, fleet unchanged",
            f"watch every *-onebox service: PRIMARY rolloutState COMPLETED within "
            f"{args.rollout_timeout:.0f}s, deployment alarms not in ALARM (poll "
            f"{args.poll_interval:.0f}s)",
            f"bake {args.bake_seconds:.0f}s: onebox alarms stay out of ALARM, no rollback",
            f"pulumi config set --path {FLEET_IMAGE_KEY} <new imageRef>",
            f"pulumi up {policy}  # the fleet moves",
            f"watch every *-fleet service to COMPLETED within {args.rollout_timeout:.0f}s",
        ]
    else:
        steps += [
            f"pulumi up {policy}  # every service gets the new imageRef",
            f"watch every service to COMPLETED within {args.rollout_timeout:.0f}s",
        ]
    lines += [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    lines.append("dry run: nothing selected, changed or deployed")
    return lines


# -- CLI -------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.release.pipeline", description="Release a stack: onebox, bake, fleet."
    )
    parser.add_argument("--stack", required=True, help="stack name (dev, prod, ...)")
    parser.add_argument("--bake-seconds", type=float, default=300.0)
    parser.add_argument("--rollout-timeout", type=float, default=1800.0)
    parser.add_argument("--poll-interval", type=float, default=15.0)
    parser.add_argument("--skip-preview", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, touch nothing")
    parser.add_argument("--show-pulumi-output", action="store_true")
    parser.add_argument("--work-dir", type=Path, default=REPO_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag in ("bake_seconds", "rollout_timeout", "poll_interval"):
        if getattr(args, flag) < 0 or (flag == "poll_interval" and args.poll_interval == 0):
            parser.error(f"--{flag.replace('_', '-')} must be positive")
    return args


def boto_watcher_factory(poll_interval: float) -> WatcherFactory:
    def make(region: str | None) -> DeploymentWatcher:
        import boto3

        session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
        return DeploymentWatcher(
            session.client("ecs"), session.client("cloudwatch"), poll_interval=poll_interval
        )

    return make


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    log = Log(out)
    project_dir = args.work_dir.resolve()
    if args.dry_run:
        try:
            for line in describe_plan(project_dir, args.stack, args):
                log("dry-run", line)
        except Exception as err:  # a missing/malformed stack file is the message
            log("error", str(err))
            return EXIT_USAGE
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
    )
    pipeline = Pipeline(stack, boto_watcher_factory(args.poll_interval), options, log=log)
    return pipeline.run()


if __name__ == "__main__":
    sys.exit(main())
