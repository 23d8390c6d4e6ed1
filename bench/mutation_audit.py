"""Would the tests catch a small, realistic mistake? Plant one at a time and see.

    python bench/mutation_audit.py            # every plant
    python bench/mutation_audit.py C3 R1      # some plants, by id
    python bench/mutation_audit.py --check    # only confirm each plant still applies (no tests)
    python bench/mutation_audit.py --list

Each plant replaces one exact piece of source (it must occur exactly once) with a plausible
mistake, runs the tests a developer would run for that area (``pytest -x -q`` on the files listed,
nothing else), and puts the file back byte for byte, whatever happens: a failing run, a timeout,
Ctrl-C or SIGTERM. A plant is *caught* when pytest fails (exit 1); the first failing test is
recorded. Exit 5 (nothing collected) or a crash of pytest itself is reported as an error, never
as caught. Figures go to ``build/mutation_audit.json`` and ``.md`` (``build/`` is ignored by git);
nothing tracked is written. Not part of ``make test``: each plant runs its own pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
LOCK = BUILD / "mutation_audit.lock"
PYTHON = ROOT / ".venv" / "bin" / "python"

# What a developer runs after touching a component: its own tests, the components' guarantees,
# both real stacks (parenting included) and the policy pack over them.
STACKS = [
    "tests/components/test_component_guarantees.py",
    "tests/stacks/test_stacks.py",
    "tests/stacks/test_parenting.py",
    "tests/policy/test_policy_stack_preview.py",
]
POLICY = [
    "tests/policy/test_policy_resource_rules.py",
    "tests/policy/test_policy_boundaries.py",
    "tests/policy/test_policy_rule_details.py",
    "tests/policy/test_policy_stack_preview.py",
]
RELEASE = [
    "tests/ops/release/test_pipeline.py",
    "tests/ops/release/test_pipeline_exit_codes.py",
    "tests/ops/release/test_pipeline_watch.py",
    "tests/ops/release/test_load_and_smoke.py",
    "tests/ops/release/test_fault_release.py",
]
SETTINGS = ["tests/settings"]


@dataclass(frozen=True)
class Plant:
    id: str
    area: str
    path: str
    old: str
    new: str
    mistake: str
    tests: list[str] = field(default_factory=list)


PLANTS = [
    # -- components (and the composition that feeds them) ------------------------------------------
    Plant(
        "C1",
        "components",
        "components/chaos_experiments.py",
        "                        period=60,\n                        evaluation_periods=1,",
        "                        period=300,\n                        evaluation_periods=1,",
        "the FIS guard alarms look at 5-minute sums: a 5xx burst stops the experiment 5 min late",
        ["tests/components/test_chaos_experiments.py", *STACKS],
    ),
    Plant(
        "C2",
        "components",
        "components/ecs_cluster.py",
        "IMDS_HOP_LIMIT = 1\n",
        "IMDS_HOP_LIMIT = 2\n",
        "IMDSv2 hop limit 2: bridge-mode containers can take the instance role's credentials",
        ["tests/components/test_ecs_cluster.py", *STACKS],
    ),
    Plant(
        "C3",
        "components",
        "components/service.py",
        "scale_in_cooldown=s.scale_in_cooldown,",
        "scale_in_cooldown=s.scale_out_cooldown,",
        "target tracking scales in after the scale-out cooldown (60 s), not 300 s: flapping",
        ["tests/components/test_service.py", *STACKS],
    ),
    Plant(
        "C4",
        "components",
        "composition/args.py",
        "skip_final_snapshot=not d.final_snapshot,",
        "skip_final_snapshot=d.final_snapshot,",
        "database.finalSnapshot inverted: prod's delete skips the final snapshot",
        ["tests/components/test_database.py", *SETTINGS, *STACKS],
    ),
    Plant(
        "C5",
        "components",
        "components/blue_green_dns.py",
        "child_health_threshold=2,",
        "child_health_threshold=1,",
        "an environment counts healthy when /health OR connectivity is fine (guarantee: both)",
        ["tests/components/test_blue_green_dns.py", *STACKS],
    ),
    Plant(
        "C6",
        "components",
        "components/network.py",
        'traffic_type="ALL",',
        'traffic_type="REJECT",',
        "flow logs keep only rejected traffic: accepted flows are never recorded",
        ["tests/components/test_network.py", *STACKS],
    ),
    Plant(
        "C7",
        "components",
        "components/environment.py",
        "                idle_timeout=args.idle_timeout,\n",
        "",
        "loadBalancer.idleTimeout no longer reaches the ALB (the component's default wins)",
        ["tests/components/test_environment.py", *STACKS],
    ),
    Plant(
        "C8",
        "components",
        "components/alert_topic.py",
        "enable_key_rotation=True,",
        "enable_key_rotation=False,",
        "the alert topic's KMS key is never rotated",
        ["tests/components/test_alert_topic.py", *STACKS],
    ),
    Plant(
        "C9",
        "components",
        "components/deployment_alarms.py",
        "datapoints_to_alarm=spec.error_datapoints,",
        "datapoints_to_alarm=spec.error_evaluation_periods,",
        "release.errorDatapoints ignored: the 5xx alarm needs every period to breach",
        ["tests/components/test_service.py", *STACKS],
    ),
    # -- policies ------------------------------------------------------------------------------
    Plant(
        "P1",
        "policy",
        "policy/guardrails/network.py",
        "hits = [port for port in forbidden if low <= port <= high]",
        "hits = [port for port in forbidden if low < port <= high]",
        "a rule opening exactly port 22 (from 22 to 22) to the world passes",
        POLICY,
    ),
    Plant(
        "P2",
        "policy",
        "policy/guardrails/containers.py",
        r'r"PASSW(OR)?D|SECRET|TOKEN|API_?KEY',
        r'r"PASSW(OR)?D|SECRET|API_?KEY',
        "a plaintext GITHUB_TOKEN in a container's environment passes",
        POLICY,
    ),
    Plant(
        "P3",
        "policy",
        "policy/guardrails/iam.py",
        'statement_values(statement, "Action"), "*", "*:*"',
        'statement_values(statement, "Action"), "*"',
        'Action "*:*" on Resource "*" is no longer seen as admin',
        POLICY,
    ),
    Plant(
        "P4",
        "policy",
        "policy/guardrails/ecs.py",
        "if enable is not True or rollback is not True:",
        "if enable is not True:",
        "a circuit breaker without rollback passes",
        POLICY,
    ),
    # -- release -------------------------------------------------------------------------------
    Plant(
        "R1",
        "release",
        "ops/release/smoke.py",
        "looks = min(samples, 20) if every else samples",
        "looks = min(samples, 1) if every else samples",
        "the fleet smoke test looks at one answer: a half-rolled fleet passes",
        RELEASE,
    ),
    Plant(
        "R2",
        "release",
        "ops/release/deployment_watch.py",
        "if done_when_completed and all(v.state == COMPLETED for v in verdicts.values()):",
        "if done_when_completed and any(v.state == COMPLETED for v in verdicts.values()):",
        "a watch of several services ends when the first one completes",
        RELEASE,
    ),
    Plant(
        "R3",
        "release",
        "ops/release/pipeline.py",
        'if step.role == "onebox" and step.environment and self.options.bake_seconds > 0:',
        'if step.role == "fleet" and step.environment and self.options.bake_seconds > 0:',
        "the bake runs after the fleet instead of the onebox: a bad release reaches the fleet",
        RELEASE,
    ),
    # -- chaos ---------------------------------------------------------------------------------
    Plant(
        "X1",
        "chaos",
        "chaos/recovery.py",
        'fault_ended = parse_time(faults[-1].get("end"))',
        'fault_ended = parse_time(faults[0].get("end"))',
        "time to recover counted from the first fault, not the last",
        ["tests/chaos/test_recovery.py", "tests/chaos/test_report.py"],
    ),
    Plant(
        "X2",
        "chaos",
        "chaos/run.py",
        "code = code or EXIT_METRIC",
        "code = EXIT_METRIC",
        "a failed metric publish hides a deviated run (exit 3 instead of 1)",
        ["tests/chaos/test_run_cli.py", "tests/chaos/test_run_refusals.py"],
    ),
    Plant(
        "X3",
        "chaos",
        "chaos/probes.py",
        "    if running != desired or pending:\n",
        "    if running != desired:\n",
        "pending tasks ignored: a service still starting replacements reads steady",
        ["tests/chaos/test_probes.py", "tests/chaos/test_probe_counts.py"],
    ),
    # -- settings ------------------------------------------------------------------------------
    Plant(
        "S1",
        "settings",
        "settings/model.py",
        "    if not 1 <= len(values) <= 2:\n",
        "    if not 1 <= len(values) <= 3:\n",
        "three environments accepted (blue/green DNS supports two)",
        SETTINGS,
    ),
    Plant(
        "S2",
        "settings",
        "settings/loader.py",
        "if fast.enabled and s.connectivity.probe_interval_seconds > 10:",
        "if fast.enabled and s.connectivity.probe_interval_seconds > 30:",
        "fast scale-out accepted with a 30 s prober: its 10 s alarm then reads missing data",
        SETTINGS,
    ),
    # -- cost ----------------------------------------------------------------------------------
    Plant(
        "K1",
        "cost",
        "ops/cost/pricers.py",
        'f"{instance_type} host", hourly * p.hours_per_month, low, high',
        'f"{instance_type} host", hourly * p.hours_per_month, low, low',
        "the most a month of hosts can cost is priced at the minimum host count",
        ["tests/ops/cost"],
    ),
    # -- app -----------------------------------------------------------------------------------
    Plant(
        "A1",
        "app",
        "app/steadystate_app/readiness.py",
        "            ready = ready and not required\n",
        "            ready = False\n",
        "an optional dependency down makes the task not ready (the ALB drains it)",
        ["tests/app/test_app_readiness.py", "tests/app/test_app_dependencies.py"],
    ),
    Plant(
        "A2",
        "app",
        "app/steadystate_app/healthcheck.py",
        "connection.getresponse().status == 200",
        "connection.getresponse().status < 500",
        "the container health check passes on a 404 (wrong path) or any 4xx",
        ["tests/app/test_app_healthcheck.py", "tests/app/test_app_endpoints.py"],
    ),
]


@dataclass
class Result:
    id: str
    area: str
    path: str
    mistake: str
    outcome: str  # caught | missed | error | stale
    caught_by: str = ""
    seconds: float = 0.0
    detail: str = ""


class Interrupted(Exception):
    pass


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(f"signal {signum}")


def apply(plant: Plant, text: str) -> str:
    count = text.count(plant.old)
    if count != 1:
        raise ValueError(f"{plant.id}: {plant.path} holds the planted text {count} times, not once")
    return text.replace(plant.old, plant.new)


_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


def run_tests(plant: Plant, timeout: float, without: frozenset[str]) -> tuple[int, str]:
    tests = [t for t in plant.tests if t not in without]
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f}s"
    return done.returncode, done.stdout + done.stderr


def audit(plant: Plant, timeout: float, without: frozenset[str] = frozenset()) -> Result:
    target = ROOT / plant.path
    original = target.read_bytes()
    result = Result(plant.id, plant.area, plant.path, plant.mistake, "error")
    try:
        planted = apply(plant, original.decode())
    except ValueError as err:
        result.outcome, result.detail = "stale", str(err)
        return result
    started = time.monotonic()
    try:
        target.write_text(planted)
        code, output = run_tests(plant, timeout, without)
    finally:
        target.write_bytes(original)
    if target.read_bytes() != original:
        raise SystemExit(f"{plant.path} could not be restored: check it by hand")
    result.seconds = round(time.monotonic() - started, 1)
    if code == 0:
        result.outcome = "missed"
    elif code == 1:
        found = _FAILED.search(output)
        result.outcome = "caught"
        result.caught_by = found[2] if found else "(a failing test; see pytest output)"
    else:
        result.detail = f"pytest exit {code}: {output.strip().splitlines()[-1:] or ''}"
    return result


def write_report(results: list[Result]) -> None:
    BUILD.mkdir(exist_ok=True)
    caught = sum(r.outcome == "caught" for r in results)
    (BUILD / "mutation_audit.json").write_text(
        json.dumps(
            {"caught": caught, "planted": len(results), "plants": [asdict(r) for r in results]},
            indent=2,
        )
        + "\n"
    )
    lines = [
        f"# Mutation audit: {caught} of {len(results)} caught",
        "",
        "| id | area | file | mistake | outcome | caught by | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        by = r.caught_by or r.detail
        lines.append(
            f"| {r.id} | {r.area} | {r.path} | {r.mistake} | {r.outcome} | {by} | {r.seconds:g} |"
        )
    (BUILD / "mutation_audit.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="plant ids to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the plants and exit")
    parser.add_argument("--check", action="store_true", help="check every plant applies; no tests")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per plant's tests")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="TEST_FILE",
        help="leave this test file out of every plant's run (repeatable): what it alone catches",
    )
    args = parser.parse_args(argv)
    known = {p.id: p for p in PLANTS}
    unknown = [i for i in args.ids if i not in known]
    if unknown:
        parser.error(f"unknown plant id(s) {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[i] for i in args.ids] if args.ids else PLANTS
    if args.list:
        for p in chosen:
            print(f"{p.id:3} {p.area:10} {p.path}: {p.mistake}")
        return 0
    if args.check:
        stale = []
        for p in chosen:
            try:
                apply(p, (ROOT / p.path).read_text())
            except ValueError as err:
                stale.append(str(err))
        print("\n".join(stale) or f"all {len(chosen)} plants apply")
        return 1 if stale else 0
    BUILD.mkdir(exist_ok=True)
    try:
        fd = os.open(LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        print(f"another audit holds {LOCK} (remove it if none runs)", file=sys.stderr)
        return 2
    os.close(fd)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    results: list[Result] = []
    try:
        for plant in chosen:
            result = audit(plant, args.timeout, frozenset(args.without))
            results.append(result)
            by = result.caught_by or result.detail
            print(f"{result.id:3} {result.outcome:7} {result.seconds:6.1f}s  {by}", flush=True)
    except (Interrupted, KeyboardInterrupt):
        print("interrupted: the planted file was put back", file=sys.stderr)
        return 130
    finally:
        LOCK.unlink(missing_ok=True)
        write_report(results)
    caught = sum(r.outcome == "caught" for r in results)
    print(f"{caught} of {len(results)} caught; build/mutation_audit.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
