"""Named worlds every alarm is replayed through, and what each alarm's purpose needs in them.

A scenario is a world before and after an onset at second 0 (plus an onset offset inside the
minute, so the worst alignment is found). ``PURPOSES`` says, per kind of alarm (the set of metric
shapes it reads), which state it must settle in for each scenario and how soon: a new kind of alarm
is one entry there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ops.alarm_replay.evaluation import ALARM, OK
from ops.alarm_replay.streams import FIRST_ZONE, World

BAKE_SECONDS = 300
"""``ops.release.pipeline``'s default bake: a failing release must be caught within it."""
BAKE_LOAD_RPS = 20.0
"""``ops.release.pipeline``'s default ``--load-rate`` (requests/s to the environment)."""
ONEBOX_SHARE = 1 / 100
"""The onebox's listener weight in prod (``release.oneboxWeight`` 1 against ``fleetWeight`` 99): the
sparsest target-group stream any deployment alarm sees during a bake."""

HEALTHY_BUSY = World(
    load_balancer_rps=BAKE_LOAD_RPS,
    target_group_rps=BAKE_LOAD_RPS * ONEBOX_SHARE,
    task_cpu_percent=30.0,
)
IDLE = World()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    before: World
    after: World


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy and idle", "no request at all; the prober and tasks run", IDLE, IDLE),
        Scenario(
            "healthy under the bake's load",
            f"{BAKE_LOAD_RPS:g} requests/s to the environment, {ONEBOX_SHARE:.0%} of them to the "
            "onebox; no 5xx, fast answers",
            HEALTHY_BUSY,
            HEALTHY_BUSY,
        ),
        Scenario(
            "a failing release",
            "the bake's load; from the onset half the target responses are 5xx and answers take 10 s",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, error_share=0.5, latency_s=10.0),
        ),
        Scenario(
            "a dependency lost",
            "the bake's load; from the onset the prober reaches no dependency (the app still answers)",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, dependencies_up=False),
        ),
        Scenario(
            "an environment lost",
            "the bake's load; from the onset no task runs: the ALB answers 503 itself, nothing publishes",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, targets_alive=False, tasks_publishing=False),
        ),
        Scenario(
            "a zone lost",
            "the bake's load; from the onset one zone's hosts are gone (its targets unhealthy); "
            "the other zones carry the load without an error",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, lost_zone=FIRST_ZONE),
        ),
        Scenario(
            "a load step",
            "from the onset the tasks run at 95 % CPU under five times the bake's load",
            HEALTHY_BUSY,
            replace(
                HEALTHY_BUSY,
                load_balancer_rps=5 * BAKE_LOAD_RPS,
                target_group_rps=5 * BAKE_LOAD_RPS * ONEBOX_SHARE,
                task_cpu_percent=95.0,
            ),
        ),
        Scenario(
            "a failure dead-lettered",
            "the bake's load; from the onset a failed delivery waits in a dead-letter queue",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, dead_letters=1),
        ),
        Scenario(
            "an unread failure gone quiet",
            "a failed delivery waits; from the onset, six hours on, SQS stops reporting the queue",
            replace(HEALTHY_BUSY, dead_letters=1),
            replace(HEALTHY_BUSY, dead_letters=1, queue_active=False),
        ),
        Scenario(
            "an empty queue gone quiet",
            "no failure; from the onset, six hours after its last API call, SQS stops reporting it",
            HEALTHY_BUSY,
            replace(HEALTHY_BUSY, queue_active=False),
        ),
    )
}


PRACTICE_OUTCOME_SECONDS = 300
"""An ARC practice run lasts about 30 minutes; its outcome alarm must end a harmful one within
five."""
ZONE_LOST_SECONDS = 360
"""A zone's targets fail their health checks (2 x 10 s), then 3 of 3 one-minute datapoints, each
readable a minute late: about five minutes, with a minute's slack."""


@dataclass(frozen=True)
class Need:
    """Settle in ``state`` within ``within_s`` seconds of the onset and stay there."""

    state: str
    within_s: int


@dataclass(frozen=True)
class Purpose:
    name: str
    needs: Mapping[str, Need]
    """scenario name -> need; every scenario of ``SCENARIOS`` is listed."""


def _quiet_except(alarming: Mapping[str, int] | None = None) -> dict[str, Need]:
    """OK from the onset in every scenario (0 s: already OK before it); ALARM within the given
    seconds in the named ones (0: already in ALARM before the onset). A name that is not a
    scenario raises, so a misspelt one cannot quietly drop its need."""
    alarming = dict(alarming or {})
    if unknown := sorted(set(alarming) - set(SCENARIOS)):
        raise KeyError(f"not scenarios: {unknown}; scenarios: {list(SCENARIOS)}")
    return {
        name: Need(ALARM, alarming[name]) if name in alarming else Need(OK, 0) for name in SCENARIOS
    }


DEPLOYMENT_ERRORS = Purpose(
    "deployment alarm, 5xx share (ECS rolls back; the bake fails)",
    _quiet_except({"a failing release": BAKE_SECONDS}),
)
DEPLOYMENT_LATENCY = Purpose(
    "deployment alarm, response time (ECS rolls back; the bake fails)",
    _quiet_except({"a failing release": BAKE_SECONDS}),
)
STOP_ON_TARGET_5XX = Purpose(
    "FIS stop condition, target 5xx of the primary load balancer",
    _quiet_except({"a failing release": 180}),
)
STOP_ON_ELB_5XX = Purpose(
    "FIS stop condition, the load balancer's own 5xx (no healthy target)",
    _quiet_except({"an environment lost": 180}),
)
CONNECTIVITY = Purpose(
    "connectivity (pages; Route 53 fails the environment over); missing data is a failure",
    _quiet_except({"a dependency lost": 180, "an environment lost": 420}),
)
DEAD_LETTERS = Purpose(
    "dead-letter queue (pages until someone reads and deletes the failure)",
    # already paging before the onset, and still paging after SQS stops reporting
    _quiet_except({"a failure dead-lettered": 600, "an unread failure gone quiet": 0}),
)
PRACTICE_OUTCOME_TARGETS = Purpose(
    "ARC practice-run outcome, the load balancer's target 5xx share (ends a practice run as FAILED)",
    # within a practice run's 30 minutes; a zone lost with capacity to spare is no failure
    _quiet_except({"a failing release": PRACTICE_OUTCOME_SECONDS}),
)
PRACTICE_OUTCOME_ELB = Purpose(
    "ARC practice-run outcome, the load balancer's own 5xx share (ends a practice run as FAILED)",
    _quiet_except({"an environment lost": PRACTICE_OUTCOME_SECONDS}),
)
ZONE_LOST = Purpose(
    "one zone alone without healthy hosts (pages: shift traffic away from the zone)",
    _quiet_except({"a zone lost": ZONE_LOST_SECONDS}),
)
FAST_SCALE_OUT = Purpose(
    "fast scale-out (a step policy adds tasks)",
    _quiet_except({"a load step": 90}),
)

WHOLE_LOAD_BALANCER = "(whole load balancer)"
"""A ``PURPOSES`` key part: every ALB metric the alarm reads is the load balancer's own (no
``TargetGroup``, no ``AvailabilityZone`` dimension). Such a key wins over the same metrics without it."""

PURPOSES: Mapping[frozenset[str], Purpose] = {
    frozenset({"HTTPCode_Target_5XX_Count", "RequestCount"}): DEPLOYMENT_ERRORS,
    frozenset({"TargetResponseTime"}): DEPLOYMENT_LATENCY,
    frozenset({"HTTPCode_Target_5XX_Count"}): STOP_ON_TARGET_5XX,
    frozenset({"HTTPCode_ELB_5XX_Count"}): STOP_ON_ELB_5XX,
    frozenset({"*-connectivity"}): CONNECTIVITY,
    frozenset({"task-cpu-utilization"}): FAST_SCALE_OUT,
    frozenset({"ApproximateNumberOfMessagesVisible"}): DEAD_LETTERS,
    frozenset(
        {"HTTPCode_Target_5XX_Count", "RequestCount", WHOLE_LOAD_BALANCER}
    ): PRACTICE_OUTCOME_TARGETS,
    frozenset(
        {"HTTPCode_ELB_5XX_Count", "RequestCount", WHOLE_LOAD_BALANCER}
    ): PRACTICE_OUTCOME_ELB,
    frozenset({"HealthyHostCount"}): ZONE_LOST,
}
"""The ``METRIC_SHAPES`` keys an alarm reads (with ``WHOLE_LOAD_BALANCER`` where it applies) ->
what the alarm is for."""
