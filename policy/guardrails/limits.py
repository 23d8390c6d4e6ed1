"""Guardrail thresholds and the pure checks behind them.

This module is shared by the policy pack and by the program's settings validator, so a setting
and the policy that judges the resource built from it cannot disagree. It imports nothing from
Pulumi and every function is pure.

Each ``*_problem`` function returns ``None`` when the value is acceptable and otherwise a short
lowercase phrase that reads after the name of the setting or property being judged, e.g.
``f"targetValue {problem}"`` -> ``"targetValue must be between 10 and 90 (got 95)"``.

The module-level constants are THE defaults: the policy config schema uses them as its
``default`` values and the functions use them as their default arguments.
"""

from __future__ import annotations

import math
from numbers import Real

TARGET_VALUE_LOW = 10
"""Lowest target-tracking target value (percent utilisation) accepted. Below it the service
scales out at almost no load and runs mostly idle."""

TARGET_VALUE_HIGH = 90
"""Highest target-tracking target value (percent utilisation) accepted. Above it there is no
headroom left to absorb a spike while new tasks start."""

PROD_MINIMUM_CAPACITY = 2
"""Fewest tasks a prod service may scale in to: one task is a single point of failure."""

MAX_CAPACITY_CAP = 20
"""Most tasks any one service may scale out to: a ceiling on cost and on the blast radius of a
runaway scaling loop or a typo."""

FAST_SCALE_OUT_MIN_DATAPOINTS = 2
"""Fewest 10-second datapoints a step-scaling alarm may fire on: one busy sample is a blip (a
garbage collection, a cold cache), not load."""

FAST_SCALE_OUT_MAX_STEP = 10
"""Most tasks one step-scaling adjustment may add: a bounded step keeps a wrong alarm from
exhausting the cluster's capacity in one go."""

FAST_SCALE_OUT_MIN_COOLDOWN = 30
"""Shortest step-scaling cooldown: new tasks need this long to start and report before the next
step judges the load again."""

FAST_SCALE_OUT_BAND = 20
"""Percentage points above a fast scale-out threshold where the larger step starts."""


def step_adjustment_problem(adjustment: int, ceiling: int = FAST_SCALE_OUT_MAX_STEP) -> str | None:
    """A step-scaling adjustment must add between 1 and `ceiling` tasks."""
    if not 1 <= adjustment <= ceiling:
        return f"must add between 1 and {ceiling} tasks (got {adjustment})"
    return None


DNS_TTL_CEILING_SECONDS = 60
"""Longest TTL on failover/weighted DNS records: resolvers must notice a failover within a
minute."""

ONEBOX_SHARE_CEILING_PERCENT = 10
"""Largest share of a listener's traffic the onebox (canary) target group may receive."""

LOG_RETENTION_MINIMUM_DAYS = 30
"""Shortest CloudWatch Logs retention accepted: long enough to investigate an incident."""

CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The retention values CloudWatch Logs accepts (0, "never expire", is deliberately absent).

Source: botocore's logs model, ``PutRetentionPolicy.retentionInDays`` ("Possible values are: 1, 3,
5, ..."), read into policy/guardrails/api_limits.json; tests/policy/test_create_limits.py fails if
a value here is not in that list."""

BACKUP_RETENTION_MINIMUM_DAYS = 7
"""Shortest RDS automated-backup retention accepted (AWS FSBP RDS.11)."""

HEALTH_CHECK_GRACE_MINIMUM_SECONDS = 30
"""Shortest ECS health-check grace period accepted for services behind a load balancer: a new
task gets this long to start before failed load-balancer health checks count against it."""


MULTI_AZ_MINIMUM = 2
"""Fewest Availability Zones a load balancer or an Auto Scaling group may span (FSBP ELB.13,
AutoScaling.2): in one zone a zone outage takes the service down."""


def zone_count_problem(count: object, minimum: int = MULTI_AZ_MINIMUM) -> str | None:
    """Judge how many zones (or subnets, one per zone) something spans: at least ``minimum``.

    Example: ``zone_count_problem(1)`` -> ``"spans 1 zone; at least 2 are needed"``.
    """
    value = _whole(count)
    if value is None:
        return f"must be a whole number of zones, at least {minimum} (got {count!r})"
    if value < minimum:
        return f"spans {value} zone{'s' if value != 1 else ''}; at least {minimum} are needed"
    return None


def deletion_protection_problem(enabled: object, armed_for_teardown: bool = False) -> str | None:
    """Judge a prod load balancer's or database's deletion protection: on, unless the stack is
    armed for teardown (``steadystate:teardown.allowDataLoss``, tagged Teardown=armed), which
    turns it off on purpose before a ``pulumi destroy``."""
    if enabled is True or armed_for_teardown:
        return None
    return "deletion protection is off"


def plain_http_problem(forwards_http: bool, require_https: bool = True) -> str | None:
    """Judge a plain-HTTP listener: where the stack serves HTTPS (``require_https``, prod's
    policy config), it must redirect to HTTPS, never forward to the targets (FSBP ELB.1)."""
    if forwards_http and require_https:
        return "forwards plain HTTP to targets"
    return None


def multi_az_problem(enabled: object) -> str | None:
    """Judge a prod database's Multi-AZ (FSBP RDS.5): on, so a zone's loss fails over to the
    standby instead of taking the data offline."""
    if enabled is not True:
        return "multiAz is not enabled"
    return None


def access_logs_problem(enabled: object) -> str | None:
    """Judge a load balancer's access logging (FSBP ELB.5): it must be on, because the access
    log is the only per-request record of who called the service."""
    if enabled is not True:
        return "access logging is off"
    return None


def _number(value: object) -> float | None:
    """``value`` as a finite real number, or None when it is not one (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


def _fmt(value: object) -> str:
    """A number without a spurious ``.0``; anything else as its repr."""
    number = _number(value)
    if number is None:
        return repr(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _whole(value: object) -> int | None:
    """``value`` as an int when it is a whole number (``3`` or ``3.0``), else None."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def target_value_problem(
    value: object, low: float = TARGET_VALUE_LOW, high: float = TARGET_VALUE_HIGH
) -> str | None:
    """Judge a target-tracking target value (percent utilisation).

    Accepts ``low <= value <= high``. Example: ``target_value_problem(95)`` ->
    ``"must be between 10 and 90 (got 95)"``.
    """
    number = _number(value)
    if number is None:
        return f"must be a number between {_fmt(low)} and {_fmt(high)} (got {value!r})"
    if not low <= number <= high:
        return f"must be between {_fmt(low)} and {_fmt(high)} (got {_fmt(number)})"
    return None


def prod_minimum_problem(
    min_capacity: object, prod_minimum: int = PROD_MINIMUM_CAPACITY
) -> str | None:
    """Judge a prod service's minimum capacity alone: it must be at least ``prod_minimum``."""
    minimum = _whole(min_capacity)
    if minimum is None:
        return f"min capacity must be a whole number (got {min_capacity!r})"
    if minimum < prod_minimum:
        return f"min capacity must be at least {prod_minimum} in prod (got {minimum})"
    return None


def min_bound_problem(min_capacity: object) -> str | None:
    """Judge the minimum alone: a whole number, not negative."""
    minimum = _whole(min_capacity)
    if minimum is None:
        return f"min capacity must be a whole number (got {min_capacity!r})"
    if minimum < 0:
        return f"min capacity must not be negative (got {minimum})"
    return None


def max_bound_problem(
    max_capacity: object, min_capacity: object = 0, cap: int = MAX_CAPACITY_CAP
) -> str | None:
    """Judge the maximum: a whole number, at least the minimum (when that is a whole number) and
    at most ``cap``."""
    maximum, minimum = _whole(max_capacity), _whole(min_capacity)
    if maximum is None:
        return f"max capacity must be a whole number (got {max_capacity!r})"
    if minimum is not None and maximum < minimum:
        return f"max capacity must be at least min capacity {minimum} (got {maximum})"
    if maximum > cap:
        return f"max capacity must be at most {cap} (got {maximum})"
    return None


def capacity_bounds_problem(
    min_capacity: object, max_capacity: object, cap: int = MAX_CAPACITY_CAP
) -> str | None:
    """Judge the environment-independent bounds: ``0 <= min <= max <= cap``, whole numbers.

    The first problem of :func:`min_bound_problem` then :func:`max_bound_problem`; callers that
    file each bound's problem under its own setting call those two directly.
    """
    return min_bound_problem(min_capacity) or max_bound_problem(max_capacity, min_capacity, cap)


def min_capacity_problem(
    min_capacity: object,
    max_capacity: object,
    *,
    prod: bool,
    prod_minimum: int = PROD_MINIMUM_CAPACITY,
    cap: int = MAX_CAPACITY_CAP,
) -> str | None:
    """Judge a service's scaling bounds as a whole.

    In every environment ``0 <= min <= max <= cap``; in prod additionally ``min >= prod_minimum``.
    Example: ``min_capacity_problem(1, 4, prod=True)`` ->
    ``"min capacity must be at least 2 in prod (got 1)"``.
    """
    if prod:
        problem = prod_minimum_problem(min_capacity, prod_minimum)
        if problem:
            return problem
    return capacity_bounds_problem(min_capacity, max_capacity, cap)


def ttl_problem(ttl: object, ceiling: int = DNS_TTL_CEILING_SECONDS) -> str | None:
    """Judge the TTL of a failover/weighted DNS record: ``1 <= ttl <= ceiling`` seconds."""
    seconds = _whole(ttl)
    if seconds is None:
        return f"must be a whole number of seconds at most {ceiling} (got {ttl!r})"
    if seconds < 1:
        return f"must be at least 1 second (got {seconds})"
    if seconds > ceiling:
        return f"must be at most {ceiling} seconds (got {seconds})"
    return None


def onebox_share_percent(onebox_weight: float, fleet_weight: float) -> float:
    """The percentage of traffic the onebox gets; 0 when both weights are 0 (no traffic at all)."""
    total = onebox_weight + fleet_weight
    return 0.0 if total <= 0 else 100.0 * onebox_weight / total


def onebox_share_problem(
    onebox_weight: object,
    fleet_weight: object,
    ceiling_percent: float = ONEBOX_SHARE_CEILING_PERCENT,
) -> str | None:
    """Judge a onebox/fleet traffic split given as target-group weights.

    ``fleet_weight`` is the summed weight of every non-onebox target group. Example:
    ``onebox_share_problem(25, 75)`` -> ``"onebox share must be at most 10% of traffic (got 25%:
    onebox weight 25, fleet weight 75)"``.
    """
    onebox, fleet = _number(onebox_weight), _number(fleet_weight)
    if onebox is None or fleet is None or onebox < 0 or fleet < 0:
        return (
            "onebox and fleet weights must be non-negative numbers "
            f"(got onebox {onebox_weight!r}, fleet {fleet_weight!r})"
        )
    share = onebox_share_percent(onebox, fleet)
    if share > ceiling_percent:
        return (
            f"onebox share must be at most {_fmt(ceiling_percent)}% of traffic "
            f"(got {share:.3g}%: onebox weight {_fmt(onebox)}, fleet weight {_fmt(fleet)})"
        )
    return None


def log_retention_problem(days: object, minimum: int = LOG_RETENTION_MINIMUM_DAYS) -> str | None:
    """Judge a CloudWatch Logs retention in days.

    It must be set (``None`` or 0 means "keep forever"), be one of
    :data:`CLOUDWATCH_RETENTION_DAYS` and be at least ``minimum``.
    """
    if days is None:
        return f"must be set to at least {minimum} days (unset means logs are kept forever)"
    value = _whole(days)
    if value is None:
        return f"must be a whole number of days (got {days!r})"
    if value == 0:
        return f"must be at least {minimum} days (0 means logs are kept forever)"
    if value not in CLOUDWATCH_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in CLOUDWATCH_RETENTION_DAYS)
        return f"must be one of CloudWatch's retention values {allowed} (got {value})"
    if value < minimum:
        return f"must be at least {minimum} days (got {value})"
    return None


def nearest_allowed_retention(minimum: int = LOG_RETENTION_MINIMUM_DAYS) -> int:
    """The smallest CloudWatch retention value that satisfies ``minimum`` (the value to suggest)."""
    return next(
        (d for d in CLOUDWATCH_RETENTION_DAYS if d >= minimum), CLOUDWATCH_RETENTION_DAYS[-1]
    )


def backup_retention_problem(
    days: object, minimum: int = BACKUP_RETENTION_MINIMUM_DAYS
) -> str | None:
    """Judge an RDS automated-backup retention: between ``minimum`` and 35 days (the RDS limit)."""
    value = _whole(days)
    if value is None:
        return f"must be a whole number of days, at least {minimum} (got {days!r})"
    if value < minimum:
        return f"must be at least {minimum} days (got {value})"
    if value > 35:
        return f"must be at most 35 days, the RDS limit (got {value})"
    return None


def grace_period_problem(
    seconds: object, minimum: int = HEALTH_CHECK_GRACE_MINIMUM_SECONDS
) -> str | None:
    """Judge an ECS health-check grace period: set and at least ``minimum`` seconds."""
    if seconds is None:
        return f"must be set to at least {minimum} seconds"
    value = _whole(seconds)
    if value is None:
        return f"must be a whole number of seconds, at least {minimum} (got {seconds!r})"
    if value < minimum:
        return f"must be at least {minimum} seconds (got {value})"
    return None


# -- second wave (issue 12): failover and scaling timing --------------------------------------

FAILOVER_TARGET_SECONDS = 90
"""How long an environment may be down before resolvers get the secondary (the prod resilience
target ``env_failover`` in ops/resilience/model.py)."""

FAILOVER_TTL_SECONDS = 60
"""The DNS TTL counted against the failover target: ALB alias records have a fixed 60 s TTL
(an alias record answers with its target's TTL, botocore route53 ``ResourceRecordSet.TTL``; the
ALB's is 60 s, https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html,
"Request routing"; Route 53 FAQ https://aws.amazon.com/route53/faqs/: ELB alias records have a fixed 60 s TTL))."""

CONNECTIVITY_DETECTION_CEILING_SECONDS = 180
"""Longest a connectivity alarm may take to go off once a dependency is lost (period ×
datapoints to alarm). Route 53 only accepts standard-resolution (60 s) alarms, so the
dependency-loss path cannot meet the 90 s environment target; this is its own, looser budget."""

SCALE_OUT_COOLDOWN_CEILING_SECONDS = 120
"""Longest scale-out cooldown accepted: during a spike a longer cooldown holds the next scale-out
back although the first new tasks are not enough."""

PROD_MINIMUM_HEALTHY_PERCENT = 100
"""Lowest deploymentMinimumHealthyPercent for a prod service: a deployment never removes serving
capacity before its replacement is healthy."""


def scale_out_cooldown_problem(
    seconds: object, ceiling: int = SCALE_OUT_COOLDOWN_CEILING_SECONDS
) -> str | None:
    """Judge a scale-out cooldown: at most ``ceiling`` seconds.

    Example: ``scale_out_cooldown_problem(900)`` -> ``"is 900 s, more than 120 s"``.
    """
    value = _number(seconds)
    if value is None:
        return f"must be a number of seconds, at most {ceiling} (got {seconds!r})"
    if value > ceiling:
        return f"is {_fmt(value)} s, more than {ceiling} s"
    return None


def deployment_headroom_problem(minimum_healthy: object, maximum: object) -> str | None:
    """Judge an ECS deployment's bounds: the maximum percent must be above the minimum healthy
    percent, or ECS may neither start a new task nor stop an old one and the deployment hangs.

    Example: ``deployment_headroom_problem(100, 100)`` -> ``"100 is not above the minimum
    healthy percent 100"``.
    """
    low, high = _number(minimum_healthy), _number(maximum)
    if low is None or high is None:
        return f"must be numbers (got {minimum_healthy!r} and {maximum!r})"
    if high <= low:
        return f"{_fmt(high)} is not above the minimum healthy percent {_fmt(low)}"
    return None


def prod_minimum_healthy_problem(
    percent: object, minimum: int = PROD_MINIMUM_HEALTHY_PERCENT
) -> str | None:
    """Judge a prod service's deployment floor: at least ``minimum`` percent of desired.

    Example: ``prod_minimum_healthy_problem(50)`` -> ``"is 50, below 100"``.
    """
    value = _number(percent)
    if value is None or value < minimum:
        return f"is {_fmt(percent)}, below {minimum}"
    return None


def termination_protection_problem(status: object) -> str | None:
    """Judge a prod capacity provider's managed termination protection: it
    must be ``"ENABLED"``, or a scale-in may terminate a host with running tasks.

    Example: ``termination_protection_problem("DISABLED")`` -> ``'is "DISABLED"'``.
    """
    if status != "ENABLED":
        return f'is "{status}"' if status else "is unset (DISABLED)"
    return None


def detection_seconds_problem(
    interval: object, threshold: object, budget: float, what: str
) -> str | None:
    """Judge ``interval × threshold`` (seconds until a failure is detected) against ``budget``.

    Example: ``detection_seconds_problem(30, 3, 30, "requestInterval × failureThreshold")`` ->
    ``"requestInterval × failureThreshold is 30 × 3 = 90 s, more than the 30 s budget"``.
    """
    seconds, count = _number(interval), _whole(threshold)
    if seconds is None or count is None:
        return f"{what} must be numbers (got {interval!r} × {threshold!r})"
    total = seconds * count
    if total > budget:
        return (
            f"{what} is {_fmt(seconds)} × {count} = {_fmt(total)} s, more than the "
            f"{_fmt(budget)} s budget"
        )
    return None


# -- second wave (issue 12): RDS event notifications ------------------------------------------

RDS_INSTANCE_EVENT_CATEGORIES = ("maintenance", "configuration change", "failure")
"""Event categories an RDS event subscription must cover for DB instances (FSBP RDS.20)."""

RDS_PARAMETER_GROUP_EVENT_CATEGORIES = ("configuration change",)
"""Event categories an RDS event subscription must cover for DB parameter groups (FSBP RDS.21)."""

RDS_SECURITY_GROUP_EVENT_CATEGORIES = ("configuration change", "failure")
"""Event categories an RDS event subscription must cover for DB security groups (FSBP RDS.22)."""

# -- chaos as a practice (issue 11): FIS templates and their schedules -------------------------

CHAOS_MAX_DAYS_BETWEEN_RUNS = 35
"""Longest gap between two scheduled runs of one FIS template (the resiliency-testing article: every 4-5 weeks)."""

BUSINESS_HOURS_START = 9
"""First hour (in the schedule's time zone) a chaos schedule may start an experiment."""

BUSINESS_HOURS_END = 17
"""Runs must start before this hour: 9-17 admits starts from 09:00 to 16:59."""

BUSINESS_DAYS = ("MON", "TUE", "WED", "THU", "FRI")
"""Days a chaos schedule may run on: someone is at work to watch the experiment."""


def next_business_day(day: str) -> str:
    """The business day after ``day`` (FRI -> MON): the AZ experiment's day, next to the chaos day."""
    return BUSINESS_DAYS[(BUSINESS_DAYS.index(day) + 1) % len(BUSINESS_DAYS)]


CHAOS_SCHEDULE_MAX_RETRY_AGE_SECONDS = 900
"""Latest a retry of a failed scheduled FIS start may run after its scheduled time (15 min):
Scheduler's default, 24 hours, would let a start refused at 10:00 succeed in the night."""

FIS_TARGET_COUNT_CEILING = PROD_MINIMUM_CAPACITY - 1
"""Most tasks/instances one FIS target may pick with COUNT(n): one less than the prod minimum
capacity, so a fault never takes out a whole minimal fleet."""

FIS_TARGET_PERCENT_CEILING = 50
"""Largest PERCENT(n) one FIS target may pick: the worst case the kill-half-the-tasks experiment
shows the service survives."""


# -- Lambda (the FIS run recorder) -------------------------------------------------------------

LAMBDA_SUPPORTED_RUNTIMES = (
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs22.x",
    "nodejs24.x",
    "java17",
    "java21",
    "java25",
    "dotnet8",
    "dotnet10",
    "ruby3.3",
    "ruby3.4",
    "provided.al2023",
)
"""Lambda runtimes not yet deprecated by AWS (its "Lambda runtimes" page, read for 2026-12):
Python 3.10, Node.js 20, Java 11, provided.al2 and older are past or at their deprecation date.
Policy config (``allowedRuntimes``) replaces the list as AWS's schedule moves."""


# -- teardown: a prod stack armed for `pulumi destroy` (settings: teardown.allowDataLoss) ----------
TEARDOWN_TAG = "Teardown"
"""Tag the program puts on the load balancers and the database while the stack is armed for
`pulumi destroy`; the deletion-protection policies let it through and `teardown-armed` reports it."""
TEARDOWN_ARMED = "armed"


def teardown_tags(armed: bool) -> dict[str, str]:
    """``{"Teardown": "armed"}`` while armed, else no tag."""
    return {TEARDOWN_TAG: TEARDOWN_ARMED} if armed else {}


def is_armed_for_teardown(tags: object) -> bool:
    """Do these resource tags say the stack is armed for teardown?"""
    return isinstance(tags, dict) and tags.get(TEARDOWN_TAG) == TEARDOWN_ARMED
