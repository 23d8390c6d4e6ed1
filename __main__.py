"""steadystate: an auto-scaling, self-healing HTTP service on ECS, composed from its components.

Settings are read and validated before anything is registered. Then: network → cluster → image →
alert topic → database → one environment per name (onebox + fleet behind one ALB) → connectivity
alarms → blue/green DNS failover → dashboard → FIS chaos experiments on a schedule.
"""

import pulumi
import pulumi_aws as aws

from components.alert_topic import AlertTopic, AlertTopicArgs
from components.app_image import AppImage
from components.blue_green_dns import BlueGreenDns
from components.chaos_experiments import ChaosExperiments
from components.connectivity_alarms import ConnectivityAlarms
from components.dashboard import Dashboard
from components.database import Database
from components.ecs_cluster import EcsCluster
from components.environment import ServiceEnvironment
from components.network import Network
from composition import args as build
from settings import choose_zones, load_settings, raw_config

settings = load_settings(raw_config(), pulumi.get_project())
zones = choose_zones(settings, aws.get_availability_zones(state="available").names)

network = Network("network", build.network_args(settings, zones))
cluster = EcsCluster("cluster", build.cluster_args(settings, network))
image = AppImage("app", build.image_args(settings))
alerts = AlertTopic("alerts", AlertTopicArgs(emails=settings.connectivity.alarm_emails))
database = (
    Database("db", build.database_args(settings, network, cluster))
    if settings.database.enabled
    else None
)

# With onebox, the fleet keeps the promoted digest until a second `pulumi up` promotes the new one.
fleet_image = (settings.release.onebox and settings.release.fleet_image) or image.image_ref

environments: dict[str, ServiceEnvironment] = {}
for env_name in settings.environments:
    service = build.service_template(
        settings,
        environment_name=env_name,
        cluster_name=cluster.cluster_name,
        capacity_provider_name=cluster.capacity_provider_name,
        image=fleet_image,
        repository_arn=image.repository_arn,
        topic_arn=alerts.topic_arn,
        version=image.tag,
        exec_log_group_arn=cluster.exec_log_group_arn,
        prober_targets=build.probe_targets(settings, database.address if database else None),
        secrets=database.ecs_secrets() if database else (),
        secret_arns=[database.secret_arn] if database else (),
        extra_environment={
            "DB_HOST": database.address,
            "DB_PORT": database.port.apply(str),
            "DB_NAME": database.db_name,
        }
        if database
        else None,
    )
    environments[env_name] = ServiceEnvironment(
        env_name,
        build.environment_args(
            settings, network, cluster.instance_security_group_id, service, image.image_ref
        ),
    )

connectivity = ConnectivityAlarms(
    "connectivity", build.connectivity_args(settings, alerts.topic_arn)
)
url = environments[settings.dns.primary].url
if settings.dns.enabled:
    dns = BlueGreenDns(
        "dns",
        build.dns_args(
            settings, environments, connectivity.aggregate_alarm_names, connectivity.region
        ),
    )
    scheme = "https" if build.serves_https(settings) else "http"
    url = dns.fqdn.apply(lambda fqdn: f"{scheme}://{fqdn.rstrip('.')}")
    pulumi.export("dnsPrimary", dns.primary)
if settings.operations.dashboard:
    dashboard = Dashboard(
        "dashboard",
        build.dashboard_args(
            settings,
            connectivity.region,
            cluster,
            environments,
            connectivity.alarm_arns,
            database.identifier if database else None,
        ),
    )
    pulumi.export("dashboardUrl", dashboard.url)

if settings.chaos.enabled:
    chaos = ChaosExperiments(
        "chaos",
        build.chaos_experiments_args(
            settings,
            cluster,
            environments,
            alerts.topic_arn,
            network.isolated_subnet_ids if database else None,
        ),
    )
    pulumi.export("fisTemplateIds", chaos.template_ids)

services = {
    f"{env}-{role}": svc
    for env, environment in environments.items()
    for role, svc in environment.services.items()
}
pulumi.export("url", url)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("serviceNames", {key: svc.service_name for key, svc in services.items()})
pulumi.export("logGroupNames", {key: svc.log_group_name for key, svc in services.items()})
pulumi.export("repositoryName", image.repository_name)
pulumi.export("imageRef", image.image_ref)
pulumi.export("alarmTopicArn", alerts.topic_arn)
if database:
    pulumi.export("databaseAddress", database.address)
