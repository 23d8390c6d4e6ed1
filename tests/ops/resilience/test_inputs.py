"""Reading the model's inputs from records of small fixture programs run under the mocks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi_aws as aws
import pytest

from ops.resilience.inputs import extract_inputs
from ops.synth.runner import Recording

ALB = "AWS/ApplicationELB"


def target_group(name: str, role: str = "fleet", env: str = "blue", **kw) -> aws.lb.TargetGroup:
    kw.setdefault(
        "health_check",
        {
            "interval": 10,
            "timeout": 5,
            "healthy_threshold": 2,
            "unhealthy_threshold": 3,
            "path": "/health",
        },
    )
    return aws.lb.TargetGroup(
        name,
        port=8080,
        protocol="HTTP",
        target_type="ip",
        vpc_id="vpc-1",
        tags={"Role": role, "Environment": env},
        **kw,
    )


def latency_alarm(name: str, dp: int = 2, n: int = 3) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        name,
        comparison_operator="GreaterThanThreshold",
        namespace=ALB,
        metric_name="TargetResponseTime",
        extended_statistic="p90",
        period=60,
        evaluation_periods=n,
        datapoints_to_alarm=dp,
        threshold=3,
        treat_missing_data="notBreaching",
    )


def error_rate_alarm(name: str, dp: int | None = None) -> aws.cloudwatch.MetricAlarm:
    def metric(qid: str, metric_name: str) -> dict:
        return {
            "id": qid,
            "metric": {"namespace": ALB, "metric_name": metric_name, "period": 60, "stat": "Sum"},
        }

    return aws.cloudwatch.MetricAlarm(
        name,
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=2,
        datapoints_to_alarm=dp,
        threshold=5,
        metric_queries=[
            metric("errors", "HTTPCode_Target_5XX_Count"),
            metric("requests", "RequestCount"),
            {"id": "rate", "expression": "100 * errors / requests", "return_data": True},
        ],
    )


def connectivity_alarm(name: str) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        name,
        comparison_operator="LessThanThreshold",
        namespace="steadystate",
        metric_name="db-connectivity",
        statistic="Minimum",
        period=60,
        evaluation_periods=2,
        threshold=1,
        treat_missing_data="breaching",
    )


def task_definition(name: str) -> aws.ecs.TaskDefinition:
    containers = [
        {"name": "prober", "image": "p"},
        {
            "name": "app",
            "image": "a",
            "healthCheck": {
                "command": ["CMD", "true"],
                "interval": 15,
                "retries": 2,
                "startPeriod": 20,
            },
        },
    ]
    return aws.ecs.TaskDefinition(name, family=name, container_definitions=json.dumps(containers))


def blue_green_program(prefix: str = "") -> Callable[[], None]:
    """Two environments with onebox + fleet, deployment alarms, DNS failover, target tracking."""

    def program() -> None:
        for env, failover in (("blue", "PRIMARY"), ("green", "SECONDARY")):
            td = task_definition(f"{prefix}{env}-task")
            for role, desired in (("onebox", 1), ("fleet", 6)):
                tg = target_group(f"{prefix}{env}-{role}-tg", role, env, deregistration_delay="30")
                lat = latency_alarm(f"{prefix}{env}-{role}-lat")
                err = error_rate_alarm(f"{prefix}{env}-{role}-err", dp=1)
                aws.ecs.Service(
                    f"{prefix}{env}-{role}",
                    cluster="c",
                    desired_count=desired,
                    task_definition=td.arn,
                    deployment_maximum_percent=150,
                    deployment_minimum_healthy_percent=100,
                    health_check_grace_period_seconds=20,
                    deployment_circuit_breaker={"enable": True, "rollback": True},
                    alarms={"alarm_names": [lat.name, err.name], "enable": True, "rollback": True},
                    load_balancers=[
                        {
                            "target_group_arn": tg.arn,
                            "container_name": "app",
                            "container_port": 8080,
                        }
                    ],
                )
                aws.appautoscaling.Policy(
                    f"{prefix}{env}-{role}-cpu",
                    policy_type="TargetTrackingScaling",
                    resource_id=f"service/c/{env}-{role}",
                    scalable_dimension="ecs:service:DesiredCount",
                    service_namespace="ecs",
                    target_tracking_scaling_policy_configuration={
                        "target_value": 60,
                        "scale_out_cooldown": 60,
                        "predefined_metric_specification": {
                            "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                        },
                    },
                )
            conn = connectivity_alarm(f"{prefix}{env}-db")
            http = aws.route53.HealthCheck(
                f"{prefix}{env}-http",
                type="HTTPS",
                fqdn=f"{env}.example.com",
                port=443,
                resource_path="/health",
                request_interval=10,
                failure_threshold=2,
            )
            metric = aws.route53.HealthCheck(
                f"{prefix}{env}-metric",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=conn.name,
                cloudwatch_alarm_region="us-east-2",
                insufficient_data_health_status="Unhealthy",
            )
            calc = aws.route53.HealthCheck(
                f"{prefix}{env}-calc",
                type="CALCULATED",
                child_healthchecks=[http.id, metric.id],
                child_health_threshold=2,
            )
            aws.route53.Record(
                f"{prefix}{env}-record",
                zone_id="Z1",
                name="app.example.com",
                type="A",
                set_identifier=env,
                failover_routing_policies=[{"type": failover}],
                health_check_id=calc.id,
                aliases=[
                    {
                        "name": f"{env}-alb-1.us-east-2.elb.amazonaws.com",
                        "zone_id": "Z2",
                        "evaluate_target_health": True,
                    }
                ],
            )

    return program


@pytest.fixture
def blue_green(mocked: Callable[..., Recording]):
    return extract_inputs(mocked(blue_green_program()))


def test_only_the_primary_failover_record_is_read(blue_green):
    (record,) = blue_green.failover_records
    assert record.name == "app.example.com (blue)"
    assert record.ttl_s == 60 and "alias" in record.ttl_source
    assert record.evaluate_target_health


def test_calculated_health_check_children_and_alarm_are_resolved(blue_green):
    calc = blue_green.failover_records[0].health_check
    assert calc is not None and calc.type == "CALCULATED" and calc.child_health_threshold == 2
    http, metric = calc.children
    assert (http.type, http.request_interval_s, http.failure_threshold) == ("HTTPS", 10, 2)
    assert (
        metric.type == "CLOUDWATCH_METRIC" and metric.insufficient_data_health_status == "Unhealthy"
    )
    assert metric.alarm is not None and metric.alarm.kind == "connectivity"
    assert metric.alarm.treat_missing_data == "breaching"
    assert metric.alarm.m == 2  # datapoints default to evaluation periods


def test_target_groups_with_tags_and_string_deregistration_delay(blue_green):
    tgs = {(t.environment, t.role): t for t in blue_green.target_groups}
    assert set(tgs) == {
        ("blue", "onebox"),
        ("blue", "fleet"),
        ("green", "onebox"),
        ("green", "fleet"),
    }
    tg = tgs["blue", "onebox"]
    assert (tg.interval_s, tg.timeout_s, tg.healthy_threshold, tg.unhealthy_threshold) == (
        10,
        5,
        2,
        3,
    )
    assert tg.deregistration_delay_s == 30


def test_services_join_alarms_by_name_target_groups_by_arn_and_task_definitions(blue_green):
    guards = {(g.environment, g.role): g for g in blue_green.release_guards}
    assert len(guards) == 4
    onebox = guards["blue", "onebox"]
    assert onebox.desired_count == 1 and guards["blue", "fleet"].desired_count == 6
    assert (onebox.maximum_percent, onebox.minimum_healthy_percent) == (150, 100)
    assert onebox.alarms_enabled and onebox.alarms_rollback
    assert onebox.circuit_breaker_enabled and onebox.circuit_breaker_rollback
    assert onebox.health_check_grace_s == 20
    (latency,) = onebox.alarms_of("latency")
    (errors,) = onebox.alarms_of("errors")
    assert (latency.period_s, latency.evaluation_periods, latency.m) == (60, 3, 2)
    assert errors.metrics == ("HTTPCode_Target_5XX_Count", "RequestCount")
    assert (errors.period_s, errors.m, errors.namespace) == (60, 1, ALB)
    assert errors.metric_math and not latency.metric_math
    assert latency.extended_statistic == "p90" and errors.extended_statistic == ""
    assert onebox.target_group is not None and onebox.target_group.unhealthy_threshold == 3
    health = onebox.container_health
    assert health is not None
    assert (health.interval_s, health.timeout_s, health.retries, health.start_period_s) == (
        15,
        5,
        2,
        20,
    )


def test_scaling_policies(blue_green):
    assert len(blue_green.scaling_policies) == 4
    policy = blue_green.scaling_policies[0]
    assert policy.metric == "ECSServiceAverageCPUUtilization"
    assert (policy.target_value, policy.scale_out_cooldown_s, policy.scale_in_cooldown_s) == (
        60,
        60,
        300,
    )
    assert not blue_green.warnings


def test_extraction_is_by_type_not_by_name(mocked):
    plain = extract_inputs(mocked(blue_green_program()))
    renamed = extract_inputs(mocked(blue_green_program("zz-renamed-")))

    def shape(inputs):
        return (
            sorted(
                (t.interval_s, t.unhealthy_threshold, t.role, t.environment)
                for t in inputs.target_groups
            ),
            sorted((g.desired_count, g.role, len(g.alarms)) for g in inputs.release_guards),
            [r.health_check.type for r in inputs.failover_records if r.health_check],
            len(inputs.scaling_policies),
        )

    assert shape(plain) == shape(renamed)


def test_aws_defaults_when_the_program_sets_nothing(mocked):
    def program() -> None:
        aws.lb.TargetGroup("bare", port=80, protocol="HTTP", vpc_id="vpc-1")
        aws.route53.HealthCheck("hc", type="HTTP", fqdn="x.example.com", port=80)
        aws.route53.Record(
            "rec",
            zone_id="Z",
            name="x.example.com",
            type="A",
            set_identifier="a",
            records=["203.0.113.1"],
            ttl=120,
            failover_routing_policies=[{"type": "PRIMARY"}],
        )
        aws.appautoscaling.Policy(
            "step",
            policy_type="StepScaling",
            resource_id="service/c/s",
            scalable_dimension="ecs:service:DesiredCount",
            service_namespace="ecs",
            step_scaling_policy_configuration={"adjustment_type": "ChangeInCapacity"},
        )
        aws.appautoscaling.Policy(
            "tt",
            policy_type="TargetTrackingScaling",
            resource_id="service/c/t",
            scalable_dimension="ecs:service:DesiredCount",
            service_namespace="ecs",
            target_tracking_scaling_policy_configuration={
                "target_value": 80,
                "predefined_metric_specification": {
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                },
            },
        )

    inputs = extract_inputs(mocked(program))
    (tg,) = inputs.target_groups
    assert (tg.interval_s, tg.timeout_s, tg.healthy_threshold, tg.unhealthy_threshold) == (
        30,
        5,
        5,
        2,
    )
    assert tg.deregistration_delay_s == 300
    (record,) = inputs.failover_records
    assert (record.ttl_s, record.ttl_source, record.health_check) == (120, "record TTL", None)
    (policy,) = inputs.scaling_policies  # the step-scaling policy is not target tracking
    assert (policy.target_value, policy.scale_out_cooldown_s) == (80, 300)


def test_unreadable_values_and_dangling_references_become_warnings(mocked):
    def program() -> None:
        aws.lb.TargetGroup(
            "odd", port=80, protocol="HTTP", vpc_id="vpc-1", deregistration_delay="soon"
        )
        aws.ecs.Service(
            "svc", cluster="c", alarms={"alarm_names": ["gone"], "enable": True, "rollback": True}
        )
        aws.route53.Record(
            "rec",
            zone_id="Z",
            name="x.example.com",
            type="A",
            set_identifier="a",
            ttl=60,
            records=["203.0.113.1"],
            health_check_id="no-such-check",
            failover_routing_policies=[{"type": "PRIMARY"}],
        )

    inputs = extract_inputs(mocked(program))
    assert inputs.target_groups[0].deregistration_delay_s == 300
    text = "\n".join(inputs.warnings)
    assert "'soon'" in text
    assert "deployment alarm 'gone' not found" in text
    assert "health check 'no-such-check' not found" in text
    (guard,) = inputs.release_guards
    assert guard.alarms == () and guard.alarms_enabled


def test_nothing_deployed_gives_empty_inputs(mocked):
    inputs = extract_inputs(mocked(lambda: aws.sns.Topic("alerts")))
    assert inputs.failover_records == [] and inputs.release_guards == []
    assert inputs.target_groups == [] and inputs.scaling_policies == []
