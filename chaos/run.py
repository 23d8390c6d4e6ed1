"""Run one chaos experiment against a deployed stack and publish the outcome.

    python -m chaos.run --stack dev --experiment kill-one-task
    python -m chaos.run --stack dev --experiment kill-one-task \\
        --cluster C --service S --url http://...        # without the pulumi CLI
        [--service-key blue-fleet] [--region us-east-2] [--var recovery_timeout=300]
        [--engine auto|chaostoolkit|builtin] [--journal journal.json] [--no-metric]

Target: ``--cluster/--service/--url`` win; whatever is missing comes from the stack's outputs
(``clusterName``, ``serviceNames[--service-key]``, ``url``) through the Automation API, which needs
the ``pulumi`` CLI on PATH. The default service is the fleet of the primary environment.
Engine: chaostoolkit's library (``chaoslib``) when installed, else the built-in runner
(``chaos.runner``); both run the same JSON. Outcome: printed, optionally written as a journal, and
published as ``steadystate/chaos`` ``ExperimentSucceeded`` (1/0) per ``Experiment`` (and ``Stack``).

Exit codes: 0 the steady state held; 1 it did not (aborted before the method, deviated after it,
or an activity failed); 2 usage or target error; 3 the experiment succeeded but the metric could
not be published.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from chaos.aws import client
from chaos.metrics import METRIC, NAMESPACE, fault_error_rate, publish_outcome
from chaos.runner import SUCCEEDED, ExperimentError, load_experiment, run_experiment, verdict

REPO_DIR = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_NOT_STEADY, EXIT_USAGE, EXIT_METRIC = 0, 1, 2, 3
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
        prog="python -m chaos.run", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--experiment", default="kill-one-task", help="name in chaos/experiments")
    parser.add_argument("--cluster")
    parser.add_argument("--service", help="ECS service name (overrides --service-key)")
    parser.add_argument("--service-key", help="key of the serviceNames output, e.g. blue-fleet")
    parser.add_argument("--url", help="base URL; the experiments probe <url>/health")
    parser.add_argument("--region", help="default: aws:region of Pulumi.<stack>.yaml")
    parser.add_argument("--var", action="append", type=parse_var, default=[], metavar="KEY=VALUE")
    parser.add_argument("--engine", choices=("auto", "chaostoolkit", "builtin"), default="auto")
    parser.add_argument("--journal", type=Path, help="write the run's journal (JSON) here")
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
            raise ExperimentError(
                f"cannot compute the failover time of stack {args.stack}: {err} "
                "(pass --var failover_within=SECONDS)"
            ) from err
    return extra


def resolve_target(
    args: argparse.Namespace, read_outputs: OutputsReader | None
) -> tuple[str, str, str]:
    """(cluster, service, url) from the flags, the rest from the stack outputs."""
    outputs: Mapping[str, Any] = {}
    if not (args.cluster and args.service and args.url):
        if read_outputs is None:
            if shutil.which("pulumi") is None:
                raise ExperimentError(
                    "no pulumi CLI on PATH to read the stack outputs: pass --cluster, --service "
                    "and --url"
                )
            read_outputs = automation_outputs
        outputs = read_outputs(args.stack)
    args.outputs = outputs
    service = args.service
    if not service:
        key = args.service_key or default_service_key(outputs)
        service = (outputs.get("serviceNames") or {}).get(key) if key else None
        if not service:
            known = ", ".join(sorted(outputs.get("serviceNames") or {})) or "none"
            raise ExperimentError(f"no service for key {key!r} in serviceNames (known: {known})")
    cluster = args.cluster or outputs.get("clusterName")
    url = args.url or outputs.get("url")
    if not cluster or not url:
        raise ExperimentError("stack outputs lack clusterName or url: pass --cluster/--url")
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


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    read_outputs: OutputsReader | None = None,
    cloudwatch: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    failover_seconds: Callable[[str], float] | None = None,
) -> int:
    stream: TextIO = out or sys.stdout
    args = parse_args(argv)
    handler = _attach_logging(stream)
    log = logging.getLogger("steadystate.chaos").info
    try:
        try:
            name, experiment = load_experiment(args.experiment)
            cluster, service, url = resolve_target(args, read_outputs)
        except ExperimentError as err:
            log("error: %s", err)
            return EXIT_USAGE
        region = args.region or stack_region(args.stack)
        overrides = {"cluster": cluster, "service": service, "url": url, "region": region}
        if region:  # chaosaws reads its region from configuration["aws_region"]
            overrides["aws_region"] = region
        overrides.update(dict(args.var))
        try:
            overrides.update(
                environment_overrides(experiment, args, overrides, failover_seconds or _failover)
            )
        except ExperimentError as err:
            log("error: %s", err)
            return EXIT_USAGE
        if "failover_within" in overrides:
            log("failover budget: %ss", overrides["failover_within"])
        log("experiment %s on %s/%s (%s), region %s", name, cluster, service, url, region)
        try:
            journal = run_experiment(
                experiment, overrides, engine=args.engine, sleep=sleep, log=log
            )
        except ExperimentError as err:
            log("error: %s", err)
            return EXIT_USAGE
        outcome = verdict(journal)
        log(
            "outcome: %s (engine %s, status %s, deviated %s, %.1fs)",
            outcome,
            journal.get("engine"),
            journal.get("status"),
            journal.get("deviated"),
            float(journal.get("duration") or 0),
        )
        if args.journal:
            args.journal.write_text(json.dumps(journal, indent=2, default=str) + "\n")
            log("journal written to %s", args.journal)
        code = EXIT_OK if outcome == SUCCEEDED else EXIT_NOT_STEADY
        if not args.no_metric:
            try:
                cw = client("cloudwatch", region, cloudwatch)
                error_rate = fault_error_rate(journal)
                publish_outcome(cw, name, outcome, args.stack, error_rate=error_rate)
                log("published %s/%s=%d", NAMESPACE, METRIC, outcome == SUCCEEDED)
            except Exception as err:  # botocore errors, no credentials, no region
                log("error: could not publish %s/%s: %s", NAMESPACE, METRIC, err)
                code = code or EXIT_METRIC
        return code
    finally:
        for logger_name in LOGGERS:
            logging.getLogger(logger_name).removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
