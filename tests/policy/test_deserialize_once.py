"""policy/guardrails/deserialize_once.py: inside pulumi_policy's real servicer, each resource's
properties are converted once per Analyze/AnalyzeStack call instead of once per policy, and the
pack answers exactly as without it (same diagnostics, same not-applicable reasons)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from policy_cases import GOOD_RDS
from policy_harness import UNKNOWN_STRING, urn_of
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import policy as sdk
from test_policy_servicer import servicer, struct

from policy.guardrails import aws_types as t
from policy.guardrails import deserialize_once
from policy.guardrails.registry import all_policies

PROVIDER = proto.AnalyzerProviderResource(
    type="pulumi:providers:aws",
    urn="urn:pulumi:prod::steadystate::pulumi:providers:aws::default_7_0_0",
    name="default_7_0_0",
    properties=struct({"region": "us-east-2", "defaultTags": {"tags": {"Stack": "prod"}}}),
)
LISTENER = {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward"}]}
RDS = {**GOOD_RDS, "multiAz": False, "kmsKeyId": UNKNOWN_STRING}


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """Count MessageToDict calls; the SDK's own state is restored after the test."""
    for name in ("json_format", "deserialize_properties", "unknown_checking_proxy"):
        monkeypatch.setattr(sdk, name, getattr(sdk, name))
    for name in (
        "Analyze",
        "AnalyzeStack",
        "_get_resource_options",
        "_get_provider_resource",
        "_steadystate_deserialize_once",
    ):
        if name in vars(sdk._PolicyAnalyzerServicer):
            monkeypatch.setattr(
                sdk._PolicyAnalyzerServicer, name, getattr(sdk._PolicyAnalyzerServicer, name)
            )
    calls = [0]
    original = json_format.MessageToDict

    def counting(message: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    yield lambda: calls[0]
    # monkeypatch then restores the attributes saved above and the real MessageToDict.
    if "_steadystate_deserialize_once" in vars(sdk._PolicyAnalyzerServicer):
        delattr(sdk._PolicyAnalyzerServicer, "_steadystate_deserialize_once")


def _answer(response: Any) -> list[tuple[Any, ...]]:
    return sorted(
        [(d.policyName, d.message, d.enforcementLevel, d.urn) for d in response.diagnostics]
        + [(n.policy_name, n.reason) for n in response.not_applicable]
    )


def _analyze_request(type_token: str, name: str, props: dict[str, Any]) -> Any:
    return proto.AnalyzeRequest(
        type=type_token,
        properties=struct(props),
        urn=urn_of(type_token, name),
        name=name,
        provider=PROVIDER,
    )


def _stack_request() -> Any:
    resources = [
        proto.AnalyzerResource(
            type=type_token,
            properties=struct(props),
            urn=urn_of(type_token, name),
            name=name,
            provider=PROVIDER,
        )
        for type_token, name, props in (
            (t.LISTENERS[0], "http", LISTENER),
            (t.RDS_INSTANCE, "db", RDS),
        )
    ]
    return proto.AnalyzeStackRequest(resources=resources)


def test_analyze_converts_properties_once_and_answers_the_same(
    conversions: Callable[[], int],
) -> None:
    policies = all_policies()
    resource_policies = sum(isinstance(p, sdk.ResourceValidationPolicy) for p in policies)
    analyzer = servicer("prod")
    requests = [
        _analyze_request(t.LISTENERS[0], "http", LISTENER),
        _analyze_request(t.RDS_INSTANCE, "db", RDS),
    ]

    start = conversions()
    before = [_answer(analyzer.Analyze(r, None)) for r in requests]
    per_policy = conversions() - start

    assert deserialize_once.install()
    start = conversions()
    after = [_answer(analyzer.Analyze(r, None)) for r in requests]
    once = conversions() - start

    # Without it: the resource's and the provider's properties, for every resource policy.
    assert per_policy == 2 * 2 * resource_policies
    assert once == 2 * 2  # with it: each Struct once per call
    assert after == before
    assert any(a for a in after)  # the requests do draw diagnostics


def test_analyze_stack_converts_each_resource_once_and_answers_the_same(
    conversions: Callable[[], int],
) -> None:
    stack_policies = sum(isinstance(p, sdk.StackValidationPolicy) for p in all_policies())
    analyzer = servicer("prod")

    start = conversions()
    before = _answer(analyzer.AnalyzeStack(_stack_request(), None))
    per_policy = conversions() - start

    assert deserialize_once.install()
    start = conversions()
    after = _answer(analyzer.AnalyzeStack(_stack_request(), None))
    once = conversions() - start

    assert per_policy == 2 * 2 * stack_policies
    assert once == 2 * 2
    assert after == before


def test_options_and_provider_are_built_once_per_resource_and_call(
    conversions: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    for name in ("_get_resource_options", "_get_provider_resource"):
        original = getattr(sdk._PolicyAnalyzerServicer, name)

        def counting(self: Any, request: Any, _name: str = name, _f: Any = original) -> Any:
            built.append(_name)
            return _f(self, request)

        monkeypatch.setattr(sdk._PolicyAnalyzerServicer, name, counting)
    analyzer = servicer("prod")
    before = _answer(analyzer.AnalyzeStack(_stack_request(), None))
    per_policy = len(built)

    assert deserialize_once.install()
    built.clear()
    after = _answer(analyzer.AnalyzeStack(_stack_request(), None))

    assert per_policy > 2 * 2  # without it: both helpers for each resource and stack policy
    assert sorted(built) == ["_get_provider_resource"] * 2 + ["_get_resource_options"] * 2
    assert after == before


def test_nothing_is_remembered_between_calls(conversions: Callable[[], int]) -> None:
    assert deserialize_once.install()
    assert deserialize_once.install()  # a second install changes nothing
    analyzer = servicer("prod")
    request = _analyze_request(t.LISTENERS[0], "http", LISTENER)
    first = _answer(analyzer.Analyze(request, None))
    request.properties.update({"protocol": "HTTPS", "port": 443})  # same message, new content
    start = conversions()
    second = _answer(analyzer.Analyze(request, None))

    assert conversions() - start == 2
    assert first != second
    assert json_format.MessageToDict(request.properties)["port"] == 443  # outside a call: plain


def test_unknown_sdk_internals_leave_the_sdk_alone(
    conversions: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(sdk, "unknown_checking_proxy")
    assert not deserialize_once.install()
    assert vars(sdk)["json_format"] is json_format
