"""CloudWatch alarm guardrails: alarms reach someone, and connectivity alarms fail safe."""

from __future__ import annotations

import re
from typing import Any

from .aws_types import COMPOSITE_ALARM, METRIC_ALARM, SCALING_POLICY, SNS_TOPIC
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import as_list, fmt, get, is_set, is_unknown

CONNECTIVITY_SUFFIX = "-connectivity"
"""The prober publishes one metric per dependency named ``<dependency>-connectivity``."""

_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:")


def _metric_names(check: ResourceCheck) -> list[Any]:
    names = [check.get("metricName")]
    queries = check.get("metricQueries", [])
    if is_unknown(queries):
        return [*names, queries]
    names.extend(get(query, "metric.metricName") for query in queries)
    return [n for n in names if n is not None]


@resource_rule(
    "connectivity-alarms-missing-data-breaching",
    types=METRIC_ALARM,
    level=MANDATORY,
    description=(
        "Alarms on a '<dependency>-connectivity' metric treat missing data as breaching. "
        "Mandatory: a prober that died or lost its network publishes nothing, and that silence "
        "must fail over rather than look healthy."
    ),
)
def connectivity_alarms_missing_data_breaching(check: ResourceCheck) -> None:
    names = _metric_names(check)
    connectivity = [n for n in names if isinstance(n, str) and n.endswith(CONNECTIVITY_SUFFIX)]
    if not connectivity:
        if any(is_unknown(n) for n in names):
            check.note("the alarm's metric name is unknown during preview")
        return
    treat = check.known("treatMissingData", "missing")
    if treat != "breaching":
        check.violation(
            f"the alarm on {connectivity[0]} has treatMissingData={fmt(treat)}",
            'set treatMissingData="breaching"',
        )


def _topic_links(check: StackCheck, alarm: StackResource, topics: list[StackResource]):
    """(actions that are topics of this stack, SNS ARNs of foreign topics, undecidable?)."""
    actions = alarm.get("alarmActions")
    from_topics = [t for t in topics if t.urn in alarm.depends_on("alarmActions")]
    listed = as_list(actions)
    if is_unknown(listed):
        return from_topics, [], not from_topics
    in_stack, foreign, undecidable = list(from_topics), [], False
    for action in listed:
        if is_unknown(action):
            undecidable = undecidable or not from_topics
        elif isinstance(action, str) and _SNS_ARN.match(action):
            topic = check.find_by(topics, action, "arn", "id")
            if topic is None and any(is_unknown(t.get("arn")) for t in topics):
                undecidable = True
            elif topic is None:
                foreign.append(action)
            elif topic not in in_stack:
                in_stack.append(topic)
    return in_stack, foreign, undecidable


def _scales_this_stack(check: StackCheck, alarm: StackResource) -> bool:
    """True when every alarm action is a scaling policy of this stack: a trigger, not a page."""
    policies = check.of_type(SCALING_POLICY)
    linked = [p for p in policies if p.urn in alarm.depends_on("alarmActions")]
    listed = as_list(alarm.get("alarmActions"))
    if not linked or is_unknown(listed):
        return bool(linked) and is_unknown(listed)
    return all(
        check.find_by(linked, action, "arn", "id") is not None or is_unknown(action)
        for action in listed
    )


@stack_rule(
    "alarms-notify-topic-in-stack",
    level=MANDATORY,
    description=(
        "Every CloudWatch alarm has actions enabled and at least one alarm action, which notifies "
        "an SNS topic defined in this stack; no action points at a topic outside it. An alarm "
        "whose every action is a scaling policy of this stack (fast scale-out) is a trigger, not "
        "a page, and is left alone. Mandatory: "
        "an alarm nobody hears is no alarm, and a topic outside the stack may not exist or may "
        "have no subscriber."
    ),
)
def alarms_notify_topic_in_stack(check: StackCheck) -> None:
    topics = check.of_type(SNS_TOPIC)
    fix = (
        "set alarmActions=[<arn of an aws:sns/topic defined in this stack>] (and "
        "actionsEnabled=true)"
    )
    for alarm in check.of_type(METRIC_ALARM, COMPOSITE_ALARM):
        if alarm.get("actionsEnabled") is False:
            check.violation(alarm, "actionsEnabled is false", "set actionsEnabled=true")
            continue
        if not is_set(alarm.get("alarmActions")):
            check.violation(alarm, "the alarm has no alarmActions", fix)
            continue
        if _scales_this_stack(check, alarm):
            continue
        in_stack, foreign, undecidable = _topic_links(check, alarm, topics)
        for arn in foreign:
            check.violation(
                alarm, f"alarmActions notifies {arn}, a topic not defined in this stack", fix
            )
        if in_stack or foreign:
            continue
        if undecidable:
            check.note(f"the alarm actions of {alarm.label()} are unknown during preview")
            continue
        check.violation(alarm, "none of its alarmActions is an SNS topic of this stack", fix)


POLICIES = [connectivity_alarms_missing_data_breaching, alarms_notify_topic_in_stack]
