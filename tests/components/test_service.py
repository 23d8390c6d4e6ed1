"""ServiceWithAutoscaling alone: roles, logs, deployment safety and target tracking."""

from __future__ import annotations

import json

import pytest

from components.container_definitions import ProberSpec
from components.deployment_alarms import DeploymentAlarmSpec
from components.ecs_exec_paths import SSM_DATA_DIR
from components.service import ScalingSpec, ServiceWithAutoscaling, ServiceWithAutoscalingArgs
from tests.support.aws_api import api_problems, register_task_definition_params
from tests.support.sar_resource_level import ineffective_grants

REPO_ARN = "arn:aws:ecr:us-east-2:123456789012:repository/app"
SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:rds!db-1-AbCdEf"


def service_args(**overrides) -> ServiceWithAutoscalingArgs:
    base = dict(
        cluster_name="steady-cluster",
        capacity_provider_name="steady-cp",
        image="repo@sha256:" + "b" * 64,
        repository_arn=REPO_ARN,
        scaling=ScalingSpec(min_tasks=2, max_tasks=6, cpu_target=75, requests_per_target=1000),
        environment_name="blue",
        target_group_arn="arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/tg/1",
        target_group_arn_suffix="targetgroup/tg/1",
        load_balancer_arn_suffix="app/lb/2",
        secrets=[{"name": "DB_PASSWORD", "valueFrom": f"{SECRET_ARN}:password::"}],
        secret_arns=[SECRET_ARN],
        prober=ProberSpec(
            targets="db=tcp://db:5432", namespace="steadystate", host_dimension="blue"
        ),
        deployment_alarms=DeploymentAlarmSpec(
            alarm_topic_arn="arn:aws:sns:us-east-2:123456789012:t"
        ),
    )
    base.update(overrides)
    return ServiceWithAutoscalingArgs(**base)


@pytest.fixture
def rec(mocked):
    return mocked(lambda: ServiceWithAutoscaling("web", service_args()))


def policy_of(rec, name: str) -> dict:
    return json.loads(rec.named(name).inputs["policy"])


def test_service_keeps_itself_safe_during_deployments(rec) -> None:
    svc = rec.named("web-service").inputs
    assert svc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert svc["alarms"]["enable"] and svc["alarms"]["rollback"]
    alarm_names = {
        rec.named("web-latency").outputs["name"],
        rec.named("web-5xx-rate").outputs["name"],
    }
    assert set(svc["alarms"]["alarmNames"]) == alarm_names
    assert svc["healthCheckGracePeriodSeconds"] == 30
    assert svc["deploymentMinimumHealthyPercent"] == 100
    assert svc["capacityProviderStrategies"] == [
        {"capacityProvider": "steady-cp", "weight": 1, "base": 0}
    ]
    assert svc["orderedPlacementStrategies"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "binpack", "field": "memory"},
    ]
    assert svc["loadBalancers"][0]["containerName"] == "app"


def test_autoscaler_owns_the_desired_count(rec) -> None:
    assert rec.named("web-service").options["ignoreChanges"] == ["desiredCount"]
    target = rec.named("web-scaling").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    service_name = rec.named("web-service").outputs["name"]
    assert target["resourceId"] == f"service/steady-cluster/{service_name}"
    assert target["scalableDimension"] == "ecs:service:DesiredCount"


def test_target_tracking_on_cpu_and_requests(rec) -> None:
    cpu = rec.named("web-cpu-tracking").inputs["targetTrackingScalingPolicyConfiguration"]
    assert cpu["targetValue"] == 75
    assert (
        cpu["predefinedMetricSpecification"]["predefinedMetricType"]
        == "ECSServiceAverageCPUUtilization"
    )
    assert (cpu["scaleOutCooldown"], cpu["scaleInCooldown"]) == (60, 300)
    req = rec.named("web-requests-tracking").inputs["targetTrackingScalingPolicyConfiguration"]
    assert req["predefinedMetricSpecification"]["resourceLabel"] == "app/lb/2/targetgroup/tg/1"
    assert not [r for r in rec.records if r.name == "web-memory-tracking"]


@pytest.mark.parametrize(
    ("policy", "metric", "target", "label"),
    [
        ("web-cpu-tracking", "ECSServiceAverageCPUUtilization", 70, None),
        ("web-memory-tracking", "ECSServiceAverageMemoryUtilization", 80, None),
        ("web-requests-tracking", "ALBRequestCountPerTarget", 900, "app/lb/2/targetgroup/tg/1"),
    ],
)
def test_each_target_tracks_its_own_metric(mocked, policy, metric, target, label) -> None:
    scaling = ScalingSpec(
        min_tasks=2, max_tasks=6, cpu_target=70, memory_target=80, requests_per_target=900
    )
    rec = mocked(lambda: ServiceWithAutoscaling("web", service_args(scaling=scaling)))
    tracking = rec.named(policy).inputs
    assert tracking["policyType"] == "TargetTrackingScaling"
    config = tracking["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == target
    assert config["predefinedMetricSpecification"]["predefinedMetricType"] == metric
    assert config["predefinedMetricSpecification"].get("resourceLabel") == label
    scaling_target = rec.named("web-scaling").inputs
    assert tracking["resourceId"] == scaling_target["resourceId"]
    assert tracking["scalableDimension"] == scaling_target["scalableDimension"]


def test_task_definition_is_accepted_by_the_ecs_api(rec) -> None:
    task = rec.named("web-taskdef").inputs
    assert task["networkMode"] == "bridge" and task["requiresCompatibilities"] == ["EC2"]
    assert (
        api_problems("ecs", "RegisterTaskDefinition", register_task_definition_params(task)) == ""
    )
    containers = json.loads(task["containerDefinitions"])
    log_group = rec.named("web-logs").outputs["name"]
    assert containers[0]["logConfiguration"]["options"]["awslogs-group"] == log_group
    assert task["executionRoleArn"] != task["taskRoleArn"]


def test_execution_role_reaches_only_its_image_logs_and_secrets(rec) -> None:
    statements = {s["Sid"]: s for s in policy_of(rec, "web-execution-policy")["Statement"]}
    assert statements["PullAppImage"]["Resource"] == [REPO_ARN]
    assert statements["ReadAppSecrets"]["Resource"] == [SECRET_ARN]
    assert statements["WriteContainerLogs"]["Resource"] == [
        rec.named("web-logs").outputs["arn"] + ":*"
    ]
    wildcard = [s for s in statements.values() if s["Resource"] == ["*"]]
    assert [s["Action"] for s in wildcard] == [["ecr:GetAuthorizationToken"]]


def test_task_role_publishes_only_to_its_namespace(rec) -> None:
    statements = {s["Sid"]: s for s in policy_of(rec, "web-task-policy")["Statement"]}
    publish = statements["PublishConnectivity"]
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": "steadystate"}}
    assert "EcsExecChannels" in statements


def test_deployment_alarms_follow_the_onebox_fleet_article(rec) -> None:
    latency = rec.named("web-latency").inputs
    assert latency["metricName"] == "TargetResponseTime" and latency["threshold"] == 3.0
    assert (latency["datapointsToAlarm"], latency["evaluationPeriods"], latency["period"]) == (
        3,
        4,
        60,
    )
    assert latency["dimensions"] == {"TargetGroup": "targetgroup/tg/1", "LoadBalancer": "app/lb/2"}
    errors = rec.named("web-5xx-rate").inputs
    expression = next(q for q in errors["metricQueries"] if q.get("expression"))
    assert expression["expression"] == ("IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)")
    for alarm in (latency, errors):
        assert alarm["alarmActions"] == ["arn:aws:sns:us-east-2:123456789012:t"]
        assert alarm["treatMissingData"] == "notBreaching"


def test_without_alarms_or_prober_the_service_is_leaner(mocked) -> None:
    rec = mocked(
        lambda: ServiceWithAutoscaling(
            "lean",
            service_args(
                deployment_alarms=None, prober=None, ecs_exec=False, secret_arns=[], secrets=[]
            ),
        )
    )
    assert "alarms" not in rec.named("lean-service").inputs
    assert not [r for r in rec.records if r.name == "lean-task-policy"]
    sids = {s["Sid"] for s in policy_of(rec, "lean-execution-policy")["Statement"]}
    assert "ReadAppSecrets" not in sids


def test_missing_target_group_is_rejected_by_name(mocked) -> None:
    with pytest.raises(ValueError, match="web: target_group_arn must be set"):
        ServiceWithAutoscaling("web", service_args(target_group_arn=None))


def test_exec_sessions_may_log_to_the_cluster_exec_group(mocked) -> None:
    group = "arn:aws:logs:us-east-2:123456789012:log-group:exec"
    rec = mocked(lambda: ServiceWithAutoscaling("web", service_args(exec_log_group_arn=group)))
    statements = {s["Sid"]: s for s in policy_of(rec, "web-task-policy")["Statement"]}
    assert statements["EcsExecSessionLogs"]["Resource"] == [f"{group}:*"]
    assert statements["EcsExecFindLogGroup"]["Action"] == ["logs:DescribeLogGroups"]


@pytest.mark.parametrize("role", ["web-execution-role", "web-task-role"])
def test_ecs_tasks_may_assume_the_roles_only_for_this_account(rec, role: str) -> None:
    (trust,) = json.loads(rec.named(role).inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:ecs:us-east-2:123456789012:*"
    }


def _task(rec, name: str) -> tuple[list[str], list[dict]]:
    task = rec.named(f"{name}-taskdef").inputs
    return [v["name"] for v in task["volumes"]], json.loads(task["containerDefinitions"])


def test_ecs_exec_gives_each_container_a_task_scoped_ssm_data_store(rec) -> None:
    assert rec.named("web-service").inputs["enableExecuteCommand"] is True
    volumes, containers = _task(rec, "web")
    assert [c["name"] for c in containers] == ["app", "prober"]
    for container in containers:
        mounts = {m["containerPath"]: m for m in container["mountPoints"]}
        assert set(mounts) == {"/tmp", SSM_DATA_DIR}, "the ECS agent binds its own exec paths"
        assert mounts[SSM_DATA_DIR]["readOnly"] is False
        assert mounts[SSM_DATA_DIR]["sourceVolume"] in volumes
        assert container["readonlyRootFilesystem"] is True
    task = rec.named("web-taskdef").inputs
    assert all(set(v) == {"name"} for v in task["volumes"]), "no host path: nothing persists"


def test_without_ecs_exec_the_task_has_only_tmp(mocked) -> None:
    rec = mocked(lambda: ServiceWithAutoscaling("lean", service_args(ecs_exec=False)))
    volumes, containers = _task(rec, "lean")
    assert volumes == ["tmp"]
    assert all([m["containerPath"] for m in c["mountPoints"]] == ["/tmp"] for c in containers)


def test_task_definition_waits_for_both_roles_rights(rec) -> None:
    """A task definition names its roles by ARN, which exists before the roles' inline policies:
    without an explicit order ECS may start the first tasks (the service is created right after)
    while IAM still denies them their image, secrets and logs."""
    dependencies = rec.named("web-taskdef").dependencies
    for policy in ("web-execution-policy", "web-task-policy"):
        assert rec.named(policy).urn in dependencies, policy


def test_exec_sessions_may_decrypt_with_the_cluster_exec_key(mocked) -> None:
    """With a cluster kmsKeyId, the task role needs kms:Decrypt on that key to open the session
    ("Monitor Amazon ECS containers with ECS Exec", IAM permissions for ECS Exec)."""
    key = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    group = "arn:aws:logs:us-east-2:123456789012:log-group:exec"
    rec = mocked(
        lambda: ServiceWithAutoscaling(
            "web", service_args(exec_log_group_arn=group, exec_kms_key_arn=key)
        )
    )
    document = policy_of(rec, "web-task-policy")
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["EcsExecSessionKey"]["Action"] == ["kms:Decrypt"]
    assert statements["EcsExecSessionKey"]["Resource"] == [key]
    assert ineffective_grants(document) == []
    assert ineffective_grants(policy_of(rec, "web-execution-policy")) == []


def test_without_ecs_exec_the_task_role_holds_no_exec_rights(mocked) -> None:
    key = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    rec = mocked(
        lambda: ServiceWithAutoscaling("web", service_args(ecs_exec=False, exec_kms_key_arn=key))
    )
    sids = {s["Sid"] for s in policy_of(rec, "web-task-policy")["Statement"]}
    assert not {"EcsExecChannels", "EcsExecSessionKey"} & sids
