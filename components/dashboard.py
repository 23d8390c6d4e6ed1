"""One CloudWatch dashboard per stack with the service's health at a glance.

:func:`build_dashboard_body` is a pure function of plain strings and returns the dashboard body
as a dict (tested on its own); :class:`Dashboard` resolves its inputs with ``Output.from_input``
and serialises that dict, creating no resource inside ``apply``.

Rows, top to bottom: load balancer traffic per target group (requests, p99 latency, target 5xx;
one line per target group, so onebox and fleet sit side by side), the same per zone (healthy hosts,
5xx, p99 latency by ``AvailabilityZone``), ECS service health (running vs
desired tasks, CPU, memory), cluster capacity (capacity provider reservation), dependency
connectivity per environment, the state of every alarm, the database, and the chaos results:
per experiment (chaostoolkit's and the stack's FIS templates, ``fis-<key>``) the runs that
succeeded, deviated, aborted and failed, the error rate during the fault and the time to recover,
over 90 days.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from chaos.metrics import ERROR_RATE_METRIC, FIS_PREFIX, NAMESPACE, OUTCOME_METRICS, RECOVERY_METRIC
from components.connectivity_alarms import AGGREGATE_METRIC, HOST_DIMENSION, metric_name

GRID_WIDTH = 24
"""Width of the CloudWatch dashboard grid."""

ALARM_WIDGET_LIMIT = 100
"""Most alarms one alarm-status widget can show."""

PERIOD_SECONDS = 60
"""Period of every graph."""

CHAOS_RESULTS_RANGE = "-P90D"
"""Time range of the chaos results row: resilience tracked over at least 90 days."""

CHAOS_PERIOD_SECONDS = 86400
"""One point per day on the chaos results row (experiments run weekly to monthly)."""

CHAOS_OUTCOME_METRICS = OUTCOME_METRICS
CHAOS_ERROR_RATE_METRIC = ERROR_RATE_METRIC
CHAOS_RECOVERY_METRIC = RECOVERY_METRIC
"""Metric names ``chaos.metrics`` publishes for every run, chaostoolkit's (``chaos.run``) and
FIS's (the run recorder), with dimensions ``Experiment`` and ``Stack``."""

_HALF, _THIRD, _HEIGHT = GRID_WIDTH // 2, GRID_WIDTH // 3, 6


@dataclass(frozen=True)
class DashboardArgs:
    """Inputs of :class:`Dashboard`; the widget count is known before deploy."""

    region: pulumi.Input[str]
    """Region of every metric on the dashboard."""
    load_balancers: Mapping[str, pulumi.Input[str]]
    """environment -> ALB ``arn_suffix`` (``app/<name>/<id>``)."""
    target_groups: Mapping[str, pulumi.Input[str]]
    """label (``blue-fleet``) -> target group ``arn_suffix`` (``targetgroup/<name>/<id>``)."""
    services: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]]
    """label (``blue-fleet``) -> (cluster name, service name)."""
    cluster_name: pulumi.Input[str]
    """ECS cluster of the capacity provider."""
    capacity_provider_name: pulumi.Input[str]
    """EC2 capacity provider with managed scaling."""
    connectivity_namespace: str
    """Namespace of the prober's ``<dependency>-connectivity`` metrics."""
    environments: Sequence[str]
    """Values of the prober's ``Host`` dimension."""
    dependencies: Sequence[str]
    """Dependencies the prober checks."""
    alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Alarms shown in the alarm-status widget (at most 100)."""
    database_identifier: pulumi.Input[str] | None = None
    """RDS instance identifier; None leaves the database row out."""
    target_group_environments: Mapping[str, str] = field(default_factory=dict)
    """label -> key of ``load_balancers`` for target groups whose label does not start with
    ``<environment>-``; needed because ALB target-group metrics need both dimensions."""
    dashboard_name: str | None = None
    """Dashboard name; None derives ``<project>-<stack>-<component name>``."""
    chaos_namespace: str | None = NAMESPACE
    """Namespace the chaos runs publish their outcome metrics into (dimensions Experiment,
    Stack); None leaves the chaos row out."""
    chaos_experiments: Sequence[str] = ()
    """chaostoolkit experiments whose results the chaos row graphs, one line each, by explicit
    metric name and dimensions (a SEARCH only finds metrics reported in the last two weeks: at a
    monthly cadence it would be empty between runs)."""
    fis_experiments: Sequence[str] = ()
    """Keys of the stack's FIS templates (``ChaosExperiments.template_ids``); graphed as
    ``fis-<key>``, the ``Experiment`` their runs are published under."""
    zones: Sequence[str] = ()
    """The stack's zone names; with them, a row per zone: healthy hosts per target group, and
    the load balancers' 5xx and p99 latency in that zone."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"DashboardArgs.{arg} must be {allowed} (got {value!r})")


def target_group_environment(
    label: str, load_balancers: Mapping[str, Any], overrides: Mapping[str, str]
) -> str:
    """Which load balancer a target group belongs to.

    An explicit entry in ``overrides`` wins; else the label's prefix before the first ``-``
    (``blue-fleet`` -> ``blue``); else the only load balancer when there is one.
    """
    if label in overrides:
        env = overrides[label]
        if env not in load_balancers:
            raise _problem(
                f"target_group_environments[{label!r}]", env, f"one of {sorted(load_balancers)}"
            )
        return env
    prefix = label.split("-", 1)[0]
    if prefix in load_balancers:
        return prefix
    if len(load_balancers) == 1:
        return next(iter(load_balancers))
    raise _problem(
        "target_group_environments",
        dict(overrides),
        f"a mapping for target group {label!r} to one of {sorted(load_balancers)}",
    )


def validate_args(args: DashboardArgs) -> None:
    """Raise ValueError naming the argument, its value and what is allowed."""
    if not args.load_balancers and args.target_groups:
        raise _problem("load_balancers", dict(args.load_balancers), "non-empty with target_groups")
    for label in args.target_groups:
        target_group_environment(label, args.load_balancers, args.target_group_environments)
    for arg in ("chaos_experiments", "fis_experiments"):
        names = getattr(args, arg)
        if isinstance(names, str) or not all(
            re.match(r"^[A-Za-z0-9_.-]{1,250}$", name) for name in names
        ):
            raise _problem(arg, names, "a list of experiment names")
    if isinstance(args.zones, str) or len(set(args.zones)) != len(args.zones):
        raise _problem("zones", args.zones, "a list of distinct zone names")
    if isinstance(args.environments, str) or isinstance(args.dependencies, str):
        raise _problem("environments/dependencies", args.environments, "lists of names")
    if len(args.alarm_arns) > ALARM_WIDGET_LIMIT:
        raise _problem("alarm_arns", len(args.alarm_arns), f"at most {ALARM_WIDGET_LIMIT} alarms")
    if args.dashboard_name is not None and not re.match(
        r"^[A-Za-z0-9_-]{1,255}$", args.dashboard_name
    ):
        raise _problem("dashboard_name", args.dashboard_name, "1-255 of letters, digits, '-', '_'")


def dashboard_name_for(project: str, stack: str, name: str) -> str:
    """``<project>-<stack>-<name>`` with characters CloudWatch refuses replaced by ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{project}-{stack}-{name}")[:255]


def _metric_widget(
    title: str,
    metrics: list[list[Any]],
    region: str,
    *,
    stat: str,
    width: int,
    y_axis: dict[str, Any] | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "stat": stat,
        "period": PERIOD_SECONDS,
        "metrics": metrics,
    }
    if y_axis:
        properties["yAxis"] = y_axis
    return {"type": "metric", "width": width, "height": _HEIGHT, "properties": properties}


def _place(rows: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Give each widget x/y: rows top to bottom, widgets left to right, wrapping at 24."""
    placed: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        x, row_height = 0, 0
        for widget in row:
            if x + widget["width"] > GRID_WIDTH:
                y, x, row_height = y + row_height, 0, 0
            placed.append({**widget, "x": x, "y": y})
            x += widget["width"]
            row_height = max(row_height, widget["height"])
        y += row_height
    return placed


def zone_widgets(
    region: str,
    load_balancers: Mapping[str, str],
    target_groups: Mapping[str, str],
    zones: Sequence[str],
    overrides: Mapping[str, str],
    *,
    width: int,
) -> list[dict[str, Any]]:
    """Per zone (the ``AvailabilityZone`` dimension, ELB user guide "CloudWatch metrics for your
    Application Load Balancer": per-AZ views for the load balancer, and per AZ per target group):
    healthy hosts of every target group in that zone, and each load balancer's 5xx (target and its
    own) and p99 target response time as reported by its node in that zone (with cross-zone load
    balancing a node's requests may go to targets in any zone)."""
    hosts, errors, latency = [], [], []
    for zone in zones:
        for label, suffix in target_groups.items():
            env = target_group_environment(label, load_balancers, overrides)
            hosts.append(
                [
                    "AWS/ApplicationELB",
                    "HealthyHostCount",
                    "AvailabilityZone",
                    zone,
                    "LoadBalancer",
                    load_balancers[env],
                    "TargetGroup",
                    suffix,
                    {"label": f"{zone} {label}"},
                ]
            )
        for env, lb in load_balancers.items():
            dims = ["AvailabilityZone", zone, "LoadBalancer", lb]
            errors.append(
                [
                    "AWS/ApplicationELB",
                    "HTTPCode_Target_5XX_Count",
                    *dims,
                    {"label": f"{zone} {env} target"},
                ]
            )
            errors.append(
                [
                    "AWS/ApplicationELB",
                    "HTTPCode_ELB_5XX_Count",
                    *dims,
                    {"label": f"{zone} {env} load balancer"},
                ]
            )
            latency.append(
                ["AWS/ApplicationELB", "TargetResponseTime", *dims, {"label": f"{zone} {env}"}]
            )
    return [
        _metric_widget(
            "Healthy hosts per zone (Minimum)",
            hosts,
            region,
            stat="Minimum",
            width=width,
            y_axis={"left": {"min": 0}},
        ),
        _metric_widget("5xx per zone", errors, region, stat="Sum", width=width),
        _metric_widget(
            "Target response time p99 per zone (s)", latency, region, stat="p99", width=width
        ),
    ]


def build_dashboard_body(
    *,
    region: str,
    load_balancers: Mapping[str, str],
    target_groups: Mapping[str, str],
    services: Mapping[str, Sequence[str]],
    cluster_name: str,
    capacity_provider_name: str,
    connectivity_namespace: str,
    environments: Sequence[str],
    dependencies: Sequence[str],
    alarm_arns: Sequence[str] = (),
    database_identifier: str | None = None,
    target_group_environments: Mapping[str, str] | None = None,
    chaos_namespace: str | None = None,
    chaos_experiments: Sequence[str] = (),
    stack: str = "",
    fis_experiments: Sequence[str] = (),
    zones: Sequence[str] = (),
) -> dict[str, Any]:
    """The dashboard body (``{"widgets": [...]}``) from resolved, plain values."""
    overrides = target_group_environments or {}
    rows: list[list[dict[str, Any]]] = [
        [
            {
                "type": "text",
                "width": GRID_WIDTH,
                "height": 1,
                "properties": {
                    "markdown": f"## {cluster_name}: traffic, tasks, capacity, dependencies"
                },
            }
        ]
    ]

    if target_groups:

        def per_target_group(metric: str, **options: Any) -> list[list[Any]]:
            lines = []
            for label, suffix in target_groups.items():
                env = target_group_environment(label, load_balancers, overrides)
                lines.append(
                    [
                        "AWS/ApplicationELB",
                        metric,
                        "TargetGroup",
                        suffix,
                        "LoadBalancer",
                        load_balancers[env],
                        {"label": label, **options},
                    ]
                )
            return lines

        rows.append(
            [
                _metric_widget(
                    "Requests per target group",
                    per_target_group("RequestCount"),
                    region,
                    stat="Sum",
                    width=_THIRD,
                ),
                _metric_widget(
                    "Target response time p99 (s)",
                    per_target_group("TargetResponseTime"),
                    region,
                    stat="p99",
                    width=_THIRD,
                ),
                _metric_widget(
                    "Target 5xx per target group",
                    per_target_group("HTTPCode_Target_5XX_Count"),
                    region,
                    stat="Sum",
                    width=_THIRD,
                ),
            ]
        )

    if target_groups and zones:
        rows.append(
            zone_widgets(region, load_balancers, target_groups, zones, overrides, width=_THIRD)
        )

    if services:
        tasks, cpu, memory = [], [], []
        for label, (cluster, service) in services.items():
            dims = ["ClusterName", cluster, "ServiceName", service]
            tasks.append(
                ["ECS/ContainerInsights", "RunningTaskCount", *dims, {"label": f"{label} running"}]
            )
            tasks.append(
                ["ECS/ContainerInsights", "DesiredTaskCount", *dims, {"label": f"{label} desired"}]
            )
            cpu.append(["AWS/ECS", "CPUUtilization", *dims, {"label": label}])
            memory.append(["AWS/ECS", "MemoryUtilization", *dims, {"label": label}])
        percent = {"left": {"min": 0, "max": 100}}
        rows.append(
            [
                _metric_widget(
                    "Running vs desired tasks", tasks, region, stat="Average", width=_THIRD
                ),
                _metric_widget(
                    "Service CPU (%)", cpu, region, stat="Average", width=_THIRD, y_axis=percent
                ),
                _metric_widget(
                    "Service memory (%)",
                    memory,
                    region,
                    stat="Average",
                    width=_THIRD,
                    y_axis=percent,
                ),
            ]
        )

    capacity_row = [
        _metric_widget(
            "Capacity provider reservation (%)",
            [
                [
                    "AWS/ECS/ManagedScaling",
                    "CapacityProviderReservation",
                    "ClusterName",
                    cluster_name,
                    "CapacityProviderName",
                    capacity_provider_name,
                    {"label": capacity_provider_name},
                ]
            ],
            region,
            stat="Average",
            width=_HALF,
            y_axis={"left": {"min": 0}},
        )
    ]
    if alarm_arns:
        capacity_row.append(
            {
                "type": "alarm",
                "width": _HALF,
                "height": _HEIGHT,
                "properties": {
                    "title": "Alarm states",
                    "alarms": list(alarm_arns),
                    "sortBy": "stateUpdatedTimestamp",
                },
            }
        )
    rows.append(capacity_row)

    connectivity_row = []
    for env in environments:
        lines = [
            [
                connectivity_namespace,
                metric_name(dependency),
                HOST_DIMENSION,
                env,
                {"label": dependency},
            ]
            for dependency in dependencies
        ]
        lines.append(
            [connectivity_namespace, AGGREGATE_METRIC, HOST_DIMENSION, env, {"label": "all"}]
        )
        connectivity_row.append(
            _metric_widget(
                f"Connectivity: {env} (1 = reachable)",
                lines,
                region,
                stat="Minimum",
                width=max(_THIRD, GRID_WIDTH // max(len(environments), 1)),
                y_axis={"left": {"min": 0, "max": 1}},
            )
        )
    if connectivity_row:
        rows.append(connectivity_row)

    if database_identifier is not None:
        dims = ["DBInstanceIdentifier", database_identifier]
        rows.append(
            [
                _metric_widget(
                    "Database connections",
                    [["AWS/RDS", "DatabaseConnections", *dims, {"label": database_identifier}]],
                    region,
                    stat="Maximum",
                    width=_HALF,
                ),
                _metric_widget(
                    "Database CPU (%)",
                    [["AWS/RDS", "CPUUtilization", *dims, {"label": database_identifier}]],
                    region,
                    stat="Average",
                    width=_HALF,
                    y_axis={"left": {"min": 0, "max": 100}},
                ),
            ]
        )

    experiments = [*chaos_experiments, *(f"{FIS_PREFIX}{key}" for key in fis_experiments)]
    if chaos_namespace and experiments:
        # The resiliency-testing article: publish the results of regular resilience tests to dashboards, over time.
        def per_experiment(metric: str) -> list[list[Any]]:
            return [
                [chaos_namespace, metric, "Experiment", name, "Stack", stack, {"label": name}]
                for name in experiments
            ]

        def results_widget(title: str, metric: str, stat: str, y_axis: dict) -> dict[str, Any]:
            widget = _metric_widget(
                title, per_experiment(metric), region, stat=stat, width=_THIRD, y_axis=y_axis
            )
            widget["properties"].update(
                period=CHAOS_PERIOD_SECONDS, start=CHAOS_RESULTS_RANGE, view="timeSeries"
            )
            return widget

        counts = {"left": {"min": 0}}
        outcome_widgets = [
            results_widget(f"Chaos runs that {outcome} per day, 90 days", metric, "Sum", counts)
            for outcome, metric in CHAOS_OUTCOME_METRICS.items()
        ]
        rows.append(
            [
                *outcome_widgets,
                results_widget(
                    "Chaos: error rate during the fault (%), 90 days",
                    CHAOS_ERROR_RATE_METRIC,
                    "Maximum",
                    {"left": {"min": 0}},
                ),
                results_widget(
                    "Chaos: time to recover (s), 90 days",
                    CHAOS_RECOVERY_METRIC,
                    "Maximum",
                    {"left": {"min": 0}},
                ),
            ]
        )

    return {"widgets": _place(rows)}


class Dashboard(pulumi.ComponentResource):
    """A CloudWatch dashboard for one stack.

    Guarantees: one dashboard whose body is valid JSON with, when the inputs provide them,
    requests / p99 latency / target 5xx per target group, per zone healthy hosts / 5xx / p99
    latency, running vs desired tasks, CPU and
    memory per service, capacity provider reservation, connectivity per environment (every
    dependency and the aggregate), the state of every given alarm, database connections, and
    the chaos results of the experiments given.
    The name is derived from project, stack and component name unless given.
    """

    dashboard_name: pulumi.Output[str]
    """Name of the dashboard."""
    dashboard_arn: pulumi.Output[str]
    """ARN of the dashboard."""
    url: pulumi.Output[str]
    """Console URL of the dashboard."""

    def __init__(
        self,
        name: str,
        args: DashboardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:dashboard:Dashboard", name, None, opts)
        dashboard_name = args.dashboard_name or dashboard_name_for(
            pulumi.get_project(), pulumi.get_stack(), name
        )
        spec = pulumi.Output.all(
            region=args.region,
            load_balancers=dict(args.load_balancers),
            target_groups=dict(args.target_groups),
            services={label: list(pair) for label, pair in args.services.items()},
            cluster_name=args.cluster_name,
            capacity_provider_name=args.capacity_provider_name,
            alarm_arns=list(args.alarm_arns),
            database_identifier=args.database_identifier,
        )
        body = spec.apply(
            lambda resolved: json.dumps(
                build_dashboard_body(
                    **resolved,
                    connectivity_namespace=args.connectivity_namespace,
                    environments=list(args.environments),
                    dependencies=list(args.dependencies),
                    target_group_environments=dict(args.target_group_environments),
                    chaos_namespace=args.chaos_namespace,
                    chaos_experiments=list(args.chaos_experiments),
                    fis_experiments=list(args.fis_experiments),
                    zones=list(args.zones),
                    stack=pulumi.get_stack(),
                ),
                sort_keys=True,
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            aws.cloudwatch.DashboardArgs(dashboard_name=dashboard_name, dashboard_body=body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = dashboard.dashboard_name
        self.dashboard_arn = dashboard.dashboard_arn
        self.url = pulumi.Output.concat(
            "https://",
            args.region,
            ".console.aws.amazon.com/cloudwatch/home?region=",
            args.region,
            "#dashboards/dashboard/",
            dashboard.dashboard_name,
        )
        self.register_outputs(
            {"dashboard_name": self.dashboard_name, "dashboard_arn": self.dashboard_arn}
        )
