"""Run a chaostoolkit experiment file: through ``chaoslib`` when installed, else a built-in runner.

The built-in runner executes the same JSON, for the subset these experiments use:

* ``configuration``: plain values and ``{"type": "env", "key": ..., "default": ...,
  "env_var_type": ...}``; overrides (``--var``) win, like ``chaos run --var``;
* ``${name}`` substitution in arguments and pauses (a lone ``${name}`` keeps the value's type);
* ``python`` providers only (``module`` + ``func`` + ``arguments``), ``pauses`` before/after, and
  tolerances that are a bool, string, number, ``[low, high]`` range or list of accepted values
  (an HTTP-style answer ``{"status": ...}`` is judged by its status), as chaostoolkit judges them;
* order: steady-state hypothesis → method → steady-state hypothesis → rollbacks.

Control flow, and how it compares with chaostoolkit's default strategy: a hypothesis not met before
the method aborts the run (status ``aborted``; the method and rollbacks do not run — chaostoolkit
reports ``failed``/``completed`` there and still plays the rollbacks); a method activity that raises
is recorded as ``failed`` and the run goes on; a hypothesis not met after the method marks the
experiment ``deviated``; rollbacks run unless the run was interrupted.

:func:`verdict` reads either engine's journal into one word — succeeded, aborted, deviated or
failed — which is what the command line and the CloudWatch metric report.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXPERIMENTS_DIR = Path(__file__).resolve().parent / "experiments"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SUCCEEDED, ABORTED, DEVIATED, FAILED = "succeeded", "aborted", "deviated", "failed"


class ExperimentError(Exception):
    """The experiment file is invalid or cannot run with this runner."""


def experiment_names() -> list[str]:
    """The experiments in ``chaos/experiments/`` (the dashboard graphs one line per name)."""
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.json"))


def experiment_path(name_or_path: str) -> Path:
    """``kill-one-task`` → ``chaos/experiments/kill-one-task.json``; a path is taken as is."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.exists():
        return candidate
    return EXPERIMENTS_DIR / f"{name_or_path}.json"


def load_experiment(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """(name for the metric dimension, parsed experiment)."""
    path = experiment_path(name_or_path)
    try:
        experiment = json.loads(path.read_text())
    except FileNotFoundError as err:
        known = ", ".join(sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.json")))
        raise ExperimentError(f"no experiment {name_or_path!r} (known: {known})") from err
    except json.JSONDecodeError as err:
        raise ExperimentError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(experiment, dict):
        raise ExperimentError(f"{path}: an experiment is a JSON object")
    return path.stem, experiment


def all_activities(experiment: Mapping[str, Any]) -> list[dict[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    return [
        *(hypothesis.get("probes") or []),
        *(experiment.get("method") or []),
        *(experiment.get("rollbacks") or []),
    ]


# -- configuration and substitution ----------------------------------------------------------------
def _convert(kind: str | None, value: Any) -> Any:
    if kind is None or value is None:
        return value
    converters: dict[str, Callable[[Any], Any]] = {
        "int": int,
        "float": float,
        "str": str,
        "bool": lambda v: str(v).strip().lower() in ("1", "true", "yes", "on"),
        "json": lambda v: json.loads(v) if isinstance(v, str) else v,
    }
    if kind not in converters:
        raise ExperimentError(f"unknown env_var_type {kind!r}")
    return converters[kind](value)


def resolve_configuration(
    declared: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The experiment's configuration as chaostoolkit resolves it (env entries, overrides win)."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    resolved: dict[str, Any] = {}
    for key, value in declared.items():
        if key in overrides:
            resolved[key] = overrides.pop(key)
        elif isinstance(value, Mapping) and value.get("type") == "env":
            if value["key"] not in env and "default" not in value:
                raise ExperimentError(
                    f"configuration {key!r} reads environment variable {value['key']}, "
                    "which is not set (or pass it as an override)"
                )
            raw = env.get(value["key"], value.get("default"))
            resolved[key] = _convert(value.get("env_var_type"), raw)
        else:
            resolved[key] = value
    resolved.update(overrides)
    return resolved


def substitute(value: Any, mapping: Mapping[str, Any]) -> Any:
    """Replace ``${name}`` recursively; a string that is exactly one placeholder keeps the type."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in mapping:
            return mapping[whole.group(1)]
        return PLACEHOLDER.sub(
            lambda m: str(mapping[m.group(1)]) if m.group(1) in mapping else m.group(0), value
        )
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    return value


# -- validation --------------------------------------------------------------------------------------
def resolve_function(activity: Mapping[str, Any]) -> Callable[..., Any]:
    provider = activity.get("provider") or {}
    if provider.get("type") != "python":
        raise ExperimentError(
            f"activity {activity.get('name')!r}: the built-in runner runs python providers only "
            f"(got {provider.get('type')!r}); install chaostoolkit-lib for the others"
        )
    try:
        module = importlib.import_module(str(provider.get("module")))
    except ImportError as err:
        raise ExperimentError(
            f"activity {activity.get('name')!r}: cannot import {provider.get('module')!r}: {err}"
        ) from err
    func = getattr(module, str(provider.get("func")), None)
    if not inspect.isfunction(func):
        raise ExperimentError(
            f"activity {activity.get('name')!r}: {provider.get('module')}.{provider.get('func')} "
            "is not a function"
        )
    return func


def validate_experiment(experiment: Mapping[str, Any]) -> None:
    """What the built-in runner needs: the standard keys, and python activities whose functions
    exist and accept their arguments (like ``chaoslib.experiment.ensure_experiment_is_valid``)."""
    for key in ("title", "description"):
        if not experiment.get(key):
            raise ExperimentError(f"experiment requires a {key}")
    hypothesis = experiment.get("steady-state-hypothesis")
    if hypothesis is not None:
        if not hypothesis.get("title"):
            raise ExperimentError("the steady-state hypothesis requires a title")
        for probe in hypothesis.get("probes") or []:
            if "tolerance" not in probe:
                raise ExperimentError(f"hypothesis probe {probe.get('name')!r} has no tolerance")
            if isinstance(probe["tolerance"], dict):
                raise ExperimentError(
                    f"hypothesis probe {probe.get('name')!r}: the built-in runner does not "
                    "support dict (probe/range/regex) tolerances"
                )
    if "method" not in experiment:
        raise ExperimentError("experiment requires a method (it may be empty)")
    for activity in all_activities(experiment):
        if activity.get("type") not in ("probe", "action"):
            raise ExperimentError(f"activity {activity.get('name')!r}: type must be probe/action")
        if not activity.get("name"):
            raise ExperimentError("every activity needs a name")
        check_python_activity(activity)


def check_python_activity(activity: Mapping[str, Any]) -> None:
    """The activity's function exists and accepts its arguments (``configuration`` is given)."""
    func = resolve_function(activity)
    arguments = dict((activity.get("provider") or {}).get("arguments") or {})
    signature = inspect.signature(func)
    if "configuration" in signature.parameters:
        arguments["configuration"] = None
    try:
        signature.bind(**arguments)
    except TypeError as err:
        raise ExperimentError(f"activity {activity.get('name')!r}: {err}") from err


def check_python_activities(experiment: Mapping[str, Any]) -> None:
    """Before anything runs, whatever the engine: every ``python`` activity names a module that
    imports and a function in it that takes the arguments given. Other providers (and ``ref``
    entries) are left to the engine's own validation."""
    for activity in all_activities(experiment):
        if not isinstance(activity, Mapping):
            raise ExperimentError(f"an activity must be a JSON object (got {activity!r})")
        if (activity.get("provider") or {}).get("type") == "python":
            check_python_activity(activity)


# -- the built-in runner -------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat()


def within_tolerance(tolerance: Any, value: Any) -> bool:
    """chaostoolkit's rules: a probe answer ``{"status": ...}`` is judged by its status; a list of
    two items is an inclusive range ``[low, high]``, any other list the accepted values; anything
    else must equal the answer."""
    is_number = isinstance(tolerance, int) and not isinstance(tolerance, bool)
    if (is_number or isinstance(tolerance, list)) and isinstance(value, dict) and "status" in value:
        value = value["status"]
    if isinstance(tolerance, list):
        if len(tolerance) == 2:
            try:
                return bool(tolerance[0] <= value <= tolerance[1])
            except TypeError:  # an answer that cannot be compared with the bounds
                return False
        return value in tolerance
    return bool(value == tolerance)


class BuiltinRunner:
    """Executes an experiment dict; ``sleep`` serves the pauses, ``log`` gets one line per step."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.sleep = sleep
        self.log = log

    def _pause(self, activity: Mapping[str, Any], when: str, config: Mapping[str, Any]) -> None:
        seconds = substitute((activity.get("pauses") or {}).get(when), config)
        if seconds:
            self.log(f"pausing {float(seconds):g}s {when} {activity['name']!r}")
            self.sleep(float(seconds))

    def run_activity(self, activity: Mapping[str, Any], config: Mapping[str, Any]) -> dict:
        self._pause(activity, "before", config)
        func = resolve_function(activity)
        arguments = substitute(dict(activity["provider"].get("arguments") or {}), config)
        if "configuration" in inspect.signature(func).parameters:
            arguments["configuration"] = dict(config)
        self.log(f"{activity['type']} {activity['name']!r}")
        record: dict[str, Any] = {"activity": dict(activity), "start": _now()}
        started = time.monotonic()
        try:
            record["output"] = func(**arguments)
            record["status"] = "succeeded"
        except Exception as err:
            record["status"] = "failed"
            record["output"] = None
            record["exception"] = traceback.format_exception_only(type(err), err)
            self.log(f"{activity['type']} {activity['name']!r} failed: {err}")
        record["end"] = _now()
        record["duration"] = time.monotonic() - started
        self._pause(activity, "after", config)
        return record

    def run_hypothesis(
        self, experiment: Mapping[str, Any], config: Mapping[str, Any], when: str
    ) -> dict[str, Any] | None:
        hypothesis = experiment.get("steady-state-hypothesis")
        if not hypothesis or not hypothesis.get("probes"):
            return None
        self.log(f"steady-state hypothesis ({when} method): {hypothesis['title']}")
        state: dict[str, Any] = {"steady_state_met": True, "probes": []}
        for probe in hypothesis["probes"]:
            record = self.run_activity(probe, config)
            tolerance = substitute(probe["tolerance"], config)
            met = record["status"] == "succeeded" and within_tolerance(tolerance, record["output"])
            record["tolerance_met"] = met
            state["probes"].append(record)
            if not met:
                state["steady_state_met"] = False
                self.log(
                    f"probe {probe['name']!r} not within tolerance {tolerance!r} "
                    f"(got {record['output']!r})"
                )
                break
        return state

    def run(self, experiment: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
        validate_experiment(experiment)
        started = time.monotonic()
        journal: dict[str, Any] = {
            "engine": "built-in",
            "experiment": dict(experiment),
            "start": _now(),
            "status": None,
            "deviated": False,
            "steady_states": {"before": None, "after": None, "during": []},
            "run": [],
            "rollbacks": [],
        }
        self.log(f"experiment: {experiment['title']}")
        try:
            before = self.run_hypothesis(experiment, config, "before")
            journal["steady_states"]["before"] = before
            if before is not None and not before["steady_state_met"]:
                journal["status"] = "aborted"
                self.log("steady state not met before the method: aborting, nothing injected")
            else:
                for activity in experiment.get("method") or []:
                    journal["run"].append(self.run_activity(activity, config))
                after = self.run_hypothesis(experiment, config, "after")
                journal["steady_states"]["after"] = after
                if after is not None and not after["steady_state_met"]:
                    journal["deviated"] = True
                    self.log("steady state not met after the method: the experiment deviated")
                journal["status"] = "completed"
        except KeyboardInterrupt:
            journal["status"] = "interrupted"
            self.log("interrupted: rollbacks skipped")
        if journal["status"] == "completed":
            for activity in experiment.get("rollbacks") or []:
                journal["rollbacks"].append(self.run_activity(activity, config))
        journal["end"] = _now()
        journal["duration"] = time.monotonic() - started
        return journal


# -- chaostoolkit's library ----------------------------------------------------------------------
def chaoslib_available() -> bool:
    try:
        importlib.import_module("chaoslib.experiment")
    except ImportError:
        return False
    return True


def run_with_chaoslib(experiment: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``chaoslib.experiment.run_experiment`` with the overrides as configuration vars."""
    # chaostoolkit-lib is optional (dev requirements; chaoslib_available() guards the call), so the
    # program's own venv, where `pulumi up` type-checks, may lack it.
    from chaoslib import __version__  # pyright: ignore[reportMissingImports]  optional, see above
    from chaoslib.exceptions import (  # pyright: ignore[reportMissingImports]  optional, see above
        ChaosException,
    )
    from chaoslib.experiment import (  # pyright: ignore[reportMissingImports]  optional, see above
        ensure_experiment_is_valid,
        run_experiment,
    )

    experiment = json.loads(json.dumps(experiment))  # chaoslib mutates its argument
    experiment_vars = (dict(overrides), None)
    try:
        ensure_experiment_is_valid_with_vars(experiment, overrides, ensure_experiment_is_valid)
    except ChaosException as err:  # InvalidExperiment, InvalidActivity: one line, no traceback
        raise ExperimentError(str(err)) from err
    journal = run_experiment(
        experiment,
        settings={},
        experiment_vars=experiment_vars,  # pyright: ignore[reportArgumentType]  chaoslib annotates Dict but Runner.configure unpacks (config_vars, secret_vars)
    )
    journal["engine"] = f"chaostoolkit-lib {__version__}"
    return journal


def ensure_experiment_is_valid_with_vars(
    experiment: dict[str, Any], overrides: Mapping[str, Any], ensure: Callable[[Any], None]
) -> None:
    """chaoslib validates configuration from the environment alone; give env entries that an
    override replaces a default, so validation sees what the run will see."""
    patched = json.loads(json.dumps(experiment))
    for key, value in (patched.get("configuration") or {}).items():
        if key in overrides and isinstance(value, dict) and value.get("type") == "env":
            value["default"] = overrides[key]
    ensure(patched)


# -- outcome -------------------------------------------------------------------------------------
FAULT_CHECKS = frozenset({"cut_held"})
"""Method probes that check the injected fault took effect (``chaos.dependency_blackhole``)."""


def fault_not_held(journal: Mapping[str, Any]) -> str | None:
    """Why the run's fault did not (provably) take effect — the last line of the error of a
    failed fault check in the method — or None."""
    for record in journal.get("run") or []:
        provider = (record.get("activity") or {}).get("provider") or {}
        if provider.get("func") in FAULT_CHECKS and record.get("status") != "succeeded":
            error = record.get("exception") or ["the fault check failed"]
            lines = error if isinstance(error, list) else [str(error)]
            return str(lines[-1]).strip()
    return None


def verdict(journal: Mapping[str, Any]) -> str:
    """succeeded | aborted (not steady before, or the run could not start: nothing injected) |
    deviated | failed (the run did not complete, the fault did not provably take effect, or a
    method activity or a rollback failed). A fault that did not hold fails the run even when the
    hypothesis deviated: the system was not put to the test."""
    states = journal.get("steady_states") or {}
    before = states.get("before")
    if before is not None and not before.get("steady_state_met"):
        return ABORTED
    if journal.get("status") == "aborted" and not journal.get("run"):
        return ABORTED
    if fault_not_held(journal):
        return FAILED
    if journal.get("deviated"):
        return DEVIATED
    if journal.get("status") != "completed":
        return FAILED
    if any(run.get("status") != "succeeded" for run in journal.get("run") or []):
        return FAILED
    # a rollback that failed left the system unrestored (chaostoolkit keeps the status completed)
    if any(rollback.get("status") != "succeeded" for rollback in journal.get("rollbacks") or []):
        return FAILED
    return SUCCEEDED


def validate_for_engine(
    experiment: dict[str, Any], engine: str = "auto", given: Mapping[str, Any] | None = None
) -> str:
    """Validate ``experiment`` as ``engine`` would before running it (``chaos validate``); returns
    the engine that judged it, or raises :class:`ExperimentError`. Nothing runs.

    A configuration entry read from the environment with no default is what ``chaos.run`` fills
    from the stack (cluster, service, url...): it stands in as ``<from the stack>`` unless
    ``given`` (``--var``) names it, so validation judges everything else."""
    typed = {"json": "null", "int": "0", "float": "0", "bool": "false"}  # chaoslib.convert_to_type
    stand_ins = {
        key: typed.get(str(value.get("env_var_type")), "<from the stack>")
        for key, value in (experiment.get("configuration") or {}).items()
        if isinstance(value, dict) and value.get("type") == "env" and "default" not in value
    }
    overrides = {**stand_ins, **(given or {})}
    if engine == "chaostoolkit" or (engine == "auto" and chaoslib_available()):
        if not chaoslib_available():
            raise ExperimentError("engine chaostoolkit needs chaostoolkit-lib installed")
        from chaoslib.exceptions import (  # pyright: ignore[reportMissingImports]  optional, see run_with_chaoslib
            ChaosException,
        )
        from chaoslib.experiment import (  # pyright: ignore[reportMissingImports]  optional, see run_with_chaoslib
            ensure_experiment_is_valid,
        )

        try:
            ensure_experiment_is_valid_with_vars(experiment, overrides, ensure_experiment_is_valid)
        except ChaosException as err:
            raise ExperimentError(str(err)) from err
        return "chaostoolkit"
    validate_experiment(experiment)
    return "builtin"


def run_experiment(
    experiment: dict[str, Any],
    overrides: Mapping[str, Any],
    *,
    engine: str = "auto",
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Run with ``engine`` (auto | chaostoolkit | builtin) and return the journal."""
    if engine not in ("auto", "chaostoolkit", "builtin"):
        raise ExperimentError(f"unknown engine {engine!r}")
    use_chaoslib = engine == "chaostoolkit" or (engine == "auto" and chaoslib_available())
    if use_chaoslib:
        if not chaoslib_available():
            raise ExperimentError("engine chaostoolkit needs chaostoolkit-lib installed")
        return run_with_chaoslib(experiment, overrides)
    config = resolve_configuration(experiment.get("configuration") or {}, overrides)
    return BuiltinRunner(sleep=sleep, log=log).run(experiment, config)
