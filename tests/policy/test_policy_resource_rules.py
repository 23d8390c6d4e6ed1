"""Every resource policy: one violating and one compliant input (at least), through the policy's
own validate() with the arguments pulumi_policy builds."""

from __future__ import annotations

import pytest
from policy_cases import CASES, Case
from policy_harness import POLICIES, run_resource

from policy.guardrails import aws_types as t
from policy.guardrails.framework import ResourceGuardrail


def _id(case: Case) -> str:
    return f"{case.policy}[{t.short(case.type)}]"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_violating_input_is_reported_with_resource_and_fix(case: Case) -> None:
    outcome = run_resource(case.policy, case.type, case.bad, name="offender", config=case.config)

    assert outcome.messages, f"{case.policy} accepted {case.bad}"
    message = outcome.messages[0]
    assert f'{t.short(case.type)} "offender"' in message
    assert "Fix: " in message
    assert case.fix in outcome.text


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_compliant_input_passes(case: Case) -> None:
    outcome = run_resource(case.policy, case.type, case.good, config=case.config)

    assert outcome.messages == []
    assert outcome.not_applicable is None


def test_every_resource_policy_has_cases() -> None:
    resource_policies = {n for n, p in POLICIES.items() if isinstance(p, ResourceGuardrail)}
    assert resource_policies == {case.policy for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_other_resource_types_are_ignored(case: Case) -> None:
    outcome = run_resource(case.policy, "aws:s3/bucket:Bucket", case.bad)

    assert outcome.messages == []
    assert outcome.not_applicable is None
