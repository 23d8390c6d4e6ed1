"""The resilience report: rows, text table, JSON, and the CLI's exit codes."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pulumi_aws as aws
import pytest

from ops.resilience import report as rr
from ops.resilience.model import (
    AlarmSpec,
    FailoverRecord,
    ReleaseGuard,
    Route53Check,
    ScalingPolicy,
    StackInputs,
    StepTrigger,
    TargetGroupHealth,
    ZoneGroupInput,
)

ALB = "AWS/ApplicationELB"


def alarms(errors_dp: int, latency_dp: int) -> tuple[AlarmSpec, ...]:
    return (
        AlarmSpec("err", 60, errors_dp, errors_dp, ("HTTPCode_Target_5XX_Count",), ALB),
        AlarmSpec("lat", 60, latency_dp + 1, latency_dp, ("TargetResponseTime",), ALB),
    )


def stack_inputs(
    errors_dp: int = 1, latency_dp: int = 2, threshold: int = 3, fast_dp: int | None = 3
) -> StackInputs:
    tg = TargetGroupHealth(
        name="tg", role="onebox", environment="blue", interval_s=10, unhealthy_threshold=2
    )
    check = Route53Check(
        name="blue", type="HTTPS", request_interval_s=10, failure_threshold=threshold
    )
    return StackInputs(
        failover_records=[FailoverRecord("app (blue)", 60, "alias to ALB, fixed by AWS", check)],
        release_guards=[
            ReleaseGuard(
                service="onebox",
                role="onebox",
                environment="blue",
                alarms_enabled=True,
                alarms_rollback=True,
                alarms=alarms(errors_dp, latency_dp),
                target_group=tg,
            )
        ],
        target_groups=[tg],
        scaling_policies=[
            ScalingPolicy("service/c/fleet", "ECSServiceAverageCPUUtilization", 60, 60)
        ],
        step_triggers=[]
        if fast_dp is None
        else [StepTrigger("service/c/fleet", "fast", "task-cpu-utilization", 10, fast_dp, 10)],
        zone_groups=[ZoneGroupInput("blue", 3, 3, 60, 512, 1024, 3, "t3.medium", 66, 2, 120.0)],
    )


def rows(report: rr.Report) -> dict[str, rr.Row]:
    return {row.key: row for row in report.rows}


def test_a_stack_with_the_recommended_settings_meets_every_prod_target():
    report = rr.build_report("prod", stack_inputs())
    by_key = rows(report)
    assert by_key["env_failover"].stack.seconds == 90
    assert by_key["release_errors"].stack.seconds == 150
    assert by_key["release_slow"].stack.seconds == 210
    assert by_key["task_dies"].stack.seconds == 25
    assert by_key["scale_out"].stack.seconds == 70
    assert all(row.met in (True, None) for row in report.rows)
    assert report.enforced and report.exit_code == rr.EXIT_OK


def test_target_tracking_alone_misses_the_prod_scale_out_target():
    report = rr.build_report("prod", stack_inputs(fast_dp=None))
    row = rows(report)["scale_out"]
    assert row.stack.seconds == 240 and row.met is False
    assert report.exit_code == rr.EXIT_TARGET_MISSED


def test_the_fastest_policy_of_a_service_wins_and_fixed_size_services_are_left_out():
    inputs = stack_inputs(fast_dp=6)
    inputs.scaling_policies.append(
        ScalingPolicy("service/c/onebox", "ECSServiceAverageCPUUtilization", 60, 60)
    )
    inputs.fixed_size = {"service/c/onebox"}
    row = rows(rr.build_report("prod", inputs))["scale_out"]
    # 10 s window + 6 × 10 s + 10 s lag + 10 s evaluation + 10 s reaction, beating 240 s tracking.
    assert row.stack.seconds == 100 and row.met is False
    assert "onebox" not in row.stack.formula + " ".join(row.stack.notes)


def test_source_figures_come_from_the_model():
    by_key = rows(rr.build_report("prod", stack_inputs()))
    assert (by_key["env_failover"].source_name, by_key["env_failover"].source.seconds) == (
        "resiliency-testing article",
        210,
    )
    assert by_key["release_errors"].source.seconds == by_key["release_slow"].source.seconds == 270
    assert by_key["task_dies"].source.seconds == 65
    assert by_key["scale_out"].source.seconds == 240


def test_missing_a_target_on_prod_exits_1_and_names_it():
    report = rr.build_report("prod", stack_inputs(errors_dp=2, latency_dp=3, threshold=4))
    assert [row.key for row in report.missed] == [
        "env_failover",
        "release_errors",
        "release_slow",
        "env_hosts_lost",
    ]
    assert report.exit_code == rr.EXIT_TARGET_MISSED
    out = io.StringIO()
    rr.render_text(report, out)
    text = out.getvalue()
    assert "MISSED prod targets:" in text
    assert "Erroring release (5xx) → rollback starts: 210 s (target ≤ 150 s)" in text


def test_dev_shows_misses_without_failing_unless_enforced():
    inputs = stack_inputs(errors_dp=2)
    assert rr.build_report("dev", inputs).exit_code == rr.EXIT_OK
    assert rr.build_report("dev", inputs, enforced=True).exit_code == rr.EXIT_TARGET_MISSED


def test_rows_without_resources_say_not_deployed():
    report = rr.build_report("dev", StackInputs())
    assert all(row.stack is None for row in report.rows)
    out = io.StringIO()
    rr.render_text(report, out)
    text = out.getvalue()
    assert text.count(rr.NOT_DEPLOYED) >= 10  # table cell + detail line for each of 5 rows
    assert "no Route 53 PRIMARY failover record" in text
    assert rr.build_report("prod", StackInputs()).exit_code == rr.EXIT_TARGET_MISSED


def test_text_has_the_table_formulas_seeds_and_recommendations():
    out = io.StringIO()
    rr.render_text(rr.build_report("prod", stack_inputs()), out)
    text = out.getvalue()
    header = next(line for line in text.splitlines() if line.startswith("Scenario"))
    for column in ("This stack", "Source setup", "Target (prod)", "Result"):
        assert column in header
    assert "10 s × 3 (HTTPS check 'blue') + 60 s TTL (alias to ALB, fixed by AWS) = 90 s" in text
    assert "resiliency-testing article: 60 s × 1 datapoint ('blue-StatusCheckFailed')" in text
    assert "autoscaling tutorial: 30 s × 2 failed ALB checks" in text
    assert "Settings that meet every prod target" in text
    assert "Assumptions:" in text


def test_json_is_complete_and_never_is_null():
    inputs = stack_inputs()
    inputs.release_guards[0] = ReleaseGuard(service="bare")
    data = json.loads(json.dumps(rr.report_json(rr.build_report("prod", inputs))))
    by_key = {row["key"]: row for row in data["rows"]}
    assert set(by_key) == {
        "env_failover",
        "release_errors",
        "release_slow",
        "task_dies",
        "scale_out",
        "zone_replacement",
        "zonal_shift",
        "env_hosts_lost",
    }
    env = by_key["env_failover"]
    assert env["stack"]["seconds"] == 90 and env["target_met"] is True
    assert env["stack"]["terms"][0] == {"term": "10 s × 3 (HTTPS check 'blue')", "seconds": 30}
    assert env["source"]["name"] == "resiliency-testing article" and env["source"]["seconds"] == 210
    errors = by_key["release_errors"]
    assert errors["stack"]["never"] and errors["stack"]["seconds"] is None
    assert errors["target_met"] is False
    assert data["missed"] == ["release_errors", "release_slow"] and data["exit_code"] == 1
    assert by_key["task_dies"]["target_met"] is None
    assert data["assumptions"] and data["recommended_settings"]


def recording_of(mocked, program):
    return lambda stack, project_dir, program_path: mocked(program)


def good_program() -> None:
    tg = aws.lb.TargetGroup(
        "tg",
        port=80,
        protocol="HTTP",
        vpc_id="vpc-1",
        health_check={"interval": 10, "timeout": 5, "unhealthy_threshold": 2},
    )
    err = aws.cloudwatch.MetricAlarm(
        "err",
        comparison_operator="GreaterThanThreshold",
        namespace=ALB,
        metric_name="HTTPCode_Target_5XX_Count",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        threshold=5,
    )
    lat = aws.cloudwatch.MetricAlarm(
        "lat",
        comparison_operator="GreaterThanThreshold",
        namespace=ALB,
        metric_name="TargetResponseTime",
        statistic="Average",
        period=60,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        threshold=3,
    )
    aws.ecs.Service(
        "svc",
        cluster="c",
        alarms={"alarm_names": [err.name, lat.name], "enable": True, "rollback": True},
        load_balancers=[
            {"target_group_arn": tg.arn, "container_name": "app", "container_port": 80}
        ],
    )
    hc = aws.route53.HealthCheck(
        "hc",
        type="HTTPS",
        fqdn="blue.example.com",
        port=443,
        request_interval=10,
        failure_threshold=3,
    )
    aws.route53.Record(
        "rec",
        zone_id="Z",
        name="app.example.com",
        type="A",
        set_identifier="blue",
        health_check_id=hc.id,
        failover_routing_policies=[{"type": "PRIMARY"}],
        aliases=[
            {
                "name": "blue-1.us-east-2.elb.amazonaws.com",
                "zone_id": "Z2",
                "evaluate_target_health": True,
            }
        ],
    )


def fast_scale_out_program() -> None:
    """A service that can grow, with target tracking plus a 10 s step-scaling trigger."""
    aws.appautoscaling.Target(
        "scale",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id="service/c/fleet",
        min_capacity=2,
        max_capacity=6,
    )
    step = aws.appautoscaling.Policy(
        "fast",
        policy_type="StepScaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id="service/c/fleet",
        step_scaling_policy_configuration={
            "adjustment_type": "ChangeInCapacity",
            "cooldown": 60,
            "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 2}],
        },
    )
    aws.cloudwatch.MetricAlarm(
        "fast",
        comparison_operator="GreaterThanThreshold",
        namespace="steadystate",
        metric_name="task-cpu-utilization",
        dimensions={"Service": "blue-fleet"},
        statistic="Average",
        period=10,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        threshold=85,
        alarm_actions=[step.arn],
    )


def test_cli_exit_0_when_prod_meets_its_targets(mocked):
    out, err = io.StringIO(), io.StringIO()

    def program() -> None:
        good_program()
        fast_scale_out_program()

    code = rr.main(["--stack", "prod"], synth=recording_of(mocked, program), out=out, err=err)
    assert code == 0, out.getvalue() + err.getvalue()
    assert "PASS" in out.getvalue() and err.getvalue() == ""


def test_cli_dev_without_dns_prints_not_deployed_and_exits_0(mocked):
    def dev() -> None:
        aws.lb.TargetGroup("tg", port=80, protocol="HTTP", vpc_id="vpc-1")

    out = io.StringIO()
    code = rr.main(["--stack", "dev"], synth=recording_of(mocked, dev), out=out, err=io.StringIO())
    assert code == 0
    assert "not deployed in this stack (no Route 53 PRIMARY failover record)" in out.getvalue()


def test_cli_json_and_exit_1_on_a_missed_target(mocked):
    def no_alarms() -> None:
        aws.ecs.Service("svc", cluster="c")

    out, err = io.StringIO(), io.StringIO()
    code = rr.main(
        ["--stack", "prod", "--json"], synth=recording_of(mocked, no_alarms), out=out, err=err
    )
    assert code == 1
    data = json.loads(out.getvalue())
    assert data["exit_code"] == 1 and "env_failover" in data["missed"]
    assert "prod target missed: env_failover, release_errors, release_slow" in err.getvalue()


def test_cli_exit_2_when_synthesis_fails():
    def boom(stack, project_dir, program):
        raise RuntimeError("bad config key 'steadystate:vpcCidr'")

    out, err = io.StringIO(), io.StringIO()
    assert rr.main(["--stack", "prod"], synth=boom, out=out, err=err) == 2
    assert "cannot synthesize stack 'prod': RuntimeError: bad config key" in err.getvalue()
    assert out.getvalue() == ""


PROGRAM = """
import pulumi_aws as aws

{body}
"""


def project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: steadystate\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: us-east-2\n")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(body=textwrap.dedent(body)))
    return tmp_path


@pytest.mark.usefixtures("fresh_loop")
def test_cli_synthesizes_a_real_program_file(tmp_path):
    body = """
    aws.lb.TargetGroup("tg", port=80, protocol="HTTP", vpc_id="vpc-1",
                       health_check={"interval": 15, "unhealthy_threshold": 3, "timeout": 4})
    """
    out, err = io.StringIO(), io.StringIO()
    code = rr.main(
        ["--stack", "prod", "--json", "--project-dir", str(project(tmp_path, body))],
        out=out,
        err=err,
    )
    data = json.loads(out.getvalue())
    task = next(row for row in data["rows"] if row["key"] == "task_dies")
    assert task["stack"]["seconds"] == 15 * 3 + 4
    assert code == 1  # prod without DNS or deployment alarms misses its targets


@pytest.mark.usefixtures("fresh_loop")
def test_cli_exit_2_for_a_program_that_raises_or_a_missing_stack(tmp_path):
    root = project(tmp_path, 'raise ValueError("vpc cidr overlaps")')
    err = io.StringIO()
    assert rr.main(["--stack", "prod", "--project-dir", str(root)], out=io.StringIO(), err=err) == 2
    assert "ValueError: vpc cidr overlaps" in err.getvalue()
    err = io.StringIO()
    assert (
        rr.main(["--stack", "staging", "--project-dir", str(root)], out=io.StringIO(), err=err) == 2
    )
    assert "no Pulumi.staging.yaml" in err.getvalue()
