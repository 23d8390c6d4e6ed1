"""steadystate: an auto-scaling, self-healing HTTP service on ECS, composed from its components.

Reads and validates the stack's settings before anything is registered, then builds the stack:
network → cluster → image → alert topic → one environment per name (onebox + fleet behind one ALB).
"""

import pulumi
import pulumi_aws as aws

from components.alert_topic import AlertTopic, AlertTopicArgs
from components.app_image import AppImage
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

# Without onebox the fleet runs the fresh build; with it, the fleet keeps the promoted digest.
fleet_image = (
    settings.release.fleet_image
    if settings.release.onebox and settings.release.fleet_image
    else image.image_ref
)

environments = {}
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
        prober_targets=build.probe_targets(settings, None),
    )
    environments[env_name] = ServiceEnvironment(
        env_name,
        build.environment_args(
            settings, network, cluster.instance_security_group_id, service, image.image_ref
        ),
    )

primary = environments[settings.dns.primary]
pulumi.export("url", primary.url)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export(
    "serviceNames",
    {
        f"{env}-{role}": svc.service_name
        for env, environment in environments.items()
        for role, svc in environment.services.items()
    },
)
pulumi.export("repositoryName", image.repository_name)
pulumi.export("imageRef", image.image_ref)
pulumi.export(
    "logGroupNames",
    {
        f"{env}-{role}": svc.log_group_name
        for env, environment in environments.items()
        for role, svc in environment.services.items()
    },
)
pulumi.export("alarmTopicArn", alerts.topic_arn)
