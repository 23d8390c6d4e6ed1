"""A violation on a resource the program built from settings names the `steadystate:` setting to
change (policy/guardrails/setting_keys.py), through the real policies and through pulumi_policy's
analyzer servicer, which is what `pulumi preview --policy-pack` talks to; and the table that says
so covers every policy of the pack with real settings and real components."""

from __future__ import annotations

import asyncio
import dataclasses
import typing
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from policy_cases import GOOD_ALB, with_
from policy_harness import Res, run_resource, run_stack, urn_of
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from ops.synth.mocks import ResourceRecord
from ops.synth.runner import synthesize
from policy.guardrails import aws_types as t
from policy.guardrails.framework import ResourceGuardrail
from policy.guardrails.registry import PACK_ENFORCEMENT_LEVEL, all_policies
from policy.guardrails.setting_keys import (
    NOT_FROM_SETTINGS,
    SETTING_KEYS,
    setting_sources,
    settings_hint,
)
from settings import Settings
from settings.fields import camel

COMPONENTS_DIR = Path(__file__).resolve().parents[2] / "components"
LB = "steadystate:load_balancer:PublicLoadBalancer"
NETWORK = "steadystate:network:Network"
WEB_ACL = "steadystate:web_acl:WebAcl"
SERVICE = "steadystate:service:ServiceWithAutoscaling"
ALB = t.LOAD_BALANCERS[0]
NO_LOGS = with_(GOOD_ALB, accessLogs={"bucket": "logs", "enabled": False})
TRACKING = {
    "policyType": "TargetTrackingScaling",
    "targetTrackingScalingPolicyConfiguration": {
        "targetValue": 70,
        "scaleOutCooldown": 900,
        "predefinedMetricSpecification": {
            "predefinedMetricType": "ECSServiceAverageCPUUtilization"
        },
    },
}
STEP = {
    "policyType": "StepScaling",
    "stepScalingPolicyConfiguration": {
        "adjustmentType": "ChangeInCapacity",
        "cooldown": 900,
        "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 2}],
    },
}


def _hint(*keys: str) -> str:
    names = " or ".join(f"steadystate:{key}" for key in keys)
    return f" Built from settings: change {names} in Pulumi.test.yaml."


@pytest.mark.parametrize(
    ("policy", "type_token", "props", "component", "keys"),
    [
        ("lb-access-logs-enabled", ALB, NO_LOGS, LB, ("loadBalancer.accessLogs",)),
        (
            "log-group-retention",
            t.LOG_GROUP,
            {"retentionInDays": 7},
            NETWORK,
            ("network.flowLogRetentionDays",),
        ),
        (
            "log-group-retention",
            t.LOG_GROUP,
            {"retentionInDays": 7},
            WEB_ACL,
            ("loadBalancer.wafLogRetentionDays",),
        ),
        (
            "autoscaling-scale-out-cooldown",
            t.SCALING_POLICY,
            TRACKING,
            SERVICE,
            ("service.scaleOutCooldown",),
        ),
        (
            "autoscaling-scale-out-cooldown",
            t.SCALING_POLICY,
            STEP,
            SERVICE,
            ("service.fastScaleOut.cooldown",),
        ),
    ],
)
def test_a_violation_inside_a_component_names_the_setting(
    policy: str, type_token: str, props: dict, component: str, keys: tuple[str, ...]
) -> None:
    inside = run_resource(policy, type_token, props, component=component)
    assert len(inside.messages) == 1, inside.text
    assert inside.messages[0].endswith(_hint(*keys))
    foreign = run_resource(policy, type_token, props)
    assert foreign.messages == [inside.messages[0].removesuffix(_hint(*keys))]
    assert "steadystate:" not in foreign.text


def test_a_stack_violation_inside_a_component_names_the_setting() -> None:
    alb = {"arn": "arn:alb", "internal": False, "loadBalancerType": "application"}
    outcome = run_stack("lb-internet-facing-waf", [Res(ALB, "blue-alb", alb, component=LB)])
    assert outcome.messages[0].endswith(_hint("loadBalancer.waf")), outcome.text
    assert outcome.violations[0][1] == urn_of(ALB, "blue-alb", LB)


def test_the_engine_sees_the_setting_in_the_pack_s_message() -> None:
    """What `pulumi preview --policy-pack` prints is the servicer's AnalyzeDiagnostic.message."""
    analyzer = _PolicyAnalyzerServicer(
        "steadystate-guardrails", "0.1.0", all_policies(), PACK_ENFORCEMENT_LEVEL
    )
    props = struct_pb2.Struct()
    props.update(NO_LOGS)
    request = proto.AnalyzeRequest(
        type=ALB,
        properties=props,
        urn="urn:pulumi:prod::steadystate::steadystate:load_balancer:PublicLoadBalancer$"
        f"{ALB}::blue-alb",
        name="blue-alb",
    )
    messages = [
        d.message
        for d in analyzer.Analyze(request, None).diagnostics
        if d.policyName == "lb-access-logs-enabled"
    ]
    assert len(messages) == 1
    assert messages[0].endswith(
        " Built from settings: change steadystate:loadBalancer.accessLogs in Pulumi.prod.yaml."
    )


def test_the_hint_uses_the_project_and_stack_of_the_urn() -> None:
    urn = f"urn:pulumi:staging::shop::{LB}${ALB}::blue-alb"
    assert settings_hint("lb-access-logs-enabled", urn) == (
        " Built from settings: change shop:loadBalancer.accessLogs in Pulumi.staging.yaml."
    )
    assert settings_hint("lb-drop-invalid-headers", urn) == ""
    assert settings_hint("lb-access-logs-enabled", "not-a-urn") == ""


def test_every_policy_says_whether_settings_build_what_it_judges() -> None:
    names = [p.name for p in all_policies()]
    unclassified = [n for n in names if n not in SETTING_KEYS and n not in NOT_FROM_SETTINGS]
    assert not unclassified, (
        "add each to policy/guardrails/setting_keys.py: SETTING_KEYS (the settings that build "
        f"what it judges) or NOT_FROM_SETTINGS (why none does): {unclassified}"
    )
    assert not set(SETTING_KEYS) & set(NOT_FROM_SETTINGS)
    assert not (set(SETTING_KEYS) | set(NOT_FROM_SETTINGS)) - set(names), "stale policy names"
    assert all(reason.strip() for reason in NOT_FROM_SETTINGS.values())


def _setting_paths(cls: type = Settings, prefix: str = "") -> set[str]:
    hints = typing.get_type_hints(cls)
    paths: set[str] = set()
    for f in dataclasses.fields(cls):
        key = f"{prefix}{camel(f.name)}"
        paths.add(key)
        if dataclasses.is_dataclass(hints[f.name]):
            paths |= _setting_paths(hints[f.name], f"{key}.")
    return paths


def test_every_key_is_a_setting_and_every_component_a_component_of_the_program() -> None:
    settings = _setting_paths()
    sources = [s for keys in SETTING_KEYS.values() for s in keys]
    assert not [s.key for s in sources if s.key not in settings]
    code = "\n".join(p.read_text() for p in COMPONENTS_DIR.glob("*.py"))
    assert not [s.component for s in sources if s.component and f'"{s.component}"' not in code]


@pytest.fixture(scope="module")
def prod_records() -> list[ResourceRecord]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return synthesize("prod").records
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_every_resource_a_mapped_policy_judges_in_prod_gets_its_setting(
    prod_records: list[ResourceRecord],
) -> None:
    """Against the real program: each resource of a type a mapped resource policy judges sits
    inside a component the table knows (a log group in a new component needs its setting)."""
    missing = []
    for policy in all_policies():
        if policy.name not in SETTING_KEYS or not isinstance(policy, ResourceGuardrail):
            continue
        for record in prod_records:
            if record.type in policy.resource_types:
                chain = record.urn.split("::")[2].split("$")
                if not setting_sources(policy.name, chain):
                    missing.append((policy.name, record.urn))
    assert not missing, missing
