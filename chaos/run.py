"""Run one chaos experiment against a deployed stack, record it and publish the outcome.

    python -m chaos.run --stack dev --experiment kill-one-task
    python -m chaos.run --stack dev --experiment kill-one-task \\
        --cluster C --service S --url http://...        # without the pulumi CLI
        [--service-key blue-fleet] [--region us-east-2] [--var recovery_timeout=300]
        [--engine auto|chaostoolkit|builtin] [--journal-dir DIR] [--journal FILE] [--no-metric]
        [--json]
    python -m chaos.run --experiment kill-one-task --validate   # like `chaos validate`

``--validate`` checks the experiment as the engine would before a run (chaoslib's
``ensure_experiment_is_valid`` when installed, else the built-in runner's rules, and every python
activity's module, function and arguments) and exits 0 or 4: nothing runs, nothing is written, no
AWS call. ``--experiment`` has no default: a chaos run is always named.

Target: ``--cluster/--service/--url`` win; whatever is missing comes from the stack's outputs
(``clusterName``, ``serviceNames[--service-key]``, ``url``) through the Automation API, which needs
the ``pulumi`` CLI on PATH. The default service is the fleet of the primary environment. A
``--cluster`` given on the command line must carry the ``Stack`` tag of ``--stack``
(``aws:defaultTags`` in ``Pulumi.<stack>.yaml``), checked with ``DescribeClusters``.
Engine: chaostoolkit's library (``chaoslib``) when installed, else the built-in runner
(``chaos.runner``); both run the same JSON, validated before anything runs.

Record: every run of a known experiment — refused ones too, as aborted with the reason (an unknown
experiment name or an unknown stack writes nothing) — writes its journal to
``chaos/journals/<stack>/<UTC start>-<experiment>.json`` (``--journal-dir`` moves the directory,
``--journal`` writes one more copy) with a ``steadystate`` summary (``chaos.journals``), and
publishes ``steadystate/chaos`` ``ExperimentSucceeded/Deviated/Aborted/Failed`` (0/1),
``ErrorRateDuringFault`` and ``TimeToRecover`` (``chaos.recovery``) per ``Experiment`` (and
``Stack``). Without AWS credentials nothing can be published: the journal alone records the run.

Exit codes:

    0  the steady state held (succeeded)
    1  it did not: aborted before the method, deviated after it, or an activity failed
    2  usage error (flags, --var, an unknown stack, an unknown service key, no failover time)
    3  the experiment succeeded but the metric could not be published
    4  bad experiment: unknown name, invalid file, an activity whose module or function does
       not exist or does not take its arguments
    5  no AWS credentials or no region (or AWS refused the credentials)
    6  stack unreachable: no pulumi CLI, no such stack, Automation API failure, outputs missing,
       or no such ECS cluster
    7  wrong stack: the --cluster given is tagged for another stack (or not at all)
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "chaos/run.py is a module: run `python -m chaos.run` in the project, or `make chaos`\n"
    )
    raise SystemExit(2)

import argparse
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from chaos import journals
from chaos.aws import client
from chaos.metrics import NAMESPACE, OUTCOME_METRICS, fault_error_rate, publish_outcome
from chaos.preflight import (
    check_activities,
    check_cluster_stack,
    check_credentials,
    expected_stack_tag,
)
from chaos.recovery import time_to_recover
from chaos.run_errors import (
    EXIT_BAD_EXPERIMENT,
    EXIT_METRIC,
    EXIT_NO_CREDENTIALS,
    EXIT_NOT_STEADY,
    EXIT_OK,
    EXIT_STACK_UNREACHABLE,
    EXIT_USAGE,
    EXIT_WRONG_STACK,
    BadExperiment,
    NoCredentials,
    RunRefused,
    StackUnreachable,
    UsageError,
)
from chaos.runner import (
    ABORTED,
    SUCCEEDED,
    ExperimentError,
    chaoslib_available,
    experiment_names,
    experiment_path,
    fault_not_held,
    load_experiment,
    run_experiment,
    validate_for_engine,
    verdict,
)
from ops.cli.options import add_json_option, add_stack_option, unknown_stack_message

__all__ = [
    "EXIT_BAD_EXPERIMENT",
    "EXIT_METRIC",
    "EXIT_NOT_STEADY",
    "EXIT_NO_CREDENTIALS",
    "EXIT_OK",
    "EXIT_STACK_UNREACHABLE",
    "EXIT_USAGE",
    "EXIT_WRONG_STACK",
    "main",
]

REPO_DIR = Path(__file__).resolve().parent.parent
LOGGERS = ("steadystate.chaos", "chaostoolkit")
OutputsReader = Callable[[str], Mapping[str, Any]]


def parse_var(text: str) -> tuple[str, Any]:
    """``key=value``; the value is JSON when it parses (numbers, true, null), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos.run",
        description=(__doc__ or "").split("\n")[0],
        epilog="exit codes: 0 succeeded; 1 not steady; 2 usage error or unknown stack; 3 metric "
        "not published; 4 bad experiment; 5 no AWS credentials; 6 stack unreachable; 7 wrong stack",
    )
    add_stack_option(parser)
    parser.add_argument(
        "--experiment",
        required=True,
        metavar="NAME",
        help=f"experiment in chaos/experiments ({', '.join(experiment_names())}) or a JSON file",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="only validate the experiment, like `chaos validate`: nothing runs or is written",
    )
    parser.add_argument("--cluster", help="ECS cluster name (default: the clusterName output)")
    parser.add_argument("--service", help="ECS service name (overrides --service-key)")
    parser.add_argument("--service-key", help="key of the serviceNames output, e.g. blue-fleet")
    parser.add_argument("--url", help="base URL; the experiments probe <url>/health")
    parser.add_argument("--region", help="default: aws:region of Pulumi.<stack>.yaml")
    parser.add_argument(
        "--var",
        action="append",
        type=parse_var,
        default=[],
        metavar="KEY=VALUE",
        help="set one configuration value of the experiment (JSON when it parses); repeatable",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "chaostoolkit", "builtin"),
        default="auto",
        help="auto: chaostoolkit-lib when installed, else the built-in runner (default: auto)",
    )
    add_json_option(parser)
    parser.add_argument(
        "--journal-dir",
        type=Path,
        help="where every run's journal is kept, under <dir>/<stack>/ (default: chaos/journals)",
    )
    parser.add_argument("--journal", type=Path, help="also write the run's journal (JSON) here")
    parser.add_argument("--no-metric", action="store_true", help="do not publish to CloudWatch")
    return parser.parse_args(argv)


def automation_outputs(stack: str) -> Mapping[str, Any]:
    """Stack outputs through the Automation API (needs the pulumi CLI)."""
    from pulumi import automation as auto

    outputs = auto.select_stack(stack, work_dir=str(REPO_DIR)).outputs()
    return {key: value.value for key, value in outputs.items()}


def stack_region(stack: str) -> str | None:
    from ops.synth.stack_config import StackConfigError, load_stack_config

    try:
        region = load_stack_config(REPO_DIR, stack).raw.get("aws:region")
    except StackConfigError:
        return None
    return str(region) if region else None


def default_service_key(outputs: Mapping[str, Any]) -> str | None:
    names = outputs.get("serviceNames") or {}
    primary = outputs.get("dnsPrimary")
    if primary and f"{primary}-fleet" in names:
        return f"{primary}-fleet"
    fleets = sorted(key for key in names if key.endswith("-fleet"))
    return fleets[0] if fleets else None


def environment_overrides(
    experiment: Mapping[str, Any],
    args: argparse.Namespace,
    given: Mapping[str, Any],
    failover_seconds: Callable[[str], float],
) -> dict[str, Any]:
    """For an experiment that takes an environment down: its services and the standby's fleet
    from the ``serviceNames`` output (``--var`` wins), and ``failover_within`` from the
    resilience model of ``--stack``."""
    declared = experiment.get("configuration") or {}
    extra: dict[str, Any] = {}
    names: Mapping[str, str] = (getattr(args, "outputs", None) or {}).get("serviceNames") or {}
    primary = str(given.get("primary") or declared.get("primary") or "blue")
    secondary = str(given.get("secondary") or declared.get("secondary") or "green")
    if "down_services" in declared and "down_services" not in given and names:
        extra["down_services"] = [
            v for k, v in sorted(names.items()) if k.startswith(f"{primary}-")
        ]
    groups: Mapping[str, str] = (getattr(args, "outputs", None) or {}).get("hostGroups") or {}
    if "host_group" in declared and "host_group" not in given and primary in groups:
        extra["host_group"] = groups[primary]
    standby = names.get(f"{secondary}-fleet")
    if "standby_service" in declared and "standby_service" not in given and standby:
        extra["standby_service"] = standby
    outputs: Mapping[str, Any] = getattr(args, "outputs", None) or {}
    for role in ("onebox", "fleet"):
        key, name = f"{role}_service", names.get(f"{primary}-{role}")
        if key in declared and key not in given and name:
            extra[key] = name
    if "stack" in declared and "stack" not in given:
        extra["stack"] = args.stack
    deployment_alarms = (outputs.get("deploymentAlarmNames") or {}).get(f"{primary}-onebox")
    if "onebox_alarm_names" in declared and "onebox_alarm_names" not in given and deployment_alarms:
        extra["onebox_alarm_names"] = list(deployment_alarms)
    if "template_ids" in declared and "template_ids" not in given and "fisTemplateIds" in outputs:
        extra["template_ids"] = dict(outputs["fisTemplateIds"])
    dependency = str(given.get("dependency") or declared.get("dependency") or "db")
    alarms = (outputs.get("connectivityAlarmNames") or {}).get(primary) or {}
    if "alarm_name" in declared and "alarm_name" not in given and dependency in alarms:
        extra["alarm_name"] = alarms[dependency]
    if "failover" in declared and "failover" not in given and outputs:
        extra["failover"] = "dnsPrimary" in outputs
    failover = extra.get("failover", given.get("failover", True))
    if "failover_within" in declared and "failover_within" not in given and not failover:
        extra["failover_within"] = 0
    if "failover_within" in declared and "failover_within" not in given and failover:
        try:
            extra["failover_within"] = failover_seconds(args.stack)
        except Exception as err:  # NoFailover, or the stack cannot be synthesized
            raise UsageError(
                f"cannot compute the failover time of stack {args.stack}: {err} "
                "(pass --var failover_within=SECONDS)"
            ) from err
    return extra


def first_error_line(err: BaseException) -> str:
    """One line of an Automation API error (its text carries the CLI's whole stdout/stderr)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "error:" in line:
            return line[line.index("error:") + len("error:") :].strip()
    meaningful = [line for line in lines if not line.startswith(("code:", "stdout:"))]
    text = (meaningful or lines or [type(err).__name__])[-1]
    return text.removeprefix("stderr:").strip() or type(err).__name__


def read_stack_outputs(stack: str, read_outputs: OutputsReader | None) -> Mapping[str, Any]:
    """The stack's outputs, or :class:`StackUnreachable` saying why they cannot be read."""
    if read_outputs is None:
        if shutil.which("pulumi") is None:
            raise StackUnreachable(
                "no pulumi CLI on PATH to read the stack outputs: pass --cluster, --service "
                "and --url"
            )
        read_outputs = automation_outputs
    try:
        return read_outputs(stack)
    except RunRefused:
        raise
    except Exception as err:  # StackNotFoundError, CommandError, a backend login missing
        from pulumi.automation.errors import StackNotFoundError

        if isinstance(err, StackNotFoundError):
            raise StackUnreachable(
                f"no stack {stack!r} in the selected Pulumi backend (`pulumi stack ls` lists "
                "them): pass --stack, or --cluster, --service and --url"
            ) from err
        raise StackUnreachable(
            f"cannot read the outputs of stack {stack!r} through the Automation API: "
            f"{first_error_line(err)}"
        ) from err


def resolve_target(
    args: argparse.Namespace, read_outputs: OutputsReader | None
) -> tuple[str, str, str]:
    """(cluster, service, url) from the flags, the rest from the stack outputs."""
    outputs: Mapping[str, Any] = {}
    if not (args.cluster and args.service and args.url):
        outputs = read_stack_outputs(args.stack, read_outputs)
    args.outputs = outputs
    service = args.service
    if not service:
        key = args.service_key or default_service_key(outputs)
        service = (outputs.get("serviceNames") or {}).get(key) if key else None
        if not service:
            known = ", ".join(sorted(outputs.get("serviceNames") or {})) or "none"
            raise UsageError(f"no service for key {key!r} in serviceNames (known: {known})")
    cluster = args.cluster or outputs.get("clusterName")
    url = args.url or outputs.get("url")
    if not cluster or not url:
        raise StackUnreachable(
            f"the outputs of stack {args.stack!r} lack clusterName or url (is it deployed?): "
            "pass --cluster/--url"
        )
    return str(cluster), str(service), str(url).rstrip("/")


def _failover(stack: str) -> float:
    from chaos.failover_budget import environment_failover_seconds

    return environment_failover_seconds(stack)


class _Formatter(logging.Formatter):
    converter = time.gmtime


def _attach_logging(out: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(out)
    handler.setFormatter(_Formatter("%(asctime)s [%(name)s] %(message)s", "%Y-%m-%dT%H:%M:%SZ"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return handler


@dataclass
class RunLog:
    """What the run leaves behind: its journal (in the journal directory, and ``--journal``) and
    the outcome metric; ``log`` gets one line per step."""

    args: argparse.Namespace
    log: Callable[..., None]
    cloudwatch: Any = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    name: str = ""
    known: bool = False
    """The experiment file exists: only then is a refused run journaled and published."""
    result: dict[str, Any] = field(default_factory=dict)
    """The run's summary (what the journal keeps): ``--json`` prints it."""

    def publish(self, outcome: str, region: str | None, **measured: float | None) -> str:
        """Publish the outcome; returns what the journal says of the metric."""
        metric = f"{NAMESPACE}/{OUTCOME_METRICS[outcome]}"
        cw = client("cloudwatch", region, self.cloudwatch)
        publish_outcome(cw, self.name, outcome, self.args.stack, self.started, **measured)
        if measured:
            self.log("published %s=1 (%s)", metric, _measured_text(measured))
        else:
            self.log("published %s=1", metric)
        return "published"

    def keep(self, journal: dict[str, Any], summary: dict[str, Any]) -> None:
        journal[journals.SUMMARY_KEY] = summary
        self.result = summary
        directory = self.args.journal_dir or journals.JOURNAL_DIR
        path = journals.journal_path(directory, self.args.stack, self.name, self.started)
        targets = [path, *([self.args.journal] if self.args.journal else [])]
        for target in targets:
            try:
                journals.write_journal(target, journal)
                self.log("journal written to %s", target)
            except OSError as err:
                self.log("error: could not write the journal to %s: %s", target, err)

    def summary(self, outcome: str, code: int, **extra: Any) -> dict[str, Any]:
        return {
            "experiment": self.name,
            "stack": self.args.stack,
            "outcome": outcome,
            "started": self.started.isoformat(),
            "exit_code": code,
            **extra,
        }

    def refuse(self, err: RunRefused, experiment: Mapping[str, Any] | None, region: str | None):
        """A run that could not start: one line, an aborted journal, the aborted metric when
        CloudWatch can be reached."""
        self.log("error: %s", err)
        if self.args.no_metric:
            metric = "not published (--no-metric)"
        elif not self.known:
            metric = f"not published: there is no experiment {self.name!r}"
        elif isinstance(err, NoCredentials):
            metric = "not published: no AWS credentials, so the journal alone records this run"
        else:
            try:
                metric = self.publish(ABORTED, region)
            except Exception as publish_err:  # botocore errors
                metric = f"not published: {publish_err}"
        if metric.startswith("not published"):
            self.log("%s/%s %s", NAMESPACE, OUTCOME_METRICS[ABORTED], metric)
        summary = self.summary(ABORTED, err.code, reason=str(err), refused=err.kind)
        if not self.known:  # no such experiment: nothing to keep, nothing for the report to show
            self.log("no journal written: there is no experiment %r", self.name)
            self.result = summary
            return err.code
        journal = journals.refused_journal(
            self.name, experiment, str(err), self.started, datetime.now(UTC)
        )
        self.keep(journal, {**summary, "metric": metric})
        return err.code


def _measured_text(measured: Mapping[str, float | None]) -> str:
    rate, recovery = measured.get("error_rate"), measured.get("recovery_seconds")
    return ", ".join(
        [
            "error rate " + ("n/a" if rate is None else f"{100 * rate:.2f}%"),
            "time to recover " + ("n/a" if recovery is None else f"{recovery:.1f}s"),
        ]
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    read_outputs: OutputsReader | None = None,
    cloudwatch: Any = None,
    ecs: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    failover_seconds: Callable[[str], float] | None = None,
    stderr: TextIO | None = None,
) -> int:
    stream: TextIO = out or sys.stdout
    args = parse_args(argv)
    # With --json the summary alone goes to stdout; the log lines go to stderr.
    handler = _attach_logging((stderr or sys.stderr) if args.json else stream)
    log = logging.getLogger("steadystate.chaos").info
    result: dict[str, Any] = {"experiment": args.experiment, "stack": args.stack}
    try:
        if (message := unknown_stack_message(args.stack, REPO_DIR)) is not None:
            log("error: %s", message)
            code = EXIT_USAGE
        elif args.validate:
            code = validate_only(args, log)
        else:
            record = RunLog(args, log, cloudwatch, name=experiment_path(args.experiment).stem)
            code = _run(record, read_outputs, ecs, sleep, failover_seconds)
            result = record.result or result
    except Exception as err:  # a bug, not an input: still one line, never a traceback
        log("error: unexpected failure (please report it): %s: %s", type(err).__name__, err)
        code = EXIT_NOT_STEADY
    finally:
        for logger_name in LOGGERS:
            logging.getLogger(logger_name).removeHandler(handler)
    if args.json:
        stream.write(json.dumps({**result, "exit_code": code}, indent=2, sort_keys=True) + "\n")
    return code


def validate_only(args: argparse.Namespace, log: Callable[..., None]) -> int:
    """``--validate``: judge the experiment as a run would before starting; touch nothing."""
    try:
        name, experiment = load_experiment(args.experiment)
        check_activities(experiment)
        engine = validate_for_engine(experiment, args.engine, dict(args.var))
    except (ExperimentError, BadExperiment) as err:
        log("error: invalid experiment: %s", err)
        return EXIT_BAD_EXPERIMENT
    log(
        "experiment %s is valid (checked by the %s engine); nothing ran, nothing written",
        name,
        engine,
    )
    return EXIT_OK


def _run(
    record: RunLog,
    read_outputs: OutputsReader | None,
    ecs: Any,
    sleep: Callable[[float], None],
    failover_seconds: Callable[[str], float] | None,
) -> int:
    args, log = record.args, record.log
    experiment: dict[str, Any] | None = None
    region = args.region or stack_region(args.stack)
    try:
        try:
            record.name, experiment = load_experiment(args.experiment)
        except ExperimentError as err:
            record.known = experiment_path(args.experiment).is_file()
            raise BadExperiment(str(err)) from err
        record.known = True
        check_activities(experiment)
        if args.engine == "chaostoolkit" and not chaoslib_available():
            raise UsageError("--engine chaostoolkit needs chaostoolkit-lib installed")
        cluster, service, url = resolve_target(args, read_outputs)
        check_credentials(region)
        if args.cluster:
            expected = expected_stack_tag(REPO_DIR, args.stack)
            check_cluster_stack(client("ecs", region, ecs), cluster, args.stack, expected)
        overrides: dict[str, Any] = {
            "cluster": cluster,
            "service": service,
            "url": url,
            "region": region,
        }
        if region:  # chaosaws reads its region from configuration["aws_region"]
            overrides["aws_region"] = region
        overrides.update(dict(args.var))
        overrides.update(
            environment_overrides(experiment, args, overrides, failover_seconds or _failover)
        )
        if "failover_within" in overrides:
            log("failover budget: %ss", overrides["failover_within"])
        log("experiment %s on %s/%s (%s), region %s", record.name, cluster, service, url, region)
        try:
            journal = run_experiment(
                experiment, overrides, engine=args.engine, sleep=sleep, log=log
            )
        except ExperimentError as err:  # the engine's validation, before anything ran
            raise BadExperiment(str(err)) from err
    except RunRefused as err:
        return record.refuse(err, experiment, region)
    return _finish(record, journal, region)


def _finish(record: RunLog, journal: dict[str, Any], region: str | None) -> int:
    """Outcome, time to recover and error rate into the log, the metric and the journal."""
    log = record.log
    outcome = verdict(journal)
    recovery = time_to_recover(journal)
    journal["time_to_recover"] = recovery
    measured: dict[str, float | None] = {
        "error_rate": fault_error_rate(journal),
        "recovery_seconds": None if recovery is None else float(recovery["seconds"]),
    }
    log(
        "outcome: %s (engine %s, status %s, deviated %s, %.1fs, %s)",
        outcome,
        journal.get("engine"),
        journal.get("status"),
        journal.get("deviated"),
        float(journal.get("duration") or 0),
        _measured_text(measured),
    )
    not_held = fault_not_held(journal)
    if not_held:
        log("the fault did not take effect, nothing was tested: %s", not_held)
    code = EXIT_OK if outcome == SUCCEEDED else EXIT_NOT_STEADY
    metric = "not published (--no-metric)"
    if not record.args.no_metric:
        try:
            metric = record.publish(outcome, region, **measured)
        except Exception as err:  # botocore errors, no credentials, no region
            metric = f"not published: {err}"
            log("error: could not publish %s/%s: %s", NAMESPACE, OUTCOME_METRICS[outcome], err)
            code = code or EXIT_METRIC
    summary = record.summary(
        outcome,
        code,
        error_rate=measured["error_rate"],
        time_to_recover=measured["recovery_seconds"],
        metric=metric,
        fault_not_held=not_held,
    )
    record.keep(journal, summary)
    return code


if __name__ == "__main__":
    from ops.cli.gc_tuning import tune_gc

    tune_gc()  # a run of the tool: its synthesis collects less often
    sys.exit(main())
