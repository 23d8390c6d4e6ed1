"""Which values do the settings accept that a mandatory policy then always rejects?

    python bench/settings_policy_sweep.py [--stack dev --stack prod] [--key service.] [--out DIR]

For every setting of ``settings.model`` with a finite or bounded domain (booleans, choices, numeric
minimum/maximum: each bound and a value inside; nullable: null; lists: empty), sets that one value
in the stack file of a temporary copy of the project (everything else is a symlink), validates it
with ``settings.load_settings`` and, when the settings accept it, synthesizes the program under
mocks and judges it with the real policy pack over gRPC (``ops.gate.check``'s functions, one pack
process per stack). Every MANDATORY violation not already in the unchanged stack's run is recorded.

Results are cached per (stack, key, value) in ``<out>/settings_policy_sweep.json`` (default
``build/``), so a rerun judges only what is new; ``--fresh`` starts over. The findings are written
to ``<out>/settings_policy_sweep.md``. Not part of ``make test``: one candidate costs a synthesis.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import sys
import tempfile
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_DIR))

from ops.gate.analyzer_client import PackEnvironment, PolicyPackProcess  # noqa: E402
from ops.gate.check import configure_pack, judge, read_policy_project  # noqa: E402
from ops.gate.policy_choice import choose_policy_config, stack_stage  # noqa: E402
from ops.synth.stack_config import load_stack_config  # noqa: E402
from settings import Settings, SettingsError, load_settings  # noqa: E402
from settings.fields import Rule, camel  # noqa: E402

PROJECT = "steadystate"
PACK_DIR = REPO_DIR / "policy"


@dataclasses.dataclass(frozen=True)
class Setting:
    key: str  # dotted, camelCase: service.fastScaleOut.cooldown
    rule: Rule
    default: Any


def bounded_settings(cls: type = Settings, prefix: str = "") -> Iterator[Setting]:
    """Every leaf setting, with its rule, in declaration order."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{camel(f.name)}"
        if dataclasses.is_dataclass(hints[f.name]):
            yield from bounded_settings(hints[f.name], f"{key}.")
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        yield Setting(key, f.metadata["rule"], default)


def candidates(setting: Setting) -> list[Any]:
    """The values worth judging: the whole domain when it is finite, else its edges and inside."""
    rule = setting.rule
    values: list[Any] = []
    if rule.kind is bool:
        values = [True, False]
    elif rule.choices:
        values = list(rule.choices)
    elif rule.kind in (int, float) and (rule.minimum is not None or rule.maximum is not None):
        low = rule.minimum if rule.minimum is not None else 0
        high = rule.maximum if rule.maximum is not None else low * 10
        inside = [low + (high - low) / 4, low + (high - low) / 2]
        values = [low, high, *inside]
        if rule.kind is int:
            values = [round(v) for v in values]
        elif all(float(v).is_integer() for v in values):
            values = [float(v) for v in values]
    elif rule.kind is list:
        values = [[]]
    if rule.nullable:
        values.append(None)
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _set(data: dict[str, Any], dotted: str, value: Any, effective: dict[str, str]) -> None:
    """Set ``dotted`` in a stack file's ``config:``; a group the file lacks starts from the value
    the project file gives it (Pulumi replaces an object-valued key whole)."""
    config = data.setdefault("config", {})
    group, _, rest = dotted.partition(".")
    full = f"{PROJECT}:{group}"
    if not rest:
        config[full] = value
        return
    if full not in config:
        config[full] = json.loads(effective[full]) if full in effective else {}
    node = config[full]
    *path, leaf = rest.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[leaf] = value


def _get(data: dict[str, Any], dotted: str, effective: dict[str, str]) -> Any:
    group, _, rest = dotted.partition(".")
    full = f"{PROJECT}:{group}"
    if full not in effective:
        return dataclasses.MISSING
    node: Any = json.loads(effective[full]) if rest else effective[full]
    if not rest:
        try:
            return json.loads(node)
        except json.JSONDecodeError:
            return node
    for part in rest.split("."):
        if not isinstance(node, dict) or part not in node:
            return dataclasses.MISSING
        node = node[part]
    return node


class Sweep:
    """One temporary project and one policy pack process per stack."""

    def __init__(self, stack: str, workdir: Path) -> None:
        self.stack = stack
        self.dir = workdir / stack
        self.dir.mkdir()
        for entry in REPO_DIR.iterdir():
            # The stack files are written per candidate; the program's scratch folders (the
            # image staging directory must lie inside the project) are the copy's own.
            if entry.name.startswith(".") or entry.name == "build":
                continue
            if entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml":
                continue
            (self.dir / entry.name).symlink_to(entry)
        self.original = yaml.safe_load((REPO_DIR / f"Pulumi.{stack}.yaml").read_text())
        self.effective = load_stack_config(REPO_DIR, stack).values
        config = load_stack_config(REPO_DIR, stack)
        stage = stack_stage(config.raw, PROJECT)
        self.config_path = choose_policy_config(PACK_DIR, stack, stage).path
        environment = PackEnvironment(
            project=PROJECT, stack=stack, config=dict(config.values), dry_run=True
        )
        self.pack = PolicyPackProcess(PACK_DIR, environment)
        self.pack.spawn()
        self.configured = configure_pack(
            self.pack,
            config_path=self.config_path,
            policy_project=read_policy_project(PACK_DIR),
        )

    def close(self) -> None:
        self.pack.close()

    def current(self, key: str) -> Any:
        return _get(self.original, key, self.effective)

    def run(self, key: str | None, value: Any) -> dict[str, Any]:
        """Settings verdict, then the mandatory violations of the synthesized stack."""
        from ops.synth.runner import synthesize

        data = json.loads(json.dumps(self.original))
        if key is not None:
            _set(data, key, value, self.effective)
        (self.dir / f"Pulumi.{self.stack}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        config = load_stack_config(self.dir, self.stack)
        try:
            load_settings(config.values, config.project)
        except SettingsError as err:
            return {"settings": "refused", "problems": [str(p) for p in err.problems]}
        started = time.perf_counter()
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                synthesis = synthesize(self.stack, self.dir)
        except (Exception, SystemExit) as exc:
            return {"settings": "accepted", "program": f"failed: {type(exc).__name__}: {exc}"}
        run = judge(self.pack, synthesis, configured=self.configured)
        mandatory = sorted(
            {
                (v.policy, v.resource_name, v.message)
                for v in run.report.violations
                if v.level == "mandatory"
            }
        )
        return {
            "settings": "accepted",
            "program": "ok",
            "errors": list(run.report.errors),
            "mandatory": [list(m) for m in mandatory],
            "seconds": round(time.perf_counter() - started, 2),
        }


def _cache_key(stack: str, key: str, value: Any) -> str:
    return f"{stack}|{key}|{json.dumps(value)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", action="append", choices=("dev", "prod"), help="repeatable")
    parser.add_argument("--key", default="", help="only settings whose key starts with this")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "build", help="results folder")
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cache_file = args.out / "settings_policy_sweep.json"
    cache: dict[str, Any] = {}
    if cache_file.is_file() and not args.fresh:
        cache = json.loads(cache_file.read_text())
    settings = [s for s in bounded_settings() if s.key.startswith(args.key)]
    with tempfile.TemporaryDirectory(prefix="sweep-") as tmp:
        for stack in args.stack or ["dev", "prod"]:
            sweep = Sweep(stack, Path(tmp))
            try:
                baseline_key = _cache_key(stack, "(unchanged)", None)
                if baseline_key not in cache:
                    cache[baseline_key] = sweep.run(None, None)
                baseline = {tuple(m) for m in cache[baseline_key].get("mandatory", [])}
                for setting in settings:
                    current = sweep.current(setting.key)
                    if current is dataclasses.MISSING:
                        current = setting.default
                    for value in candidates(setting):
                        if value == current and type(value) is type(current):
                            continue
                        ck = _cache_key(stack, setting.key, value)
                        if ck not in cache:
                            cache[ck] = sweep.run(setting.key, value)
                            cache_file.write_text(json.dumps(cache, indent=1, sort_keys=True))
                        result = cache[ck]
                        new = [m for m in result.get("mandatory", []) if tuple(m) not in baseline]
                        verdict = (
                            result["settings"]
                            if result["settings"] == "refused"
                            else (
                                f"{len(new)} new mandatory"
                                if result.get("program") == "ok"
                                else result["program"][:80]
                            )
                        )
                        print(f"{stack} {setting.key}={json.dumps(value)}: {verdict}", flush=True)
            finally:
                sweep.close()
    cache_file.write_text(json.dumps(cache, indent=1, sort_keys=True))
    (args.out / "settings_policy_sweep.md").write_text(render(cache))
    print(f"findings: {args.out / 'settings_policy_sweep.md'}")
    return 0


def render(cache: dict[str, Any]) -> str:
    """The pairs found: a value the settings accept and a mandatory policy rejects."""
    lines = ["# Settings accepted, mandatory policy rejected", ""]
    lines += [
        "| stack | setting | value | policy | resource | message |",
        "|---|---|---|---|---|---|",
    ]
    failures: list[str] = []
    for ck in sorted(cache):
        stack, key, value = ck.split("|", 2)
        if key == "(unchanged)":
            continue
        baseline = {
            tuple(m) for m in cache.get(f"{stack}|(unchanged)|null", {}).get("mandatory", [])
        }
        result = cache[ck]
        if result.get("program", "ok") != "ok":
            failures.append(f"- {stack} `{key}` = `{value}`: program {result['program']}")
        for policy, resource, message in result.get("mandatory", []):
            if (policy, resource, message) in baseline:
                continue
            text = message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {stack} | {key} | `{value}` | {policy} | {resource} | {text} |")
    if failures:
        lines += ["", "## Accepted by the settings, refused by the program", "", *failures]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
