"""How fast is the offline gate compared with merely importing the resource classes it needs?

    python bench/check_speed.py [--stack prod] [--reps 7] [--project-dir DIR]

Measured in one run, alternating the commands so machine load hits them alike:

* **baseline**: a fresh interpreter that imports the provider SDK modules whose resource classes
  the stack uses and forces them to load. pulumi-aws registers its submodules lazily, so a bare
  ``import pulumi_aws.ec2`` executes nothing (~0.2 s whatever the list); the baseline touches each
  module so its code really loads, which is what the program's ``aws.ec2.SecurityGroup(...)``
  does. The list is read from a synthesis of the stack: for each provider package of a
  registered resource (``aws``, ``docker``), every ``pulumi_<package>.<module>`` subpackage that
  ended up loaded, not lazy, or the package itself when it has none (pulumi-docker is flat).
  The bare-import time is reported too.
* **baseline, tools' GC**: the same with the garbage-collector thresholds the project's tools set
  for themselves (``ops/cli/gc_tuning.py``). Not the target's measure (that is what Python needs
  by default); shown so the gate's own overhead can be read like for like.
* **check**: exactly what ``make check STACK=<stack>`` runs: ``python -m ops.gate.check --stack
  <stack>`` (the pack subprocess included).

Each is a subprocess; wall time is taken around it and CPU time (user+sys, the pack subprocess
included) from ``getrusage(RUSAGE_CHILDREN)``. Medians over ``--reps`` after one warm-up run each.
Writes ``build/bench/check_speed.json`` and ``.md`` (``--out DIR`` elsewhere), never a tracked file;
``bench/results/`` keeps a reference run, replaced by hand when a change is meant to move it. The
target is check <= 1.5 x baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "build" / "bench"
TARGET_RATIO = 1.5

_PROBE = r"""
import json, sys, types
from pathlib import Path
sys.path.insert(0, {repo!r})
from ops.synth.runner import synthesize
synthesis = synthesize({stack!r}, Path({project_dir!r}))
packages = sorted({{
    "pulumi_" + record.type.split(":")[0].replace("-", "_")
    for record in synthesis.records
    if record.custom and not record.type.startswith("pulumi:")
}})
loaded = []
for package in packages:
    modules = sorted(
        name for name, module in list(sys.modules.items())
        if name.startswith(package + ".") and name.count(".") == 1
        and type(module) is types.ModuleType and hasattr(module, "__path__")
    )
    loaded += modules or [package]
print(json.dumps(loaded))
"""

_BASELINE = """
import sys, types{gc_setup}
import {imports}
for name in {names!r}:
    module = sys.modules[name]
    getattr(module, "__all__", None)  # any non-introspection attribute loads a lazy module
    assert type(module) is types.ModuleType, name
"""

_BARE = "import {imports}"


def _run(
    command: list[str], *, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Run `command`; (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in ok:
        raise SystemExit(
            f"{' '.join(command)} exited {result.returncode}:\n"
            f"{result.stdout.decode()[-2000:]}\n{result.stderr.decode()[-2000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def used_modules(python: str, stack: str, project_dir: Path) -> list[str] | str:
    """The provider SDK modules a synthesis loads, or the error line when the program fails."""
    code = _PROBE.format(repo=str(REPO), stack=stack, project_dir=str(project_dir))
    result = subprocess.run(
        [python, "-c", code], cwd=REPO, capture_output=True, check=False, text=True
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {result.returncode}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO)) if path != REPO else "."
    except ValueError:
        return str(path)


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 4),
        "min": round(min(samples), 4),
        "max": round(max(samples), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--project-dir", type=Path, default=None)
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"))
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for the results (default: build/bench)"
    )
    args = parser.parse_args(argv)

    python = args.python if Path(args.python).exists() else sys.executable
    project_dir = (args.project_dir or REPO).resolve()
    stack = args.stack
    note = ""
    if (
        not (project_dir / "__main__.py").exists()
        or not (project_dir / f"Pulumi.{stack}.yaml").exists()
    ):
        modules: list[str] | str = f"no __main__.py or Pulumi.{stack}.yaml"
    else:
        modules = used_modules(python, stack, project_dir)
    if isinstance(modules, str):
        fallback = REPO / "tests" / "fixtures" / "insecure"
        note = (
            f"stack {stack} of {project_dir} cannot be synthesized ({modules}); measured the "
            f"insecure fixture ({_shown(fallback)}, stack dev) instead"
        )
        project_dir, stack = fallback, "dev"
        print(f"note: {note}", file=sys.stderr)
        modules = used_modules(python, stack, project_dir)
        if isinstance(modules, str):
            raise SystemExit(f"the insecure fixture does not synthesize either: {modules}")
    imports = ", ".join(modules)
    baseline = [python, "-c", _BASELINE.format(imports=imports, names=modules, gc_setup="")]
    tuned_gc = (  # exactly what each tool's __main__ does first
        f"\nsys.path.insert(0, {str(REPO)!r})\nfrom ops.cli.gc_tuning import tune_gc; tune_gc()"
    )
    baseline_gc = [
        python,
        "-c",
        _BASELINE.format(imports=imports, names=modules, gc_setup=tuned_gc),
    ]
    bare = [python, "-c", _BARE.format(imports=imports)]
    check = [python, "-m", "ops.gate.check", "--stack", stack]
    if project_dir != REPO:
        check += ["--project-dir", str(project_dir)]
    env_note = os.environ.get("PYTHONDONTWRITEBYTECODE")

    # Warm-up (page cache, .pyc files) once each; not recorded. The warm-up may write bytecode
    # even under PYTHONDONTWRITEBYTECODE: the installed packages the baseline imports have theirs
    # since pip installed them, so without this only `check` would compile its sources (the
    # project's and the pack's) on every run, which a user's second `make check` never does.
    warm_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    _run(baseline, env=warm_env)
    _run(check, ok=(0, 1), env=warm_env)
    samples: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": []}
        for name in ("baseline", "baseline_gc", "bare_import", "check")
    }
    for rep in range(args.reps):
        for name, command, ok in (
            ("baseline", baseline, (0,)),
            ("check", check, (0, 1)),
            ("baseline_gc", baseline_gc, (0,)),
            ("bare_import", bare, (0,)),
        ):
            wall, cpu = _run(command, ok=ok)
            samples[name]["wall"].append(wall)
            samples[name]["cpu"].append(cpu)
        print(
            f"rep {rep + 1}/{args.reps}: baseline {samples['baseline']['wall'][-1]:.3f}s  "
            f"check {samples['check']['wall'][-1]:.3f}s",
            file=sys.stderr,
        )

    stats = {name: {k: _stats(v) for k, v in s.items()} for name, s in samples.items()}
    ratio_wall = stats["check"]["wall"]["median"] / stats["baseline"]["wall"]["median"]
    ratio_cpu = stats["check"]["cpu"]["median"] / stats["baseline"]["cpu"]["median"]
    ratio_same_gc = stats["check"]["wall"]["median"] / stats["baseline_gc"]["wall"]["median"]
    document = {
        "stack": stack,
        "projectDir": str(project_dir),
        "note": note or None,
        "reps": args.reps,
        "modules": modules,
        "commands": {
            "baseline": f"python -c 'import {imports}; <force each module to load>'",
            "baseline_gc": "the same after ops.cli.gc_tuning.tune_gc()",
            "bare_import": f"python -c 'import {imports}'",
            "check": " ".join(["python", *check[1:]]),
        },
        "seconds": stats,
        "ratio": {
            "wall": round(ratio_wall, 3),
            "cpu": round(ratio_cpu, 3),
            "wall_same_gc": round(ratio_same_gc, 3),
        },
        "target": TARGET_RATIO,
        "meets_target": ratio_wall <= TARGET_RATIO,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "PYTHONDONTWRITEBYTECODE": env_note,
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "check_speed.json").write_text(json.dumps(document, indent=2) + "\n")
    s = stats
    md = [
        "# `make check` speed",
        "",
        f"Stack `{stack}` of `{_shown(project_dir)}`, "
        f"{args.reps} alternating repetitions, medians (min-max). {document['when']}.",
        "",
        "| command | wall s | CPU s (incl. children) |",
        "| --- | --- | --- |",
    ]
    for name, label in (
        ("baseline", "import + load the provider modules whose resource classes the stack uses"),
        ("baseline_gc", "the same with the tools' GC thresholds (for reading, not the target)"),
        ("bare_import", "bare `import` of those modules (lazy, loads nothing)"),
        ("check", "`python -m ops.gate.check` (what `make check` runs)"),
    ):
        w, c = s[name]["wall"], s[name]["cpu"]
        md.append(
            f"| {label} | {w['median']:.3f} ({w['min']:.3f}-{w['max']:.3f}) "
            f"| {c['median']:.3f} ({c['min']:.3f}-{c['max']:.3f}) |"
        )
    md += [
        "",
        f"**Ratio check / baseline: {ratio_wall:.2f}x wall, {ratio_cpu:.2f}x CPU** "
        f"(target <= {TARGET_RATIO}x: {'met' if ratio_wall <= TARGET_RATIO else 'NOT met'}); "
        f"against the baseline with the tools' GC thresholds {ratio_same_gc:.2f}x wall.",
        "",
        f"Modules ({len(modules)}): {', '.join(f'`{m}`' for m in modules)}.",
    ]
    if note:
        md += ["", f"Note: {note}."]
    (args.out / "check_speed.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if ratio_wall <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
