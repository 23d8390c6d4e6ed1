"""Worst-case recovery times as pure arithmetic over a stack's settings (no Pulumi, no AWS).

Each public function takes plain dataclasses and returns an :class:`Estimate`: the seconds, the
formula with the numbers substituted, and the terms it adds up. The source documents' configurations
are data in this module and go through the same functions, so "this stack" and "the source" are
always computed alike.

AWS behaviour the formulas rest on (sources in brackets):

* Route 53 endpoint checks (HTTP/HTTPS/TCP) run every ``RequestInterval`` (10 or 30 s, default 30)
  from several uncoordinated checker locations; each needs ``FailureThreshold`` consecutive failures
  (default 3) and the endpoint turns unhealthy when 18 % or fewer of the checkers report it healthy
  [Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is healthy"].
  Worst case: the outage starts just after a passing request, so ``interval × threshold``.
* Route 53 CLOUDWATCH_METRIC checks follow the alarm's *data stream*, not the alarm state; with too
  little data the status is ``InsufficientDataHealthStatus`` [same page]. Route 53 supports only
  standard-resolution metrics for these alarms, no high-resolution ones [Route 53 API Reference,
  AlarmIdentifier]. How often Route 53 reads the stream is not documented: assumed
  ``ROUTE53_ALARM_READ_S``.
* Calculated checks are healthy while at least ``HealthThreshold`` children are healthy.
* DNS: resolvers keep the old answer up to the record's TTL. Alias records cannot set a TTL; an
  alias to an ELB load balancer has a fixed 60 s TTL [Route 53 FAQ on DNS failover].
* CloudWatch alarms: a persistent fault needs ``DatapointsToAlarm`` (M) breaching datapoints of
  ``Period`` (P) each; ``EvaluationPeriods`` (N) does not change how fast a persistent fault fires.
  ALB and ECS publish 1-minute metrics (ALB "measures and sends its metrics in 60-second intervals"
  [ELB User Guide, CloudWatch metrics for your ALB]), so a period below 60 s on them does not see
  fresher data. Lag: assumed one period (``METRIC_LAG_PERIODS``) for the partly-bad period in which
  the fault starts plus the wait for the period to close, be published and be evaluated.
* ECS deployment alarms: ECS polls the alarms with DescribeAlarms during the deployment and a bake
  time it derives from the alarm configuration, and fails (and optionally rolls back) the
  deployment when one is in ALARM [ECS Developer Guide, "How CloudWatch alarms detect Amazon ECS
  deployment failures"]. Poll interval not documented: assumed ``ECS_ALARM_POLL_S``.
* ECS deployment circuit breaker: the deployment fails after ``0.5 × desired`` failed tasks,
  clamped to [3, 200] [ECS API Reference, ServiceDeploymentCircuitBreaker; older developer-guide
  revisions gave a minimum of 10]; a task counts as failed when it does not reach RUNNING or fails
  its ELB / container health checks.
* ALB target groups: a target leaves service after ``UnhealthyThresholdCount`` consecutive failed
  checks every ``HealthCheckIntervalSeconds``; each check fails after ``HealthCheckTimeoutSeconds``
  without answer. Defaults (instance/ip targets): interval 30, timeout 5, healthy 5, unhealthy 2
  [ELB User Guide, "Health checks for your target groups"]. A deregistering target gets no new
  requests; the deregistration delay (default 300 s) only lets in-flight requests finish.
* Target tracking (Application Auto Scaling, ECS services): AWS creates and owns the alarms; the
  scale-out alarm needs 3 datapoints of 1 minute ("3 datapoints within 3 minutes" on the
  AWS-managed ``TargetTracking-…-AlarmHigh`` alarm) [Application Auto Scaling User Guide, target
  tracking; observed alarm configuration]. Cooldowns only space *subsequent* scale-outs, and a
  larger scale-out is not held back by them [API Reference, TargetTrackingScalingPolicyConfiguration].
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# --- constants: AWS facts and the model's stated assumptions ---------------------------------------

STANDARD_RESOLUTION_S = 60
"""Publishing interval of AWS service metrics (ALB, ECS): one datapoint per minute."""
METRIC_LAG_PERIODS = 1
"""Assumption: a datapoint is usable about one period after the fault starts (see module doc)."""
ROUTE53_ALARM_READ_S = 30
"""Assumption: Route 53 reads an alarm's data stream at most this long after CloudWatch has the
datapoint (undocumented)."""
ECS_ALARM_POLL_S = 30
"""Assumption: ECS sees an alarm in ALARM at most this long after it fires (DescribeAlarms polling,
interval undocumented)."""
ECS_TASK_LAUNCH_S = 30
"""Assumption: placement + cached image + container start before a new task can be health checked
(only used by the circuit-breaker path)."""
ELB_ALIAS_TTL_S = 60
"""TTL of answers of an alias record to an ELB load balancer (fixed by AWS)."""

ROUTE53_DEFAULT_INTERVAL_S = 30
ROUTE53_DEFAULT_FAILURE_THRESHOLD = 3
ALB_DEFAULT_INTERVAL_S = 30
ALB_DEFAULT_TIMEOUT_S = 5
ALB_DEFAULT_HEALTHY = 5
ALB_DEFAULT_UNHEALTHY = 2
ALB_DEFAULT_DEREGISTRATION_DELAY_S = 300
ECS_CONTAINER_HC_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
CIRCUIT_BREAKER_MIN_FAILED = 3
CIRCUIT_BREAKER_MAX_FAILED = 200
TARGET_TRACKING_HIGH_ALARM_DATAPOINTS = 3
TARGET_TRACKING_METRIC_PERIOD_S = 60
TARGET_TRACKING_DEFAULT_COOLDOWN_S = 300
HIGH_RESOLUTION_EVALUATION_S = 10
"""CloudWatch evaluates alarms with 10 s or 30 s periods every 10 s [CloudWatch alarms, high
resolution]."""
STEP_POLICY_REACTION_S = 10
"""Assumption: Application Auto Scaling starts the step's scaling activity within 10 s of the
alarm's action (it is invoked directly, not through SNS)."""

ENDPOINT_CHECK_TYPES = frozenset({"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"})

ASSUMPTIONS: tuple[str, ...] = (
    "This stack's alarm times come from ops.alarm_replay: each synthesized alarm definition "
    "replayed as CloudWatch evaluates it (M of N over the evaluation range, missing data, metric "
    "math) through the named scenario ('a failing release', 'a dependency lost', 'an environment "
    "lost') over metric streams shaped as AWS publishes them; the seeds and the recommended "
    "settings have no definition to replay and use P × M + lag.",
    f"CloudWatch metric lag = {METRIC_LAG_PERIODS} period after the M-th breaching datapoint's "
    "period starts (partly-bad first period + publish/evaluate delay); AWS/ALB/ECS metrics are "
    f"{STANDARD_RESOLUTION_S} s, so shorter alarm periods on them are counted as {STANDARD_RESOLUTION_S} s.",
    f"Route 53 reads an alarm's data stream within {ROUTE53_ALARM_READ_S} s (undocumented).",
    f"Fast scale-out: CloudWatch evaluates high-resolution alarms every "
    f"{HIGH_RESOLUTION_EVALUATION_S} s, and Application Auto Scaling acts on the alarm within "
    f"{STEP_POLICY_REACTION_S} s (undocumented); the task's own metric is as fresh as its sample.",
    f"ECS notices a deployment alarm in ALARM within {ECS_ALARM_POLL_S} s (DescribeAlarms polling, "
    "interval undocumented); t = 0 is when the new revision starts taking traffic.",
    "Alias records to an ALB answer with a fixed 60 s TTL (AWS sets it; it cannot be changed).",
    "Route 53 propagates a health-status change to its name servers without adding delay.",
    "An environment that dies answers 5xx/nothing on its health-check URL and stops publishing "
    "its connectivity metrics; /health is assumed not to fail on a dependency outage, so only the "
    "connectivity-alarm path sees dependency loss.",
    "A hung task answers no health check (each failing check costs its timeout); a crashed one "
    "refuses connections at once and ECS also deregisters the stopped task, usually sooner.",
    f"Circuit breaker: a replacement task is health-checkable {ECS_TASK_LAUNCH_S} s after launch.",
)


# --- the estimate ---------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    """``90 s``, ``2.5 s``, ``never``."""
    if math.isinf(seconds):
        return "never"
    if float(seconds).is_integer():
        return f"{int(seconds)} s"
    return f"{seconds:.1f} s"


@dataclass(frozen=True)
class Estimate:
    """A worst-case duration: ``seconds`` (``math.inf`` = never), how it was computed, and why."""

    seconds: float
    formula: str
    terms: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def never(self) -> bool:
        return math.isinf(self.seconds)

    def with_notes(self, *notes: str) -> Estimate:
        return Estimate(self.seconds, self.formula, list(self.terms), [*self.notes, *notes])

    def plus(self, *terms: tuple[str, float]) -> Estimate:
        """This estimate with more terms added (``never`` stays never)."""
        if self.never:
            return self
        return add_terms([*self.terms, *terms], notes=self.notes)


def add_terms(terms: Sequence[tuple[str, float]], notes: Iterable[str] = ()) -> Estimate:
    """The sum of `terms` with its formula: ``label + label + … = total``."""
    total = float(sum(value for _, value in terms))
    formula = " + ".join(label for label, _ in terms) + f" = {fmt_s(total)}"
    return Estimate(total, formula, list(terms), list(notes))


def never(reason: str, notes: Iterable[str] = ()) -> Estimate:
    return Estimate(math.inf, f"never: {reason}", [], list(notes))


def worst_of(items: Sequence[tuple[str, Estimate]]) -> Estimate:
    """The slowest of several instances (e.g. per service); the rest become notes."""
    if not items:
        return never("nothing to evaluate")
    name, worst = max(items, key=lambda p: p[1].seconds)
    out = Estimate(worst.seconds, f"{worst.formula} [{name}]", list(worst.terms), list(worst.notes))
    others = [f"{n}: {fmt_s(e.seconds)}" for n, e in items if n != name]
    return out.with_notes(*(f"also — {o}" for o in others)) if others else out


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmSpec:
    """A CloudWatch metric alarm as far as timing goes."""

    name: str
    period_s: float
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    metrics: tuple[str, ...] = ()
    namespace: str = ""
    treat_missing_data: str = "missing"
    threshold: float | None = None
    metric_math: bool = False
    """The alarm evaluates a metric-math expression (``metricQueries``)."""
    extended_statistic: str = ""
    """A percentile statistic such as ``p90`` (empty for Average/Sum/...)."""
    replays: tuple[tuple[str, float], ...] = ()
    """(scenario, worst seconds from its onset to ALARM; inf = never) from ``ops.alarm_replay``
    over the stack's synthesized definition. Empty for the seeds and the recommended settings,
    which have no definition to replay and keep the arithmetic ``P × M + lag``."""

    @property
    def m(self) -> int:
        """Datapoints to alarm (defaults to the evaluation periods, as in CloudWatch)."""
        return int(self.datapoints_to_alarm or self.evaluation_periods)

    @property
    def aws_metric(self) -> bool:
        return self.namespace.startswith("AWS/")

    @property
    def high_resolution(self) -> bool:
        return self.period_s < STANDARD_RESOLUTION_S

    @property
    def effective_period_s(self) -> float:
        """AWS service metrics arrive once a minute, whatever the alarm period says."""
        return max(self.period_s, STANDARD_RESOLUTION_S) if self.aws_metric else self.period_s

    @property
    def kind(self) -> str:
        joined = " ".join(self.metrics)
        if "5XX" in joined.upper():
            return "errors"
        if "TargetResponseTime" in joined:
            return "latency"
        if any(m.endswith("-connectivity") for m in self.metrics):
            return "connectivity"
        return "other"


@dataclass(frozen=True)
class Route53Check:
    """A Route 53 health check (children resolved for CALCULATED ones)."""

    name: str
    type: str
    request_interval_s: float = ROUTE53_DEFAULT_INTERVAL_S
    failure_threshold: int = ROUTE53_DEFAULT_FAILURE_THRESHOLD
    alarm: AlarmSpec | None = None
    alarm_name: str = ""
    insufficient_data_health_status: str = ""
    children: tuple[Route53Check, ...] = ()
    child_health_threshold: int | None = None
    inverted: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class FailoverRecord:
    """A PRIMARY failover record: what resolvers cache and what makes Route 53 switch."""

    name: str
    ttl_s: float
    ttl_source: str
    health_check: Route53Check | None = None
    evaluate_target_health: bool = False


@dataclass(frozen=True)
class TargetGroupHealth:
    """ALB target-group health checking of one target group."""

    name: str
    role: str = ""
    environment: str = ""
    interval_s: float = ALB_DEFAULT_INTERVAL_S
    timeout_s: float = ALB_DEFAULT_TIMEOUT_S
    healthy_threshold: int = ALB_DEFAULT_HEALTHY
    unhealthy_threshold: int = ALB_DEFAULT_UNHEALTHY
    deregistration_delay_s: float = ALB_DEFAULT_DEREGISTRATION_DELAY_S


@dataclass(frozen=True)
class ContainerHealth:
    """The ECS container health check of the serving container."""

    interval_s: float = ECS_CONTAINER_HC_DEFAULTS["interval"]
    timeout_s: float = ECS_CONTAINER_HC_DEFAULTS["timeout"]
    retries: int = ECS_CONTAINER_HC_DEFAULTS["retries"]
    start_period_s: float = ECS_CONTAINER_HC_DEFAULTS["startPeriod"]


@dataclass(frozen=True)
class ReleaseGuard:
    """How one ECS service detects a bad release: deployment alarms and the circuit breaker."""

    service: str
    role: str = ""
    environment: str = ""
    desired_count: int = 1
    maximum_percent: int = 200
    minimum_healthy_percent: int = 100
    alarms_enabled: bool = False
    alarms_rollback: bool = False
    alarms: tuple[AlarmSpec, ...] = ()
    circuit_breaker_enabled: bool = False
    circuit_breaker_rollback: bool = False
    health_check_grace_s: float = 0
    target_group: TargetGroupHealth | None = None
    container_health: ContainerHealth | None = None

    def alarms_of(self, kind: str) -> tuple[AlarmSpec, ...]:
        return tuple(a for a in self.alarms if a.kind == kind)


@dataclass(frozen=True)
class ScalingPolicy:
    """A target-tracking policy of Application Auto Scaling."""

    name: str
    metric: str
    target_value: float
    scale_out_cooldown_s: float = TARGET_TRACKING_DEFAULT_COOLDOWN_S
    scale_in_cooldown_s: float = TARGET_TRACKING_DEFAULT_COOLDOWN_S


@dataclass(frozen=True)
class StepTrigger:
    """A fast scale-out: a high-resolution alarm on a published metric driving a step policy."""

    name: str
    """The scalable target's resource id (`service/<cluster>/<service>`)."""
    alarm: str
    metric: str
    period_s: float
    datapoints: int
    sample_interval_s: float
    """How often the task publishes the metric, each datum averaging that long."""
    replayed_s: float | None = None
    """Worst seconds from a load step to the alarm in ALARM, from ``ops.alarm_replay``'s 'a load
    step' over the synthesized alarm (None: not replayed; the arithmetic below is used)."""


@dataclass(frozen=True)
class ZoneGroupInput:
    """An environment's capacity group as the zone-loss rule sees it (the settings' numbers)."""

    environment: str
    zones: int
    min_tasks: int
    cpu_target: int
    task_cpu: int
    task_memory: int
    hosts: int
    instance_type: str
    target_capacity_percent: int
    fixed_tasks: int
    instance_warmup_s: float


@dataclass
class StackInputs:
    """Everything the model needs from one synthesized stack."""

    failover_records: list[FailoverRecord] = field(default_factory=list)
    release_guards: list[ReleaseGuard] = field(default_factory=list)
    target_groups: list[TargetGroupHealth] = field(default_factory=list)
    scaling_policies: list[ScalingPolicy] = field(default_factory=list)
    step_triggers: list[StepTrigger] = field(default_factory=list)
    fixed_size: set[str] = field(default_factory=set)
    """Resource ids of scalable targets whose minimum equals their maximum (nothing to add)."""
    connectivity_alarms: list[AlarmSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    zone_groups: list[ZoneGroupInput] = field(default_factory=list)
    """Each environment's capacity group at its minimum (``ops.resilience.zones``)."""


# --- building blocks ------------------------------------------------------------------------------


def alarm_detection(alarm: AlarmSpec, scenario: str = "") -> Estimate:
    """A persistent fault → the alarm is in ALARM.

    From the alarm replay of the stack's own definition when it has one for ``scenario``
    (``ops.alarm_replay``: evaluation range, missing data and publish lag included); else the
    arithmetic ``P × M + lag`` (seeds, recommended settings).
    """
    replayed = dict(alarm.replays)
    if scenario in replayed:
        seconds = replayed[scenario]
        if math.isinf(seconds):
            return never(f"alarm '{alarm.name}' never reaches ALARM in the replay '{scenario}'")
        return add_terms(
            [(f"{fmt_s(seconds)} replay '{scenario}' of alarm '{alarm.name}'", seconds)],
            ["from ops.alarm_replay over the synthesized alarm definition"],
        )
    period = alarm.effective_period_s
    m = alarm.m
    notes = []
    if period != alarm.period_s:
        notes.append(
            f"alarm '{alarm.name}' has a {fmt_s(alarm.period_s)} period but its {alarm.namespace} "
            f"metric is published every {STANDARD_RESOLUTION_S} s; counted as {fmt_s(period)}"
        )
    lag = period * METRIC_LAG_PERIODS
    return add_terms(
        [
            (
                f"{fmt_s(period)} × {m} datapoint{'s' if m != 1 else ''} ('{alarm.name}')",
                period * m,
            ),
            (f"{fmt_s(lag)} metric lag", lag),
        ],
        notes,
    )


def _insufficient_data_detection(alarm: AlarmSpec) -> Estimate:
    """No data at all: the alarm has nothing for N periods and goes INSUFFICIENT_DATA."""
    period = alarm.effective_period_s
    n = alarm.evaluation_periods
    return add_terms(
        [
            (f"{fmt_s(period)} × {n} periods without data ('{alarm.name}')", period * n),
            (f"{fmt_s(period)} metric lag", period * METRIC_LAG_PERIODS),
        ]
    )


def health_check_detection(check: Route53Check, failure: str = "env_down") -> Estimate:
    """Fault → Route 53 considers `check` unhealthy.

    `failure` is ``env_down`` (the environment is hard down: its URL fails and its metrics stop) or
    ``dependency_loss`` (the app still answers /health, its connectivity metrics report 0).
    """
    label = f"{check.type} check '{check.name}'"
    if check.disabled:
        return never(f"{label} is disabled (Route 53 then treats it as healthy)")
    if check.inverted:
        return never(f"{label} is inverted: a failure reads as healthy")
    if check.type in ENDPOINT_CHECK_TYPES:
        if failure != "env_down":
            return never(f"{label} probes the endpoint, which still answers on a dependency loss")
        interval, threshold = check.request_interval_s, check.failure_threshold
        return add_terms([(f"{fmt_s(interval)} × {threshold} ({label})", interval * threshold)])
    if check.type == "CLOUDWATCH_METRIC":
        return _alarm_check_detection(check, failure, label)
    if check.type == "CALCULATED":
        return _calculated_detection(check, failure, label)
    return never(f"{label}: type not modelled")


def _alarm_check_detection(check: Route53Check, failure: str, label: str) -> Estimate:
    alarm = check.alarm
    if alarm is None:
        return never(f"{label}: alarm '{check.alarm_name}' not found in the stack")
    if alarm.high_resolution:
        return never(
            f"{label}: alarm '{alarm.name}' uses a {fmt_s(alarm.period_s)} (high-resolution) "
            "period, which Route 53 does not support for health checks"
        )
    if alarm.metric_math or alarm.extended_statistic:
        what = "metric math" if alarm.metric_math else f"the {alarm.extended_statistic} statistic"
        return never(
            f"{label}: alarm '{alarm.name}' uses {what}; Route 53 follows only alarms on one "
            "metric with Average/Minimum/Maximum/Sum/SampleCount"
        )
    read = (f"{ROUTE53_ALARM_READ_S} s Route 53 alarm read", float(ROUTE53_ALARM_READ_S))
    scenario = "a dependency lost" if failure == "dependency_loss" else "an environment lost"
    if failure == "dependency_loss" or alarm.treat_missing_data == "breaching":
        return alarm_detection(alarm, scenario).plus(read)
    status = check.insufficient_data_health_status or "LastKnownStatus"
    if alarm.treat_missing_data == "missing" and status == "Unhealthy":
        return _insufficient_data_detection(alarm).plus(read)
    return never(
        f"{label}: a dead environment stops publishing, and alarm '{alarm.name}' treats missing "
        f"data as {alarm.treat_missing_data!r} (insufficient data → {status})"
    )


def _calculated_detection(check: Route53Check, failure: str, label: str) -> Estimate:
    children = [(c.name, health_check_detection(c, failure)) for c in check.children]
    if not children:
        return never(f"{label} has no children")
    n = len(children)
    threshold = check.child_health_threshold
    assumed = ""
    if threshold is None:
        threshold, assumed = 1, " (threshold not set; assumed 1, the slowest case)"
    if threshold <= 0:
        return never(f"{label}: health threshold {threshold} keeps it healthy")
    # Unhealthy once fewer than `threshold` children are healthy: n - threshold + 1 must fail.
    needed = n - threshold + 1
    if needed < 1:
        return add_terms(
            [(f"0 s ({label} needs {threshold} healthy of {n} children: always unhealthy)", 0)]
        )
    ordered = sorted(children, key=lambda c: c[1].seconds)
    name, decisive = ordered[needed - 1]
    others = [f"child {cn}: {e.formula}" for cn, e in ordered if cn != name]
    note = f"{label}: unhealthy once {needed} of {n} children fail{assumed}"
    if decisive.never:
        return never(f"{note}; only {sum(not e.never for _, e in children)} can see this failure")
    return Estimate(
        decisive.seconds, decisive.formula, list(decisive.terms), [*decisive.notes, note, *others]
    )


def _ttl_term(record: FailoverRecord) -> tuple[str, float]:
    return (f"{fmt_s(record.ttl_s)} TTL ({record.ttl_source})", float(record.ttl_s))


# --- scenario 1: environment dies → DNS answers with the other -------------------------------------


def env_failover(record: FailoverRecord, failure: str = "env_down") -> Estimate:
    """Fault in the primary environment → every resolver that honours the TTL gets the secondary.

    ``detection (health check path) + TTL``.
    """
    if record.health_check is None:
        extra = (
            " (alias evaluate-target-health only; its timing is not documented)"
            if record.evaluate_target_health
            else ""
        )
        return never(f"primary record '{record.name}' has no health check{extra}")
    detection = health_check_detection(record.health_check, failure)
    result = detection.plus(_ttl_term(record))
    if record.evaluate_target_health:
        result = result.with_notes(
            "alias evaluate-target-health also fails over when the ALB has no healthy target; "
            "its timing is not documented, so it is not counted"
        )
    return result


def env_failover_paths(record: FailoverRecord) -> dict[str, Estimate]:
    """Both paths: a hard-down environment and a dependency loss seen only by the alarm."""
    return {
        "environment down": env_failover(record, "env_down"),
        "dependency loss": env_failover(record, "dependency_loss"),
    }


# --- scenario 2: bad release → rollback starts ------------------------------------------------------


def circuit_breaker_threshold(desired_count: int) -> int:
    """Failed tasks that fail a deployment: ``ceil(0.5 × desired)`` clamped to [3, 200]."""
    raw = math.ceil(0.5 * max(desired_count, 0))
    return min(CIRCUIT_BREAKER_MAX_FAILED, max(CIRCUIT_BREAKER_MIN_FAILED, raw))


def _task_failure_detection(guard: ReleaseGuard) -> tuple[str, float] | None:
    """Seconds from a new task starting to ECS counting it failed (fastest health signal)."""
    options: list[tuple[str, float]] = []
    tg = guard.target_group
    if tg is not None:
        elb = tg.interval_s * tg.unhealthy_threshold + tg.timeout_s
        grace = guard.health_check_grace_s
        value = max(grace, elb)
        text = f"max({fmt_s(grace)} grace, {fmt_s(tg.interval_s)} × {tg.unhealthy_threshold} + {fmt_s(tg.timeout_s)} ALB check)"
        options.append((text, value))
    ch = guard.container_health
    if ch is not None:
        value = ch.start_period_s + ch.interval_s * ch.retries + ch.timeout_s
        text = f"{fmt_s(ch.start_period_s)} start period + {fmt_s(ch.interval_s)} × {ch.retries} + {fmt_s(ch.timeout_s)} container check"
        options.append((text, value))
    return min(options, key=lambda o: o[1]) if options else None


def circuit_breaker_trip(guard: ReleaseGuard) -> Estimate:
    """A release whose tasks fail their health checks → the circuit breaker rolls back.

    ``ceil(threshold / tasks in flight) × (launch + health-check failure)``.
    """
    if not guard.circuit_breaker_enabled:
        return never(f"service '{guard.service}' has no deployment circuit breaker")
    if not guard.circuit_breaker_rollback:
        return never(f"circuit breaker of '{guard.service}' fails the deployment without rollback")
    detection = _task_failure_detection(guard)
    if detection is None:
        return never(f"service '{guard.service}' has no ELB or container health check")
    threshold = circuit_breaker_threshold(guard.desired_count)
    desired = max(guard.desired_count, 1)
    keep = math.ceil(desired * guard.minimum_healthy_percent / 100)
    in_flight = max(1, math.floor(desired * guard.maximum_percent / 100) - keep)
    waves = math.ceil(threshold / in_flight)
    per_task = ECS_TASK_LAUNCH_S + detection[1]
    return add_terms(
        [
            (
                f"⌈{threshold} failed tasks / {in_flight} in flight⌉ = {waves} × "
                f"({ECS_TASK_LAUNCH_S} s launch + {detection[0]})",
                waves * per_task,
            )
        ],
        [
            f"threshold = clamp(⌈0.5 × {guard.desired_count} desired⌉, "
            f"{CIRCUIT_BREAKER_MIN_FAILED}, {CIRCUIT_BREAKER_MAX_FAILED}) = {threshold}"
        ],
    )


def deployment_alarm_rollback(guard: ReleaseGuard, kind: str) -> Estimate:
    """A release that breaches a `kind` (``errors``/``latency``) deployment alarm → rollback starts.

    ``P × M + lag + ECS alarm poll`` of the fastest such alarm.
    """
    alarms = guard.alarms_of(kind)
    what = {"errors": "5xx", "latency": "response-time"}.get(kind, kind)
    if not guard.alarms_enabled or not alarms:
        return never(f"service '{guard.service}' has no {what} deployment alarm")
    if not guard.alarms_rollback:
        return never(f"deployment alarms of '{guard.service}' fail the deployment without rollback")
    poll = (f"{ECS_ALARM_POLL_S} s ECS alarm poll", float(ECS_ALARM_POLL_S))
    paths = [(a.name, alarm_detection(a, "a failing release").plus(poll)) for a in alarms]
    return min((e for _, e in paths), key=lambda e: e.seconds)


def release_rollback(guard: ReleaseGuard, kind: str) -> Estimate:
    """Bad release of `kind` → rollback starts: the deployment alarm, else note the breaker.

    The circuit breaker only trips if the bad revision also fails its health checks (a release that
    answers 5xx or slowly on real traffic can still pass /health), so it is reported but never
    counted as the worst-case bound.
    """
    alarm = deployment_alarm_rollback(guard, kind)
    breaker = circuit_breaker_trip(guard)
    condition = "health checks fail" if kind == "errors" else "health check times out"
    note = f"circuit breaker, only if the bad revision's {condition}: {breaker.formula}"
    return alarm.with_notes(note, *breaker.notes)


# --- scenario 3: task dies → ALB stops sending it traffic --------------------------------------------


def target_stops_traffic(tg: TargetGroupHealth) -> Estimate:
    """A task stops answering → the ALB takes it out of service: ``interval × unhealthy + timeout``."""
    return add_terms(
        [
            (
                f"{fmt_s(tg.interval_s)} × {tg.unhealthy_threshold} failed ALB checks ('{tg.name}')",
                tg.interval_s * tg.unhealthy_threshold,
            ),
            (f"{fmt_s(tg.timeout_s)} timeout of the last check", tg.timeout_s),
        ],
        [
            f"deregistration delay {fmt_s(tg.deregistration_delay_s)} of '{tg.name}' only drains "
            "in-flight requests; new requests stop when the target is unhealthy or deregistering",
        ],
    )


# --- scenario 4: load step → scale-out starts ---------------------------------------------------------


def scale_out_start(policy: ScalingPolicy) -> Estimate:
    """A load step above target → target tracking raises the desired count.

    ``3 × 60 s (AWS-managed high alarm) + lag``; the cooldown does not delay the first scale-out.
    """
    period = TARGET_TRACKING_METRIC_PERIOD_S
    n = TARGET_TRACKING_HIGH_ALARM_DATAPOINTS
    return add_terms(
        [
            (f"{period} s × {n} datapoints (AWS-managed AlarmHigh of '{policy.name}')", period * n),
            (f"{period} s metric lag", period * METRIC_LAG_PERIODS),
        ],
        [
            f"{policy.metric} target {policy.target_value:g}: any step above the target takes this "
            "long; the target value changes how much is added, not when",
            f"scale-out cooldown {fmt_s(policy.scale_out_cooldown_s)} only spaces later scale-outs, "
            "and a larger one is not held back by it",
        ],
    )


def step_scale_out_start(trigger: StepTrigger) -> Estimate:
    """A load step above the threshold → the step policy raises the desired count.

    ``sample window + P × N + lag + evaluation + reaction``: the task's datum averages its last
    sample interval, the alarm needs N high-resolution periods, and a period is usable one period
    after it starts; CloudWatch evaluates 10 s alarms every 10 s, and the alarm action invokes the
    policy directly (no SNS in between).
    """
    period, n = trigger.period_s, trigger.datapoints
    note = (
        f"{trigger.metric} from the task itself, {fmt_s(period)} periods: no 1-minute "
        "AWS metric and no AWS-managed 3-datapoint alarm on the path"
    )
    if trigger.replayed_s is not None:
        if math.isinf(trigger.replayed_s):
            return never(f"alarm '{trigger.alarm}' never reaches ALARM in the replay 'a load step'")
        return add_terms(
            [
                (
                    f"{fmt_s(trigger.replayed_s)} replay 'a load step' of alarm '{trigger.alarm}'",
                    trigger.replayed_s,
                ),
                (f"{STEP_POLICY_REACTION_S} s policy reaction", STEP_POLICY_REACTION_S),
            ],
            [note, "from ops.alarm_replay over the synthesized alarm definition"],
        )
    return add_terms(
        [
            (
                f"{fmt_s(trigger.sample_interval_s)} sample window (each datum averages it)",
                trigger.sample_interval_s,
            ),
            (f"{fmt_s(period)} × {n} datapoints ('{trigger.alarm}')", period * n),
            (f"{fmt_s(period)} metric lag", period * METRIC_LAG_PERIODS),
            (f"{HIGH_RESOLUTION_EVALUATION_S} s alarm evaluation", HIGH_RESOLUTION_EVALUATION_S),
            (f"{STEP_POLICY_REACTION_S} s policy reaction", STEP_POLICY_REACTION_S),
        ],
        [note],
    )


def scale_out_for_service(
    tracking: Sequence[ScalingPolicy], triggers: Sequence[StepTrigger]
) -> Estimate:
    """The first policy to act on a service's load step wins: the fastest of them."""
    candidates = [scale_out_start(p) for p in tracking] + [
        step_scale_out_start(t) for t in triggers
    ]
    if not candidates:
        return never("no scaling policy")
    return min(candidates, key=lambda e: e.seconds)


# --- the source documents' setups as data ----------------------------------------------------------------------------------

RESILIENCY_ARTICLE_FAILOVER = FailoverRecord(
    name="resiliency-testing article primary (blue)",
    ttl_s=60,
    ttl_source="record TTL 60",
    health_check=Route53Check(
        name="resiliency-testing article blue",
        type="CLOUDWATCH_METRIC",
        alarm=AlarmSpec(
            name="blue-StatusCheckFailed",
            period_s=60,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            metrics=("StatusCheckFailed",),
            namespace="AWS/EC2",
            treat_missing_data="breaching",
        ),
        alarm_name="blue-StatusCheckFailed",
        insufficient_data_health_status="Unhealthy",
    ),
)
"""The resiliency-testing article: Route 53 check following a 60 s, 1-datapoint alarm (missing = breaching), TTL 60."""

RESILIENCY_ARTICLE_DEPENDENCY_ALARM = AlarmSpec(
    name="blue-db-connectivity-failed",
    period_s=60,
    evaluation_periods=2,
    datapoints_to_alarm=2,
    metrics=("db-connectivity",),
    namespace="Bookstore",
)
"""The resiliency-testing article's dependency alarms (2 of 2 one-minute datapoints); not wired to
DNS there."""


def _onebox_article_alarm(name: str, metric: str) -> AlarmSpec:
    """The onebox/fleet article's alarm shape (3 of 4 one-minute datapoints) on an ALB metric."""
    return AlarmSpec(
        name=name,
        period_s=60,
        evaluation_periods=4,
        datapoints_to_alarm=3,
        metrics=(metric,),
        namespace="AWS/ApplicationELB",
    )


ONEBOX_ARTICLE_RELEASE = ReleaseGuard(
    service="onebox/fleet article onebox",
    role="onebox",
    alarms_enabled=True,
    alarms_rollback=True,
    alarms=(
        _onebox_article_alarm("TargetResponseTime>3s", "TargetResponseTime"),
        _onebox_article_alarm("5xx, the article's alarm shape", "HTTPCode_Target_5XX_Count"),
    ),
)
"""The onebox/fleet article: deployment alarm 3 of 4 one-minute datapoints with rollback. It alarms only on
latency; its alarm shape is applied to a 5xx alarm for the erroring-release comparison."""

AUTOSCALING_TUTORIAL_TARGET_GROUP = TargetGroupHealth(name="autoscaling tutorial (ALB defaults)")
"""The autoscaling tutorial set no health-check values: the ALB target-group defaults."""

AUTOSCALING_TUTORIAL_SCALING = ScalingPolicy(
    name="autoscaling tutorial service CPU",
    metric="ECSServiceAverageCPUUtilization",
    target_value=80,
)
"""The autoscaling tutorial: target tracking on service CPU 80 % with default cooldowns (cluster nodes: 30 %)."""


# --- targets and the settings that meet them ----------------------------------------------------------

PROD_TARGETS_S = {
    "env_failover": 90.0,
    "env_hosts_lost": 90.0,
    # Our target, not AWS's: with the zone-loss rule met the survivors carry the load, and the
    # replacements restore the headroom within three minutes (no new host).
    "zone_replacement": 180.0,
    "release_errors": 150.0,
    "release_slow": 240.0,
    "scale_out": 90.0,
}


def max_datapoints_within(
    target_s: float, period_s: float = STANDARD_RESOLUTION_S, extra_s: float = 0
) -> int:
    """Largest M with ``P × M + lag + extra ≤ target`` (0 when even one datapoint is too slow)."""
    budget = target_s - period_s * METRIC_LAG_PERIODS - extra_s
    return max(0, math.floor(budget / period_s))


def max_failure_threshold_within(target_s: float, interval_s: float, ttl_s: float) -> int:
    """Largest Route 53 failure threshold with ``interval × threshold + TTL ≤ target``."""
    return max(0, min(10, math.floor((target_s - ttl_s) / interval_s)))


def recommended_settings(
    targets: dict[str, float] = PROD_TARGETS_S,
) -> list[tuple[str, str, Estimate]]:
    """(scenario, setting, resulting estimate) for settings that meet every target, by the model."""
    out: list[tuple[str, str, Estimate]] = []
    ttl = float(ELB_ALIAS_TTL_S)
    k = max_failure_threshold_within(targets["env_failover"], 10, ttl)
    http = FailoverRecord(
        name="recommended",
        ttl_s=ttl,
        ttl_source="alias to ALB, fixed",
        health_check=Route53Check(
            name="primary", type="HTTPS", request_interval_s=10, failure_threshold=k
        ),
    )
    out.append(
        (
            "env_failover",
            f"Route 53 HTTPS check on the primary ALB: request_interval 10, failure_threshold ≤ {k}, "
            "wired to the PRIMARY record directly or through a CALCULATED check whose threshold is "
            "the number of children (any child unhealthy → fail over); alias TTL stays 60",
            env_failover(http),
        )
    )
    fastest_alarm = FailoverRecord(
        name="alarm only",
        ttl_s=ttl,
        ttl_source="alias to ALB, fixed",
        health_check=Route53Check(
            name="connectivity",
            type="CLOUDWATCH_METRIC",
            alarm=AlarmSpec(
                name="1 × 60 s", period_s=60, datapoints_to_alarm=1, treat_missing_data="breaching"
            ),
        ),
    )
    out.append(
        (
            "env_failover",
            "the connectivity-alarm path cannot meet it: Route 53 accepts only standard-resolution "
            "(≥ 60 s) alarms, so its floor is",
            env_failover(fastest_alarm, "dependency_loss"),
        )
    )
    fixed = HIGH_RESOLUTION_EVALUATION_S + STEP_POLICY_REACTION_S + 10  # + a 10 s sample window
    n = max_datapoints_within(targets["scale_out"], 10, fixed)
    out.append(
        (
            "scale_out",
            f"service.fastScaleOut.enabled: true with datapoints ≤ {n} (10 s periods, prober "
            "interval ≤ 10 s); target tracking alone cannot (three 1-minute datapoints plus lag: 240 s)",
            step_scale_out_start(
                StepTrigger("recommended", "fast", "task-cpu-utilization", 10, n, 10)
            ),
        )
    )
    for key, kind, metric in (
        ("release_errors", "errors", "HTTPCode_Target_5XX_Count"),
        ("release_slow", "latency", "TargetResponseTime"),
    ):
        m = max_datapoints_within(targets[key], extra_s=ECS_ALARM_POLL_S)
        guard = ReleaseGuard(
            service="recommended",
            alarms_enabled=True,
            alarms_rollback=True,
            alarms=(
                AlarmSpec(
                    name=metric,
                    period_s=60,
                    evaluation_periods=max(m, 1),
                    datapoints_to_alarm=max(m, 1),
                    metrics=(metric,),
                    namespace="AWS/ApplicationELB",
                ),
            ),
        )
        out.append(
            (
                key,
                f"{metric} deployment alarm: period 60, datapoints_to_alarm ≤ {m} "
                f"(evaluation_periods ≥ datapoints), rollback on",
                deployment_alarm_rollback(guard, kind),
            )
        )
    return out
