"""The pack as a whole: every policy registered once and described, config schemas valid, the
per-stack config files valid and as intended, malformed configs rejected clearly, the catalogue
and the entry point working."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, Policy

import policy.guardrails as guardrails
from policy.guardrails import limits
from policy.guardrails.catalogue import CONFIG_DIR, markdown_cell, render
from policy.guardrails.config_file import (
    SCHEMA_KEYWORDS,
    PolicyConfigError,
    effective_settings,
    load_config_file,
    parse_config,
    value_problems,
)
from policy.guardrails.framework import ResourceGuardrail, StackGuardrail
from policy.guardrails.registry import all_policies, config_schemas

ROOT = Path(__file__).resolve().parents[2]
POLICIES = all_policies()
BY_NAME = {p.name: p for p in POLICIES}


def test_every_policy_defined_in_a_module_is_in_the_pack() -> None:
    registered = {id(p) for p in POLICIES}
    found = []
    for info in pkgutil.iter_modules(guardrails.__path__):
        module = importlib.import_module(f"policy.guardrails.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, Policy)]

    assert found
    missing = [p.name for p in found if id(p) not in registered]
    assert missing == []


def test_policy_names_are_unique_and_there_are_enough() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert len(names) >= 35


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_is_described_with_its_level_chosen_in_code(policy: Policy) -> None:
    assert isinstance(policy, ResourceGuardrail | StackGuardrail)
    assert len(policy.description) > 60
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    reason = "Advisory" if policy.enforcement_level == EnforcementLevel.ADVISORY else "Mandatory"
    assert reason in policy.description or "Prod-only" in policy.description


@pytest.mark.parametrize("name", sorted(config_schemas()))
def test_config_schema_is_valid_json_schema(name: str) -> None:
    schema = config_schemas()[name]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(schema)
    for key, prop in schema["properties"].items():
        assert set(prop) <= SCHEMA_KEYWORDS, f"{name}.{key} uses an unchecked keyword"
        assert prop.get("description"), f"{name}.{key} has no description"
        assert "default" in prop, f"{name}.{key} has no default"
        assert value_problems(prop["default"], prop, key) == []
        jsonschema.validate({key: prop["default"]}, schema)
        if {"minimum", "maximum"} & set(prop):
            assert prop["type"] in ("integer", "number")


def test_items_constrain_only_arrays() -> None:
    """As in JSON Schema, ``items`` without ``type`` says nothing about a non-array value."""
    schema = {"items": {"type": "integer"}}
    assert value_problems(5, schema, "ports") == []
    assert value_problems("80", schema, "ports") == []
    assert value_problems([80, "x"], schema, "ports") == ['ports[1]: "x" is not an integer']


def _default(policy: str, key: str) -> Any:
    return config_schemas()[policy]["properties"][key]["default"]


def test_threshold_defaults_are_the_limits_defaults() -> None:
    assert _default("autoscaling-target-value-range", "targetValueLow") == 10
    assert _default("autoscaling-target-value-range", "targetValueHigh") == 90
    assert _default("autoscaling-prod-min-capacity", "prodMinimumCapacity") == 2
    assert _default("autoscaling-capacity-bounds", "maxCapacityCap") == limits.MAX_CAPACITY_CAP
    assert _default("dns-routing-ttl-ceiling", "ttlCeilingSeconds") == 60
    assert _default("onebox-traffic-share", "oneboxShareCeilingPercent") == 10
    assert (
        _default("log-group-retention", "minimumRetentionDays") == limits.LOG_RETENTION_MINIMUM_DAYS
    )
    assert _default("lb-http-redirects-to-https", "requireHttps") is True


PROD_ONLY = sorted(p.name for p in POLICIES if p.prod_only)


def test_prod_only_policies_read_the_environment_and_default_to_prod() -> None:
    assert set(PROD_ONLY) == {
        "rds-multi-az",
        "rds-deletion-protection",
        "lb-deletion-protection",
        "ecs-service-deployment-alarms",
        "autoscaling-prod-min-capacity",
        "ecs-service-prod-minimum-healthy-percent",
        "ecs-capacity-provider-termination-protection",
        "alarm-topics-have-subscriber",
        "chaos-schedule-enabled-in-prod",
        "fis-templates-scheduled-in-prod",
        "ecs-exec-encrypted",
        "teardown-armed",
        "lb-internet-facing-waf",
        "db-app-secret-rotation",
        "lb-zonal-shift-enabled",
        "lb-zonal-autoshift-practised",
        "ecs-environments-own-capacity",
        "zone-loss-static-stability",
    }
    for name in PROD_ONLY:
        assert _default(name, "environment") == "prod"
    assert all(
        "environment" not in s["properties"]
        for n, s in config_schemas().items()
        if n not in PROD_ONLY
    )


# the per-stack config files -------------------------------------------------------------------


CONFIG_FILES = sorted(CONFIG_DIR.glob("*.json"))


def test_there_is_a_config_file_per_stack() -> None:
    assert [path.stem for path in CONFIG_FILES] == ["dev", "prod"]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda path: path.name)
def test_config_file_names_existing_policies_with_valid_levels_and_properties(path: Path) -> None:
    entries = load_config_file(path, POLICIES)
    assert set(entries) - {"all"} <= set(BY_NAME)
    jsonschema = pytest.importorskip("jsonschema")
    for name, entry in entries.items():
        if name != "all":
            jsonschema.validate(entry.properties, config_schemas().get(name, {"type": "object"}))


def test_prod_runs_every_policy_mandatory_with_prod_thresholds() -> None:
    """All but teardown-armed: arming is the documented first step of a teardown (set
    teardown.allowDataLoss, `pulumi up`, `pulumi destroy`), so it is reported, never refused."""
    settings = effective_settings(load_config_file(CONFIG_DIR / "prod.json", POLICIES), POLICIES)

    assert {n for n, s in settings.items() if s.level != "mandatory"} == {"teardown-armed"}
    assert settings["teardown-armed"].level == "advisory"
    assert {settings[name].properties["environment"] for name in PROD_ONLY} == {"prod"}
    assert settings["lb-http-redirects-to-https"].properties["requireHttps"] is True


def test_dev_is_mandatory_except_prod_only_rules_and_https() -> None:
    settings = effective_settings(load_config_file(CONFIG_DIR / "dev.json", POLICIES), POLICIES)
    advisory = {name for name, s in settings.items() if s.level == "advisory"}

    assert advisory == {*PROD_ONLY, "lb-http-redirects-to-https"}
    assert {s.level for n, s in settings.items() if n not in advisory} == {"mandatory"}
    assert {settings[name].properties["environment"] for name in PROD_ONLY} == {"dev"}
    assert settings["lb-http-redirects-to-https"].properties["requireHttps"] is False


# malformed config -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"rds-multi-azz": "mandatory"},
            '"rds-multi-azz": unknown policy (did you mean "rds-multi-az"?)',
        ),
        (
            {"rds-multi-az": "warn"},
            '"rds-multi-az".enforcementLevel: "warn" is not a valid enforcement level; '
            "allowed: advisory, mandatory, remediate, disabled",
        ),
        (
            {"rds-multi-az": {"enforcementLevel": 1}},
            '"rds-multi-az".enforcementLevel: 1 is not a valid enforcement level',
        ),
        (
            {"rds-multi-az": 5},
            '"rds-multi-az": 5 is neither an enforcement level',
        ),
        (
            {"onebox-traffic-share": {"oneboxShare": 5}},
            '"onebox-traffic-share".oneboxShare: unknown property; allowed properties: '
            "oneboxShareCeilingPercent",
        ),
        (
            {"rds-storage-encrypted": {"environment": "prod"}},
            '"rds-storage-encrypted".environment: unknown property; allowed properties: none',
        ),
        (
            {"dns-routing-ttl-ceiling": {"ttlCeilingSeconds": "sixty"}},
            '"dns-routing-ttl-ceiling".ttlCeilingSeconds: "sixty" is not an integer',
        ),
        (
            {"onebox-traffic-share": {"oneboxShareCeilingPercent": 150}},
            '"onebox-traffic-share".oneboxShareCeilingPercent: 150 is above the maximum 100',
        ),
        (
            {"rds-multi-az": {"environment": "staging"}},
            '"rds-multi-az".environment: "staging" is not one of "prod", "dev"',
        ),
        (
            {"log-group-retention": {"minimumRetentionDays": 45}},
            '"log-group-retention".minimumRetentionDays: 45 is not one of 1, 3, 5',
        ),
        (
            {"security-group-no-world-admin-ingress": {"forbiddenPorts": [22, "ssh"]}},
            '"security-group-no-world-admin-ingress".forbiddenPorts[1]: "ssh" is not an integer',
        ),
        (
            {"all": {"enforcementLevel": "mandatory", "environment": "prod"}},
            '"all": only enforcementLevel may be set for all policies (got environment)',
        ),
        (
            {"autoscaling-target-value-range": {"targetValueLow": 80, "targetValueHigh": 70}},
            '"autoscaling-target-value-range": targetValueLow 80 must be below targetValueHigh 70',
        ),
        (
            {"all": "mandatory", "lb-http-redirects-to-https": {"requireHttps": False}},
            '"lb-http-redirects-to-https": requireHttps is false but the enforcement level is '
            '"mandatory"',
        ),
        (["rds-multi-az"], 'the top level must be an object, got ["rds-multi-az"]'),
    ],
)
def test_malformed_config_is_rejected_naming_policy_key_value_and_allowed(
    config: Any, expected: str
) -> None:
    with pytest.raises(PolicyConfigError) as raised:
        parse_config(config, POLICIES, "stack.json")

    assert str(raised.value).startswith("stack.json: invalid policy config:")
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems


def test_every_problem_of_a_config_is_reported_at_once() -> None:
    config = {"rds-multi-az": "warn", "nope": "advisory"}
    with pytest.raises(PolicyConfigError) as raised:
        parse_config(config, POLICIES)
    assert len(raised.value.problems) == 2


def test_config_file_that_is_not_json_is_rejected_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"all": "mandatory",\n "rds-multi-az": }\n')

    with pytest.raises(PolicyConfigError) as raised:
        load_config_file(path, POLICIES)

    assert str(path) in str(raised.value)
    assert "line 2" in str(raised.value)


def test_integral_floats_from_the_engine_are_accepted_as_integers() -> None:
    parse_config({"dns-routing-ttl-ceiling": {"ttlCeilingSeconds": 30.0}}, POLICIES)


# catalogue and entry point --------------------------------------------------------------------


def test_catalogue_lists_every_policy_with_its_levels() -> None:
    table = render()
    rows = [line for line in table.splitlines()[2:] if line.startswith("| `")]

    assert len(rows) == len(POLICIES)
    for policy in POLICIES:
        row = next(r for r in rows if r.startswith(f"| `{policy.name}` |"))
        assert markdown_cell(policy.description) in row
    rds_row = next(r for r in rows if r.startswith("| `rds-multi-az` |"))
    assert "| `aws:rds/instance` | mandatory | advisory | mandatory |" in rds_row
    stack_row = next(r for r in rows if r.startswith("| `vpc-flow-logs-enabled` |"))
    assert "| stack |" in stack_row


def test_catalogue_runs_as_a_module_from_the_project_root() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "policy.guardrails.catalogue"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == render()


def test_entry_point_serves_the_pack_when_run_from_the_policy_directory() -> None:
    grpc = pytest.importorskip("grpc")
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=ROOT / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    finally:
        process.kill()
        process.wait(timeout=10)

    assert info.name == "steadystate-guardrails"
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    schema = next(p for p in info.policies if p.name == "onebox-traffic-share").configSchema
    assert (
        json.loads(json.dumps(dict(schema.properties["oneboxShareCeilingPercent"])))["default"]
        == 10
    )
