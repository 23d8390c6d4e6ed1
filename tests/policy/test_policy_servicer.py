"""The pack inside pulumi_policy's real analyzer servicer, spoken to with the engine's protobuf
messages (in process, no network): config reaches the rules, levels come from the stack config,
unknowns come back as "not applicable" with the reason."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from policy_cases import GOOD_RDS
from policy_harness import UNKNOWN_BOOL, UNKNOWN_STRING, urn_of
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policy.guardrails import aws_types as t
from policy.guardrails.catalogue import CONFIG_DIR
from policy.guardrails.config_file import effective_settings, load_config_file
from policy.guardrails.registry import PACK_ENFORCEMENT_LEVEL, all_policies

LEVELS = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "disabled": proto.DISABLED,
    "remediate": proto.REMEDIATE,
}


def servicer(stack: str) -> _PolicyAnalyzerServicer:
    """A servicer configured as the engine configures it: every policy's effective settings."""
    policies = all_policies()
    analyzer = _PolicyAnalyzerServicer(
        "steadystate-guardrails", "0.1.0", policies, PACK_ENFORCEMENT_LEVEL
    )
    settings = effective_settings(
        load_config_file(CONFIG_DIR / f"{stack}.json", policies), policies
    )
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in settings.items():
        config = request.policyConfig[name]
        config.enforcementLevel = LEVELS[entry.level]
        config.properties.update(entry.properties)
    analyzer.Configure(request, None)
    return analyzer


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def analyze(analyzer: _PolicyAnalyzerServicer, type_token: str, name: str, props: dict):
    request = proto.AnalyzeRequest(
        type=type_token, properties=struct(props), urn=urn_of(type_token, name), name=name
    )
    return analyzer.Analyze(request, None)


def test_violation_level_follows_the_stack_config() -> None:
    listener = {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward"}]}

    prod = analyze(servicer("prod"), t.LISTENERS[0], "http", listener)
    dev = analyze(servicer("dev"), t.LISTENERS[0], "http", listener)

    [diagnostic] = prod.diagnostics
    assert diagnostic.policyName == "lb-http-redirects-to-https"
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert 'aws:lb/listener "http": the HTTP listener forwards plain HTTP' in diagnostic.message
    assert list(dev.diagnostics) == []
    assert [n.policy_name for n in dev.not_applicable] == ["lb-http-redirects-to-https"]


def test_prod_only_rule_is_mandatory_in_prod_and_not_applicable_in_dev() -> None:
    rds = {**GOOD_RDS, "multiAz": False}

    prod = analyze(servicer("prod"), t.RDS_INSTANCE, "db", rds)
    dev = analyze(servicer("dev"), t.RDS_INSTANCE, "db", rds)

    [diagnostic] = prod.diagnostics
    assert diagnostic.policyName == "rds-multi-az"
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert 'aws:rds/instance "db": multiAz is not enabled. Fix: set multiAz=true.' in (
        diagnostic.message
    )
    assert list(dev.diagnostics) == []
    assert "rds-multi-az" in {n.policy_name for n in dev.not_applicable}


def test_stack_config_properties_reach_the_rule() -> None:
    target = {"serviceNamespace": "ecs", "minCapacity": 1, "maxCapacity": 4}

    prod = analyze(servicer("prod"), t.SCALABLE_TARGET, "web", target)
    dev = analyze(servicer("dev"), t.SCALABLE_TARGET, "web", target)

    assert [d.policyName for d in prod.diagnostics] == ["autoscaling-prod-min-capacity"]
    assert "min capacity must be at least 2 in prod (got 1)" in prod.diagnostics[0].message
    assert list(dev.diagnostics) == []
    assert {n.policy_name: n.reason for n in dev.not_applicable} == {
        "autoscaling-prod-min-capacity": "autoscaling-prod-min-capacity is a prod-only guardrail "
        "and this stack's environment is 'dev'"
    }


def test_unknown_values_come_back_as_not_applicable_with_reasons() -> None:
    props = {**GOOD_RDS, "publiclyAccessible": UNKNOWN_BOOL, "storageEncrypted": UNKNOWN_BOOL}

    response = analyze(servicer("prod"), t.RDS_INSTANCE, "db", props)

    assert list(response.diagnostics) == []
    reasons = {n.policy_name: n.reason for n in response.not_applicable}
    assert reasons == {
        "rds-not-publicly-accessible": "skipped: publiclyAccessible is unknown during preview",
        "rds-storage-encrypted": "skipped: storageEncrypted is unknown during preview",
    }


def test_stack_rule_reports_against_the_offending_resource() -> None:
    vpc = proto.AnalyzerResource(
        type=t.VPC, properties=struct({"id": "vpc-1"}), urn=urn_of(t.VPC, "main"), name="main"
    )
    subnet = proto.AnalyzerResource(
        type=t.SUBNET,
        properties=struct({"id": UNKNOWN_STRING, "vpcId": "vpc-1"}),
        urn=urn_of(t.SUBNET, "a"),
        name="a",
    )

    response = servicer("prod").AnalyzeStack(
        proto.AnalyzeStackRequest(resources=[vpc, subnet]), None
    )

    [diagnostic] = [d for d in response.diagnostics if d.policyName == "vpc-flow-logs-enabled"]
    assert diagnostic.urn == urn_of(t.VPC, "main")
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert 'aws:ec2/vpc "main": the VPC has no flow log' in diagnostic.message
