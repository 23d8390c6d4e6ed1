"""The typed model of a stack's configuration, with the defaults every stack starts from.

Each group is one structured config key (`steadystate:network`, `steadystate:service`, ...) whose
fields are written in camelCase in `Pulumi.<stack>.yaml`. Field defaults here are the single source
of defaults: Pulumi replaces an object-valued key wholesale, so the program fills in what a stack
leaves out. Rules shared with the policy pack come from `policy.guardrails.limits`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from components.fault_switch import fault_problem, key_problem
from components.image_retention import pinned_tag_problem
from policy.guardrails import create_time, limits

from .fields import setting

# The NAT layouts components.network.NetworkArgs accepts; pyright holds the two in step.
NatStrategy = Literal["none", "single", "perAz"]

TARGET_RANGE = f"{limits.TARGET_VALUE_LOW}–{limits.TARGET_VALUE_HIGH} (same function as the policy)"
RETENTION = f"a CloudWatch retention value ≥ {limits.LOG_RETENTION_MINIMUM_DAYS}"


def _retention(days: int) -> str | None:
    return limits.log_retention_problem(days)


def _zone_count(count: int) -> str | None:
    if problem := limits.zone_count_problem(count):
        return (
            f"{problem}: the load balancers and the hosts' Auto Scaling group span the stack's "
            "zones, and the gate refuses either in one zone (lb-multi-az, autoscaling-group-multi-az)"
        )
    return None


def _access_logs(enabled: bool) -> str | None:
    if problem := limits.access_logs_problem(enabled):
        return (
            f"must be true ({problem} would be refused by the gate in every stack, "
            "lb-access-logs-enabled): the access log is the only per-request record of who "
            "called the service"
        )
    return None


def _step_tasks(tasks: int) -> str | None:
    # The step policy adds stepTasks, and twice as many FAST_SCALE_OUT_BAND points higher
    # (components.service): both steps are judged like step-scaling-bounded judges them.
    if problem := limits.step_adjustment_problem(2 * tasks):
        return (
            f"the larger step (twice stepTasks) {problem}: the gate refuses it "
            f"(step-scaling-bounded); at most {limits.FAST_SCALE_OUT_MAX_STEP // 2}"
        )
    return None


def _scale_out_cooldown(seconds: int) -> str | None:
    if problem := limits.scale_out_cooldown_problem(seconds):
        return (
            f"{problem}: a longer cooldown holds the next scale-out back during a spike (the gate "
            "refuses it, autoscaling-scale-out-cooldown)"
        )
    return None


def _cooldown_range(low: int) -> str:
    return f"{low}–{limits.SCALE_OUT_COOLDOWN_CEILING_SECONDS} (same function as the policy)"


def _ipv4_network(value: str) -> str | None:
    try:
        net = ipaddress.IPv4Network(value)
    except ValueError as err:
        return f"must be an IPv4 network in CIDR notation like 10.0.0.0/16 ({err})"
    if not 16 <= net.prefixlen <= 22:
        return "prefix length must be between /16 and /22 (room for 3 tiers in up to 6 zones)"
    return None


def _cidr_list(values: list[str]) -> str | None:
    for index, value in enumerate(values):
        try:
            ipaddress.IPv4Network(value)
        except ValueError as err:
            return f"item {index} ({value!r}) is not an IPv4 network: {err}"
    return None


def _instance_type(value: str) -> str | None:
    if not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9]+", value):
        return "must be an EC2 instance type like t3.small or m6i.large"
    if re.fullmatch(r"[a-z]+\d+g[a-z]*", value.split(".")[0]):
        return (
            "is an arm64 (Graviton) type; the image is built for linux/amd64 and the AMI is the "
            "x86_64 one, so pick an x86_64 type like t3.small or m6i.large"
        )
    return None


def _arn_of(service: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if re.fullmatch(rf"arn:aws[a-z-]*:{service}:[a-z0-9-]+:\d{{12}}:.+", value):
            return None
        return f"must be an ARN of {service} like arn:aws:{service}:us-east-2:123456789012:..."

    return check


def _email_list(values: list[str]) -> str | None:
    for index, value in enumerate(values):
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            return f"item {index} ({value!r}) is not an email address"
    return None


def _https_urls(values: list[str]) -> str | None:
    for index, value in enumerate(values):
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?", value):
            return (
                f"item {index} must be an https:// URL like https://hooks.example.com/alerts "
                "(SNS delivers to http:// in the clear, so it is not allowed)"
            )
    if len(set(values)) != len(values):
        return "webhook URLs must be unique"
    return None


def _dns_name(value: str) -> str | None:
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if re.fullmatch(rf"{label}(\.{label})+\.?", value.lower()):
        return None
    return "must be a DNS name like example.com"


def _metric_namespace(value: str) -> str | None:
    """A CloudWatch namespace AWS accepts: PutMetricAlarm's ``Namespace`` limits (botocore, via
    policy/guardrails/api_limits.json), and not under ``AWS/``, which PutMetricData's
    documentation keeps for AWS services' own metrics."""
    alarm_namespace = create_time.limit("aws:cloudwatch/metricAlarm:MetricAlarm", "namespace")
    if problem := create_time.value_problem(alarm_namespace, value):
        return problem
    if value.startswith("AWS/"):
        return "must not begin with AWS/ (CloudWatch keeps those namespaces for AWS services)"
    return None


_SERVICE_KEY = re.compile(r"[a-z][a-z0-9-]*-(fleet|onebox)")
_DIGEST_REF = re.compile(r"\S+@sha256:[0-9a-f]{64}")


def _service_keys(values: list[str]) -> str | None:
    for index, value in enumerate(values):
        if not _SERVICE_KEY.fullmatch(value):
            return f"item {index} ({value!r}) is not a service key like blue-onebox or blue-fleet"
    return None


def _pins(value: dict) -> str | None:
    for key, pin in value.items():
        if not _SERVICE_KEY.fullmatch(str(key)):
            return f"key {key!r} is not a service key like blue-onebox or blue-fleet"
        if not isinstance(pin, dict) or set(pin) != {"image", "version"}:
            return f"{key}: must be an object with exactly image and version"
        if not isinstance(pin["image"], str) or not _DIGEST_REF.fullmatch(pin["image"]):
            return f"{key}.image must be pinned by digest: <repository>@sha256:<64 hex>"
        if not isinstance(pin["version"], str) or not pin["version"]:
            return f"{key}.version must be a non-empty string"
        if problem := pinned_tag_problem(pin["version"]):
            return f"{key}.version: {problem}"
    return None


def _faults(value: dict) -> str | None:
    for key, faults in value.items():
        if not _SERVICE_KEY.fullmatch(str(key)):
            return f"key {key!r} is not a service key like blue-onebox"
        if problem := key_problem(str(key)) or fault_problem(faults):
            return f"{key}: {problem}"
    return None


def _dns_label(value: str) -> str | None:
    if re.fullmatch(r"(?!-)[a-z0-9-]{1,63}(?<!-)", value.lower()):
        return None
    return "must be a single DNS label like api"


def _environment_names(values: list[str]) -> str | None:
    for index, value in enumerate(values):
        if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", value):
            return (
                f"item {index} ({value!r}) must be lower-case letters/digits, at most 10 characters"
            )
    if len(set(values)) != len(values):
        return "names must be unique"
    if not 1 <= len(values) <= 2:
        return "must name one environment, or two for blue/green"
    return None


def _dependencies(values: list[dict]) -> str | None:
    if not values:
        # The connectivity alarms (and DNS failover's alarm-backed check) follow the prober's
        # dependencies: with none, the program would have nothing to build them from.
        return "must name at least one dependency: the connectivity alarms follow them"
    for index, dep in enumerate(values):
        if not isinstance(dep, dict) or set(dep) - {"name", "target"} or "name" not in dep:
            return f"item {index} must be an object with 'name' and optional 'target' (tcp://host:port or https://url)"
        if not re.fullmatch(r"[a-z][a-z0-9]{0,19}", str(dep["name"])):
            return f"item {index} name {dep['name']!r} must be lower-case letters/digits"
        target = dep.get("target")
        if target is not None and not re.fullmatch(
            r"(tcp://[^:/\s]+:\d+|https?://\S+)", str(target)
        ):
            return f"item {index} target {target!r} must look like tcp://host:port or https://host/path"
    names = [d["name"] for d in values]
    if len(set(names)) != len(names):
        return "dependency names must be unique"
    return None


_ZONE_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+[a-z]")
_ZONE_ID = re.compile(r"[a-z]{3,5}\d+-az\d+")


def _zone_refs(values: list[str]) -> str | None:
    if not values:
        return "must name at least one zone (leave it unset to choose zones from the region)"
    for index, value in enumerate(values):
        if not (_ZONE_NAME.fullmatch(value) or _ZONE_ID.fullmatch(value)):
            return (
                f"item {index} ({value!r}) is not a zone ID like use2-az1 or a name like us-east-2a"
            )
    if len(set(values)) != len(values):
        return "must not repeat a zone"
    return None


@dataclass(frozen=True)
class NetworkSettings:
    """`steadystate:network` — the VPC and how it reaches AWS services."""

    cidr: str = setting(
        "10.20.0.0/16",
        "VPC IPv4 range",
        check=_ipv4_network,
        allowed="/16–/22, not overlapping 172.17.0.0/16 or avoidCidrs",
    )
    availability_zones: int = setting(
        2,
        "zones to spread subnets over",
        maximum=6,
        check=_zone_count,
        allowed=f"{limits.MULTI_AZ_MINIMUM}–6 (same function as the policy)",
    )
    zones: list[str] | None = setting(
        None,
        "the stack's zones, pinned: zone IDs (use2-az1, the same place in every account) or names; "
        "null = the first availabilityZones zone names of the region, in any state (`up` warns "
        "with the command that pins them). Only ever append",
        kind=list,
        item_kind=str,
        nullable=True,
        check=_zone_refs,
        allowed="zone IDs like use2-az1 or names like us-east-2a, as many as availabilityZones",
    )
    nat_strategy: NatStrategy = setting(
        "single",
        "NAT gateways: none, one shared, or one per zone",
        choices=get_args(NatStrategy),
    )
    interface_endpoints: bool = setting(
        True, "interface endpoints for ECR, logs, Secrets Manager and SSM (billed per zone-hour)"
    )
    flow_log_retention_days: int = setting(
        30, "days to keep VPC flow logs", check=_retention, allowed=RETENTION
    )
    avoid_cidrs: list[str] = setting(
        [],
        "networks the VPC must not overlap (peered VPCs, VPN, on-premises)",
        item_kind=str,
        check=_cidr_list,
    )


@dataclass(frozen=True)
class ClusterSettings:
    """`steadystate:cluster` — EC2 capacity behind the ECS capacity provider."""

    instance_type: str = setting(
        "t3.small",
        "EC2 instance type of container hosts",
        check=_instance_type,
        allowed="an x86_64 type (the image is linux/amd64)",
    )
    min_instances: int = setting(
        1, "smallest size of the auto scaling group", minimum=0, maximum=100
    )
    max_instances: int = setting(
        4, "largest size of the auto scaling group", minimum=1, maximum=100
    )
    target_capacity_percent: int = setting(
        100,
        "capacity provider managed-scaling target (100 = no idle hosts)",
        minimum=1,
        maximum=100,
    )
    managed_termination_protection: bool = setting(
        False, "keep hosts with running tasks from being scaled in (slows `pulumi destroy`)"
    )
    root_volume_gib: int = setting(30, "encrypted gp3 root volume size", minimum=30, maximum=1000)
    enable_fargate: bool = setting(False, "also attach the FARGATE capacity provider")
    enable_fargate_spot: bool = setting(False, "also attach the FARGATE_SPOT capacity provider")
    container_insights: str = setting(
        "enabled", "Container Insights level", choices=("enabled", "enhanced")
    )
    capacity_per_environment: bool = setting(
        False,
        "each environment on hosts of its own: its own launch template, Auto Scaling group and "
        "capacity provider (minInstances/maxInstances per environment), host changes rolled one "
        "environment at a time (prod with two environments: must be true)",
    )


@dataclass(frozen=True)
class ImageSettings:
    """`steadystate:image` — the ECR repository the app image is pushed to."""

    keep_images: int = setting(20, "images the lifecycle policy keeps", minimum=2, maximum=1000)
    context: str = setting("app", "Docker build context, relative to the project")


@dataclass(frozen=True)
class HealthCheckSettings:
    """`steadystate:service.healthCheck` — the target group's check of `/health`."""

    path: str = setting("/health", "path the load balancer probes")
    interval: int = setting(10, "seconds between checks", minimum=5, maximum=300)
    timeout: int = setting(3, "seconds to wait for an answer", minimum=2, maximum=120)
    healthy_threshold: int = setting(
        2, "successes before a target takes traffic", minimum=2, maximum=10
    )
    unhealthy_threshold: int = setting(
        2, "failures before a target stops taking traffic", minimum=2, maximum=10
    )


@dataclass(frozen=True)
class FastScaleOutSettings:
    """`steadystate:service.fastScaleOut` — add tasks within a minute of a load step.

    A 10-second alarm on the task CPU the prober publishes drives a step policy; target tracking
    keeps steady state and scale-in.
    """

    enabled: bool = setting(False, "step scaling on the prober's 10 s task-CPU metric")
    cpu_threshold: int = setting(
        85,
        "average task CPU, percent, above which tasks are added (above service.cpuTarget)",
        minimum=20,
        maximum=99,
    )
    datapoints: int = setting(
        3,
        "consecutive 10 s periods above the threshold before tasks are added",
        minimum=limits.FAST_SCALE_OUT_MIN_DATAPOINTS,
        maximum=6,
    )
    step_tasks: int = setting(
        2,
        f"tasks added per step ({limits.FAST_SCALE_OUT_BAND} points above the threshold: twice as many)",
        minimum=1,
        check=_step_tasks,
        allowed=f"1–{limits.FAST_SCALE_OUT_MAX_STEP // 2} (twice it is the larger step; same "
        "function as the policy)",
    )
    cooldown: int = setting(
        60,
        "seconds after a step before the next",
        minimum=limits.FAST_SCALE_OUT_MIN_COOLDOWN,
        check=_scale_out_cooldown,
        allowed=_cooldown_range(limits.FAST_SCALE_OUT_MIN_COOLDOWN),
    )


@dataclass(frozen=True)
class ServiceSettings:
    """`steadystate:service` — the ECS service, its tasks and target tracking."""

    cpu: int = setting(256, "task CPU units (1024 = one vCPU)", minimum=128, maximum=10240)
    memory: int = setting(512, "task memory in MiB", minimum=128, maximum=30720)
    container_port: int = setting(8080, "port the app listens on", minimum=1024, maximum=65535)
    min_tasks: int = setting(1, "autoscaling minimum", minimum=0, maximum=1000)
    max_tasks: int = setting(4, "autoscaling maximum", minimum=1, maximum=1000)
    cpu_target: int = setting(
        80,
        "target tracking on average CPU, percent",
        check=lambda v: limits.target_value_problem(v),
        allowed=TARGET_RANGE,
    )
    memory_target: int | None = setting(
        None,
        "optional target tracking on average memory, percent",
        kind=int,
        nullable=True,
        check=lambda v: limits.target_value_problem(v),
        allowed=TARGET_RANGE,
    )
    requests_per_target: int | None = setting(
        None,
        "optional target tracking on ALB requests per target per minute",
        kind=int,
        nullable=True,
        minimum=1,
        maximum=100000,
    )
    scale_out_cooldown: int = setting(
        60,
        "seconds between scale-out steps",
        minimum=0,
        check=_scale_out_cooldown,
        allowed=_cooldown_range(0),
    )
    scale_in_cooldown: int = setting(300, "seconds between scale-in steps", minimum=0, maximum=3600)
    health_check_grace_period: int = setting(
        30,
        "seconds ECS ignores load balancer health after a task starts",
        maximum=7200,
        check=lambda v: limits.grace_period_problem(v),
        allowed=f"{limits.HEALTH_CHECK_GRACE_MINIMUM_SECONDS}–7200",
    )
    deregistration_delay: int = setting(
        15, "seconds the ALB drains a deregistering target", minimum=0, maximum=3600
    )
    stop_timeout: int = setting(
        30, "seconds between SIGTERM and SIGKILL for a task's containers", minimum=2, maximum=120
    )
    log_retention_days: int = setting(
        30, "days to keep container logs", check=_retention, allowed=RETENTION
    )
    minimum_healthy_percent: int = setting(
        100, "deployment floor, percent of desired", minimum=0, maximum=100
    )
    maximum_percent: int = setting(
        200, "deployment ceiling, percent of desired", minimum=100, maximum=200
    )
    health_check: HealthCheckSettings = field(default_factory=HealthCheckSettings)
    fast_scale_out: FastScaleOutSettings = field(default_factory=FastScaleOutSettings)


@dataclass(frozen=True)
class LoadBalancerSettings:
    """`steadystate:loadBalancer` — the public ALB of each environment."""

    certificate_arn: str | None = setting(
        None,
        "ACM certificate for HTTPS; HTTP then redirects to HTTPS",
        kind=str,
        nullable=True,
        check=_arn_of("acm"),
    )
    certificate_domain: str | None = setting(
        None,
        "domain of an issued ACM certificate to look up instead of naming its ARN",
        kind=str,
        nullable=True,
        check=_dns_name,
    )
    deletion_protection: bool = setting(False, "refuse to delete the load balancer")
    access_logs: bool = setting(
        True,
        "write access logs to an S3 bucket in the stack",
        check=_access_logs,
        allowed="true (the gate refuses a load balancer without access logs)",
    )
    access_log_retention_days: int = setting(
        90, "days to keep access logs", minimum=1, maximum=3650
    )
    idle_timeout: int = setting(60, "connection idle timeout in seconds", minimum=1, maximum=4000)
    waf: bool = setting(
        True,
        "AWS WAF web ACL (AWS managed core rule set and known bad inputs) in front of every load "
        "balancer, its requests logged (prod: must be true)",
    )
    waf_log_retention_days: int = setting(
        90, "days to keep the WAF request logs", check=_retention, allowed=RETENTION
    )


@dataclass(frozen=True)
class ReleaseSettings:
    """`steadystate:release` — onebox/fleet: a new image meets 1 % of traffic before the fleet."""

    onebox: bool = setting(False, "run a onebox service beside the fleet")
    onebox_weight: int = setting(
        1, "listener weight of the onebox target group", minimum=0, maximum=999
    )
    fleet_weight: int = setting(
        99, "listener weight of the fleet target group", minimum=1, maximum=999
    )
    onebox_tasks: int = setting(
        1, "fixed task count of the onebox service (prod: at least 2)", minimum=1, maximum=10
    )
    rollout: list[str] | None = setting(
        None,
        "services (`<env>-<role>`) that take this run's image; null = every onebox (every fleet "
        "without onebox). Set per `up` by the release pipeline, never in Pulumi.<stack>.yaml",
        kind=list,
        item_kind=str,
        nullable=True,
        check=_service_keys,
        allowed="service keys like blue-onebox, blue-fleet",
    )
    pins: dict | None = setting(
        None,
        "set services to a given release: `{<env>-<role>: {image: <repo>@sha256:…, version: …}}` "
        "(the pipeline's rollback; per `up`, never committed)",
        kind=dict,
        nullable=True,
        check=_pins,
        allowed="an object of service keys to {image: digest reference, version: string}",
    )
    faults: dict | None = setting(
        None,
        "turn an app fault on in a onebox release: `{<env>-onebox: {latencyMs: 1..60000}}` "
        "(FAULT_LATENCY_MS and APP_ALLOW_FAULTS=true on that service only; `ops.release.pipeline "
        "--fault`, the bad-release experiment; per `up`, never committed)",
        kind=dict,
        nullable=True,
        check=_faults,
        allowed="an object of onebox service keys to {latencyMs: 1..60000}",
    )
    host_rollout: list[str] | None = setting(
        None,
        "environments whose hosts take this run's AMI, instance type and user data (with "
        "cluster.capacityPerEnvironment); null = the first environment (dns.primary). Set per `up` "
        "by the release pipeline's host step, never in Pulumi.<stack>.yaml",
        kind=list,
        item_kind=str,
        nullable=True,
        allowed="environment names of this stack",
    )
    latency_threshold_seconds: float = setting(
        3.0,
        "deployment alarm: target response time above this is a bad release",
        kind=float,
        minimum=0.1,
        maximum=60,
    )
    latency_datapoints: int = setting(
        3, "deployment alarm: breaching minutes needed", minimum=1, maximum=10
    )
    latency_evaluation_periods: int = setting(
        4, "deployment alarm: minutes looked at", minimum=1, maximum=10
    )
    error_rate_percent: float = setting(
        5.0,
        "deployment alarm: target 5xx share above this is a bad release",
        kind=float,
        minimum=0.1,
        maximum=100,
    )
    error_min_requests: int = setting(
        10,
        "5xx alarm: minutes with fewer requests count as healthy (noise guard)",
        minimum=0,
        maximum=100000,
    )
    error_datapoints: int = setting(2, "5xx alarm: breaching minutes needed", minimum=1, maximum=10)
    error_evaluation_periods: int = setting(
        2, "5xx alarm: minutes looked at", minimum=1, maximum=10
    )

    def follows(self, key: str) -> bool:
        """Does ``key``'s pin take this run's image? ``rollout`` says; unset: the oneboxes (the
        fleets without onebox) follow and the fleets hold."""
        if self.rollout is not None:
            return key in self.rollout
        return key.endswith("-onebox" if self.onebox else "-fleet")

    def moves(self, key: str) -> bool:
        """Does ``key``'s pin change in this ``up`` (it follows, or ``pins`` sets it)?"""
        return self.follows(key) or key in (self.pins or {})


@dataclass(frozen=True)
class DnsSettings:
    """`steadystate:dns` — Route 53 failover between the blue and green environments."""

    enabled: bool = setting(False, "create failover records and health checks")
    zone_name: str = setting(
        "example.com", "hosted zone looked up (or created) by name", check=_dns_name
    )
    record_name: str = setting("api", "record inside the zone", check=_dns_label)
    create_zone: bool = setting(
        False, "create the hosted zone instead of looking it up (it logs its DNS queries)"
    )
    query_log_retention_days: int = setting(
        30,
        "days to keep a created zone's DNS query logs (us-east-1 log group)",
        check=_retention,
        allowed=RETENTION,
    )
    primary: str = setting("blue", "environment that takes traffic while healthy")
    health_check_interval: int = setting(10, "Route 53 HTTP check interval", choices=(10, 30))
    failure_threshold: int = setting(3, "failed checks before unhealthy", minimum=1, maximum=10)


@dataclass(frozen=True)
class ConnectivitySettings:
    """`steadystate:connectivity` — prober metrics, their alarms and who hears about them."""

    namespace: str = setting(
        "steadystate",
        "CloudWatch namespace of `<dependency>-connectivity`",
        check=_metric_namespace,
        allowed="1–255 characters, not starting with ':' or 'AWS/'",
    )
    dependencies: list[dict] = setting(
        [{"name": "db"}, {"name": "cdn", "target": "https://aws.amazon.com/"}],
        "probed dependencies: name plus tcp://host:port or https URL (db defaults to the database)",
        item_kind=dict,
        check=_dependencies,
    )
    probe_interval_seconds: int = setting(10, "seconds between probes", minimum=5, maximum=60)
    alarm_emails: list[str] = setting(
        [],
        "addresses subscribed to the alarm topic (prod: at least one subscriber in all)",
        item_kind=str,
        check=_email_list,
    )
    alarm_webhooks: list[str] = setting(
        [],
        "HTTPS endpoints subscribed to the alarm topic (each must confirm the subscription)",
        item_kind=str,
        check=_https_urls,
        allowed="https:// URLs, no duplicates",
    )


@dataclass(frozen=True)
class DatabaseSettings:
    """`steadystate:database` — the private Postgres instance."""

    enabled: bool = setting(False, "create the database")
    instance_class: str = setting(
        "db.t4g.micro",
        "RDS instance class",
        check=lambda v: None if v.startswith("db.") else "must start with db.",
    )
    allocated_storage: int = setting(20, "GiB of gp3 storage", minimum=20, maximum=65536)
    max_allocated_storage: int = setting(
        100, "storage autoscaling ceiling, GiB", minimum=20, maximum=65536
    )
    engine_version: str = setting("16", "Postgres major version", choices=("14", "15", "16", "17"))
    multi_az: bool = setting(False, "standby in a second zone")
    deletion_protection: bool = setting(False, "refuse to delete the instance")
    backup_retention_days: int = setting(
        7,
        "automated backup retention",
        maximum=35,
        check=lambda v: limits.backup_retention_problem(v),
        allowed=f"{limits.BACKUP_RETENTION_MINIMUM_DAYS}–35",
    )
    performance_insights: bool = setting(False, "enable Performance Insights")
    final_snapshot: bool = setting(False, "take a final snapshot on delete")
    rotation_days: int | None = setting(
        30,
        "days between scheduled rotations of the app's database credentials (alternating users: "
        "no refused login); null = rotate by hand only (prod: 1–30 required)",
        kind=int,
        nullable=True,
        minimum=1,
        maximum=30,
    )


@dataclass(frozen=True)
class OperationsSettings:
    """`steadystate:operations` — how people look inside: ECS Exec, dashboard."""

    ecs_exec: bool = setting(True, "allow ECS Exec sessions (logged) instead of SSH")
    dashboard: bool = setting(True, "create the CloudWatch dashboard")


@dataclass(frozen=True)
class ChaosSettings:
    """`steadystate:chaos` — AWS FIS experiment templates, run on a schedule (the resiliency-testing
    article: at least every 4-5 weeks, in business hours)."""

    enabled: bool = setting(False, "create the FIS experiment templates and their schedules")
    schedules_enabled: bool = setting(
        True, "schedules ENABLED (false: templates run by hand only; prod requires true)"
    )
    cadence: str = setting(
        "monthly",
        "weekly (dev: more often), or monthly (each template on its own week: never more than 35 "
        "days apart)",
        choices=("weekly", "monthly"),
    )
    weekday: str = setting(
        "TUE",
        "day of the week the schedules run (the window's day)",
        choices=limits.BUSINESS_DAYS,
    )
    hour: int = setting(
        10,
        "hour the schedules start, in timezone (the window: business hours)",
        minimum=limits.BUSINESS_HOURS_START,
        maximum=limits.BUSINESS_HOURS_END - 1,
    )
    timezone: str = setting(
        "UTC",
        "IANA time zone of weekday and hour",
        check=lambda v: None if re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", v) else "an IANA zone",
    )
    fault_duration_minutes: int = setting(
        5, "minutes the dependency cut lasts", minimum=1, maximum=30
    )
    guard_5xx_per_minute: int = setting(
        50, "5xx in a minute that stop a running experiment", minimum=1, maximum=100000
    )
    az_experiment: bool = setting(
        False,
        "create the az-power-interruption template: one zone's hosts stopped, launches there "
        "refused, its subnets cut, the database failed over (multiAz); at the cadence, on the "
        "business day after weekday",
    )
    az_experiment_zone: str | None = setting(
        None,
        "the zone the AZ experiment takes down: one of the stack's zones, by ID (use2-az1) or "
        "name; null = the stack's first zone, or its last with one NAT gateway (natStrategy single, "
        "whose gateway sits in the first)",
        kind=str,
        nullable=True,
        check=lambda v: _zone_refs([v]),
        allowed="a zone ID like use2-az1 or a name like us-east-2a, one of the stack's zones",
    )
    az_outage_minutes: int = setting(
        30,
        "minutes the AZ experiment keeps the zone's hosts stopped and its launches refused (the "
        "FIS scenario's default: 30)",
        minimum=5,
        maximum=60,
    )


def _practice_days(values: list[str]) -> str | None:
    if not values:
        return "must name at least one day (null: the business days except chaos.weekday)"
    for index, value in enumerate(values):
        if value not in limits.BUSINESS_DAYS:
            return f"item {index} ({value!r}) is not one of {', '.join(limits.BUSINESS_DAYS)}"
    if len(set(values)) != len(values):
        return "must not repeat a day"
    return None


@dataclass(frozen=True)
class ZonalShiftSettings:
    """`steadystate:zonalShift` — ARC zonal shift on every load balancer, and zonal autoshift with
    its weekly practice runs (Route 53 ARC developer guide, "Zonal autoshift")."""

    enabled: bool = setting(
        True,
        "ARC zonal shift integration on every load balancer (zonal_shift.config.enabled; free; "
        "prod: must be true)",
    )
    autoshift: bool | None = setting(
        None,
        "zonal autoshift: AWS shifts traffic out of an impaired zone, and practises it weekly for "
        "30 minutes, guarded by the environment's alarms; null = on in prod, off in dev (prod: "
        "must not be false)",
        kind=bool,
        nullable=True,
    )
    practice_days: list[str] | None = setting(
        None,
        "days ARC may start a practice run (UTC); null = the business days except chaos.weekday, "
        "so a practice run never meets a chaos experiment",
        kind=list,
        item_kind=str,
        nullable=True,
        check=_practice_days,
        allowed=f"days among {', '.join(limits.BUSINESS_DAYS)}, no repeats",
    )
    practice_start_hour: int = setting(
        limits.BUSINESS_HOURS_START,
        "first hour (UTC) of each practice window (ARC's windows are UTC only)",
        minimum=limits.BUSINESS_HOURS_START,
        maximum=limits.BUSINESS_HOURS_END - 1,
    )
    practice_end_hour: int = setting(
        limits.BUSINESS_HOURS_END,
        "hour (UTC) each practice window ends; a run lasts about 30 minutes",
        minimum=limits.BUSINESS_HOURS_START + 1,
        maximum=limits.BUSINESS_HOURS_END,
    )


@dataclass(frozen=True)
class TeardownSettings:
    """`steadystate:teardown` — arm the stack for `pulumi destroy` (set it, `pulumi up`, then
    `pulumi destroy`); off, prod's data is protected."""

    allow_data_loss: bool = setting(
        False,
        "arm `pulumi destroy`: deletion protection off (load balancers, database), the image "
        "repository and log buckets deleted with their images and logs; the database still leaves "
        "its final snapshot. Tagged Teardown=armed; the policy teardown-armed reports it",
    )


@dataclass(frozen=True)
class Settings:
    """The whole validated configuration of one stack."""

    stage: str = setting(
        "dev", "dev or prod: prod turns on the stricter guardrails", choices=("dev", "prod")
    )
    environments: list[str] = setting(
        ["blue"],
        "environment names; two (blue, green) for DNS failover",
        item_kind=str,
        check=_environment_names,
    )
    network: NetworkSettings = field(default_factory=NetworkSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    image: ImageSettings = field(default_factory=ImageSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    load_balancer: LoadBalancerSettings = field(default_factory=LoadBalancerSettings)
    release: ReleaseSettings = field(default_factory=ReleaseSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    connectivity: ConnectivitySettings = field(default_factory=ConnectivitySettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    chaos: ChaosSettings = field(default_factory=ChaosSettings)
    zonal_shift: ZonalShiftSettings = field(default_factory=ZonalShiftSettings)
    teardown: TeardownSettings = field(default_factory=TeardownSettings)

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def autoshift(self) -> bool:
        """Is zonal autoshift on? ``zonalShift.autoshift``, or unset: in prod."""
        chosen = self.zonal_shift.autoshift
        return self.is_prod if chosen is None else chosen

    def probed_dependencies(self) -> list[dict]:
        """Dependencies the prober can reach: those with a target, and `db` with the database."""
        return [
            dep
            for dep in self.connectivity.dependencies
            if dep.get("target") or (dep["name"] == "db" and self.database.enabled)
        ]
