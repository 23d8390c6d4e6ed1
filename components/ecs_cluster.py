"""An ECS cluster whose EC2 capacity is scaled by a capacity provider, not by CPU alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.host_pins import HostPin, HostPinArgs, host_pin
from components.iam_documents import assume_role_policy, log_group_key_policy
from components.user_data import ecs_user_data_script, encode_user_data

#: Public SSM parameter AWS keeps pointed at the current ECS-optimized Amazon Linux 2023 AMI.
ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"

#: Root device of the ECS-optimized AL2023 AMI (its 30 GiB snapshot is the smallest allowed size).
ROOT_DEVICE_NAME = "/dev/xvda"
MIN_ROOT_VOLUME_GIB = 30

#: The documented minimum for an ECS container instance that operators reach through SSM:
#: the agent's register/poll/telemetry/ECR-pull rights, and Session Manager/SSM agent rights.
INSTANCE_MANAGED_POLICIES: tuple[str, ...] = (
    aws.iam.ManagedPolicy.AMAZON_EC2_CONTAINER_SERVICEFOR_EC2_ROLE.value,
    aws.iam.ManagedPolicy.AMAZON_SSM_MANAGED_INSTANCE_CORE.value,
)

CONTAINER_INSIGHTS_VALUES: tuple[str, ...] = ("enabled", "enhanced")

#: IMDSv2 PUT responses may cross this many network hops. 1 = the host only: a container on the
#: Docker bridge is one hop further, so it cannot obtain a token and, with tokens required, cannot
#: read the instance role's credentials. The ECS agent uses host networking and is unaffected;
#: tasks get their own task-role credentials from the agent's endpoint (169.254.170.2).
IMDS_HOP_LIMIT = 1

_RESERVED_CAPACITY_PROVIDER_PREFIXES = ("aws", "ecs", "fargate")


def capacity_provider_name_problem(logical_name: str) -> str | None:
    """Why ECS would reject a capacity provider named after `logical_name`, or None.

    Auto-naming keeps the logical name as the prefix of the physical one, and ECS refuses names
    that start with `aws`, `ecs` or `fargate`.
    """
    lowered = logical_name.lower()
    for prefix in _RESERVED_CAPACITY_PROVIDER_PREFIXES:
        if lowered.startswith(prefix):
            return (
                f"capacity provider name {logical_name!r} must not start with {prefix!r} "
                "(ECS reserves aws, ecs and fargate); give the EcsCluster another name"
            )
    return None


def available_capacity_providers(
    ec2_provider: pulumi.Input[str], *, enable_fargate: bool, enable_fargate_spot: bool
) -> list[pulumi.Input[str]]:
    """Providers the cluster offers: the EC2 one, then FARGATE / FARGATE_SPOT when enabled."""
    providers: list[pulumi.Input[str]] = [ec2_provider]
    if enable_fargate:
        providers.append("FARGATE")
    if enable_fargate_spot:
        providers.append("FARGATE_SPOT")
    return providers


def termination_protection_setting(enabled: bool) -> str:
    """The capacity provider's `managedTerminationProtection` value for the switch."""
    return "ENABLED" if enabled else "DISABLED"


@dataclass(frozen=True)
class EcsClusterArgs:
    """Settings of one `EcsCluster`; counts and switches are plain values known before deploy."""

    vpc_id: pulumi.Input[str]
    """VPC of the container instances (for their security group)."""

    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets the auto scaling group launches into: the network's private tier, one per zone."""

    instance_type: str
    """EC2 instance type of the container instances, e.g. `t3.small`."""

    min_instances: int
    """Smallest size of the auto scaling group (0 lets an idle cluster cost nothing)."""

    max_instances: int
    """Largest size of the auto scaling group; managed scaling never goes above it."""

    target_capacity_percent: int = 100
    """Managed-scaling target: how full the instances should be with tasks (1-100). 100 = no idle
    hosts (scale out only when a task cannot be placed); lower keeps spare hosts warm."""

    managed_termination_protection: bool = False
    """Keep instances running tasks from being scaled in. Sets both the ASG's
    `protect_from_scale_in` and the provider's setting (AWS requires them to agree). Off in dev:
    with it on, instances are only released by ECS, which slows or blocks `pulumi destroy`."""

    enable_fargate: bool = False
    """Also attach the FARGATE capacity provider (available, not in the default strategy)."""

    enable_fargate_spot: bool = False
    """Also attach FARGATE_SPOT (available, not in the default strategy)."""

    root_volume_gib: int = 30
    """Size of the encrypted gp3 root volume (holds images and container layers); >= 30."""

    container_insights: str = "enabled"
    """Container Insights level: `enabled` (cluster/service metrics) or `enhanced` (adds task and
    container level metrics at a higher CloudWatch cost)."""

    image_id: pulumi.Input[str] | None = None
    """Pin an AMI. Default: the recommended ECS-optimized AL2023 AMI from its public SSM parameter
    (a new AMI then becomes a new launch template version on the next `pulumi up`)."""

    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for instances and volumes (e.g. Project/Stack). Provider default tags do not reach
    instances an auto scaling group launches, so pass them here for cost allocation."""

    instance_warmup_seconds: int = 120
    """Managed scaling: seconds before a new instance's metrics count (the agent registers in
    about a minute on AL2023)."""

    max_scaling_step_size: int = 10
    """Managed scaling: most instances added or removed in one step."""

    health_check_grace_seconds: int = 120
    """ASG: seconds before a new instance's EC2 health check counts."""

    exec_log_retention_days: int | None = 90
    """ECS Exec sessions are logged to a cluster log group kept this many days; None: no log."""

    instance_refresh: bool = False
    """Roll instances when the launch template changes (new AMI, type, user data), launching
    replacements before terminating (min 100 %, max 200 % healthy); managed draining moves tasks.
    Off: changes apply only to instances launched later."""

    capacity_groups: Sequence[str] = ()
    """One capacity group per name (an environment): its own launch template, Auto Scaling group
    and capacity provider, so no host, group or template is shared between them. Empty: one
    shared group (named as before groups existed, so an existing stack keeps its hosts)."""

    hosts_follow: Sequence[str] | None = None
    """Groups whose host pin takes this run's AMI, instance type and user data; the others keep
    what the stack recorded (components/host_pins.py). None: every group follows."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "instance_tags", dict(self.instance_tags))
        if problem := ecs_cluster_args_problem(self):
            raise ValueError(problem)


def ecs_cluster_args_problem(args: EcsClusterArgs) -> str | None:
    """What is wrong with `args` (first problem found), or None."""
    if not args.instance_type or "." not in args.instance_type:
        return (
            f"instance_type must be an EC2 instance type like t3.small (got {args.instance_type!r})"
        )
    if args.min_instances < 0:
        return f"min_instances must be at least 0 (got {args.min_instances})"
    if args.max_instances < 1:
        return f"max_instances must be at least 1 (got {args.max_instances})"
    if args.min_instances > args.max_instances:
        return (
            f"min_instances ({args.min_instances}) must not exceed "
            f"max_instances ({args.max_instances})"
        )
    if not 1 <= args.target_capacity_percent <= 100:
        return f"target_capacity_percent must be between 1 and 100 (got {args.target_capacity_percent})"
    if args.root_volume_gib < MIN_ROOT_VOLUME_GIB:
        return (
            f"root_volume_gib must be at least {MIN_ROOT_VOLUME_GIB}, the AMI's snapshot size "
            f"(got {args.root_volume_gib})"
        )
    if args.container_insights not in CONTAINER_INSIGHTS_VALUES:
        return (
            f"container_insights must be one of {', '.join(CONTAINER_INSIGHTS_VALUES)} "
            f"(got {args.container_insights!r})"
        )
    if not 1 <= args.max_scaling_step_size <= 10_000:
        return (
            f"max_scaling_step_size must be between 1 and 10000 (got {args.max_scaling_step_size})"
        )
    if not 0 <= args.instance_warmup_seconds <= 10_000:
        return f"instance_warmup_seconds must be between 0 and 10000 (got {args.instance_warmup_seconds})"
    if args.health_check_grace_seconds < 0:
        return f"health_check_grace_seconds must not be negative (got {args.health_check_grace_seconds})"
    if isinstance(args.private_subnet_ids, Sequence) and not args.private_subnet_ids:
        return "private_subnet_ids must name at least one subnet"
    if len(set(args.capacity_groups)) != len(args.capacity_groups):
        return f"capacity_groups must not repeat a name (got {list(args.capacity_groups)})"
    if SHARED_GROUP in args.capacity_groups:
        return f"capacity_groups must not name {SHARED_GROUP!r} (the shared group's key)"
    unknown = sorted(set(args.hosts_follow or ()) - set(capacity_group_keys(args)))
    if unknown:
        return (
            f"hosts_follow names no capacity group: {', '.join(unknown)} "
            f"(groups: {', '.join(capacity_group_keys(args))})"
        )
    return None


#: The key of the one shared capacity group of a cluster without per-environment groups.
SHARED_GROUP = "shared"


def capacity_group_keys(args: EcsClusterArgs) -> list[str]:
    """The cluster's capacity groups: one per name in ``capacity_groups``, else the shared one."""
    return list(args.capacity_groups) or [SHARED_GROUP]


def group_prefix(name: str, group: str) -> str:
    """Logical-name prefix of a group's resources; the shared group keeps the cluster's own
    (``cluster-hosts``, ``cluster-ec2``), as before groups existed."""
    return name if group == SHARED_GROUP else f"{name}-{group}"


def _after(value: pulumi.Output[Any], *resources: pulumi.CustomResource) -> pulumi.Output[Any]:
    """`value`, carrying a dependency on `resources` for whoever consumes it."""
    return pulumi.Output.all(value, *[r.id for r in resources]).apply(lambda values: values[0])


class EcsCluster(pulumi.ComponentResource):
    """An ECS cluster with Container Insights and EC2 capacity behind a capacity provider.

    Guarantees:
    * Instances run the ECS-optimized AL2023 AMI (from AWS's public SSM parameter unless pinned),
      require IMDSv2 with a hop limit of 1 (bridge-mode containers cannot reach the instance
      role), boot from an encrypted gp3 root volume, have no key pair (SSM/ECS Exec instead of
      SSH) and join this cluster through user data.
    * The instance role holds exactly AmazonEC2ContainerServiceforEC2Role and
      AmazonSSMManagedInstanceCore. The instance security group has no ingress of its own.
    * The auto scaling group spans the private subnets; its desired capacity belongs to the
      capacity provider (Pulumi ignores it), managed scaling tracks `target_capacity_percent`,
      managed draining moves tasks off instances before they terminate, and termination
      protection is on in both places or in neither.
    * With ECS Exec logging (`exec_log_retention_days`), sessions are encrypted with a customer
      managed key (rotated yearly) and logged to a log group encrypted with the same key; the
      key's policy lets CloudWatch Logs use it for that group only.
    * The capacity provider is created after the cluster, whose creation makes the account's ECS
      service-linked role if it does not exist yet (a first deploy in a fresh account).
    * The first EC2 provider is the cluster's default strategy (weight 1, base 0); Fargate
      providers are only attached when asked for. `cluster_name`, `cluster_arn` and the capacity
      provider names resolve only once the providers are attached, so services built on them
      never race it.
    * With `capacity_groups`, each group (an environment) is a failure domain of its own: its own
      host pin, launch template, Auto Scaling group (tagged `CapacityGroup=<group>`, instances
      too) and capacity provider, in the one cluster (one Container Insights view, one ECS Exec
      configuration; ECS lets a cluster hold several capacity providers and a service's
      `capacityProviderStrategy` picks its own, botocore `ecs/2014-11-13` PutClusterCapacityProviders
      and CreateService). The cluster's instance role, profile and security group are shared:
      permissions and network rules, not hosts. A group's launch template is built from its host
      pin, so a group whose pin holds keeps its AMI, instance type and user data whatever this run
      renders; with `instance_refresh`, moving a pin rolls that group's hosts only.
    """

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    capacity_provider_name: pulumi.Output[str]
    """The first group's provider (the shared one without per-environment groups)."""
    capacity_provider_names: dict[str, pulumi.Output[str]]
    """Capacity provider per group key (an environment, or `shared`)."""
    asg_names: dict[str, pulumi.Output[str]]
    asg_arns: dict[str, pulumi.Output[str]]
    launch_template_ids: dict[str, pulumi.Output[str]]
    host_pin_names: dict[str, pulumi.Output[str]]
    """SSM parameter of each group's host pin."""
    instance_security_group_id: pulumi.Output[str]
    instance_role_name: pulumi.Output[str]
    asg_name: pulumi.Output[str]
    asg_arn: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    exec_log_group_arn: pulumi.Output[str] | None
    exec_kms_key_arn: pulumi.Output[str] | None
    """Customer managed key of ECS Exec sessions and their log group (task roles need
    kms:Decrypt on it to open a session)."""

    def __init__(
        self, name: str, args: EcsClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        for group in capacity_group_keys(args):
            if problem := capacity_provider_name_problem(f"{group_prefix(name, group)}-ec2"):
                raise ValueError(problem)
        super().__init__("steadystate:ecs_cluster:EcsCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        exec_logs, exec_key = (
            self._exec_logs(name, args.exec_log_retention_days)
            if args.exec_log_retention_days is not None
            else (None, None)
        )
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            aws.ecs.ClusterArgs(
                # Every ECS Exec session is encrypted with the exec key (beyond TLS), and its
                # commands and output go to the exec log group, encrypted with the same key.
                configuration=aws.ecs.ClusterConfigurationArgs(
                    execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                        kms_key_id=exec_key.arn,
                        logging="OVERRIDE",
                        log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                            cloud_watch_log_group_name=exec_logs.name,
                            cloud_watch_encryption_enabled=True,
                        ),
                    )
                )
                if exec_logs and exec_key
                else None,
                settings=[
                    aws.ecs.ClusterSettingArgs(
                        name="containerInsights", value=args.container_insights
                    )
                ],
                tags={"Name": f"{name}-cluster"},
            ),
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-instance",
            aws.iam.RoleArgs(
                assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                description="ECS container instances: ECS agent and SSM agent only",
                tags={"Name": f"{name}-instance", "Role": "ecs-instance"},
            ),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-instance-{arn.rsplit('/', 1)[-1]}",
                aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=arn),
                opts=child,
            )
            for arn in INSTANCE_MANAGED_POLICIES
        ]
        profile = aws.iam.InstanceProfile(
            f"{name}-instance",
            aws.iam.InstanceProfileArgs(role=role.name, tags={"Name": f"{name}-instance"}),
            opts=child,
        )

        security_group = aws.ec2.SecurityGroup(
            f"{name}-instances",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description="ECS container instances: no ingress of their own (services add it)",
                tags={"Name": f"{name}-instances", "Role": "ecs-instance"},
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-instances-egress",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=security_group.id,
                description="ECS agent, image pulls, logs and task traffic to AWS APIs and the "
                "internet (through NAT or VPC endpoints)",
                ip_protocol="-1",
                cidr_ipv4="0.0.0.0/0",
                tags={"Name": f"{name}-instances-egress"},
            ),
            opts=child,
        )

        image_id = args.image_id or (
            aws.ssm.get_parameter_output(
                name=ECS_AMI_PARAMETER, opts=pulumi.InvokeOutputOptions(parent=self)
            ).insecure_value
        )
        user_data = cluster.name.apply(lambda n: encode_user_data(ecs_user_data_script(n)))
        groups = capacity_group_keys(args)
        follow = set(groups if args.hosts_follow is None else args.hosts_follow)
        built = {
            group: self._capacity_group(
                name,
                group,
                args,
                HostPinArgs(
                    group=group,
                    image_id=image_id,
                    instance_type=args.instance_type,
                    user_data=user_data,
                    follow=group in follow,
                ),
                _HostShared(profile.arn, security_group.id, cluster, attachments),
                # The first environment's group takes over the shared group of a stack deployed
                # before groups existed: its hosts and capacity provider stay, nothing is replaced.
                takes_over_shared=group != SHARED_GROUP and group == groups[0],
            )
            for group in groups
        }
        providers = [b.provider for b in built.values()]

        attached = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            aws.ecs.ClusterCapacityProvidersArgs(
                cluster_name=cluster.name,
                capacity_providers=[
                    *(p.name for p in providers[1:]),
                    *available_capacity_providers(
                        providers[0].name,
                        enable_fargate=args.enable_fargate,
                        enable_fargate_spot=args.enable_fargate_spot,
                    ),
                ],
                default_capacity_provider_strategies=[
                    aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                        capacity_provider=providers[0].name, weight=1, base=0
                    )
                ],
            ),
            opts=child,
        )

        self.cluster_name = _after(cluster.name, attached)
        self.cluster_arn = _after(cluster.arn, attached)
        self.capacity_provider_names = {
            group: _after(b.provider.name, attached) for group, b in built.items()
        }
        self.asg_names = {group: b.asg.name for group, b in built.items()}
        self.asg_arns = {group: b.asg.arn for group, b in built.items()}
        self.launch_template_ids = {group: b.launch_template.id for group, b in built.items()}
        self.host_pin_names = {group: b.pin.parameter.name for group, b in built.items()}
        self.capacity_provider_name = self.capacity_provider_names[groups[0]]
        self.instance_security_group_id = security_group.id
        self.instance_role_name = role.name
        self.asg_name = self.asg_names[groups[0]]
        self.launch_template_id = self.launch_template_ids[groups[0]]
        self.exec_log_group_arn = exec_logs.arn if exec_logs else None
        self.exec_kms_key_arn = exec_key.arn if exec_key else None
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "capacity_provider_names": self.capacity_provider_names,
                "asg_names": self.asg_names,
                "launch_template_ids": self.launch_template_ids,
                "instance_security_group_id": self.instance_security_group_id,
                "instance_role_name": self.instance_role_name,
            }
        )

    def capacity_provider_for(self, environment: str) -> pulumi.Output[str]:
        """The capacity provider ``environment``'s services run on: its own, or the shared one."""
        return self.capacity_provider_names.get(
            environment, self.capacity_provider_names.get(SHARED_GROUP, self.capacity_provider_name)
        )

    def asg_name_for(self, environment: str) -> pulumi.Output[str]:
        """The Auto Scaling group of ``environment``'s hosts: its own, or the shared one."""
        return self.asg_names.get(environment, self.asg_names.get(SHARED_GROUP, self.asg_name))

    def _capacity_group(
        self,
        name: str,
        group: str,
        args: EcsClusterArgs,
        pin_args: HostPinArgs,
        shared: _HostShared,
        *,
        takes_over_shared: bool,
    ) -> _CapacityGroup:
        """One failure domain: a host pin, a launch template built from it, an Auto Scaling group
        and the capacity provider that scales it. ``takes_over_shared``: the group adopts the
        shared group's launch template, Auto Scaling group and capacity provider (aliases)."""
        prefix = group_prefix(name, group)
        pin = host_pin(f"{prefix}-host-settings", pin_args, self)

        def adopts(shared_name: str) -> list[pulumi.Input[str] | pulumi.Alias]:
            return [pulumi.Alias(name=shared_name)] if takes_over_shared else []

        resource_tags = {
            "Name": f"{prefix}-host",
            **({} if group == SHARED_GROUP else {CAPACITY_GROUP_TAG: group}),
            **args.instance_tags,
        }
        launch_template = aws.ec2.LaunchTemplate(
            f"{prefix}-hosts",
            aws.ec2.LaunchTemplateArgs(
                description="ECS container instances"
                + ("" if group == SHARED_GROUP else f" of {group}"),
                image_id=pin.image_id,
                instance_type=pin.instance_type,
                iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(
                    arn=shared.profile_arn
                ),
                vpc_security_group_ids=[shared.security_group_id],
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=IMDS_HOP_LIMIT,
                    instance_metadata_tags="disabled",
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name=ROOT_DEVICE_NAME,
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_type="gp3",
                            volume_size=args.root_volume_gib,
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                user_data=pin.user_data,
                update_default_version=True,
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type=kind, tags=resource_tags
                    )
                    for kind in ("instance", "volume")
                ],
                tags={"Name": f"{prefix}-hosts"},
            ),
            opts=pulumi.ResourceOptions(parent=self, aliases=adopts(f"{name}-hosts")),
        )

        asg = aws.autoscaling.Group(
            f"{prefix}-hosts",
            aws.autoscaling.GroupArgs(
                min_size=args.min_instances,
                max_size=args.max_instances,
                vpc_zone_identifiers=args.private_subnet_ids,
                launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                    id=launch_template.id, version=launch_template.latest_version.apply(str)
                ),
                health_check_type="EC2",
                health_check_grace_period=args.health_check_grace_seconds,
                protect_from_scale_in=args.managed_termination_protection,
                instance_refresh=_instance_refresh() if args.instance_refresh else None,
                tags=[
                    aws.autoscaling.GroupTagArgs(
                        key="AmazonECSManaged", value="true", propagate_at_launch=True
                    ),
                    aws.autoscaling.GroupTagArgs(
                        key="Name", value=f"{prefix}-host", propagate_at_launch=True
                    ),
                    *(
                        []
                        if group == SHARED_GROUP
                        else [
                            aws.autoscaling.GroupTagArgs(
                                key=CAPACITY_GROUP_TAG, value=group, propagate_at_launch=True
                            )
                        ]
                    ),
                ],
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                aliases=adopts(f"{name}-hosts"),
                # The capacity provider owns the desired count; Pulumi must not reset it.
                ignore_changes=["desired_capacity"],
                # Instances must not boot before their role can register them with ECS.
                depends_on=shared.attachments,
            ),
        )

        provider = aws.ecs.CapacityProvider(
            f"{prefix}-ec2",
            aws.ecs.CapacityProviderArgs(
                auto_scaling_group_provider=aws.ecs.CapacityProviderAutoScalingGroupProviderArgs(
                    auto_scaling_group_arn=asg.arn,
                    managed_scaling=aws.ecs.CapacityProviderAutoScalingGroupProviderManagedScalingArgs(
                        status="ENABLED",
                        target_capacity=args.target_capacity_percent,
                        minimum_scaling_step_size=1,
                        maximum_scaling_step_size=args.max_scaling_step_size,
                        instance_warmup_period=args.instance_warmup_seconds,
                    ),
                    managed_termination_protection=termination_protection_setting(
                        args.managed_termination_protection
                    ),
                    managed_draining="ENABLED",
                ),
                tags={"Name": f"{prefix}-ec2"},
            ),
            # CreateCapacityProvider needs the account's ECS service-linked role
            # (AWSServiceRoleForECS), which CreateCluster creates when it is missing: in a
            # never-used account the provider must come after the cluster, explicitly rather than
            # by way of the user data. (Declaring the role instead fails wherever it exists, and
            # destroying it would pull it from every other cluster in the account.)
            opts=pulumi.ResourceOptions(
                parent=self,
                aliases=adopts(f"{name}-ec2"),
                depends_on=[shared.cluster],
            ),
        )
        return _CapacityGroup(pin, launch_template, asg, provider)

    def _exec_logs(
        self, name: str, retention_days: int
    ) -> tuple[aws.cloudwatch.LogGroup, aws.kms.Key]:
        """The ECS Exec log group and the customer managed key encrypting it and the sessions.

        The key policy lets CloudWatch Logs use the key only for log groups named
        `<name>-exec-logs-*`: the group is auto-named (logical name, a dash, a random suffix),
        so its exact ARN does not exist before the key it needs, and an existing stack's group
        keeps its name (the key is associated in place, AssociateKmsKey, not replaced).
        """
        invoke = pulumi.InvokeOutputOptions(parent=self)
        logical = f"{name}-exec-logs"
        policy = pulumi.Output.all(
            aws.get_partition_output(opts=invoke).partition,
            aws.get_region_output(opts=invoke).region,
            aws.get_caller_identity_output(opts=invoke).account_id,
        ).apply(lambda p: json.dumps(log_group_key_policy(p[0], p[1], p[2], f"{logical}-*")))
        key = aws.kms.Key(
            f"{name}-exec",
            aws.kms.KeyArgs(
                description=f"{name}: ECS Exec sessions and their log group",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=policy,
                tags={"Name": f"{name}-exec"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        logs = aws.cloudwatch.LogGroup(
            logical,
            aws.cloudwatch.LogGroupArgs(retention_in_days=retention_days, kms_key_id=key.arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return logs, key


#: Tag on a per-environment group's instances and volumes naming its capacity group: what the
#: environment-loss experiment targets (``aws:ec2:terminate-instances`` by resource tag).
CAPACITY_GROUP_TAG = "CapacityGroup"


@dataclass(frozen=True)
class _HostShared:
    """What every capacity group of a cluster shares: the instance profile and security group
    (permissions and network rules, not hosts) and the cluster the hosts join."""

    profile_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    cluster: aws.ecs.Cluster
    attachments: list[aws.iam.RolePolicyAttachment]


@dataclass(frozen=True)
class _CapacityGroup:
    pin: HostPin
    launch_template: aws.ec2.LaunchTemplate
    asg: aws.autoscaling.Group
    provider: aws.ecs.CapacityProvider


def _instance_refresh() -> aws.autoscaling.GroupInstanceRefreshArgs:
    return aws.autoscaling.GroupInstanceRefreshArgs(
        strategy="Rolling",
        preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
            min_healthy_percentage=100,
            max_healthy_percentage=200,
            skip_matching=True,
            # Protected instances (managed termination protection) are replaced too; managed
            # draining stops their tasks gracefully first.
            scale_in_protected_instances="Refresh",
        ),
    )
