"""From validated settings to component arguments: the only place that knows both vocabularies.

Pure functions of settings plus already-built components' outputs; no resources are created here,
so `__main__.py` reads as the list of what the stack contains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from chaos.runner import experiment_names
from components import host_blackhole
from components.alert_topic import AlertTopicArgs
from components.app_image import AppImageArgs
from components.az_experiment import AzExperimentArgs
from components.blue_green_dns import BlueGreenDnsArgs, EnvironmentEndpoint
from components.chaos_experiments import ChaosExperiments, ChaosExperimentsArgs
from components.chaos_records import FisRunRecorderArgs
from components.connectivity_alarms import ConnectivityAlarmsArgs
from components.container_definitions import ProberSpec
from components.credential_rotation import ScheduledRotationArgs
from components.dashboard import DashboardArgs
from components.database import Database, DatabaseArgs
from components.database_bootstrap import DatabaseBootstrap, DatabaseBootstrapArgs
from components.deployment_alarms import DeploymentAlarmSpec
from components.ecs_cluster import EcsCluster, EcsClusterArgs
from components.environment import (
    HealthCheckSpec,
    OneboxSpec,
    ServiceEnvironment,
    ServiceEnvironmentArgs,
)
from components.network import Network, NetworkArgs
from components.release_pins import PinnedRelease, ReleasePin, ReleasePinArgs
from components.service import FastScaleOutSpec, ScalingSpec, ServiceWithAutoscalingArgs
from components.web_acl import WebAclArgs
from components.zonal_autoshift import (
    ZonalAutoshiftArgs,
    default_practice_days,
    practice_windows,
)
from policy.guardrails import limits
from settings import Settings
from settings.loader import host_rollout

#: Where the normalized image build context is staged (git-ignored; see components.build_context).
IMAGE_STAGING_DIR = ".image-context"


AVAILABILITY_ZONES_ONLY = aws.GetAvailabilityZonesFilterArgs(
    name="zone-type", values=["availability-zone"]
)
"""The `DescribeAvailabilityZones` filter that leaves out Local and Wavelength Zones (botocore
`ec2/2016-11-15`: `zone-type` is `availability-zone | local-zone | wavelength-zone`). No `state`
filter: a zone that is impaired today is still one of the stack's zones."""


def network_args(s: Settings, zones: Sequence[str]) -> NetworkArgs:
    n = s.network
    return NetworkArgs(
        cidr=n.cidr,
        availability_zones=list(zones),
        nat_strategy=n.nat_strategy,
        interface_endpoints=n.interface_endpoints,
        flow_log_retention_days=n.flow_log_retention_days,
    )


def cluster_args(s: Settings, network: Network) -> EcsClusterArgs:
    c = s.cluster
    return EcsClusterArgs(
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        instance_type=c.instance_type,
        min_instances=c.min_instances,
        max_instances=c.max_instances,
        target_capacity_percent=c.target_capacity_percent,
        managed_termination_protection=c.managed_termination_protection,
        enable_fargate=c.enable_fargate,
        enable_fargate_spot=c.enable_fargate_spot,
        root_volume_gib=c.root_volume_gib,
        container_insights=c.container_insights,
        exec_log_retention_days=s.service.log_retention_days if s.operations.ecs_exec else None,
        instance_tags={"Project": "steadystate", "Stack": pulumi.get_stack()},
        capacity_groups=list(s.environments) if c.capacity_per_environment else (),
        hosts_follow=host_rollout(s) if c.capacity_per_environment else None,
        # A moved host pin rolls that environment's hosts (replacements first, tasks drained).
        instance_refresh=c.capacity_per_environment,
    )


def deletes_data(s: Settings) -> bool:
    """May `pulumi destroy` delete the image repository and the log buckets with their contents?
    Dev: always (torn down at will). Prod: only while armed (`teardown.allowDataLoss`)."""
    return not s.is_prod or s.teardown.allow_data_loss


def teardown_warning(s: Settings) -> str | None:
    """What an `up` says while the stack is armed for `pulumi destroy`, or None."""
    if not s.teardown.allow_data_loss:
        return None
    return (
        "steadystate:teardown.allowDataLoss is set: deletion protection is off on the load "
        "balancers and the database, and `pulumi destroy` deletes the image repository and the "
        "log buckets with their images and logs (the database leaves its final snapshot). Run "
        "`pulumi destroy` now, or set it to false and `pulumi up` again."
    )


def image_args(s: Settings) -> AppImageArgs:
    # The project directory is the working directory Pulumi runs the program in (and the one the
    # offline tools chdir to), so the image context is found, and staged, relative to it.
    project = Path.cwd()
    return AppImageArgs(
        context=project / s.image.context,
        staging_root=project / IMAGE_STAGING_DIR,
        keep_images=s.image.keep_images,
        force_delete=deletes_data(s),
    )


def probed_dependencies(s: Settings) -> list[dict]:
    """Dependencies the prober can reach: those with a target, and `db` when the stack has one."""
    return s.probed_dependencies()


def probe_targets(s: Settings, database_address: pulumi.Input[str] | None) -> pulumi.Output[str]:
    """`name=target,...` for the prober; `db` without a target probes the stack's database."""

    def render(address: str | None) -> str:
        pairs = []
        for dep in probed_dependencies(s):
            target = dep.get("target") or f"tcp://{address}:5432"
            pairs.append(f"{dep['name']}={target}")
        return ",".join(pairs)

    return pulumi.Output.from_input(database_address).apply(render)


def blackhole_hosts(s: Settings) -> dict[str, str]:
    """Dependency -> DNS name of every probed dependency but ``db`` whose target names a host
    (the FIS ``dependency-<name>`` templates cut them on the container hosts)."""
    hosts = {}
    for dep in probed_dependencies(s):
        host = urlsplit(str(dep.get("target") or "")).hostname
        if dep["name"] != "db" and host and host_blackhole.parameter_problem("Host", host) is None:
            hosts[str(dep["name"])] = host
    return hosts


def alert_topic_args(s: Settings) -> AlertTopicArgs:
    """Who hears alarms; RDS may publish its events too when the stack has a database."""
    return AlertTopicArgs(
        emails=s.connectivity.alarm_emails,
        webhooks=s.connectivity.alarm_webhooks,
        rds_events=s.database.enabled,
    )


def database_args(
    s: Settings, network: Network, cluster: EcsCluster, alert_topic_arn: pulumi.Input[str]
) -> DatabaseArgs:
    """The database, its RDS events going to the stack's alert topic (FSBP RDS.20/21/22)."""
    d = s.database
    return DatabaseArgs(
        vpc_id=network.vpc_id,
        isolated_subnet_ids=network.isolated_subnet_ids,
        # Bridge-mode tasks share their host's network, so the host group is the service's group.
        client_security_group_ids=[cluster.instance_security_group_id],
        instance_class=d.instance_class,
        allocated_storage=d.allocated_storage,
        max_allocated_storage=d.max_allocated_storage,
        engine_version=d.engine_version,
        multi_az=d.multi_az,
        deletion_protection=d.deletion_protection and not s.teardown.allow_data_loss,
        skip_final_snapshot=not d.final_snapshot,
        backup_retention_days=d.backup_retention_days,
        performance_insights=d.performance_insights,
        log_retention_days=s.service.log_retention_days,
        event_topic_arn=alert_topic_arn,
        tags=limits.teardown_tags(s.teardown.allow_data_loss),
    )


def database_environment(database: Database) -> dict[str, pulumi.Input[str]]:
    """Where the serving containers find the database: the app secret's ARN, never a password
    (the app reads the secret when it connects, so rotations reach running tasks)."""
    return {
        "DB_HOST": database.address,
        "DB_PORT": database.port.apply(str),
        "DB_NAME": database.db_name,
        "DB_SSLMODE": "require",  # the parameter group forces TLS (rds.force_ssl=1)
        "DB_SECRET_ARN": database.app_secret_arn,
    }


def database_bootstrap_args(
    s: Settings,
    database: Database,
    cluster: EcsCluster,
    image: pulumi.Input[str],
    repository_arn: pulumi.Input[str],
) -> DatabaseBootstrapArgs:
    return DatabaseBootstrapArgs(
        image=image,
        repository_arn=repository_arn,
        cluster_name=cluster.cluster_name,
        capacity_provider_name=cluster.capacity_provider_name,
        environment={
            **database_environment(database),
            "DB_MASTER_SECRET_ARN": database.secret_arn,
            "DB_APP_USERNAME": database.app_username,
        },
        task_role_statements=database.bootstrap_statements(),
        log_retention_days=s.service.log_retention_days,
    )


def credential_rotation_args(
    s: Settings, bootstrap: DatabaseBootstrap, cluster: EcsCluster, topic_arn: pulumi.Input[str]
) -> ScheduledRotationArgs | None:
    """The schedule that runs the bootstrap's rotate task; None without ``database.rotationDays``."""
    days = s.database.rotation_days
    if days is None:
        return None
    return ScheduledRotationArgs(
        cluster_arn=cluster.cluster_arn,
        capacity_provider_name=cluster.capacity_provider_name,
        task_definition_arn=bootstrap.rotate_task_definition_arn,
        task_family=bootstrap.rotate_family,
        pass_role_arns=bootstrap.role_arns,
        alarm_topic_arn=topic_arn,
        rotation_days=days,
    )


def connectivity_args(s: Settings, topic_arn: pulumi.Input[str]) -> ConnectivityAlarmsArgs:
    return ConnectivityAlarmsArgs(
        environments=list(s.environments),
        dependencies=[dep["name"] for dep in probed_dependencies(s)],
        namespace=s.connectivity.namespace,
        topic_arn=topic_arn,
    )


def serves_https(s: Settings) -> bool:
    """Whether the load balancers terminate HTTPS (a certificate is configured)."""
    return bool(s.load_balancer.certificate_arn or s.load_balancer.certificate_domain)


def dns_args(
    s: Settings,
    environments: Mapping[str, ServiceEnvironment],
    aggregate_alarm_names: Mapping[str, pulumi.Input[str]],
    aggregate_alarm_fingerprints: Mapping[str, str],
    alarm_region: pulumi.Input[str],
) -> BlueGreenDnsArgs:
    https = serves_https(s)
    return BlueGreenDnsArgs(
        zone_name=s.dns.zone_name,
        record_name=s.dns.record_name,
        primary=s.dns.primary,
        create_zone=s.dns.create_zone,
        query_log_retention_days=s.dns.query_log_retention_days,
        health_check_interval=s.dns.health_check_interval,
        failure_threshold=s.dns.failure_threshold,
        alarm_region=alarm_region,
        environments={
            name: EnvironmentEndpoint(
                alb_dns_name=env.alb_dns_name,
                alb_zone_id=env.alb_zone_id,
                aggregate_alarm_name=aggregate_alarm_names[name],
                aggregate_alarm_fingerprint=aggregate_alarm_fingerprints[name],
                health_path=s.service.health_check.path,
                port=443 if https else 80,
                protocol="HTTPS" if https else "HTTP",
            )
            for name, env in environments.items()
        },
    )


def dashboard_args(
    s: Settings,
    region: pulumi.Input[str],
    cluster: EcsCluster,
    environments: Mapping[str, ServiceEnvironment],
    alarm_arns: Sequence[pulumi.Input[str]],
    database_identifier: pulumi.Input[str] | None,
    fis_template_keys: Sequence[str] = (),
    zones: Sequence[str] = (),
) -> DashboardArgs:
    """``fis_template_keys``: the keys of ``ChaosExperiments.template_ids`` (none without chaos),
    graphed on the chaos row as ``fis-<key>`` next to the chaostoolkit experiments."""
    return DashboardArgs(
        region=region,
        load_balancers={name: env.alb_arn_suffix for name, env in environments.items()},
        target_groups={
            f"{name}-{role}": suffix
            for name, env in environments.items()
            for role, suffix in env.target_group_arn_suffixes.items()
        },
        services={
            f"{name}-{role}": (cluster.cluster_name, svc.service_name)
            for name, env in environments.items()
            for role, svc in env.services.items()
        },
        cluster_name=cluster.cluster_name,
        capacity_provider_name=cluster.capacity_provider_name,
        connectivity_namespace=s.connectivity.namespace,
        environments=list(s.environments),
        dependencies=[dep["name"] for dep in probed_dependencies(s)],
        alarm_arns=list(alarm_arns),
        database_identifier=database_identifier,
        chaos_experiments=experiment_names(),
        fis_experiments=list(fis_template_keys),
        zones=list(zones),
    )


def deployment_alarm_spec(s: Settings, topic_arn: pulumi.Input[str]) -> DeploymentAlarmSpec:
    r = s.release
    return DeploymentAlarmSpec(
        alarm_topic_arn=topic_arn,
        latency_threshold_seconds=r.latency_threshold_seconds,
        latency_datapoints=r.latency_datapoints,
        latency_evaluation_periods=r.latency_evaluation_periods,
        error_rate_percent=r.error_rate_percent,
        error_min_requests=r.error_min_requests,
        error_datapoints=r.error_datapoints,
        error_evaluation_periods=r.error_evaluation_periods,
    )


def service_keys(s: Settings) -> list[str]:
    """``blue-fleet``, ``blue-onebox``, ...: one release pin per service."""
    roles = ("fleet", "onebox") if s.release.onebox else ("fleet",)
    return [f"{env}-{role}" for env in s.environments for role in roles]


def release_pin_args(
    s: Settings, key: str, fresh_image: pulumi.Input[str], fresh_version: str
) -> ReleasePinArgs:
    """Does ``key`` take this run's image? ``release.rollout`` says; unset: the oneboxes (or, with
    no onebox, the fleets) follow and the fleets hold. ``release.pins`` overrides both;
    ``release.faults`` adds a fault switch to the release a onebox pin moves to."""
    override = (s.release.pins or {}).get(key)
    return ReleasePinArgs(
        fresh_image=fresh_image,
        fresh_version=fresh_version,
        follow=s.release.follows(key),
        override=PinnedRelease(override["image"], override["version"]) if override else None,
        faults=(s.release.faults or {}).get(key),
    )


def fast_scale_out_spec(s: Settings) -> FastScaleOutSpec | None:
    fast = s.service.fast_scale_out
    if not fast.enabled:
        return None
    return FastScaleOutSpec(
        cpu_threshold=fast.cpu_threshold,
        datapoints=fast.datapoints,
        step_tasks=fast.step_tasks,
        cooldown=fast.cooldown,
    )


def service_template(
    s: Settings,
    *,
    environment_name: str,
    cluster_name: pulumi.Input[str],
    capacity_provider_name: pulumi.Input[str],
    image: pulumi.Input[str],
    repository_arn: pulumi.Input[str],
    topic_arn: pulumi.Input[str],
    version: pulumi.Input[str],
    exec_log_group_arn: pulumi.Input[str] | None = None,
    exec_kms_key_arn: pulumi.Input[str] | None = None,
    prober_targets: pulumi.Input[str] | None,
    secrets: pulumi.Input[Sequence[Mapping[str, str]]] = (),
    secret_arns: Sequence[pulumi.Input[str]] = (),
    task_role_statements: Sequence[Mapping[str, Any]] = (),
    extra_environment: Mapping[str, pulumi.Input[str]] | None = None,
) -> ServiceWithAutoscalingArgs:
    sv = s.service
    prober = (
        ProberSpec(
            targets=prober_targets,
            namespace=s.connectivity.namespace,
            host_dimension=environment_name,
            interval_seconds=s.connectivity.probe_interval_seconds,
        )
        if prober_targets is not None and probed_dependencies(s)
        else None
    )
    return ServiceWithAutoscalingArgs(
        cluster_name=cluster_name,
        capacity_provider_name=capacity_provider_name,
        image=image,
        repository_arn=repository_arn,
        environment_name=environment_name,
        scaling=ScalingSpec(
            min_tasks=sv.min_tasks,
            max_tasks=sv.max_tasks,
            cpu_target=sv.cpu_target,
            memory_target=sv.memory_target,
            requests_per_target=sv.requests_per_target,
            scale_out_cooldown=sv.scale_out_cooldown,
            scale_in_cooldown=sv.scale_in_cooldown,
            fast_scale_out=fast_scale_out_spec(s),
        ),
        cpu=sv.cpu,
        memory=sv.memory,
        container_port=sv.container_port,
        health_check_grace_period=sv.health_check_grace_period,
        minimum_healthy_percent=sv.minimum_healthy_percent,
        maximum_percent=sv.maximum_percent,
        stop_timeout=sv.stop_timeout,
        log_retention_days=sv.log_retention_days,
        environment={
            "APP_STAGE": s.stage,
            "APP_VERSION": version,
            **(extra_environment or {}),
        },
        secrets=secrets,
        secret_arns=secret_arns,
        task_role_statements=task_role_statements,
        prober=prober,
        deployment_alarms=deployment_alarm_spec(s, topic_arn),
        ecs_exec=s.operations.ecs_exec,
        exec_log_group_arn=exec_log_group_arn,
        exec_kms_key_arn=exec_kms_key_arn,
        metrics_namespace=s.connectivity.namespace,
    )


def certificate_arn(s: Settings) -> pulumi.Input[str] | None:
    """The HTTPS certificate: named by ARN, looked up by domain in ACM, or none (HTTP only)."""
    lb = s.load_balancer
    if lb.certificate_domain:
        return aws.acm.get_certificate_output(
            domain=lb.certificate_domain, statuses=["ISSUED"], most_recent=True
        ).arn
    return lb.certificate_arn


def web_acl_args(s: Settings) -> WebAclArgs:
    """The stack's one WAF web ACL (``loadBalancer.waf``), shared by every environment's ALB."""
    return WebAclArgs(log_retention_days=s.load_balancer.waf_log_retention_days)


def environment_args(
    s: Settings,
    network: Network,
    host_security_group_id: pulumi.Input[str],
    service: ServiceWithAutoscalingArgs,
    onebox_pin: ReleasePin | None,
    web_acl_arn: pulumi.Input[str] | None = None,
) -> ServiceEnvironmentArgs:
    hc = s.service.health_check
    lb = s.load_balancer
    onebox = (
        OneboxSpec(
            image=onebox_pin.image,
            version=onebox_pin.version,
            release_environment=onebox_pin.fault_environment,
            release_tags=onebox_pin.fault_tags,
            tasks=s.release.onebox_tasks,
            weight=s.release.onebox_weight,
            fleet_weight=s.release.fleet_weight,
        )
        if s.release.onebox and onebox_pin is not None
        else None
    )
    return ServiceEnvironmentArgs(
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        host_security_group_id=host_security_group_id,
        service=service,
        health_check=HealthCheckSpec(
            path=hc.path,
            interval=hc.interval,
            timeout=hc.timeout,
            healthy_threshold=hc.healthy_threshold,
            unhealthy_threshold=hc.unhealthy_threshold,
        ),
        deregistration_delay=s.service.deregistration_delay,
        onebox=onebox,
        certificate_arn=certificate_arn(s),
        deletion_protection=lb.deletion_protection and not s.teardown.allow_data_loss,
        access_logs=lb.access_logs,
        access_log_retention_days=lb.access_log_retention_days,
        idle_timeout=lb.idle_timeout,
        force_destroy=deletes_data(s),
        load_balancer_tags=limits.teardown_tags(s.teardown.allow_data_loss),
        web_acl_arn=web_acl_arn,
        zonal_shift=s.zonal_shift.enabled,
    )


def chaos_days(s: Settings) -> list[str]:
    """The days chaos runs: ``chaos.weekday``, and the day after it for the AZ experiment."""
    if not s.chaos.enabled:
        return []
    days = [s.chaos.weekday]
    if s.chaos.az_experiment:
        days.append(limits.next_business_day(s.chaos.weekday))
    return days


def zonal_autoshift_args(
    s: Settings,
    zones: Sequence[str],
    environment: ServiceEnvironment,
    topic_arn: pulumi.Input[str],
    connectivity_alarm_arn: pulumi.Input[str] | None,
) -> ZonalAutoshiftArgs:
    """Practice runs in ``zonalShift``'s windows (default: business days except the chaos day),
    judged by the load balancer's 5xx share, blocked by the environment's deployment alarms and
    connectivity alarm. The zone alarm watches the fleet when its minimum puts a task in every
    zone (tasks spread over zones first); with fewer, a zone is empty by design."""
    z = s.zonal_shift
    days = z.practice_days or default_practice_days(chaos_days(s))
    blocking: list[pulumi.Input[str]] = [
        arn for svc in environment.services.values() for arn in svc.alarm_arns
    ]
    if connectivity_alarm_arn is not None:
        blocking.append(connectivity_alarm_arn)
    covers_zones = len(zones) >= 2 and s.service.min_tasks >= len(zones)
    return ZonalAutoshiftArgs(
        load_balancer_arn=environment.alb_arn,
        load_balancer_arn_suffix=environment.alb_arn_suffix,
        zones=list(zones),
        alarm_topic_arn=topic_arn,
        allowed_windows=practice_windows(days, z.practice_start_hour, z.practice_end_hour),
        blocking_alarm_arns=blocking,
        fleet_target_group_arn_suffix=(
            environment.target_group_arn_suffixes["fleet"] if covers_zones else None
        ),
        autoshift=z.enabled and s.autoshift,
        error_rate_percent=s.release.error_rate_percent,
        min_requests=s.release.error_min_requests,
    )


def az_experiment_args(
    s: Settings,
    zone: str,
    zones: Sequence[str],
    cluster: EcsCluster,
    network: Network,
    database_arn: pulumi.Input[str] | None,
) -> AzExperimentArgs | None:
    """The AZ experiment on ``zone`` (``settings.az_experiment_zone``): every capacity group of the
    cluster (one per environment in prod: a power loss hits blue's and green's hosts alike), the
    zone's subnets of every tier (subnet ``i`` of a tier is in ``zones[i]``) and, when it is
    Multi-AZ, the database; None without ``chaos.azExperiment``."""
    if not s.chaos.az_experiment:
        return None
    index = list(zones).index(zone)
    subnet_ids = pulumi.Output.all(
        network.public_subnet_ids, network.private_subnet_ids, network.isolated_subnet_ids
    ).apply(lambda tiers: [tier[index] for tier in tiers if len(tier) > index])
    return AzExperimentArgs(
        zone=zone,
        asg_names=list(cluster.asg_names.values()),
        asg_arns=list(cluster.asg_arns.values()),
        subnet_ids=subnet_ids,
        database_arn=database_arn if s.database.multi_az else None,
        outage_minutes=s.chaos.az_outage_minutes,
    )


def chaos_experiments_args(
    s: Settings,
    cluster: EcsCluster,
    environments: Mapping[str, ServiceEnvironment],
    topic_arn: pulumi.Input[str],
    database_subnet_ids: pulumi.Input[Sequence[str]] | None,
    az_experiment: AzExperimentArgs | None = None,
) -> ChaosExperimentsArgs:
    c = s.chaos
    primary = environments[s.dns.primary]
    return ChaosExperimentsArgs(
        cluster_name=cluster.cluster_name,
        service_name=primary.services["fleet"].service_name,
        asg_name=cluster.asg_name_for(s.dns.primary),
        load_balancer_arn_suffix=primary.alb_arn_suffix,
        alarm_topic_arn=topic_arn,
        database_subnet_ids=database_subnet_ids,
        blackhole_hosts=blackhole_hosts(s),
        blackhole_families=[svc.task_definition_family for svc in primary.services.values()],
        cadence=c.cadence,
        weekday=c.weekday,
        hour=c.hour,
        timezone=c.timezone,
        schedules_enabled=c.schedules_enabled,
        fault_duration=f"PT{c.fault_duration_minutes}M",
        guard_5xx_per_minute=c.guard_5xx_per_minute,
        az_experiment=az_experiment,
    )


def fis_run_recorder_args(
    s: Settings,
    chaos: ChaosExperiments,
    environments: Mapping[str, ServiceEnvironment],
    topic_arn: pulumi.Input[str],
) -> FisRunRecorderArgs:
    """The FIS run recorder watches the templates ``chaos`` created and the primary's ALB; its
    dead-letter alarm notifies the alert topic."""
    return FisRunRecorderArgs(
        template_ids=chaos.template_ids,
        guard_alarm_arns=chaos.guard_alarm_arns,
        load_balancer_arn_suffix=environments[s.dns.primary].alb_arn_suffix,
        stack=pulumi.get_stack(),
        alarm_topic_arn=topic_arn,
        probe_namespace=s.connectivity.namespace,
        primary_environment=s.dns.primary,
        log_retention_days=s.service.log_retention_days,
    )
