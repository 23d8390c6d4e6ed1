"""ECS guardrails: cluster, service deployment safety, task-definition settings outside the
container definitions (those are in :mod:`.containers`)."""

from __future__ import annotations

from . import limits
from .aws_types import ECS_CLUSTER, ECS_SERVICE, ECS_TASK_DEFINITION
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import fmt, is_set


@resource_rule(
    "ecs-cluster-container-insights",
    types=ECS_CLUSTER,
    level=MANDATORY,
    description=(
        "Every ECS cluster has Container Insights enabled (CKV_AWS_65, FSBP ECS.12). Mandatory: "
        "the per-task CPU/memory metrics it provides are what autoscaling and incident "
        "responders read."
    ),
)
def ecs_cluster_container_insights(check: ResourceCheck) -> None:
    settings = check.known("settings", [])
    value = next((s.get("value") for s in settings if s.get("name") == "containerInsights"), None)
    if value not in ("enabled", "enhanced"):
        check.violation(
            f"containerInsights is {fmt(value) if value else 'not configured'}",
            'set settings=[{name: "containerInsights", value: "enabled"}] (or "enhanced")',
        )


@resource_rule(
    "ecs-service-no-public-ip",
    types=ECS_SERVICE,
    level=MANDATORY,
    description=(
        "ECS services in awsvpc mode never give tasks a public IP (CKV_AWS_333, FSBP ECS.2); "
        "services without networkConfiguration (bridge mode on EC2) are not concerned. "
        "Mandatory: a public IP bypasses the load balancer and its security group."
    ),
)
def ecs_service_no_public_ip(check: ResourceCheck) -> None:
    if not is_set(check.get("networkConfiguration")):
        return
    if check.known("networkConfiguration.assignPublicIp") is True:
        check.violation(
            "networkConfiguration.assignPublicIp is true",
            "set networkConfiguration.assignPublicIp=false and run tasks in private subnets",
        )


def _ecs_controlled(check: ResourceCheck) -> bool:
    return check.known("deploymentController.type", "ECS") == "ECS"


@resource_rule(
    "ecs-service-circuit-breaker",
    types=ECS_SERVICE,
    level=MANDATORY,
    description=(
        "ECS services (ECS deployment controller) have the deployment circuit breaker enabled "
        "with rollback. Mandatory: a release whose tasks never get healthy stops and rolls back "
        "by itself instead of cycling forever."
    ),
)
def ecs_service_circuit_breaker(check: ResourceCheck) -> None:
    if not _ecs_controlled(check):
        return
    enable = check.known("deploymentCircuitBreaker.enable")
    rollback = check.known("deploymentCircuitBreaker.rollback")
    if enable is not True or rollback is not True:
        check.violation(
            f"deploymentCircuitBreaker is enable={fmt(enable or False)}, "
            f"rollback={fmt(rollback or False)}",
            "set deploymentCircuitBreaker={enable: true, rollback: true}",
        )


@resource_rule(
    "ecs-service-deployment-alarms",
    types=ECS_SERVICE,
    level=MANDATORY,
    prod_only=True,
    description=(
        "ECS services watch CloudWatch alarms during deployments and roll back when one fires. "
        "Prod-only (config environment=prod): mandatory, because a prod release that raises "
        "latency or errors must undo itself; not applicable in dev."
    ),
)
def ecs_service_deployment_alarms(check: ResourceCheck) -> None:
    if not _ecs_controlled(check):
        return
    if not is_set(check.get("alarms")):
        missing = ["deployment alarms are not configured"]
    else:
        missing = [
            f"alarms.{key} is not true"
            for key in ("enable", "rollback")
            if check.known(f"alarms.{key}") is not True
        ]
        if not is_set(check.get("alarms.alarmNames")):
            missing.append("alarms.alarmNames is empty")
    if missing:
        check.violation(
            "; ".join(missing),
            "set alarms={alarmNames: [<latency/5xx alarm names>], enable: true, rollback: true}",
        )


@resource_rule(
    "ecs-service-health-check-grace-period",
    types=ECS_SERVICE,
    level=MANDATORY,
    config={
        "minimumSeconds": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2147483647,
            "default": limits.HEALTH_CHECK_GRACE_MINIMUM_SECONDS,
            "description": "Shortest health-check grace period for services behind a load balancer.",
        }
    },
    description=(
        "ECS services attached to a load balancer set healthCheckGracePeriodSeconds (default at "
        "least 30 s). Mandatory: without it, tasks still starting fail load-balancer health "
        "checks and are killed in a loop."
    ),
)
def ecs_service_health_check_grace_period(check: ResourceCheck) -> None:
    balancers = check.known("loadBalancers", [])
    if not balancers:
        return
    minimum = check.config["minimumSeconds"]
    problem = limits.grace_period_problem(check.known("healthCheckGracePeriodSeconds"), minimum)
    if problem:
        check.violation(
            f"healthCheckGracePeriodSeconds {problem}",
            f"set healthCheckGracePeriodSeconds to at least {minimum} (how long the app needs "
            "to start and pass its first health check)",
        )


@resource_rule(
    "ecs-task-no-host-pid",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "Task definitions never share the host's process namespace (CKV_AWS_335, FSBP ECS.3). "
        "Mandatory: pidMode=host lets a container see and signal every process on the instance."
    ),
)
def ecs_task_no_host_pid(check: ResourceCheck) -> None:
    if check.known("pidMode") == "host":
        check.violation('pidMode is "host"', 'remove pidMode (or set pidMode="task")')


@resource_rule(
    "ecs-task-distinct-roles",
    types=ECS_TASK_DEFINITION,
    level=MANDATORY,
    description=(
        "A task definition's execution role (pulls images, reads secrets for ECS) is not also its "
        "task role (what the application may call) (CKV_AWS_249). Mandatory: sharing them hands "
        "the application the secret-reading and image-pulling permissions."
    ),
)
def ecs_task_distinct_roles(check: ResourceCheck) -> None:
    execution = check.known("executionRoleArn")
    task = check.known("taskRoleArn")
    if execution and task and execution == task:
        check.violation(
            f"executionRoleArn and taskRoleArn are the same role {fmt(task)}",
            "set taskRoleArn to a separate role holding only what the application calls",
        )


POLICIES = [
    ecs_cluster_container_insights,
    ecs_service_no_public_ip,
    ecs_service_circuit_breaker,
    ecs_service_deployment_alarms,
    ecs_service_health_check_grace_period,
    ecs_task_no_host_pid,
    ecs_task_distinct_roles,
]
