"""Watch ECS service deployments and their CloudWatch deployment alarms (the release pipeline's eyes).

ECS does the rolling back on its own (deployment circuit breaker, deployment alarms); this module
only *observes*: it follows one deployment per service by id and reports COMPLETED, FAILED or
"still in progress", and it reads the service's deployment alarms
(``deploymentConfiguration.alarms.alarmNames``) so an alarm in ALARM stops the release even before
ECS has finished rolling back.

Everything that decides is a pure function of a ``describe_services`` entry (:func:`judge_rollout`);
:class:`DeploymentWatcher` adds the polling, with an injected clock and sleep so tests never wait.

How a failed release looks in ``describe_services`` (the cases :func:`judge_rollout` handles):

* the followed deployment has ``rolloutState: FAILED`` (circuit breaker or alarm), usually next to a
  new PRIMARY deployment that rolls back to the previous task definition;
* the followed deployment is gone or no longer PRIMARY: another deployment replaced it (a rollback,
  or someone else's update) — never a success, whatever the new PRIMARY's rolloutState says;
* ``rolloutState`` is absent (older API responses, some emulators): the deployment counts as
  complete once it is the only deployment and its running count equals its desired count with
  nothing pending — said explicitly in the verdict's reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COMPLETED, IN_PROGRESS, FAILED = "COMPLETED", "IN_PROGRESS", "FAILED"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
# Worth another try: throttling and transient service errors, and AccessDenied (a role or policy
# just created can take seconds to propagate). Anything else (a missing cluster) fails at once.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "AccessDenied",
        "AccessDeniedException",
    }
)
DESCRIBE_SERVICES_MAX = 10  # ECS accepts at most 10 services per DescribeServices call
DESCRIBE_ALARMS_MAX = 100  # CloudWatch accepts at most 100 names per DescribeAlarms call


class WatchError(Exception):
    """The services could not be described at all (missing cluster, no permission, ...)."""


def error_code(err: BaseException) -> str | None:
    """``ThrottlingException`` from a botocore ``ClientError``; None for anything else."""
    response = getattr(err, "response", None)
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
        return str(code) if code else None
    return None


def retryable(err: BaseException) -> bool:
    if error_code(err) in RETRYABLE_CODES:
        return True
    # botocore's EndpointConnectionError / ReadTimeoutError and friends: no answer at all
    return type(err).__name__ in {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }


def describe_error(err: BaseException) -> str:
    code = error_code(err)
    response = getattr(err, "response", None)
    details = (response.get("Error") or {}) if isinstance(response, Mapping) else {}
    message = str(details.get("Message") or err)
    return f"{code}: {message}" if code else f"{type(err).__name__}: {err}"


@dataclass(frozen=True)
class Verdict:
    """Where one service's deployment stands."""

    service: str
    state: str  # COMPLETED | IN_PROGRESS | FAILED
    reason: str
    deployment_id: str | None = None
    running: int = 0
    desired: int = 0
    pending: int = 0

    @property
    def counts(self) -> str:
        return f"running {self.running}/{self.desired}, pending {self.pending}"


@dataclass(frozen=True)
class FiringAlarm:
    name: str
    reason: str


@dataclass
class WatchReport:
    """The outcome of one watch (rollout or bake) over one or more services."""

    ok: bool
    reason: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    alarms: list[FiringAlarm] = field(default_factory=list)
    elapsed: float = 0.0
    recent_events: dict[str, list[str]] = field(default_factory=dict)


# -- pure pieces ---------------------------------------------------------------------------------
def _int(mapping: Mapping[str, Any], key: str) -> int:
    value = mapping.get(key)
    return int(value) if isinstance(value, int | float) else 0


def primary_deployment(service: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return None


def deployment_alarm_names(service: Mapping[str, Any]) -> list[str]:
    """The alarms ECS watches for this service's deployments (empty when none or disabled)."""
    alarms = (service.get("deploymentConfiguration") or {}).get("alarms") or {}
    if alarms.get("enable") is False:
        return []
    return [name for name in alarms.get("alarmNames") or [] if name]


def recent_events(service: Mapping[str, Any], limit: int = 3) -> list[str]:
    """The newest service events (ECS lists them newest first), as one-line messages."""
    return [str(e.get("message", "")).strip() for e in (service.get("events") or [])[:limit]]


def judge_rollout(service: Mapping[str, Any], deployment_id: str | None) -> Verdict:
    """Judge one ``describe_services`` entry: is deployment ``deployment_id`` done, failed, going?

    ``deployment_id`` None means "whatever is PRIMARY now" (used for the first look).
    """
    name = str(service.get("serviceName", "?"))
    status = service.get("status")
    if status != "ACTIVE":
        return Verdict(name, FAILED, f"service status is {status or 'unknown'}, not ACTIVE")
    deployments = list(service.get("deployments") or [])
    primary = primary_deployment(service)
    if deployment_id is None:
        if primary is None:
            return Verdict(name, FAILED, "service has no PRIMARY deployment")
        deployment_id = str(primary.get("id"))
    target = next((d for d in deployments if d.get("id") == deployment_id), None)
    if target is None:
        now = (
            f"; PRIMARY is now {primary.get('id')} ({primary.get('taskDefinition')})"
            if primary
            else ""
        )
        return Verdict(
            name,
            FAILED,
            f"deployment {deployment_id} is gone{now}: "
            "ECS rolled it back or another deployment replaced it",
            deployment_id,
        )
    running = _int(target, "runningCount")
    desired = _int(target, "desiredCount")
    pending = _int(target, "pendingCount")
    counts = {"running": running, "desired": desired, "pending": pending}
    rollout = target.get("rolloutState")
    if rollout == FAILED:
        why = target.get("rolloutStateReason") or "no reason given"
        return Verdict(name, FAILED, f"rolloutState FAILED: {why}", deployment_id, **counts)
    if target.get("status") != "PRIMARY":
        to = f" to {primary.get('taskDefinition')}" if primary else ""
        return Verdict(
            name,
            FAILED,
            f"deployment {deployment_id} is no longer PRIMARY (status {target.get('status')}): "
            f"ECS rolled back{to}",
            deployment_id,
            **counts,
        )
    if rollout == COMPLETED:
        return Verdict(name, COMPLETED, "rolloutState COMPLETED", deployment_id, **counts)
    if rollout is None:
        if len(deployments) == 1 and desired > 0 and running == desired and pending == 0:
            reason = "rolloutState absent: complete by counts (only deployment, all running)"
            return Verdict(name, COMPLETED, reason, deployment_id, **counts)
        reason = f"rolloutState absent: {len(deployments)} deployment(s), counts not settled"
        return Verdict(name, IN_PROGRESS, reason, deployment_id, **counts)
    return Verdict(name, IN_PROGRESS, f"rolloutState {rollout}", deployment_id, **counts)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the poller ----------------------------------------------------------------------------------
class DeploymentWatcher:
    """Polls ECS and CloudWatch for a set of services of one cluster.

    ``ecs`` and ``cloudwatch`` are boto3 clients (or anything with ``describe_services`` and
    ``describe_alarms``); ``clock`` is monotonic seconds, ``sleep`` waits; ``log`` gets one line
    per change of state, never one per poll.
    """

    def __init__(
        self,
        ecs: Any,
        cloudwatch: Any,
        *,
        poll_interval: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda _line: None,
        attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 20.0,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.ecs = ecs
        self.cloudwatch = cloudwatch
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep
        self.log = log

    # one call, retried -------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """``fn(**kwargs)``, retried with exponential backoff on throttling, transient errors and
        AccessDenied; raises :class:`WatchError` naming ``what`` and the last error."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(**kwargs)
            except Exception as err:  # botocore ClientError, endpoint errors, ...
                if not retryable(err):
                    raise WatchError(f"{what} failed: {describe_error(err)}") from err
                if attempt == self.attempts:
                    raise WatchError(
                        f"{what} failed {attempt} times (backing off up to "
                        f"{self.max_backoff:.0f}s): {describe_error(err)}"
                    ) from err
                self.log(f"{what}: {describe_error(err)}; retrying in {delay:.0f}s")
                self.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")

    # one look ----------------------------------------------------------------------------------
    def describe(self, cluster: str, services: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``describe_services`` for every name; a missing service maps to status MISSING."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(list(services), DESCRIBE_SERVICES_MAX):
            answer = self.call(
                f"ECS DescribeServices on cluster {cluster!r}",
                self.ecs.describe_services,
                cluster=cluster,
                services=list(chunk),
            )
            for svc in answer.get("services", []):
                found[svc["serviceName"]] = svc
        for name in services:
            found.setdefault(name, {"serviceName": name, "status": "MISSING"})
        return found

    def primary_ids(self, cluster: str, services: Sequence[str]) -> dict[str, str | None]:
        """The PRIMARY deployment id of each service right now (None when it has none)."""
        out: dict[str, str | None] = {}
        for name, svc in self.describe(cluster, services).items():
            primary = primary_deployment(svc)
            out[name] = str(primary["id"]) if primary and primary.get("id") else None
        return out

    def alarms(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """``describe_alarms`` for ``names`` (metric and composite alarms), retried."""
        found: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(names)), DESCRIBE_ALARMS_MAX):
            answer = self.call(
                "CloudWatch DescribeAlarms", self.cloudwatch.describe_alarms, AlarmNames=list(chunk)
            )
            found += [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
        return found

    def check_cloudwatch(self) -> None:
        """One cheap DescribeAlarms call: raises :class:`WatchError` when CloudWatch is unreadable."""
        self.call("CloudWatch DescribeAlarms", self.cloudwatch.describe_alarms, MaxRecords=1)

    def firing_alarms(self, names: Iterable[str]) -> list[FiringAlarm]:
        """Alarms among ``names`` whose state is ALARM (metric and composite alarms)."""
        return [
            FiringAlarm(alarm["AlarmName"], str(alarm.get("StateReason", "")).strip())
            for alarm in self.alarms(names)
            if alarm.get("StateValue") == "ALARM"
        ]

    def alarms_without_data(self, cluster: str, services: Sequence[str]) -> list[str]:
        """The services' deployment alarms in INSUFFICIENT_DATA: nothing measured them."""
        names = [
            name
            for svc in self.describe(cluster, services).values()
            for name in deployment_alarm_names(svc)
        ]
        return sorted(
            str(alarm["AlarmName"])
            for alarm in (self.alarms(names) if names else [])
            if alarm.get("StateValue") == INSUFFICIENT_DATA
        )

    # polling -----------------------------------------------------------------------------------
    def wait_for_rollout(
        self,
        cluster: str,
        services: Sequence[str],
        *,
        timeout: float,
        deployment_ids: Mapping[str, str | None] | None = None,
        extra_alarm_names: Iterable[str] = (),
        check_alarms: bool = True,
    ) -> WatchReport:
        """Poll until every service's deployment is COMPLETED; stop at the first failure.

        ``check_alarms`` False: judge on the deployment alone (a rollback's watch: the alarm that
        caused it is still in ALARM).

        Fails on: a FAILED/replaced deployment, any deployment alarm in ALARM, a missing service,
        or ``timeout`` seconds without every deployment COMPLETED.
        """
        return self._poll(
            cluster,
            services,
            deployment_ids=deployment_ids,
            extra_alarm_names=extra_alarm_names,
            until=timeout,
            done_when_completed=True,
            check_alarms=check_alarms,
        )

    def bake(
        self,
        cluster: str,
        services: Sequence[str],
        *,
        seconds: float,
        deployment_ids: Mapping[str, str | None] | None = None,
        extra_alarm_names: Iterable[str] = (),
    ) -> WatchReport:
        """Keep watching for ``seconds``: no deployment alarm may fire, no deployment may fail."""
        return self._poll(
            cluster,
            services,
            deployment_ids=deployment_ids,
            extra_alarm_names=extra_alarm_names,
            until=seconds,
            done_when_completed=False,
        )

    def _poll(
        self,
        cluster: str,
        services: Sequence[str],
        *,
        deployment_ids: Mapping[str, str | None] | None,
        extra_alarm_names: Iterable[str],
        until: float,
        done_when_completed: bool,
        check_alarms: bool = True,
    ) -> WatchReport:
        if not services:
            return WatchReport(True, "no services to watch")
        ids: dict[str, str | None] = dict(deployment_ids or {})
        extra = list(extra_alarm_names)
        start = self.clock()
        last_seen: dict[str, tuple[str, str]] = {}
        warned_no_alarms = False
        while True:
            elapsed = self.clock() - start
            described = self.describe(cluster, services)
            verdicts: dict[str, Verdict] = {}
            alarm_names: list[str] = list(extra)
            for name in services:
                svc = described[name]
                if svc.get("status") == "MISSING":
                    verdicts[name] = Verdict(name, FAILED, f"service not found in {cluster}")
                    continue
                verdict = judge_rollout(svc, ids.get(name))
                ids.setdefault(name, verdict.deployment_id)
                verdicts[name] = verdict
                alarm_names.extend(deployment_alarm_names(svc))
                seen = (verdict.state, verdict.counts)
                if last_seen.get(name) != seen:
                    last_seen[name] = seen
                    self.log(f"{name}: {verdict.state} ({verdict.counts}; {verdict.reason})")
            if not alarm_names and not warned_no_alarms:
                warned_no_alarms = True
                self.log("no deployment alarms configured: judging on deployment state alone")
            events = {n: recent_events(described[n]) for n in services}
            failed = [v for v in verdicts.values() if v.state == FAILED]
            if failed:
                reason = "; ".join(f"{v.service}: {v.reason}" for v in failed)
                return WatchReport(False, reason, verdicts, [], elapsed, events)
            firing = self.firing_alarms(alarm_names) if alarm_names and check_alarms else []
            if firing:
                reason = "; ".join(f"alarm {a.name} is in ALARM ({a.reason})" for a in firing)
                return WatchReport(False, reason, verdicts, firing, elapsed, events)
            if done_when_completed and all(v.state == COMPLETED for v in verdicts.values()):
                return WatchReport(True, "every deployment COMPLETED", verdicts, [], elapsed)
            if elapsed >= until:
                if done_when_completed:
                    waiting = [v.service for v in verdicts.values() if v.state != COMPLETED]
                    reason = (
                        f"timed out after {elapsed:.0f}s waiting for {', '.join(waiting)} "
                        "to reach COMPLETED"
                    )
                    return WatchReport(False, reason, verdicts, [], elapsed, events)
                return WatchReport(True, f"no alarm and no failure for {elapsed:.0f}s", verdicts)
            self.sleep(min(self.poll_interval, until - elapsed))
