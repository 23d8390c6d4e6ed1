"""The experiment files: standard chaostoolkit format, and only functions that exist are called."""

from __future__ import annotations

import importlib
import inspect
import json
import re

import pytest

from chaos.runner import (
    EXPERIMENTS_DIR,
    ExperimentError,
    all_activities,
    load_experiment,
    validate_experiment,
)

NAMES = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.json"))
METHOD_FUNCS = {
    "kill-one-task": "chaosaws.ecs.actions.stop_random_tasks",
    "kill-half-the-tasks": "chaos.actions.stop_fraction_of_tasks",
    "kill-a-container-host": "chaos.actions.terminate_container_host",
}


KILLS = sorted(METHOD_FUNCS)


def test_the_experiments_exist():
    assert {*KILLS, "environment-loss", "dependency-blackhole-db", "dependency-blackhole-cdn",
            "bad-release"} == set(NAMES)  # fmt: skip


@pytest.mark.parametrize("name", KILLS)
def test_structure_and_referenced_functions(name):
    _, experiment = load_experiment(name)
    validate_experiment(experiment)  # raises on a missing function or an unknown argument
    assert {"title", "description", "steady-state-hypothesis", "method", "rollbacks"} <= set(
        experiment
    )
    probes = experiment["steady-state-hypothesis"]["probes"]
    expected = ["load_within_tolerance", "service_is_steady", "http_ok"]
    if name == "kill-a-container-host":
        expected.append("killed_host_replaced")
    assert [p["provider"]["func"] for p in probes] == expected
    assert all(p["tolerance"] is True for p in probes)
    assert probes[0]["provider"]["arguments"]["max_error_rate"] == "${max_error_rate}"
    assert experiment["configuration"]["max_error_rate"] == 0.01
    assert probes[2]["provider"]["arguments"]["url"] == "${url}/health"
    # the load runs for the whole method: started first, measured last, after the recovery
    start, action, wait, finish = experiment["method"]
    assert start["provider"]["func"] == "start_load"
    assert start["provider"]["arguments"]["url"] == "${url}${load_path}"
    provider = action["provider"]
    assert action["type"] == "action"
    assert f"{provider['module']}.{provider['func']}" == METHOD_FUNCS[name]
    assert action["pauses"]["after"] == "${pause_after_fault}"
    assert wait["provider"]["func"] == "service_is_steady"
    assert finish["provider"]["func"] == "finish_load"
    assert [r["provider"]["func"] for r in experiment["rollbacks"]] == ["stop_load"]
    for activity in all_activities(experiment):
        provider = activity["provider"]
        assert provider["type"] == "python"
        func = getattr(importlib.import_module(provider["module"]), provider["func"])
        assert inspect.isfunction(func) and func.__module__ == provider["module"]


@pytest.mark.parametrize("name", NAMES)
def test_every_placeholder_is_declared_in_the_configuration(name):
    _, experiment = load_experiment(name)
    text = json.dumps(
        [experiment["steady-state-hypothesis"], experiment["method"], experiment["rollbacks"]]
    )
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used <= set(experiment["configuration"]), used - set(experiment["configuration"])
    keys = {
        "environment-loss": ("cluster", "url"),
        "bad-release": ("cluster", "url"),
        "dependency-blackhole-db": ("url",),
        "dependency-blackhole-cdn": ("url",),
    }.get(name, ("cluster", "service", "url"))
    for key in keys:
        assert experiment["configuration"][key] == {"type": "env", "key": key.upper()}


def test_the_validator_rejects_what_would_break_at_run_time():
    _, experiment = load_experiment("kill-one-task")
    broken = json.loads(json.dumps(experiment))
    broken["method"][1]["provider"]["func"] = "stop_all_the_tasks"
    with pytest.raises(ExperimentError, match="stop_all_the_tasks is not a function"):
        validate_experiment(broken)
    broken = json.loads(json.dumps(experiment))
    broken["method"][1]["provider"]["arguments"]["force"] = True
    with pytest.raises(ExperimentError, match="force"):
        validate_experiment(broken)
    broken = json.loads(json.dumps(experiment))
    broken["method"][1]["provider"] = {"type": "process", "path": "aws"}
    with pytest.raises(ExperimentError, match="python providers only"):
        validate_experiment(broken)
    with pytest.raises(ExperimentError, match="no experiment 'kill-everything'"):
        load_experiment("kill-everything")


# -- chaostoolkit's own validation (only where chaostoolkit-lib is installed) ---------------------
@pytest.mark.parametrize("name", NAMES)
def test_chaostoolkit_validates_each_experiment(name, monkeypatch):
    experiment_module = pytest.importorskip(
        "chaoslib.experiment", reason="chaostoolkit-lib not installed (see requirements-dev.txt)"
    )
    from chaoslib.exceptions import InvalidExperiment

    _, experiment = load_experiment(name)
    for var in ("CLUSTER", "SERVICE", "URL"):
        monkeypatch.delenv(var, raising=False)
    first = "URL" if name.startswith("dependency-blackhole-") else "CLUSTER"  # needs no cluster
    with pytest.raises(InvalidExperiment, match=first):
        experiment_module.ensure_experiment_is_valid(json.loads(json.dumps(experiment)))
    monkeypatch.setenv("CLUSTER", "c")
    monkeypatch.setenv("SERVICE", "s")
    monkeypatch.setenv("URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DOWN_SERVICES", '["b"]')
    monkeypatch.setenv("STANDBY_SERVICE", "g")
    monkeypatch.setenv("HOST_GROUP", "blue-hosts")
    monkeypatch.setenv("FAILOVER_WITHIN", "90")
    monkeypatch.setenv("FIS_TEMPLATE_IDS", '{"dependency-db": "EXT1", "dependency-cdn": "EXT2"}')
    monkeypatch.setenv("ALARM_NAME", "blue-db")
    monkeypatch.setenv("ONEBOX_SERVICE", "b1")
    monkeypatch.setenv("FLEET_SERVICE", "b")
    monkeypatch.setenv("ONEBOX_ALARM_NAMES", '["b1-latency", "b1-5xx-rate"]')
    experiment_module.ensure_experiment_is_valid(json.loads(json.dumps(experiment)))


def test_chaostoolkit_rejects_a_function_that_does_not_exist(monkeypatch):
    experiment_module = pytest.importorskip(
        "chaoslib.experiment", reason="chaostoolkit-lib not installed (see requirements-dev.txt)"
    )
    from chaoslib.exceptions import InvalidActivity

    for var, value in (("CLUSTER", "c"), ("SERVICE", "s"), ("URL", "http://127.0.0.1:9")):
        monkeypatch.setenv(var, value)
    _, experiment = load_experiment("kill-one-task")
    experiment["method"][1]["provider"]["func"] = "stop_all_the_tasks"
    with pytest.raises(InvalidActivity, match="stop_all_the_tasks"):
        experiment_module.ensure_experiment_is_valid(experiment)
