"""Zonal shift guardrails (prod): every Application Load Balancer can be shifted out of one zone by
Route 53 ARC, and is under zonal autoshift with practice runs judged by an outcome alarm, blocked by
a blocking alarm, in business-hour windows.

Sources: the ELB user guide, "Enable zonal shift for your Application Load Balancer" ("Zonal shift
is disabled by default and must be enabled on each Application Load Balancer"; attribute
``zonal_shift.config.enabled``, pulumi-aws ``enableZonalShift``); the ARC developer guide, "Zonal
autoshift" (practice runs about weekly for about 30 minutes; an outcome alarm is required, a
blocking alarm keeps practice runs from starting); botocore ``arc-zonal-shift`` ``AllowedWindow``
(``Day:HH:MM-Day:HH:MM``, UTC, same day).
"""

from __future__ import annotations

import re
from typing import Any

from . import limits
from .aws_types import LOAD_BALANCERS, ZONAL_AUTOSHIFT
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import find_unknown, is_unknown

_WINDOW = re.compile(r"(\w{3}):(\d{2}):(\d{2})-(\w{3}):(\d{2}):(\d{2})")


@resource_rule(
    "lb-zonal-shift-enabled",
    types=LOAD_BALANCERS,
    level=MANDATORY,
    prod_only=True,
    description=(
        "Every Application Load Balancer has ARC zonal shift enabled (enableZonalShift, attribute "
        "zonal_shift.config.enabled; off by default in AWS). Prod only. Mandatory in prod: without "
        "it nobody, neither an operator nor zonal autoshift, can move traffic out of an impaired "
        "zone."
    ),
)
def lb_zonal_shift_enabled(check: ResourceCheck) -> None:
    if check.known("loadBalancerType", "application") != "application":
        return
    if check.known("enableZonalShift") is not True:
        check.violation(
            "zonal shift is off: traffic cannot be shifted out of an impaired zone",
            "set enableZonalShift=true (steadystate:zonalShift.enabled)",
        )


def window_problem(window: Any) -> str | None:
    """Why an ARC allowed window is not inside business hours (``limits.BUSINESS_*``, UTC)."""
    match = _WINDOW.fullmatch(window) if isinstance(window, str) else None
    if match is None:
        return f"{window!r} is not Day:HH:MM-Day:HH:MM"
    day, start_h, start_m, end_day, end_h, end_m = match.groups()
    start, end = int(start_h) * 60 + int(start_m), int(end_h) * 60 + int(end_m)
    if day.upper() not in limits.BUSINESS_DAYS or end_day != day:
        return f"{window} is not on one business day ({', '.join(limits.BUSINESS_DAYS)})"
    if start < limits.BUSINESS_HOURS_START * 60 or end > limits.BUSINESS_HOURS_END * 60:
        return (
            f"{window} is outside {limits.BUSINESS_HOURS_START:02d}:00-"
            f"{limits.BUSINESS_HOURS_END:02d}:00"
        )
    if start >= end:
        return f"{window} ends before it starts"
    return None


def _configuration_problems(check: StackCheck, config: StackResource) -> list[tuple[str, str]]:
    """What the configuration lacks; a part unknown during preview is noted, not judged."""
    problems = []
    status = config.get("zonalAutoshiftStatus")
    if is_unknown(status):
        check.note(f"the status of {config.label()} is unknown during preview")
    elif status != "ENABLED":
        problems.append(("zonal autoshift is not ENABLED", "set zonalAutoshiftStatus=ENABLED"))
    for key, what in (
        ("outcomeAlarms", "an outcome alarm on the service's health (ends a harmful practice run)"),
        (
            "blockingAlarms",
            "a blocking alarm (no practice run while a release or dependency fails)",
        ),
    ):
        alarms = config.get(key)
        if is_unknown(alarms):
            check.note(f"the {key} of {config.label()} are unknown during preview")
        elif not isinstance(alarms, list) or not alarms:
            problems.append((f"the practice runs have no {key}", f"add {what} to {key}"))
    windows = config.get("allowedWindows")
    if find_unknown(windows) is not None:
        check.note(f"the allowedWindows of {config.label()} are unknown during preview")
    elif not isinstance(windows, list) or not windows:
        problems.append(
            (
                "practice runs may start at any hour of any day",
                "set allowedWindows inside business hours, e.g. Tue:09:00-Tue:17:00 (UTC; "
                "steadystate:zonalShift.practiceDays / practiceStartHour / practiceEndHour)",
            )
        )
    else:
        for window in windows:
            if problem := window_problem(window):
                problems.append(
                    (f"practice window {problem}", "keep allowedWindows inside business hours")
                )
    return problems


@stack_rule(
    "lb-zonal-autoshift-practised",
    level=MANDATORY,
    prod_only=True,
    description=(
        "Every Application Load Balancer has an aws:arczonalshift/zonalAutoshiftConfiguration "
        "whose resourceArn is its ARN, ENABLED, with at least one outcome alarm and one blocking "
        "alarm, and allowedWindows inside business hours (UTC, limits.BUSINESS_*). Prod only. "
        "Mandatory in prod: AWS then shifts traffic out of an impaired zone on its own, and the "
        "weekly practice proves the other zones carry the service, ended by the outcome alarm when "
        "they do not, and never during a failing release or outside working hours."
    ),
)
def lb_zonal_autoshift_practised(check: StackCheck) -> None:
    configs = check.of_type(ZONAL_AUTOSHIFT)
    for lb in check.of_type(LOAD_BALANCERS):
        kind = lb.get("loadBalancerType")
        if is_unknown(kind):
            check.note(f"the type of {lb.label()} is unknown during preview")
            continue
        if (kind or "application") != "application":
            continue
        links = [(c, check.refers_to(c, "resourceArn", lb, "arn", "id")) for c in configs]
        mine = [c for c, link in links if link]
        if not mine:
            if any(link is None for _, link in links):
                check.note(f"whether an autoshift configuration names {lb.label()} is unknown")
                continue
            check.violation(
                lb,
                "the load balancer is not under zonal autoshift",
                "add an aws:arczonalshift/zonalAutoshiftConfiguration with resourceArn set to its "
                "arn, zonalAutoshiftStatus ENABLED, outcomeAlarms, blockingAlarms and "
                "allowedWindows (components.zonal_autoshift; steadystate:zonalShift.autoshift)",
            )
            continue
        for config in mine:
            for problem, fix in _configuration_problems(check, config):
                check.violation(config, problem, fix)


POLICIES = [lb_zonal_shift_enabled, lb_zonal_autoshift_practised]
