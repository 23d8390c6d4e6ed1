"""dns-public-zone-query-logging: violating and compliant stacks, private zones exempt, preview-time
unknowns, and the real BlueGreenDns component with create_zone judged as deployed and as a first
preview shows it."""

from __future__ import annotations

import pytest
from policy_harness import UNKNOWN_ARRAY, UNKNOWN_STRING, Res, run_stack
from test_policy_stack_preview import preview_resources
from test_policy_stack_rules import assert_clean, assert_reported

from components.blue_green_dns import BlueGreenDns, BlueGreenDnsArgs, EnvironmentEndpoint
from policy.guardrails import aws_types as t

POLICY = "dns-public-zone-query-logging"
ZONE = Res(t.DNS_ZONE, "zone", {"name": "example.com", "zoneId": "Z123", "id": "Z123"})
LOG_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/example.com"


def query_log(zone_id: str = "Z123", **deps: list[str]) -> Res:
    return Res(
        t.DNS_QUERY_LOG, "zone-log", {"zoneId": zone_id, "cloudwatchLogGroupArn": LOG_ARN}, deps
    )


def test_public_zone_without_query_log_is_reported() -> None:
    outcome = run_stack(POLICY, [ZONE])
    assert_reported(outcome, ZONE, "logs no DNS queries", "aws:route53/queryLog", "us-east-1")


def test_query_log_for_another_zone_does_not_count() -> None:
    assert_reported(run_stack(POLICY, [ZONE, query_log("Z999")]), ZONE)


def test_public_zone_with_query_log_passes() -> None:
    assert_clean(run_stack(POLICY, [ZONE, query_log()]))


def test_private_zone_is_exempt() -> None:
    private = Res(t.DNS_ZONE, "internal", {"name": "corp.internal", "vpcs": [{"vpcId": "vpc-1"}]})
    assert_clean(run_stack(POLICY, [private]))


def test_preview_link_through_the_property_dependency_passes() -> None:
    zone = Res(t.DNS_ZONE, "zone", {"name": "example.com", "zoneId": UNKNOWN_STRING})
    assert_clean(run_stack(POLICY, [zone, query_log(UNKNOWN_STRING, zoneId=["zone"])]))


def test_preview_unknowns_are_explained_not_reported() -> None:
    zone = Res(t.DNS_ZONE, "zone", {"name": "example.com", "zoneId": UNKNOWN_STRING})
    outcome = run_stack(POLICY, [zone, query_log(UNKNOWN_STRING)])
    assert outcome.violations == []
    assert outcome.not_applicable and "unknown during preview" in outcome.not_applicable
    vpcs_unknown = Res(t.DNS_ZONE, "zone", {"name": "example.com", "vpcs": UNKNOWN_ARRAY})
    outcome = run_stack(POLICY, [vpcs_unknown])
    assert outcome.violations == []
    assert outcome.not_applicable and "private" in outcome.not_applicable


# the component that creates a zone --------------------------------------------------------------

ARGS = BlueGreenDnsArgs(
    zone_name="example.com",
    record_name="api",
    primary="blue",
    environments={
        env: EnvironmentEndpoint(
            alb_dns_name=f"{env}-alb-123.us-east-2.elb.amazonaws.com",
            alb_zone_id="Z3AADJGX6KTTL2",
            aggregate_alarm_name=f"{env}-all-connectivity",
            aggregate_alarm_fingerprint="0123456789abcdef",
        )
        for env in ("blue", "green")
    },
    alarm_region="us-east-2",
    create_zone=True,
)


@pytest.mark.parametrize("unknown", [False, True], ids=["deployed", "first-preview"])
def test_the_component_s_created_zone_passes(mocked, unknown: bool) -> None:
    rec = mocked(lambda: BlueGreenDns("dns", ARGS))
    assert_clean(run_stack(POLICY, preview_resources(rec, unknown=unknown)))


def test_the_component_s_zone_without_its_query_log_is_reported(mocked) -> None:
    rec = mocked(lambda: BlueGreenDns("dns", ARGS))
    resources = [r for r in preview_resources(rec, unknown=False) if r.type != t.DNS_QUERY_LOG]
    (zone,) = [r for r in resources if r.type == t.DNS_ZONE]
    assert_reported(run_stack(POLICY, resources), zone)
