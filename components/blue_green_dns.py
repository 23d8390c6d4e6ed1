"""Route 53 active/passive failover between two environments' load balancers.

Record layout and why switching over is a clean config change:

* two alias A records named ``<record_name>.<zone_name>``, keyed by *role*: set identifier
  ``primary`` (failover ``PRIMARY``) and ``secondary`` (failover ``SECONDARY``). Which
  environment each role points at comes from ``primary``; flipping it changes only the alias
  target and ``health_check_id`` of both records. Route 53 keys a record set by name, type and
  set identifier, so each change is an in-place UPSERT that keeps one PRIMARY and one SECONDARY
  at every instant. (Identifiers keyed by environment would make the flip change the failover
  role of two records in two separate API calls; between them the zone would hold two PRIMARY
  or two SECONDARY records, which Route 53 refuses.) The two transient states during a flip both
  answer with a real environment: either both roles point at the new primary or both at the old.
* health checks are keyed by *environment* and never move: per environment an HTTP(S) check of
  the load balancer's ``/health``, a ``CLOUDWATCH_METRIC`` check following the environment's
  connectivity aggregate alarm (insufficient data = unhealthy), and a ``CALCULATED`` check that
  is healthy only while both are.
* Route 53 copies the alarm's settings (metric, statistic, period, threshold...) into the
  ``CLOUDWATCH_METRIC`` check when the check is created and never refreshes them, so a check
  left in place after its alarm changed keeps judging the old settings. Each alarm check carries
  the alarm's settings fingerprint in its ``AlarmConfiguration`` tag and is replaced
  (``replace_on_changes``) whenever that tag, the alarm name or its region changes. The
  replacement is create-before-delete (never ``delete_before_replace``): the new check exists,
  the calculated check is updated in place to list it, and only then is the old one deleted;
  Route 53 refuses to delete a check a calculated check still lists, and records never point
  at a missing check.
* the SECONDARY record carries its environment's calculated check too. Route 53 then answers
  with the secondary only while the secondary is healthy; when both are unhealthy it keeps
  answering with the primary instead of sending everyone to a standby known to be broken. (With
  no check on the secondary, Route 53 would fail over to it regardless of its health.)
* alias records have no TTL: answers for an ALB alias carry the load balancer's fixed 60 s TTL,
  which is within the 60 s ceiling for failover records.
* a public zone the component creates (``create_zone``) logs its DNS queries to
  ``/aws/route53/<zone_name>`` in us-east-1 (FSBP Route53.2; see ``components.dns_query_logging``).
  A zone that is looked up belongs to whoever created it, and so does its query logging.

Sources (Route 53 API reference, as botocore ships it in ``botocore/data/route53/*/service-2.json``,
and the developer guide):

* failover answers by the health of PRIMARY and SECONDARY, and a SECONDARY without a health check
  is answered regardless of its health: ``ResourceRecordSet.Failover``'s documentation;
* alias records carry the alias target's TTL: ``ResourceRecordSet.TTL`` ("omit TTL. Amazon Route
  53 uses the value of TTL for the alias target"); the ALB's own DNS TTL is 60 s, see
  https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html
  ("Request routing": TTL of 60 seconds) and the Route 53 FAQ (https://aws.amazon.com/route53/faqs/: alias records
  for ELB have a fixed TTL of 60 seconds);
* an HTTP(S) check is healthy on a status from 200 to 399: ``HealthCheckConfig.Type``;
* request intervals within 10..30 s and failure thresholds 1..10: ``HealthCheckConfig.RequestInterval``
  and ``FailureThreshold`` (also in policy/guardrails/api_limits.json); the developer guide's
  "Values that you specify" (URL below) offers the interval as standard 30 s or fast 10 s;
* a check a calculated check still lists cannot be deleted: ``DeleteHealthCheck`` raises
  ``HealthCheckInUse``;
* an alarm-backed check keeps the alarm settings it copied until it is updated:
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-deleting.html
  ("Updating health checks for CloudWatch alarm changes");
* Route 53 does not validate the certificate of an HTTPS endpoint check:
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.alarm_math import ELB_ALIAS_TTL_SECONDS
from components.dns_query_logging import create_query_logging
from policy.guardrails.limits import CLOUDWATCH_RETENTION_DAYS

HEALTH_CHECK_INTERVALS = (10, 30)
"""Request intervals Route 53 endpoint health checks accept (10 s is the "fast" option)."""

FAILURE_THRESHOLD_RANGE = (1, 10)
"""Consecutive failures (inclusive bounds) Route 53 accepts before a check turns unhealthy."""

ROLE_IDENTIFIERS = {"PRIMARY": "primary", "SECONDARY": "secondary"}
"""Failover role -> set identifier of the record that plays it (stable across switch-overs)."""

EFFECTIVE_TTL_SECONDS = ELB_ALIAS_TTL_SECONDS
"""TTL resolvers see on the failover answers (set by AWS for ALB alias targets)."""

ALARM_FINGERPRINT_TAG = "AlarmConfiguration"
"""Tag of an alarm-backed health check holding the fingerprint of the alarm settings it copied."""

ALARM_CHECK_REPLACE_ON_CHANGES = (
    f"tags.{ALARM_FINGERPRINT_TAG}",
    "cloudwatchAlarmName",
    "cloudwatchAlarmRegion",
)
"""Inputs of an alarm-backed check whose change replaces it, so Route 53 copies the alarm anew."""

_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{8,64}$")
_LABEL_RE = re.compile(r"^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$")


@dataclass(frozen=True)
class EnvironmentEndpoint:
    """One environment's load balancer and the alarm that says its dependencies are reachable."""

    alb_dns_name: pulumi.Input[str]
    """DNS name of the environment's ALB (alias target and health-check FQDN)."""
    alb_zone_id: pulumi.Input[str]
    """Canonical hosted zone ID of that ALB (``LoadBalancer.zone_id``)."""
    aggregate_alarm_name: pulumi.Input[str]
    """Name of the environment's ConnectivityAlarms aggregate alarm."""
    aggregate_alarm_fingerprint: str
    """Fingerprint of that alarm's evaluation settings
    (``ConnectivityAlarms.aggregate_alarm_fingerprints``): a change replaces the alarm check."""
    health_path: str = "/health"
    """Path the HTTP(S) check requests; healthy on a 2xx or 3xx answer."""
    port: int = 80
    """Port the HTTP(S) check connects to."""
    protocol: Literal["HTTP", "HTTPS"] = "HTTP"
    """Health-check protocol. Route 53 does not validate the certificate for HTTPS checks."""


@dataclass(frozen=True)
class BlueGreenDnsArgs:
    """Inputs of :class:`BlueGreenDns`."""

    zone_name: str
    """Hosted zone the record lives in (``example.com``)."""
    record_name: str
    """Leftmost label of the service name (``api`` -> ``api.example.com``)."""
    primary: str
    """Environment that gets the PRIMARY role (setting ``dns.primary``)."""
    environments: Mapping[str, EnvironmentEndpoint]
    """Exactly two environments by name (``blue``, ``green``)."""
    alarm_region: pulumi.Input[str]
    """Region of the aggregate alarms (``ConnectivityAlarms.region``)."""
    create_zone: bool = False
    """Create a public hosted zone named ``zone_name`` instead of looking one up; it logs its DNS
    queries to CloudWatch Logs in us-east-1."""
    query_log_retention_days: int = 30
    """Days the query log group of a created zone keeps its logs (a CloudWatch retention value)."""
    health_check_interval: int = 10
    """Seconds between a Route 53 checker's requests: 10 (fast) or 30."""
    failure_threshold: int = 3
    """Consecutive failed requests before an endpoint check is unhealthy (1..10)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for the health checks, a created zone and its query log group."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"BlueGreenDnsArgs.{arg} must be {allowed} (got {value!r})")


def validate_args(args: BlueGreenDnsArgs) -> None:
    """Raise ValueError naming the argument, its value and what is allowed."""
    if not args.zone_name or not all(
        _LABEL_RE.match(label) for label in args.zone_name.rstrip(".").split(".")
    ):
        raise _problem("zone_name", args.zone_name, "a DNS name such as 'example.com'")
    if not args.record_name or not _LABEL_RE.match(args.record_name):
        raise _problem("record_name", args.record_name, "one DNS label such as 'api'")
    names = sorted(args.environments)
    if len(names) != 2:
        raise _problem("environments", names, "exactly 2 environments for active/passive failover")
    if args.primary not in args.environments:
        raise _problem("primary", args.primary, f"one of {names}")
    interval = args.health_check_interval
    if isinstance(interval, bool) or interval not in HEALTH_CHECK_INTERVALS:
        raise _problem("health_check_interval", interval, f"one of {list(HEALTH_CHECK_INTERVALS)}")
    low, high = FAILURE_THRESHOLD_RANGE
    threshold = args.failure_threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not low <= threshold <= high
    ):
        raise _problem("failure_threshold", threshold, f"a whole number from {low} to {high}")
    retention = args.query_log_retention_days
    if isinstance(retention, bool) or retention not in CLOUDWATCH_RETENTION_DAYS:
        raise _problem(
            "query_log_retention_days",
            retention,
            f"a CloudWatch Logs retention value ({', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))})",
        )
    for env, endpoint in args.environments.items():
        where = f"environments[{env!r}]"
        if endpoint.protocol not in ("HTTP", "HTTPS"):
            raise _problem(f"{where}.protocol", endpoint.protocol, "'HTTP' or 'HTTPS'")
        port = endpoint.port
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise _problem(f"{where}.port", port, "a port from 1 to 65535")
        if not endpoint.health_path.startswith("/") or len(endpoint.health_path) > 255:
            raise _problem(f"{where}.health_path", endpoint.health_path, "a path starting with '/'")
        fingerprint = endpoint.aggregate_alarm_fingerprint
        if not isinstance(fingerprint, str) or not _FINGERPRINT_RE.match(fingerprint):
            raise _problem(
                f"{where}.aggregate_alarm_fingerprint",
                fingerprint,
                "the alarm's settings fingerprint (ConnectivityAlarms.aggregate_alarm_fingerprints)",
            )


def failover_roles(environments: Mapping[str, object], primary: str) -> dict[str, str]:
    """Failover role -> environment: ``{"PRIMARY": primary, "SECONDARY": the other one}``."""
    others = [env for env in environments if env != primary]
    return {"PRIMARY": primary, "SECONDARY": others[0]}


class BlueGreenDns(pulumi.ComponentResource):
    """Failover DNS for two environments, driven by health checks and a ``primary`` setting.

    Guarantees:

    * ``<record_name>.<zone_name>`` resolves to the ``primary`` environment's ALB while that
      environment's calculated check is healthy, and to the other environment's ALB while the
      primary is unhealthy and the other is healthy;
    * an environment is healthy only while both its ``/health`` answers (HTTP(S) check) and its
      connectivity aggregate alarm is OK; no alarm data counts as unhealthy;
    * both records are alias records with ``evaluate_target_health`` on, so an ALB with no healthy
      targets also counts as unhealthy;
    * changing ``primary`` swaps the targets of the PRIMARY and SECONDARY records in place (no
      record or health check is replaced);
    * changing the settings of an environment's aggregate alarm replaces its alarm check
      (create-before-delete), so Route 53 never judges the environment by stale alarm settings;
    * resolvers cache answers for at most 60 s (the ALB alias TTL);
    * a zone it creates logs every DNS query Route 53 answers for it, kept for
      ``query_log_retention_days``.
    """

    fqdn: pulumi.Output[str]
    """``<record_name>.<zone_name>``."""
    zone_id: pulumi.Output[str]
    """Hosted zone ID the records live in."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """environment -> ID of its calculated health check (the one attached to its record)."""
    endpoint_health_check_ids: dict[str, pulumi.Output[str]]
    """environment -> ID of its HTTP(S) health check."""
    alarm_health_check_ids: dict[str, pulumi.Output[str]]
    """environment -> ID of its CLOUDWATCH_METRIC health check."""
    primary: str
    """Environment currently holding the PRIMARY role."""
    secondary: str
    """Environment currently holding the SECONDARY role."""
    name_servers: pulumi.Output[Sequence[str]] | None
    """Name servers of the zone when this component created it (to delegate to), else None."""
    query_log_group_name: pulumi.Output[str] | None
    """us-east-1 log group holding the DNS query logs of a zone this component created, else
    None."""

    def __init__(
        self,
        name: str,
        args: BlueGreenDnsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:blue_green_dns:BlueGreenDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone_name = args.zone_name.rstrip(".")
        tags = dict(args.tags)

        if args.create_zone:
            zone = aws.route53.Zone(
                f"{name}-zone",
                aws.route53.ZoneArgs(name=zone_name, comment=f"{name} failover zone", tags=tags),
                opts=child,
            )
            self.zone_id = zone.zone_id
            self.name_servers = zone.name_servers
            logging = create_query_logging(
                self,
                name,
                zone=zone,
                zone_name=zone_name,
                retention_days=args.query_log_retention_days,
                tags=tags,
            )
            self.query_log_group_name = logging.log_group.name
        else:
            found = aws.route53.get_zone_output(
                name=zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            self.zone_id = found.zone_id
            self.name_servers = None
            self.query_log_group_name = None

        self.health_check_ids = {}
        self.endpoint_health_check_ids = {}
        self.alarm_health_check_ids = {}
        for env, endpoint in args.environments.items():
            endpoint_check = aws.route53.HealthCheck(
                f"{name}-{env}-http",
                aws.route53.HealthCheckArgs(
                    type=endpoint.protocol,
                    fqdn=endpoint.alb_dns_name,
                    port=endpoint.port,
                    resource_path=endpoint.health_path,
                    request_interval=args.health_check_interval,
                    failure_threshold=args.failure_threshold,
                    tags={**tags, "Name": f"{name}-{env}-http"},
                ),
                opts=child,
            )
            alarm_check = aws.route53.HealthCheck(
                f"{name}-{env}-alarm",
                aws.route53.HealthCheckArgs(
                    type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=endpoint.aggregate_alarm_name,
                    cloudwatch_alarm_region=args.alarm_region,
                    insufficient_data_health_status="Unhealthy",
                    tags={
                        **tags,
                        "Name": f"{name}-{env}-alarm",
                        ALARM_FINGERPRINT_TAG: endpoint.aggregate_alarm_fingerprint,
                    },
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, replace_on_changes=list(ALARM_CHECK_REPLACE_ON_CHANGES)
                ),
            )
            calculated = aws.route53.HealthCheck(
                f"{name}-{env}-health",
                aws.route53.HealthCheckArgs(
                    type="CALCULATED",
                    child_healthchecks=[endpoint_check.id, alarm_check.id],
                    child_health_threshold=2,
                    tags={**tags, "Name": f"{name}-{env}-health"},
                ),
                opts=child,
            )
            self.endpoint_health_check_ids[env] = endpoint_check.id
            self.alarm_health_check_ids[env] = alarm_check.id
            self.health_check_ids[env] = calculated.id

        roles = failover_roles(args.environments, args.primary)
        self.primary, self.secondary = roles["PRIMARY"], roles["SECONDARY"]
        fqdn = f"{args.record_name}.{zone_name}"
        for role, env in roles.items():
            endpoint = args.environments[env]
            identifier = ROLE_IDENTIFIERS[role]
            aws.route53.Record(
                f"{name}-{identifier}",
                aws.route53.RecordArgs(
                    zone_id=self.zone_id,
                    name=fqdn,
                    type="A",
                    set_identifier=identifier,
                    failover_routing_policies=[
                        aws.route53.RecordFailoverRoutingPolicyArgs(type=role)
                    ],
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=endpoint.alb_dns_name,
                            zone_id=endpoint.alb_zone_id,
                            evaluate_target_health=True,
                        )
                    ],
                    health_check_id=self.health_check_ids[env],
                ),
                opts=child,
            )
        self.fqdn = pulumi.Output.from_input(fqdn)

        self.register_outputs(
            {
                "fqdn": self.fqdn,
                "zone_id": self.zone_id,
                "health_check_ids": self.health_check_ids,
                "primary": self.primary,
                "secondary": self.secondary,
                "query_log_group_name": self.query_log_group_name,
            }
        )
