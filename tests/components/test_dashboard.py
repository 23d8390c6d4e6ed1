"""Dashboard: the pure body builder widget by widget, then the component under mocks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pytest

from components.dashboard import (
    GRID_WIDTH,
    Dashboard,
    DashboardArgs,
    build_dashboard_body,
    dashboard_name_for,
    target_group_environment,
)

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

PLAIN: dict[str, Any] = {
    "region": "us-east-2",
    "load_balancers": {"blue": "app/blue-alb/1111", "green": "app/green-alb/2222"},
    "target_groups": {
        "blue-fleet": "targetgroup/blue-fleet/aaaa",
        "blue-onebox": "targetgroup/blue-onebox/bbbb",
        "green-fleet": "targetgroup/green-fleet/cccc",
    },
    "services": {
        "blue-fleet": ("steady-cluster", "blue-fleet-svc"),
        "blue-onebox": ("steady-cluster", "blue-onebox-svc"),
    },
    "cluster_name": "steady-cluster",
    "capacity_provider_name": "steady-cp",
    "connectivity_namespace": "steadystate",
    "environments": ["blue", "green"],
    "dependencies": ["db", "cdn"],
    "alarm_arns": [
        "arn:aws:cloudwatch:us-east-2:123456789012:alarm:a",
        "arn:aws:cloudwatch:us-east-2:123456789012:alarm:b",
    ],
    "database_identifier": "db-1234",
}


@pytest.fixture
def body() -> dict[str, Any]:
    # Round-trip through JSON exactly as the component does.
    return json.loads(json.dumps(build_dashboard_body(**PLAIN)))


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    matches = [w for w in body["widgets"] if w["properties"].get("title") == title]
    assert len(matches) == 1, [w["properties"].get("title") for w in body["widgets"]]
    return matches[0]


def lines(body: dict[str, Any], title: str) -> list[list[Any]]:
    return widget(body, title)["properties"]["metrics"]


def test_requests_latency_and_5xx_per_target_group(body) -> None:
    for title, metric, stat in (
        ("Requests per target group", "RequestCount", "Sum"),
        ("Target response time p99 (s)", "TargetResponseTime", "p99"),
        ("Target 5xx per target group", "HTTPCode_Target_5XX_Count", "Sum"),
    ):
        assert widget(body, title)["properties"]["stat"] == stat
        got = {line[-1]["label"]: line[:-1] for line in lines(body, title)}
        assert got == {
            "blue-fleet": [
                "AWS/ApplicationELB",
                metric,
                "TargetGroup",
                "targetgroup/blue-fleet/aaaa",
                "LoadBalancer",
                "app/blue-alb/1111",
            ],
            "blue-onebox": [
                "AWS/ApplicationELB",
                metric,
                "TargetGroup",
                "targetgroup/blue-onebox/bbbb",
                "LoadBalancer",
                "app/blue-alb/1111",
            ],
            "green-fleet": [
                "AWS/ApplicationELB",
                metric,
                "TargetGroup",
                "targetgroup/green-fleet/cccc",
                "LoadBalancer",
                "app/green-alb/2222",
            ],
        }


ZONES = ["us-east-2a", "us-east-2b"]


def test_per_zone_healthy_hosts_5xx_and_latency() -> None:
    """The ``AvailabilityZone`` dimension: per zone and target group for ``HealthyHostCount``,
    per zone and load balancer for the 5xx counts and ``TargetResponseTime`` (ELB user guide,
    "CloudWatch metrics for your Application Load Balancer": per-AZ and per-AZ per-TG views)."""
    zonal = json.loads(json.dumps(build_dashboard_body(**PLAIN, zones=ZONES)))
    hosts = lines(zonal, "Healthy hosts per zone (Minimum)")
    assert len(hosts) == len(ZONES) * len(PLAIN["target_groups"])
    assert hosts[0] == [
        "AWS/ApplicationELB",
        "HealthyHostCount",
        "AvailabilityZone",
        "us-east-2a",
        "LoadBalancer",
        "app/blue-alb/1111",
        "TargetGroup",
        "targetgroup/blue-fleet/aaaa",
        {"label": "us-east-2a blue-fleet"},
    ]
    errors = lines(zonal, "5xx per zone")
    assert {(line[1], line[3], line[5]) for line in errors} == {
        (metric, zone, lb)
        for metric in ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count")
        for zone in ZONES
        for lb in PLAIN["load_balancers"].values()
    }
    latency = widget(zonal, "Target response time p99 per zone (s)")["properties"]
    assert latency["stat"] == "p99"
    assert {(line[3], line[5]) for line in latency["metrics"]} == {
        (zone, lb) for zone in ZONES for lb in PLAIN["load_balancers"].values()
    }
    titles = [w["properties"].get("title") for w in build_dashboard_body(**PLAIN)["widgets"]]
    assert "5xx per zone" not in titles  # no zones given: no zone row


def test_running_vs_desired_tasks_per_service(body) -> None:
    got = {line[-1]["label"]: line[:-1] for line in lines(body, "Running vs desired tasks")}
    dims = ["ClusterName", "steady-cluster", "ServiceName", "blue-onebox-svc"]
    assert got["blue-onebox running"] == ["ECS/ContainerInsights", "RunningTaskCount", *dims]
    assert got["blue-onebox desired"] == ["ECS/ContainerInsights", "DesiredTaskCount", *dims]
    assert len(got) == 4


def test_cpu_and_memory_per_service(body) -> None:
    for title, metric in (
        ("Service CPU (%)", "CPUUtilization"),
        ("Service memory (%)", "MemoryUtilization"),
    ):
        got = {line[-1]["label"]: line[:-1] for line in lines(body, title)}
        assert got["blue-fleet"] == [
            "AWS/ECS",
            metric,
            "ClusterName",
            "steady-cluster",
            "ServiceName",
            "blue-fleet-svc",
        ]


def test_capacity_provider_reservation(body) -> None:
    (line,) = lines(body, "Capacity provider reservation (%)")
    assert line[:-1] == [
        "AWS/ECS/ManagedScaling",
        "CapacityProviderReservation",
        "ClusterName",
        "steady-cluster",
        "CapacityProviderName",
        "steady-cp",
    ]


@pytest.mark.parametrize("env", ["blue", "green"])
def test_connectivity_per_environment(body, env: str) -> None:
    connectivity = widget(body, f"Connectivity: {env} (1 = reachable)")
    assert connectivity["properties"]["stat"] == "Minimum"
    got = [line[:-1] for line in connectivity["properties"]["metrics"]]
    assert got == [
        ["steadystate", "db-connectivity", "Host", env],
        ["steadystate", "cdn-connectivity", "Host", env],
        ["steadystate", "all-connectivity", "Host", env],
    ]


def test_alarm_status_widget(body) -> None:
    alarms = widget(body, "Alarm states")
    assert alarms["type"] == "alarm"
    assert alarms["properties"]["alarms"] == PLAIN["alarm_arns"]


def test_database_connections(body) -> None:
    (line,) = lines(body, "Database connections")
    assert line[:-1] == ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", "db-1234"]


def test_every_metric_widget_is_in_region_and_layout_fits_the_grid(body) -> None:
    for w in body["widgets"]:
        assert {"x", "y", "width", "height", "type", "properties"} <= set(w)
        assert w["x"] >= 0 and w["x"] + w["width"] <= GRID_WIDTH
        if w["type"] == "metric":
            assert w["properties"]["region"] == "us-east-2"
            assert w["properties"]["period"] == 60
    cells = set()
    for w in body["widgets"]:
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells, f"overlap at {(x, y)}"
                cells.add((x, y))


def test_optional_rows_are_left_out() -> None:
    sparse = build_dashboard_body(
        **{
            **PLAIN,
            "target_groups": {},
            "services": {},
            "alarm_arns": [],
            "database_identifier": None,
        }
    )
    types = [w["properties"].get("title") for w in sparse["widgets"]]
    assert "Requests per target group" not in types
    assert "Alarm states" not in types
    assert "Database connections" not in types
    assert "Capacity provider reservation (%)" in types


def test_target_group_environment_resolution() -> None:
    lbs = PLAIN["load_balancers"]
    assert target_group_environment("blue-fleet", lbs, {}) == "blue"
    assert target_group_environment("canary", lbs, {"canary": "green"}) == "green"
    assert target_group_environment("anything", {"only": "x"}, {}) == "only"
    with pytest.raises(ValueError, match=r"DashboardArgs\.target_group_environments"):
        target_group_environment("canary", lbs, {})


# -- component --------------------------------------------------------------------------------


def component_args() -> DashboardArgs:
    return DashboardArgs(
        region=pulumi.Output.from_input("us-east-2"),
        load_balancers={
            env: pulumi.Output.from_input(v) for env, v in PLAIN["load_balancers"].items()
        },
        target_groups={k: pulumi.Output.from_input(v) for k, v in PLAIN["target_groups"].items()},
        services={k: (pulumi.Output.from_input(c), s) for k, (c, s) in PLAIN["services"].items()},
        cluster_name=pulumi.Output.from_input("steady-cluster"),
        capacity_provider_name="steady-cp",
        connectivity_namespace="steadystate",
        environments=["blue", "green"],
        dependencies=["db", "cdn"],
        alarm_arns=[pulumi.Output.from_input(a) for a in PLAIN["alarm_arns"]],
        database_identifier=pulumi.Output.from_input("db-1234"),
    )


def build(args: DashboardArgs | None = None) -> Dashboard:
    dashboard = Dashboard("ops", args or component_args())
    pulumi.export("name", dashboard.dashboard_name)
    pulumi.export("url", dashboard.url)
    return dashboard


def test_component_resolves_outputs_into_the_same_body(mocked) -> None:
    rec = mocked(build)
    (dashboard,) = rec.of_type(DASHBOARD)
    expected = build_dashboard_body(**PLAIN, chaos_namespace="steadystate/chaos", stack="test")
    assert json.loads(dashboard.inputs["dashboardBody"]) == json.loads(json.dumps(expected))
    assert dashboard.parent == rec.named("ops").urn
    assert rec.named("ops").type == "steadystate:dashboard:Dashboard"


def test_component_name_is_derived_per_stack(mocked) -> None:
    rec = mocked(build, stack="prod")
    (dashboard,) = rec.of_type(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == "steadystate-prod-ops"
    assert rec.outputs["name"] == "steadystate-prod-ops"
    assert rec.outputs["url"].endswith("#dashboards/dashboard/steadystate-prod-ops")
    assert dashboard_name_for("p", "my stack", "x") == "p-my-stack-x"


def test_explicit_name(mocked) -> None:
    rec = mocked(lambda: build(dataclasses.replace(component_args(), dashboard_name="Steady")))
    assert rec.of_type(DASHBOARD)[0].inputs["dashboardName"] == "Steady"


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"alarm_arns": ["arn"] * 101}, "alarm_arns"),
        ({"target_groups": {"canary": "targetgroup/c/1"}}, "target_group_environments"),
        ({"dashboard_name": "bad name!"}, "dashboard_name"),
        ({"zones": ["us-east-2a", "us-east-2a"]}, "zones"),
    ],
)
def test_invalid_args_raise_naming_the_argument(change: dict, arg: str) -> None:
    args = DashboardArgs(
        **{**PLAIN, "services": PLAIN["services"], **change}  # plain values are valid inputs
    )
    with pytest.raises(ValueError, match=rf"DashboardArgs\.{arg} must be"):
        Dashboard("ops", args)


def chaos_widgets(body: dict) -> dict[str, dict]:
    """The chaos row's widgets by the metric they graph."""
    widgets = [
        w["properties"] for w in body["widgets"] if "Chaos" in w["properties"].get("title", "")
    ]
    return {w["metrics"][0][1]: w for w in widgets}


def test_chaos_results_of_this_stack_are_graphed_by_explicit_metrics_over_90_days() -> None:
    from chaos import metrics as chaos_metrics
    from chaos.runner import experiment_names

    names = experiment_names()
    body = build_dashboard_body(
        **PLAIN, chaos_namespace=chaos_metrics.NAMESPACE, chaos_experiments=names, stack="prod",
        fis_experiments=["stop-task", "dependency-db"],
    )  # fmt: skip
    assert "SEARCH" not in json.dumps(body)  # SEARCH finds only metrics of the last two weeks
    widgets = chaos_widgets(body)
    metrics = [*chaos_metrics.OUTCOME_METRICS.values(), chaos_metrics.ERROR_RATE_METRIC,
               chaos_metrics.RECOVERY_METRIC]  # fmt: skip
    assert sorted(widgets) == sorted(metrics)
    graphed = [*names, "fis-stop-task", "fis-dependency-db"]
    for metric, widget in widgets.items():
        assert widget["metrics"] == [
            [chaos_metrics.NAMESPACE, metric, "Experiment", name, "Stack", "prod", {"label": name}]
            for name in graphed
        ]
        assert widget["start"] == "-P90D" and widget["period"] == 86400
    assert {"kill-one-task", "kill-a-container-host"} <= set(names)
    for metric in chaos_metrics.OUTCOME_METRICS.values():
        assert widgets[metric]["stat"] == "Sum"  # runs with that outcome per day
    assert widgets[chaos_metrics.ERROR_RATE_METRIC]["stat"] == "Maximum"
    assert widgets[chaos_metrics.RECOVERY_METRIC]["stat"] == "Maximum"
    chaos_row = [w for w in body["widgets"] if "Chaos" in w["properties"].get("title", "")]
    assert sum(w["width"] for w in chaos_row) == 2 * 24  # two full rows of three
    without = build_dashboard_body(**PLAIN, chaos_namespace=None, chaos_experiments=names)
    assert all("Chaos" not in w["properties"].get("title", "") for w in without["widgets"])
    none_listed = build_dashboard_body(**PLAIN, chaos_namespace=chaos_metrics.NAMESPACE)
    assert all("Chaos" not in w["properties"].get("title", "") for w in none_listed["widgets"])
    fis_only = build_dashboard_body(
        **PLAIN, chaos_namespace=chaos_metrics.NAMESPACE, fis_experiments=["stop-task"]
    )
    assert [m[3] for m in chaos_widgets(fis_only)["ExperimentFailed"]["metrics"]] == [
        "fis-stop-task"
    ]


def test_the_composition_lists_every_experiment_for_the_dashboard(mocked) -> None:
    from chaos.runner import experiment_names

    rec = mocked(lambda: build(dataclasses.replace(component_args(), chaos_experiments=["a-b"])))
    body = json.loads(rec.of_type(DASHBOARD)[0].inputs["dashboardBody"])
    lines = [w for w in body["widgets"] if "Chaos" in w["properties"].get("title", "")]
    assert [m[3] for m in lines[0]["properties"]["metrics"]] == ["a-b"]
    assert experiment_names() == sorted(experiment_names()) and experiment_names()
    with pytest.raises(ValueError, match=r"DashboardArgs\.chaos_experiments must be"):
        Dashboard("ops", dataclasses.replace(component_args(), chaos_experiments="kill-one-task"))
