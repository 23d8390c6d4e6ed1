"""Worst-case timing of alarms, Route 53 health checks and DNS failover, as pure arithmetic.

Everything here is a whole number of seconds computed from the settings that build the
resources, so the resilience report and the tests can state "a blue outage moves traffic to
green within N seconds" without AWS. No Pulumi imports; every function is pure.

Model (the assumptions each bound rests on):

* **Metric alarm, M of N** (``datapoints_to_alarm`` M, ``evaluation_periods`` N, period P, the
  ``Minimum`` statistic, missing data treated as breaching). A persistent failure that starts
  just after the last good sample of a period leaves that period healthy; it then needs M
  breaching periods, so the alarm can fire at the close of the M-th one:
  ``sample_interval + M * P`` after the onset. N does not change the detection time of a
  persistent failure; it decides how long the alarm takes to clear again.
* **Endpoint health check** (``request_interval`` I, ``failure_threshold`` F). The failure starts
  just after a passing request; the F-th failing request comes ``F * I`` later.
* **Calculated health check** that needs every child healthy (threshold = number of children):
  it turns unhealthy as soon as one child does. A failure that only one child can see (a
  dependency outage while ``/health`` still answers 200) is caught by that child alone, so the
  worst case over failure modes is the *slower* child.
* **DNS**: resolvers may keep serving the old answer for one TTL after Route 53 changes it.
  Alias records to an ALB have a fixed 60 s TTL set by AWS (see ``ELB_ALIAS_TTL_SECONDS``).

These are quick bounds for code that has no alarm definition at hand. Where one exists (a synthesized
stack, a ``DescribeAlarms`` answer), ``ops.alarm_replay`` replays it as CloudWatch evaluates it and is
the figure to use: ``make resilience`` and the release bake take their times from it. The replay
shows where this arithmetic is optimistic: with missing data treated as breaching, a *dead*
environment's alarm first evaluates "the most recent existing data points" still in its evaluation
range (CloudWatch user guide, "Configuring how CloudWatch alarms treat missing data"), so it fires
only once they have left the range (about ``(N + 2) × P``, 290 s for 2 of 2 at 60 s), not after
``M × P``.

CloudWatch does not evaluate an alarm the instant its period closes, and Route 53 reads the
alarm's data stream on its own schedule; pass those delays as ``evaluation_lag_seconds`` when a
measured figure is known. They default to 0, so the results are lower bounds on the worst case
under the stated model, not service-level guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass

ELB_ALIAS_TTL_SECONDS = 60
"""TTL Route 53 gives answers of an alias record that targets an ELB load balancer. It is not
configurable: an alias record has no TTL of its own and uses the target's (Route 53 FAQ on DNS
failover: ELB alias records have a fixed 60 s TTL)."""

DEFAULT_SAMPLE_INTERVAL_SECONDS = 10
"""How often the connectivity prober publishes a 1/0 sample."""


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive whole number (got {value!r})")
    return value


def _non_negative(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative whole number (got {value!r})")
    return value


def alarm_detection_seconds(
    period_seconds: int,
    datapoints_to_alarm: int,
    *,
    sample_interval_seconds: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    evaluation_lag_seconds: int = 0,
) -> int:
    """Worst case from a persistent failure's onset to the alarm entering ALARM.

    ``sample_interval_seconds + datapoints_to_alarm * period_seconds + evaluation_lag_seconds``.
    Example: 60 s periods, 2 of 2, samples every 10 s -> ``10 + 120 = 130``.
    """
    _positive("period_seconds", period_seconds)
    _positive("datapoints_to_alarm", datapoints_to_alarm)
    _positive("sample_interval_seconds", sample_interval_seconds)
    _non_negative("evaluation_lag_seconds", evaluation_lag_seconds)
    return sample_interval_seconds + datapoints_to_alarm * period_seconds + evaluation_lag_seconds


def alarm_recovery_seconds(
    period_seconds: int, evaluation_periods: int, datapoints_to_alarm: int
) -> int:
    """Full periods of good data an M-of-N alarm needs before it leaves ALARM.

    It returns to OK once fewer than M of the last N datapoints breach, i.e. after
    ``N - M + 1`` good periods. Example: 2 of 2 at 60 s -> 60; 2 of 3 -> 120.
    """
    _positive("period_seconds", period_seconds)
    _positive("evaluation_periods", evaluation_periods)
    _positive("datapoints_to_alarm", datapoints_to_alarm)
    if datapoints_to_alarm > evaluation_periods:
        raise ValueError(
            f"datapoints_to_alarm must be at most evaluation_periods {evaluation_periods} "
            f"(got {datapoints_to_alarm})"
        )
    return (evaluation_periods - datapoints_to_alarm + 1) * period_seconds


def endpoint_check_detection_seconds(request_interval: int, failure_threshold: int) -> int:
    """Worst case for an HTTP(S) health check to turn unhealthy: ``interval * threshold``."""
    _positive("request_interval", request_interval)
    _positive("failure_threshold", failure_threshold)
    return request_interval * failure_threshold


@dataclass(frozen=True)
class FailoverEstimate:
    """The parts of a worst-case DNS failover, in seconds."""

    endpoint_check: int
    """Until the HTTP(S) health check is unhealthy (failures ``/health`` shows)."""
    alarm: int
    """Until the connectivity alarm fires (failures only the prober sees)."""
    dns_ttl: int
    """Until resolvers drop the cached answer."""

    @property
    def detection(self) -> int:
        """Until Route 53 answers with the secondary: the slower child of the calculated check."""
        return max(self.endpoint_check, self.alarm)

    @property
    def total(self) -> int:
        """Until every client that honours the TTL resolves to the secondary."""
        return self.detection + self.dns_ttl


def failover_estimate(
    interval: int,
    failure_threshold: int,
    alarm_period: int,
    alarm_datapoints: int,
    dns_ttl: int = ELB_ALIAS_TTL_SECONDS,
    *,
    sample_interval_seconds: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    evaluation_lag_seconds: int = 0,
) -> FailoverEstimate:
    """The worst-case failover broken into its parts; see :func:`failover_seconds`."""
    _non_negative("dns_ttl", dns_ttl)
    return FailoverEstimate(
        endpoint_check=endpoint_check_detection_seconds(interval, failure_threshold),
        alarm=alarm_detection_seconds(
            alarm_period,
            alarm_datapoints,
            sample_interval_seconds=sample_interval_seconds,
            evaluation_lag_seconds=evaluation_lag_seconds,
        ),
        dns_ttl=dns_ttl,
    )


def failover_seconds(
    interval: int,
    failure_threshold: int,
    alarm_period: int,
    alarm_datapoints: int,
    dns_ttl: int = ELB_ALIAS_TTL_SECONDS,
    *,
    sample_interval_seconds: int = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    evaluation_lag_seconds: int = 0,
) -> int:
    """Worst case from an outage of the primary environment to clients resolving the secondary.

    ``max(interval * failure_threshold,
    sample_interval + alarm_datapoints * alarm_period + evaluation_lag) + dns_ttl``.

    Example with the defaults of BlueGreenDns and ConnectivityAlarms (10 s checks, threshold 3,
    60 s periods, 2 of 2, ALB alias TTL 60): ``max(30, 130) + 60 = 190``.
    """
    return failover_estimate(
        interval,
        failure_threshold,
        alarm_period,
        alarm_datapoints,
        dns_ttl,
        sample_interval_seconds=sample_interval_seconds,
        evaluation_lag_seconds=evaluation_lag_seconds,
    ).total
