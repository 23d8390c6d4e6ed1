"""The FSBP coverage table: every control names real policies or says why none applies, and
every second-wave policy is accounted for somewhere (a control row or the policy table)."""

from __future__ import annotations

import re

import pytest

from policy.guardrails.coverage import CONTROLS, Control, render
from policy.guardrails.registry import all_policies

NAMES = {p.name for p in all_policies()}


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_control_names_existing_policies_or_gives_a_reason(control: Control) -> None:
    assert set(control.policies) <= NAMES, set(control.policies) - NAMES
    assert control.policies or len(control.reason) > 20


def test_control_ids_are_unique() -> None:
    ids = [c.id for c in CONTROLS]
    assert len(ids) == len(set(ids))


def test_every_service_the_program_uses_has_controls() -> None:
    services = {re.split(r"[.\s]", c.id, maxsplit=1)[0] for c in CONTROLS}
    for service in (
        "EC2",
        "AutoScaling",
        "ECS",
        "ELB",
        "RDS",
        "S3",
        "SNS",
        "KMS",
        "IAM",
        "ECR",
        "CloudWatch",
        "Route53",
        "Lambda",
        "EventBridge",
    ):
        assert service in services


def test_table_has_a_row_per_control_showing_policies_and_reasons() -> None:
    table = render()
    rows = table.splitlines()[2:]
    assert len(rows) == len(CONTROLS)
    ecs20 = next(r for r in rows if r.startswith("| ECS.20 |"))
    assert "`containers-non-root-user`" in ecs20
    rds10 = next(r for r in rows if r.startswith("| RDS.10 |"))
    assert "not adopted" in rds10
