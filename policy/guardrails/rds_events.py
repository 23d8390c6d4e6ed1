"""RDS event notifications: a stack's DB instances and parameter groups are covered by an enabled
RDS event subscription for the categories FSBP names, and every subscription delivers to SNS.

A subscription covers a source when its ``sourceType`` is the source's type (unset: every type),
it is not disabled, its ``eventCategories`` include the required ones (unset or empty: every
category) and its ``sourceIds`` name the source (unset or empty: every source of the type). A
``sourceIds`` entry computed from the source (its identifier or name) is recognised by its
property dependency, which is how the link shows during a preview.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .aws_types import RDS_EVENT_SUBSCRIPTION, RDS_INSTANCE, RDS_PARAMETER_GROUP
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .limits import RDS_INSTANCE_EVENT_CATEGORIES, RDS_PARAMETER_GROUP_EVENT_CATEGORIES
from .properties import as_list, fmt, is_set, is_unknown

INSTANCE_CATEGORIES = (
    "availability",
    "backup",
    "configuration change",
    "creation",
    "deletion",
    "failover",
    "failure",
    "low storage",
    "maintenance",
    "notification",
    "read replica",
    "recovery",
    "restoration",
    "security",
    "security patching",
)
"""Event categories RDS offers for source type db-instance (``aws rds describe-event-categories``)."""

PARAMETER_GROUP_CATEGORIES = ("configuration change",)
"""Event categories RDS offers for source type db-parameter-group."""

SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$")


def _categories_config(offered: Sequence[str], default: Sequence[str], what: str) -> dict:
    return {
        "requiredCategories": {
            "type": "array",
            "items": {"type": "string", "enum": list(offered)},
            "default": list(default),
            "description": f"Event categories a subscription must cover for {what}.",
        }
    }


def _names(source: StackResource, identity_props: Sequence[str]) -> list[Any]:
    return [source.get(p) for p in identity_props]


def _covers(
    subscription: StackResource,
    source_type: str,
    required: Sequence[str],
    source: StackResource,
    identity_props: Sequence[str],
) -> tuple[bool | None, str]:
    """Does ``subscription`` cover ``source``'s ``required`` categories? (verdict, why not).

    The verdict is None when a value it needs is unknown during preview.
    """
    kind = subscription.get("sourceType")
    if is_unknown(kind):
        return None, ""
    if kind not in (None, "", source_type):
        return False, ""  # another source type: not worth mentioning
    label = f'"{subscription.name}"'
    enabled = subscription.get("enabled")
    if is_unknown(enabled):
        return None, ""
    if enabled is False:
        return False, f"{label} has enabled=false"
    categories = subscription.get("eventCategories")
    if is_unknown(categories) or any(is_unknown(c) for c in categories or []):
        return None, ""
    if categories:
        chosen = {str(c).lower() for c in categories}
        missing = [c for c in required if c.lower() not in chosen]
        if missing:
            return False, f"{label} leaves out {', '.join(fmt(c) for c in missing)}"
    ids = subscription.get("sourceIds")
    if not is_set(ids):
        return True, ""  # every source of the type
    depends = subscription.depends_on("sourceIds")
    if source.urn in depends:
        return True, ""
    listed = as_list(ids)
    if is_unknown(listed):
        return (False, f"{label} names other sources") if depends else (None, "")
    names = _names(source, identity_props)
    if any(isinstance(i, str) and i in names for i in listed):
        return True, ""
    if any(is_unknown(i) for i in [*listed, *names]) and not depends:
        return None, ""
    return False, f"{label} names other sources in sourceIds"


def _require_subscription(
    check: StackCheck,
    source_types: str,
    source_type: str,
    identity_props: Sequence[str],
    identity: str,
) -> None:
    required = list(check.config["requiredCategories"])
    subscriptions = check.of_type(RDS_EVENT_SUBSCRIPTION)
    wanted = ", ".join(fmt(c) for c in required) or "any"
    fix = (
        f'add an aws:rds/eventSubscription {{sourceType: "{source_type}", sourceIds: '
        f"[<this {identity}>], eventCategories: [{wanted}], enabled: true, snsTopic: "
        "<the ARN of an SNS topic someone is subscribed to>}"
    )
    for source in check.of_type(source_types):
        verdicts = [
            _covers(s, source_type, required, source, identity_props) for s in subscriptions
        ]
        if any(verdict is True for verdict, _ in verdicts):
            continue
        if any(verdict is None for verdict, _ in verdicts):
            check.note(
                f"the event subscriptions covering {source.label()} are unknown during preview"
            )
            continue
        reasons = [why for _, why in verdicts if why]
        check.violation(
            source,
            f'no enabled aws:rds/eventSubscription with sourceType "{source_type}" covers its '
            f"{wanted} events" + (f" ({'; '.join(reasons)})" if reasons else ""),
            fix,
        )


@stack_rule(
    "rds-instance-event-subscription",
    level=MANDATORY,
    config=_categories_config(
        INSTANCE_CATEGORIES, RDS_INSTANCE_EVENT_CATEGORIES, "DB instances (FSBP RDS.20)"
    ),
    description=(
        "Every RDS instance of this stack is covered by an enabled aws:rds/eventSubscription "
        'with sourceType "db-instance" (or none) and the categories maintenance, configuration '
        "change and failure (or all), for this instance or all instances (FSBP RDS.20). "
        "Mandatory: a failed instance, a forced maintenance or a changed setting is otherwise "
        "seen only by whoever opens the RDS console."
    ),
)
def rds_instance_event_subscription(check: StackCheck) -> None:
    _require_subscription(
        check, RDS_INSTANCE, "db-instance", ("identifier",), "instance identifier"
    )


@stack_rule(
    "rds-parameter-group-event-subscription",
    level=MANDATORY,
    config=_categories_config(
        PARAMETER_GROUP_CATEGORIES,
        RDS_PARAMETER_GROUP_EVENT_CATEGORIES,
        "DB parameter groups (FSBP RDS.21)",
    ),
    description=(
        "Every RDS parameter group of this stack is covered by an enabled "
        'aws:rds/eventSubscription with sourceType "db-parameter-group" (or none) and the '
        "category configuration change (or all), for this group or all groups (FSBP RDS.21). "
        "Mandatory: a parameter change (say rds.force_ssl turned off) reaches every instance "
        "using the group at its next reboot, unannounced."
    ),
)
def rds_parameter_group_event_subscription(check: StackCheck) -> None:
    _require_subscription(
        check, RDS_PARAMETER_GROUP, "db-parameter-group", ("name", "id"), "parameter group name"
    )


@resource_rule(
    "rds-event-subscription-delivers",
    types=RDS_EVENT_SUBSCRIPTION,
    level=MANDATORY,
    description=(
        "RDS event subscriptions are enabled and deliver to an SNS topic ARN (FSBP "
        "RDS.20/21/22). Mandatory: a disabled subscription, or one pointed at something that "
        "is not a topic, passes for monitoring while nobody hears anything."
    ),
)
def rds_event_subscription_delivers(check: ResourceCheck) -> None:
    if check.known("enabled", True) is False:
        check.violation(
            "enabled is false, so RDS sends none of its events",
            "set enabled=true (delete the subscription instead if its events are not wanted)",
        )
    topic = check.known("snsTopic")
    if not isinstance(topic, str) or not SNS_TOPIC_ARN.match(topic):
        check.violation(
            f"snsTopic is {fmt(topic) if topic else 'unset'}, not an SNS topic ARN",
            "set snsTopic to the ARN of an aws:sns/topic (arn:aws:sns:<region>:<account>:<name>) "
            "that admits events.rds.amazonaws.com",
        )


POLICIES = [
    rds_instance_event_subscription,
    rds_parameter_group_event_subscription,
    rds_event_subscription_delivers,
]
