"""Drive policies the way pulumi_policy's analyzer servicer does, without a gRPC server.

Properties and config take the engine's route: a protobuf ``Struct`` (so every number arrives
as a float), ``deserialize_properties`` and the unknown-checking proxy. Violations are collected
from the ``report_violation`` callback; ``args.not_applicable(reason)`` is caught as the servicer
catches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from ops.gate.analyzer_client import to_wire
from policy.guardrails.registry import all_policies

UNKNOWN_STRING = UNKNOWN_STRING_VALUE
UNKNOWN_NUMBER = UNKNOWN_NUMBER_VALUE
UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE
UNKNOWN_ARRAY = UNKNOWN_ARRAY_VALUE
UNKNOWN_OBJECT = UNKNOWN_OBJECT_VALUE

POLICIES = {p.name: p for p in all_policies()}


def over_the_wire(values: dict[str, Any] | None) -> dict[str, Any]:
    """``values`` as the engine delivers them: through a protobuf Struct (numbers -> float,
    assets and archives in their signature form)."""
    struct = struct_pb2.Struct()
    struct.update(to_wire(values or {}))
    return json_format.MessageToDict(struct)


def _props(props: dict[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(over_the_wire(props)))


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def urn_of(type_token: str, name: str, component: str | None = None) -> str:
    """The URN the engine gives ``name``; inside ``component`` (a type token such as
    ``steadystate:network:Network``) its type chain runs through that component's."""
    chain = f"{component}${type_token}" if component else type_token
    return f"urn:pulumi:test::steadystate::{chain}::{name}"


@dataclass
class Outcome:
    """What a policy run produced: violation messages (with urns) and a not-applicable reason."""

    violations: list[tuple[str, str | None]] = field(default_factory=list)
    not_applicable: str | None = None

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.violations]

    @property
    def text(self) -> str:
        return "\n".join(self.messages)


def _run(policy: Policy, args: Any) -> Outcome:
    outcome = Outcome()

    def report(message: str, urn: str | None = None) -> None:
        outcome.violations.append((message, urn))

    try:
        policy.validate(args, report)
    except _NotApplicableError as error:
        outcome.not_applicable = error.reason or ""
    return outcome


def run_resource(
    policy: str | Policy,
    type_token: str,
    props: dict[str, Any],
    *,
    name: str = "subject",
    config: dict[str, Any] | None = None,
    component: str | None = None,
) -> Outcome:
    """Validate one resource with one policy (built inside ``component``, when given)."""
    policy = POLICIES[policy] if isinstance(policy, str) else policy
    args = ResourceValidationArgs(
        type_token,
        _props(props),
        urn_of(type_token, name, component),
        name,
        _options(),
        None,
        over_the_wire(config) if config else None,
        {},
    )
    return _run(policy, args)


@dataclass
class Res:
    """A resource of a stack under test; ``deps`` maps a property to the names it came from."""

    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)
    component: str | None = None

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name, self.component)


def run_stack(
    policy: str | Policy, resources: list[Res], *, config: dict[str, Any] | None = None
) -> Outcome:
    """Validate a stack with one stack policy (property dependencies resolved by name)."""
    policy = POLICIES[policy] if isinstance(policy, str) else policy
    built = {
        r.name: PolicyResource(
            r.type, _props(r.props), r.urn, r.name, _options(), None, None, [], {}
        )
        for r in resources
    }
    for r in resources:
        built[r.name].property_dependencies = {
            prop: [built[name] for name in names] for prop, names in r.deps.items()
        }
    args = StackValidationArgs(list(built.values()), over_the_wire(config) if config else None, {})
    return _run(policy, args)
