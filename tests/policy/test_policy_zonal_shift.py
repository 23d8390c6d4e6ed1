"""The zonal shift policies: lb-zonal-shift-enabled and lb-zonal-autoshift-practised, each way, at
each exemption (network load balancers, dev) and with preview-time unknowns.

AWS's rules they carry: zonal shift "is disabled by default and must be enabled on each Application
Load Balancer" (ELB user guide, "Enable zonal shift for your Application Load Balancer"); autoshift
needs a practice run configuration with at least one outcome alarm (botocore ``arc-zonal-shift``
``OutcomeAlarms`` min 1); allowed windows are UTC ``Day:HH:MM-Day:HH:MM`` (``AllowedWindow``)."""

from __future__ import annotations

import pytest
from policy_harness import UNKNOWN_STRING, Res, run_resource, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from policy.guardrails import aws_types as t
from policy.guardrails.zonal_shift import window_problem

LB_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/blue/1"
OUTCOME = "arn:aws:cloudwatch:us-east-2:123456789012:alarm:blue-zonal-lb-target-5xx-rate"
BLOCKING = "arn:aws:cloudwatch:us-east-2:123456789012:alarm:blue-fleet-5xx-rate"
PROD = {"environment": "prod"}
POLICY = "lb-zonal-autoshift-practised"


def alb(**props) -> Res:
    return Res(
        t.LOAD_BALANCERS[0],
        "blue-alb",
        {"arn": LB_ARN, "loadBalancerType": "application", "enableZonalShift": True, **props},
    )


def autoshift(resource_arn=LB_ARN, deps=None, **props) -> Res:
    base = {
        "resourceArn": resource_arn,
        "zonalAutoshiftStatus": "ENABLED",
        "outcomeAlarms": [{"alarmIdentifier": OUTCOME, "type": "CLOUDWATCH"}],
        "blockingAlarms": [{"alarmIdentifier": BLOCKING, "type": "CLOUDWATCH"}],
        "allowedWindows": ["Mon:09:00-Mon:17:00", "Wed:09:00-Wed:17:00"],
    }
    return Res(t.ZONAL_AUTOSHIFT, "blue-zonal-autoshift", {**base, **props}, deps or {})


# lb-zonal-shift-enabled -----------------------------------------------------------------------


def test_a_prod_alb_without_zonal_shift_is_reported_and_with_it_passes() -> None:
    props = {"loadBalancerType": "application"}
    bad = run_resource("lb-zonal-shift-enabled", t.LOAD_BALANCERS[0], props, config=PROD)
    assert "enableZonalShift=true" in bad.text
    good = {**props, "enableZonalShift": True}
    assert (
        run_resource("lb-zonal-shift-enabled", t.LOAD_BALANCERS[0], good, config=PROD).messages
        == []
    )


def test_a_network_load_balancer_and_a_dev_alb_are_not_judged() -> None:
    nlb = {"loadBalancerType": "network"}
    assert (
        run_resource("lb-zonal-shift-enabled", t.LOAD_BALANCERS[0], nlb, config=PROD).messages == []
    )
    dev = run_resource(
        "lb-zonal-shift-enabled",
        t.LOAD_BALANCERS[0],
        {"loadBalancerType": "application"},
        config={"environment": "dev"},
    )
    assert dev.messages == []


# lb-zonal-autoshift-practised -----------------------------------------------------------------


def test_an_alb_without_an_autoshift_configuration_is_reported() -> None:
    lb = alb()
    assert_reported(run_stack(POLICY, [lb], config=PROD), lb, "not under zonal autoshift")


def test_an_alb_under_autoshift_with_both_alarms_in_business_hours_passes() -> None:
    assert_clean(run_stack(POLICY, [alb(), autoshift()], config=PROD))


def test_a_configuration_of_another_load_balancer_does_not_count() -> None:
    lb = alb()
    other = autoshift(LB_ARN.replace("blue/1", "green/2"))
    assert_reported(run_stack(POLICY, [lb, other], config=PROD), lb)


def test_the_link_shows_through_a_property_dependency_during_preview() -> None:
    linked = autoshift(UNKNOWN_STRING, deps={"resourceArn": ["blue-alb"]})
    assert_clean(run_stack(POLICY, [alb(), linked], config=PROD))


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"zonalAutoshiftStatus": "DISABLED"}, "zonalAutoshiftStatus=ENABLED"),
        ({"outcomeAlarms": []}, "no outcomeAlarms"),
        ({"blockingAlarms": []}, "no blockingAlarms"),
        ({"allowedWindows": []}, "any hour of any day"),
        ({"allowedWindows": ["Sat:09:00-Sat:17:00"]}, "not on one business day"),
        ({"allowedWindows": ["Mon:08:00-Mon:17:00"]}, "outside 09:00-17:00"),
        ({"allowedWindows": ["Mon:09:00-Mon:17:30"]}, "outside 09:00-17:00"),
    ],
)
def test_each_missing_guard_is_reported_on_the_configuration(changes, fragment) -> None:
    config = autoshift(**changes)
    assert_reported(run_stack(POLICY, [alb(), config], config=PROD), config, fragment)


def test_dev_and_network_load_balancers_are_not_judged() -> None:
    outcome = run_stack(POLICY, [alb()], config={"environment": "dev"})
    assert outcome.violations == []
    nlb = Res(t.LOAD_BALANCERS[0], "nlb", {"arn": LB_ARN, "loadBalancerType": "network"})
    assert run_stack(POLICY, [nlb], config=PROD).violations == []


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        ("Tue:09:00-Tue:17:00", None),
        ("Fri:16:00-Fri:17:00", None),
        ("Tue:09:00-Wed:17:00", "not on one business day"),
        ("Tue:12:00-Tue:10:00", "ends before it starts"),
        ("Tue-09:00-Tue:17:00", "is not Day:HH:MM-Day:HH:MM"),
    ],
)
def test_window_problem_reads_arcs_format(window, problem) -> None:
    found = window_problem(window)
    assert (found is None) if problem is None else (problem in (found or ""))
