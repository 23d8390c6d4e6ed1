"""ServiceWithAutoscaling: the ECS half of a load-balanced service — tasks, roles, logs, deployment
safety and target tracking. The load balancer half (`PublicLoadBalancer`) is separate because the
onebox and fleet services of one environment share a single listener.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from policy.guardrails.limits import FAST_SCALE_OUT_BAND

from .container_definitions import (
    APP_CONTAINER,
    ContainerSpec,
    ProberSpec,
    container_definitions,
    task_volume_names,
)
from .deployment_alarms import DeploymentAlarmSpec, deployment_alarms
from .iam_documents import statement
from .task_roles import ecs_task_role, ecs_tasks_trust

ECS_DESIRED_COUNT = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class ScalingSpec:
    """Application Auto Scaling bounds and target-tracking policies."""

    min_tasks: int
    max_tasks: int
    cpu_target: int = 80
    memory_target: int | None = None
    requests_per_target: int | None = None
    scale_out_cooldown: int = 60
    scale_in_cooldown: int = 300
    fast_scale_out: FastScaleOutSpec | None = None
    """Step scaling on the prober's 10 s task-CPU metric, ahead of target tracking; None: off."""


@dataclass(frozen=True)
class FastScaleOutSpec:
    """Scale out within a minute: a high-resolution alarm on task CPU drives a step policy.

    Target tracking's own alarm needs three 1-minute datapoints; this alarm needs `datapoints`
    10-second ones. It only adds tasks: target tracking still owns steady state and scale-in.
    """

    cpu_threshold: int
    """Average task CPU, percent, above which tasks are added (above the tracking target)."""
    datapoints: int = 3
    """Consecutive 10 s periods above the threshold before the alarm fires."""
    step_tasks: int = 2
    """Tasks added when CPU is up to `STEP_BAND` points above the threshold (twice as many above)."""
    cooldown: int = 60
    """Seconds after a step before the policy may add tasks again."""
    period: int = 10
    """Alarm period in seconds (10 or 30: high resolution)."""


STEP_BAND = FAST_SCALE_OUT_BAND
TASK_CPU_METRIC = "task-cpu-utilization"


@dataclass(frozen=True)
class ServiceWithAutoscalingArgs:
    cluster_name: pulumi.Input[str]
    """ECS cluster to run in."""
    capacity_provider_name: pulumi.Input[str]
    """EC2 capacity provider the tasks are placed on."""
    image: pulumi.Input[str]
    """Image reference pinned by digest (`repo@sha256:...`)."""
    repository_arn: pulumi.Input[str]
    """ECR repository the execution role may pull from (and nothing else)."""
    scaling: ScalingSpec
    """Task-count bounds and target tracking."""
    environment_name: str
    """Environment this service belongs to (`blue`, `green`)."""
    role: str = "fleet"
    """`fleet` or `onebox`: tagged on everything so guardrails and dashboards can tell them apart."""
    target_group_arn: pulumi.Input[str] | None = None
    """Target group the app container registers in (instance targets, dynamic host ports)."""
    target_group_arn_suffix: pulumi.Input[str] | None = None
    """`targetgroup/...` suffix for CloudWatch dimensions and request-count tracking."""
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    """`app/...` suffix of the load balancer in front of the target group."""
    cpu: int = 256
    memory: int = 512
    container_port: int = 8080
    health_check_grace_period: int = 30
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    stop_timeout: int = 30
    log_retention_days: int = 30
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain environment variables of the app container (never credentials)."""
    secrets: pulumi.Input[Sequence[Mapping[str, str]]] = ()
    """ECS `secrets` entries (`name`, `valueFrom`) injected from Secrets Manager."""
    secret_arns: Sequence[pulumi.Input[str]] = ()
    """Secrets the execution role may read: exactly those behind `secrets`."""
    task_role_statements: Sequence[Mapping[str, Any]] = ()
    """Extra IAM statements for the application's task role (e.g. read its database secret)."""
    prober: ProberSpec | None = None
    """Connectivity-prober sidecar, or None."""
    deployment_alarms: DeploymentAlarmSpec | None = None
    """Alarms that roll a bad deployment back, or None."""
    ecs_exec: bool = True
    """Allow ECS Exec sessions (the task role gets the SSM channel permissions)."""
    exec_log_group_arn: pulumi.Input[str] | None = None
    """Cluster log group ECS Exec sessions are logged to; the task role may write to it."""
    exec_kms_key_arn: pulumi.Input[str] | None = None
    """Customer managed key the cluster encrypts ECS Exec sessions with; the task role may
    decrypt with it (the SSM agent in the task cannot open the session otherwise)."""
    metrics_namespace: str = "steadystate"
    """Namespace the prober may publish to (the task role is limited to it)."""
    release_environment: pulumi.Input[Mapping[str, str]] | None = None
    """What the service's release pin adds to the app's environment (its fault switch,
    ``components/fault_switch.py``), merged last; None: nothing."""
    release_tags: pulumi.Input[Mapping[str, str]] | None = None
    """Tags the release pin adds to the task definition and the service (``FaultSwitch``)."""


def scaling_dimension(args: ServiceWithAutoscalingArgs) -> str:
    """`Service` value of this service's task-CPU metric: `<environment>-<role>`."""
    return f"{args.environment_name}-{args.role}"


def _prober(args: ServiceWithAutoscalingArgs, targets: str) -> ProberSpec | None:
    if args.prober is None:
        return None
    if args.scaling.fast_scale_out is None:
        return replace(args.prober, targets=targets)
    return replace(
        args.prober,
        targets=targets,
        scaling_dimension=scaling_dimension(args),
        task_cpu_units=args.cpu,
    )


@dataclass(frozen=True)
class LoadBalancerWiring:
    """The target-group and load-balancer identifiers a service cannot run without."""

    target_group_arn: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]


def load_balancer_wiring(name: str, args: ServiceWithAutoscalingArgs) -> LoadBalancerWiring:
    """The args' load-balancer identifiers, or ValueError naming every one left unset."""
    tg_arn = args.target_group_arn
    tg_suffix = args.target_group_arn_suffix
    lb_suffix = args.load_balancer_arn_suffix
    if tg_arn is None or tg_suffix is None or lb_suffix is None:
        given = {
            "target_group_arn": tg_arn,
            "target_group_arn_suffix": tg_suffix,
            "load_balancer_arn_suffix": lb_suffix,
        }
        missing = [field_name for field_name, value in given.items() if value is None]
        raise ValueError(f"ServiceWithAutoscaling {name}: {', '.join(missing)} must be set")
    return LoadBalancerWiring(tg_arn, tg_suffix, lb_suffix)


def _exec_role_statements(
    args: ServiceWithAutoscalingArgs, log_group_arn: pulumi.Output[str]
) -> list:
    statements = [
        statement(["ecr:GetAuthorizationToken"], ["*"], sid="EcrLogin"),
        statement(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [args.repository_arn],
            sid="PullAppImage",
        ),
        statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [pulumi.Output.concat(log_group_arn, ":*")],
            sid="WriteContainerLogs",
        ),
    ]
    if args.secret_arns:
        statements.append(
            statement(
                ["secretsmanager:GetSecretValue"], list(args.secret_arns), sid="ReadAppSecrets"
            )
        )
    return statements


def _task_role_statements(args: ServiceWithAutoscalingArgs) -> list:
    statements: list = [dict(item) for item in args.task_role_statements]
    if args.prober is not None:
        statements.append(
            statement(
                ["cloudwatch:PutMetricData"],
                ["*"],  # PutMetricData has no resource-level permissions; the namespace is pinned
                sid="PublishConnectivity",
                conditions={"StringEquals": {"cloudwatch:namespace": args.metrics_namespace}},
            )
        )
    if args.ecs_exec:
        statements.append(
            statement(
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                ["*"],  # these actions support no resource-level scoping
                sid="EcsExecChannels",
            )
        )
        if args.exec_log_group_arn is not None:
            statements += [
                statement(["logs:DescribeLogGroups"], ["*"], sid="EcsExecFindLogGroup"),
                statement(
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [pulumi.Output.concat(args.exec_log_group_arn, ":*")],
                    sid="EcsExecSessionLogs",
                ),
            ]
        if args.exec_kms_key_arn is not None:
            # "Monitor Amazon ECS containers with ECS Exec", IAM permissions for ECS Exec: with
            # a cluster kmsKeyId the task role needs kms:Decrypt on that key.
            statements.append(
                statement(["kms:Decrypt"], [args.exec_kms_key_arn], sid="EcsExecSessionKey")
            )
    return statements


PLACEMENT_STRATEGIES: tuple[dict[str, str], ...] = (
    {"type": "spread", "field": "attribute:ecs.availability-zone"},
    {"type": "binpack", "field": "memory"},
)
"""Spread a service's tasks evenly over zones, then bin-pack them on memory within each zone.

With managed termination protection ECS only terminates a host that runs no (non-daemon) task
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html),
and that page warns that spreading without an additional binpack makes ECS eventually run one task
per instance: a `spread` on `instanceId` after the zone kept about one host per task after every
spike. Binpack places a task "on the instance with the least amount of remaining memory but still
enough to run the task" (API_PlacementStrategy; the "spread by zone, then binpack on memory"
example of https://docs.aws.amazon.com/AmazonECS/latest/developerguide/strategy-examples.html), so
emptied hosts are released. Cost to availability: a service's tasks in one zone may share a host,
so losing a host can take a zone's share of the service, as losing the zone does (which prod's
headroom is sized for). The policy `ecs-service-placement-allows-scale-in` refuses instanceId spread
on capacity with managed termination protection. Zone spread stays first, as Availability Zone
rebalancing (ENABLED below) requires (aws-cdk `aws-ecs/lib/ec2/ec2-service.ts`,
`addPlacementStrategies`, which encodes the documented constraints)."""


class ServiceWithAutoscaling(pulumi.ComponentResource):
    """An ECS service on the cluster's EC2 capacity provider that keeps itself healthy and sized.

    Guarantees: tasks run as a non-root user on a read-only root filesystem, log to a log group with
    retention, and reach the load balancer through bridge-mode dynamic ports; the execution role can
    pull only this image, write only this log group and read only the listed secrets; deployments
    roll back on the circuit breaker and (when given) on the latency/5xx alarms; tasks spread over
    zones and pack onto as few hosts as fit within each (`PLACEMENT_STRATEGIES`); Application Auto Scaling owns `desiredCount` through CPU (and optional memory and
    request-count) target tracking.
    """

    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_definition_family: pulumi.Output[str]
    """Docker label ``com.amazonaws.ecs.task-definition-family`` of the tasks' containers."""
    log_group_name: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    alarm_names: list[pulumi.Output[str]]
    alarm_arns: list[pulumi.Output[str]]
    """The deployment alarms' ARNs (what ARC's practice runs are blocked by)."""
    scaling_resource_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ServiceWithAutoscalingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        wiring = load_balancer_wiring(name, args)
        if args.scaling.fast_scale_out is not None and args.prober is None:
            raise ValueError(
                f"ServiceWithAutoscaling {name}: fast_scale_out needs the prober sidecar, which "
                "publishes the task-CPU metric it follows"
            )
        if args.role not in ("fleet", "onebox"):
            raise ValueError(
                f"ServiceWithAutoscaling {name}: role {args.role!r} must be fleet or onebox"
            )
        super().__init__("steadystate:service:ServiceWithAutoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Role": args.role, "Environment": args.environment_name}
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        trust = ecs_tasks_trust(self)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(retention_in_days=args.log_retention_days, tags=tags),
            opts=child,
        )

        execution_role = ecs_task_role(
            self,
            f"{name}-execution",
            f"ECS agent for {name}: pull the image, write logs, read its secrets",
            _exec_role_statements(args, log_group.arn),
            tags,
            trust=trust,
        )
        task_role = ecs_task_role(
            self,
            f"{name}-task",
            f"Application code of {name}",
            _task_role_statements(args),
            tags,
            trust=trust,
        )

        release_tags: pulumi.Input[Mapping[str, str]] = (
            pulumi.Output.from_input(args.release_tags).apply(lambda t: {**tags, **(t or {})})
            if args.release_tags is not None
            else tags
        )
        containers = pulumi.Output.all(
            image=args.image,
            log_group=log_group.name,
            region=region,
            secrets=args.secrets,
            environment=pulumi.Output.all(**dict(args.environment)) if args.environment else {},
            release_environment=args.release_environment or {},
            probe_targets=args.prober.targets if args.prober else "",
        ).apply(
            lambda v: json.dumps(
                container_definitions(
                    ContainerSpec(
                        image=v["image"],
                        container_port=args.container_port,
                        cpu=args.cpu,
                        memory=args.memory,
                        log_group=v["log_group"],
                        region=v["region"],
                        stop_timeout=args.stop_timeout,
                        environment={**v["environment"], **(v["release_environment"] or {})},
                        secrets=v["secrets"] or (),
                        prober=_prober(args, v["probe_targets"]),
                        ecs_exec=args.ecs_exec,
                    )
                )
            )
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-taskdef",
            aws.ecs.TaskDefinitionArgs(
                family=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
                network_mode="bridge",
                requires_compatibilities=["EC2"],
                cpu=str(args.cpu),
                memory=str(args.memory),
                execution_role_arn=execution_role.arn,
                task_role_arn=task_role.arn,
                container_definitions=containers,
                volumes=[
                    aws.ecs.TaskDefinitionVolumeArgs(name=volume)
                    for volume in task_volume_names(args.ecs_exec, args.prober is not None)
                ],
                tags=release_tags,
            ),
            # Tasks start as soon as the service exists: their roles' rights must exist first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*execution_role.grants, *task_role.grants]
            ),
        )

        alarms = (
            deployment_alarms(
                name,
                args.deployment_alarms,
                wiring.target_group_arn_suffix,
                wiring.load_balancer_arn_suffix,
                parent=self,
            )
            if args.deployment_alarms
            else ()
        )
        self.alarm_names = [alarm.name for alarm in alarms]
        self.alarm_arns = [alarm.arn for alarm in alarms]

        service = aws.ecs.Service(
            f"{name}-service",
            aws.ecs.ServiceArgs(
                cluster=args.cluster_name,
                task_definition=task_definition.arn,
                desired_count=args.scaling.min_tasks,
                capacity_provider_strategies=[
                    aws.ecs.ServiceCapacityProviderStrategyArgs(
                        capacity_provider=args.capacity_provider_name, weight=1, base=0
                    )
                ],
                load_balancers=[
                    aws.ecs.ServiceLoadBalancerArgs(
                        target_group_arn=wiring.target_group_arn,
                        container_name=APP_CONTAINER,
                        container_port=args.container_port,
                    )
                ],
                health_check_grace_period_seconds=args.health_check_grace_period,
                deployment_minimum_healthy_percent=args.minimum_healthy_percent,
                deployment_maximum_percent=args.maximum_percent,
                deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                    enable=True, rollback=True
                ),
                alarms=aws.ecs.ServiceAlarmsArgs(
                    alarm_names=self.alarm_names, enable=True, rollback=True
                )
                if alarms
                else None,
                ordered_placement_strategies=[
                    aws.ecs.ServiceOrderedPlacementStrategyArgs(**strategy)
                    for strategy in PLACEMENT_STRATEGIES
                ],
                availability_zone_rebalancing="ENABLED",
                enable_execute_command=args.ecs_exec,
                enable_ecs_managed_tags=True,
                propagate_tags="SERVICE",
                tags=release_tags,
            ),
            # The autoscaler owns the task count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"]),
        )

        resource_id = pulumi.Output.concat("service/", args.cluster_name, "/", service.name)
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            aws.appautoscaling.TargetArgs(
                service_namespace="ecs",
                scalable_dimension=ECS_DESIRED_COUNT,
                resource_id=resource_id,
                min_capacity=args.scaling.min_tasks,
                max_capacity=args.scaling.max_tasks,
                tags=tags,
            ),
            opts=child,
        )
        self._tracking_policies(name, args, wiring, target)
        if args.scaling.fast_scale_out is not None:
            self._fast_scale_out(name, args, target, args.scaling.fast_scale_out)

        self.service_name = service.name
        self.service_arn = service.id
        self.task_definition_arn = task_definition.arn
        self.task_definition_family = task_definition.family
        self.log_group_name = log_group.name
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.scaling_resource_id = resource_id
        self.register_outputs(
            {
                "service_name": self.service_name,
                "task_definition_arn": self.task_definition_arn,
                "log_group_name": self.log_group_name,
                "alarm_names": self.alarm_names,
            }
        )

    def _fast_scale_out(
        self,
        name: str,
        args: ServiceWithAutoscalingArgs,
        target: aws.appautoscaling.Target,
        fast: FastScaleOutSpec,
    ) -> None:
        """A step policy adding tasks, and the 10 s task-CPU alarm that triggers it."""
        policy = aws.appautoscaling.Policy(
            f"{name}-fast-scale-out",
            aws.appautoscaling.PolicyArgs(
                policy_type="StepScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                step_scaling_policy_configuration=aws.appautoscaling.PolicyStepScalingPolicyConfigurationArgs(
                    adjustment_type="ChangeInCapacity",
                    cooldown=fast.cooldown,
                    metric_aggregation_type="Average",
                    step_adjustments=[
                        aws.appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs(
                            metric_interval_lower_bound="0",
                            metric_interval_upper_bound=str(STEP_BAND),
                            scaling_adjustment=fast.step_tasks,
                        ),
                        aws.appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs(
                            metric_interval_lower_bound=str(STEP_BAND),
                            scaling_adjustment=2 * fast.step_tasks,
                        ),
                    ],
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-fast-scale-out",
            aws.cloudwatch.MetricAlarmArgs(
                alarm_description=(
                    f"{name}: average task CPU above {fast.cpu_threshold} % in {fast.datapoints} "
                    f"consecutive {fast.period} s periods; adds {fast.step_tasks} tasks "
                    f"({2 * fast.step_tasks} above {fast.cpu_threshold + STEP_BAND} %)"
                ),
                namespace=args.metrics_namespace,
                metric_name=TASK_CPU_METRIC,
                dimensions={"Service": scaling_dimension(args)},
                statistic="Average",
                period=fast.period,
                evaluation_periods=fast.datapoints,
                datapoints_to_alarm=fast.datapoints,
                threshold=fast.cpu_threshold,
                comparison_operator="GreaterThanThreshold",
                # No data means no tasks reporting (or none at all): nothing to add for.
                treat_missing_data="notBreaching",
                alarm_actions=[policy.arn],
                tags={"Role": args.role, "Environment": args.environment_name},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _tracking_policies(
        self,
        name: str,
        args: ServiceWithAutoscalingArgs,
        wiring: LoadBalancerWiring,
        target: aws.appautoscaling.Target,
    ) -> None:
        s = args.scaling
        metrics: list[tuple[str, str, int, pulumi.Input[str] | None]] = [
            ("cpu", "ECSServiceAverageCPUUtilization", s.cpu_target, None)
        ]
        if s.memory_target is not None:
            metrics.append(("memory", "ECSServiceAverageMemoryUtilization", s.memory_target, None))
        if s.requests_per_target is not None:
            label = pulumi.Output.concat(
                wiring.load_balancer_arn_suffix, "/", wiring.target_group_arn_suffix
            )
            metrics.append(("requests", "ALBRequestCountPerTarget", s.requests_per_target, label))
        for suffix, metric, value, label in metrics:
            aws.appautoscaling.Policy(
                f"{name}-{suffix}-tracking",
                aws.appautoscaling.PolicyArgs(
                    policy_type="TargetTrackingScaling",
                    service_namespace=target.service_namespace,
                    scalable_dimension=target.scalable_dimension,
                    resource_id=target.resource_id,
                    target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=value,
                        scale_out_cooldown=s.scale_out_cooldown,
                        scale_in_cooldown=s.scale_in_cooldown,
                        predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                            predefined_metric_type=metric, resource_label=label
                        ),
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
