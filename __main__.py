"""steadystate: an auto-scaling, self-healing HTTP service on ECS, composed from its components.

Settings are read and validated before anything is registered. Then: network → cluster → image →
alert topic → database (its RDS events notify the alert topic) → the WAF web ACL → one environment
per name (onebox + fleet behind one ALB, each ALB behind the web ACL) → the S3 gateway's policy →
connectivity alarms → blue/green DNS failover → FIS chaos experiments on a schedule, and the
recorder of their runs → dashboard (it graphs the FIS templates' runs).
"""

import pulumi
import pulumi_aws as aws

from components.alert_topic import AlertTopic
from components.app_image import AppImage
from components.blue_green_dns import BlueGreenDns
from components.chaos_experiments import ChaosExperiments
from components.chaos_records import FisRunRecorder
from components.connectivity_alarms import ConnectivityAlarms
from components.credential_rotation import ScheduledRotation
from components.dashboard import Dashboard
from components.database import Database
from components.database_bootstrap import DatabaseBootstrap
from components.ecs_cluster import EcsCluster
from components.endpoint_policies import S3GatewayAccess, S3GatewayAccessArgs
from components.environment import ServiceEnvironment
from components.network import Network
from components.release_pins import ReleasePin, pins_output
from components.web_acl import WebAcl
from components.zonal_autoshift import ZonalAutoshift
from composition import args as build
from settings import (
    az_experiment_zone,
    choose_zones,
    load_settings,
    pin_zones_advice,
    raw_config,
)
from settings.deploy_readiness import call_out

raw = raw_config()
settings = load_settings(raw, pulumi.get_project())
call_out(settings, raw, pulumi.get_stack(), pulumi.get_project())
# Every zone of the region, whatever its state: an `up` during an AZ event moves nothing.
region_zones = aws.get_availability_zones(filters=[build.AVAILABILITY_ZONES_ONLY])
zones = choose_zones(settings, region_zones.names, region_zones.zone_ids, pulumi.get_project())
if advice := pin_zones_advice(
    settings, zones, region_zones.names, region_zones.zone_ids, pulumi.get_stack()
):
    pulumi.log.warn(advice)

if teardown := build.teardown_warning(settings):
    pulumi.log.warn(teardown)

network = Network("network", build.network_args(settings, zones))
cluster = EcsCluster("cluster", build.cluster_args(settings, network))
image = AppImage("app", build.image_args(settings))
alerts = AlertTopic("alerts", build.alert_topic_args(settings))
database = (
    Database("db", build.database_args(settings, network, cluster, alerts.topic_arn))
    if settings.database.enabled
    else None
)

# Each service runs what its release pin holds: a plain `pulumi up` moves only the oneboxes (the
# fleets without onebox); the pipeline says which pins move per `up` (docs/how-to/release.md).
pins = {
    key: ReleasePin(key, build.release_pin_args(settings, key, image.image_ref, image.tag))
    for key in build.service_keys(settings)
}
# ECR keeps every image a pin runs (and the newest image.keepImages): no running digest expires.
image.retain([pin.version for pin in pins.values()])

# One AWS WAF web ACL in front of every environment's internet-facing load balancer.
web_acl = WebAcl("waf", build.web_acl_args(settings)) if settings.load_balancer.waf else None

environments: dict[str, ServiceEnvironment] = {}
for env_name in settings.environments:
    fleet_pin = pins[f"{env_name}-fleet"]
    onebox_pin = pins.get(f"{env_name}-onebox")
    service = build.service_template(
        settings,
        environment_name=env_name,
        cluster_name=cluster.cluster_name,
        capacity_provider_name=cluster.capacity_provider_for(env_name),
        image=fleet_pin.image,
        repository_arn=image.repository_arn,
        topic_arn=alerts.topic_arn,
        version=fleet_pin.version,
        exec_log_group_arn=cluster.exec_log_group_arn,
        exec_kms_key_arn=cluster.exec_kms_key_arn,
        prober_targets=build.probe_targets(settings, database.address if database else None),
        # The app reads its own role's secret at connect time: no credentials in the task.
        task_role_statements=database.app_secret_read_statements() if database else (),
        extra_environment=build.database_environment(database) if database else None,
    )
    environments[env_name] = ServiceEnvironment(
        env_name,
        build.environment_args(
            settings,
            network,
            cluster.instance_security_group_id,
            service,
            onebox_pin,
            web_acl.arn if web_acl else None,
        ),
    )

# The S3 gateway admits ECR layers, Amazon Linux repositories and the buckets created above only.
S3GatewayAccess(
    "s3-gateway",
    S3GatewayAccessArgs(
        endpoint_id=network.s3_endpoint_id,
        bucket_arns=[arn for env in environments.values() for arn in env.bucket_arns],
    ),
)

connectivity = ConnectivityAlarms(
    "connectivity", build.connectivity_args(settings, alerts.topic_arn)
)
# ARC zonal autoshift per load balancer: practice runs judged and blocked by the environment's
# alarms; and the alarm that says one zone alone lost its hosts.
zonal_alarm_arns = []
for env_name, environment in environments.items():
    zonal = ZonalAutoshift(
        f"{env_name}-zonal",
        build.zonal_autoshift_args(
            settings,
            zones,
            environment,
            alerts.topic_arn,
            connectivity.aggregate_alarm_arns.get(env_name),
        ),
    )
    zonal_alarm_arns.extend(zonal.alarm_arns)

url = environments[settings.dns.primary].url
if settings.dns.enabled:
    dns = BlueGreenDns(
        "dns",
        build.dns_args(
            settings,
            environments,
            connectivity.aggregate_alarm_names,
            connectivity.aggregate_alarm_fingerprints,
            connectivity.region,
        ),
    )
    scheme = "https" if build.serves_https(settings) else "http"
    url = dns.fqdn.apply(lambda fqdn: f"{scheme}://{fqdn.rstrip('.')}")
    pulumi.export("dnsPrimary", dns.primary)

fis_template_keys: list[str] = []
if settings.chaos.enabled:
    chaos = ChaosExperiments(
        "chaos",
        build.chaos_experiments_args(
            settings,
            cluster,
            environments,
            alerts.topic_arn,
            network.isolated_subnet_ids if database else None,
            build.az_experiment_args(
                settings,
                az_experiment_zone(
                    settings, zones, region_zones.names, region_zones.zone_ids, pulumi.get_project()
                ),
                zones,
                cluster,
                network,
                database.arn if database else None,
            ),
        ),
    )
    pulumi.export("fisTemplateIds", chaos.template_ids)
    # Every FIS run, scheduled or started by hand, leaves its outcome in steadystate/chaos.
    FisRunRecorder(
        "fis-runs", build.fis_run_recorder_args(settings, chaos, environments, alerts.topic_arn)
    )
    fis_template_keys = list(chaos.template_ids)

if settings.operations.dashboard:
    dashboard = Dashboard(
        "dashboard",
        build.dashboard_args(
            settings,
            connectivity.region,
            cluster,
            environments,
            [*connectivity.alarm_arns, *zonal_alarm_arns],
            database.identifier if database else None,
            fis_template_keys,
            zones,
        ),
    )
    pulumi.export("dashboardUrl", dashboard.url)

services = {
    f"{env}-{role}": svc
    for env, environment in environments.items()
    for role, svc in environment.services.items()
}
pulumi.export("url", url)
pulumi.export("clusterName", cluster.cluster_name)
# Each capacity group's Auto Scaling group (an environment's, or `shared`): the release
# pipeline's host step follows its instance refresh.
pulumi.export("hostGroups", cluster.asg_names)
pulumi.export("serviceNames", {key: svc.service_name for key, svc in services.items()})
pulumi.export("logGroupNames", {key: svc.log_group_name for key, svc in services.items()})
pulumi.export("deploymentAlarmNames", {key: list(svc.alarm_names) for key, svc in services.items()})
pulumi.export("repositoryName", image.repository_name)
pulumi.export("imageRef", image.image_ref)
pulumi.export("imageVersion", image.tag)
pulumi.export("releasePins", pins_output(pins))
pulumi.export(
    "environmentUrls", {env: environment.url for env, environment in environments.items()}
)
pulumi.export("alarmTopicArn", alerts.topic_arn)
pulumi.export("connectivityAlarmNames", connectivity.alarm_names)
if database:
    pulumi.export("databaseAddress", database.address)
    bootstrap = DatabaseBootstrap(
        "db-bootstrap",
        build.database_bootstrap_args(
            settings, database, cluster, image.image_ref, image.repository_arn
        ),
    )
    pulumi.export("databaseBootstrapCommand", bootstrap.run_command)
    pulumi.export("databaseRotateCommand", bootstrap.rotate_command)
    rotation = build.credential_rotation_args(settings, bootstrap, cluster, alerts.topic_arn)
    if rotation is not None:
        # The app's credentials rotate on a schedule; a failed rotation alarms.
        scheduled = ScheduledRotation("db-rotation", rotation)
        pulumi.export("databaseRotationSchedule", scheduled.schedule_name)
