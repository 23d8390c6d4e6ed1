"""ServiceEnvironment: one complete serving environment (blue or green) — a public load balancer
whose listener splits traffic between a fleet service and, optionally, a onebox service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from .load_balancer import PublicLoadBalancer, PublicLoadBalancerArgs, WeightedTarget
from .service import ServiceWithAutoscaling, ServiceWithAutoscalingArgs


@dataclass(frozen=True)
class HealthCheckSpec:
    """Target-group health check of the app's liveness endpoint."""

    path: str = "/health"
    interval: int = 10
    timeout: int = 3
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2


@dataclass(frozen=True)
class OneboxSpec:
    """A small fixed-size service that meets a new image before the fleet does (the onebox/fleet article)."""

    image: pulumi.Input[str]
    """The onebox's release (normally this run's image); the fleet keeps running its own."""
    version: pulumi.Input[str] | None = None
    """``APP_VERSION`` of the onebox's image; None: the template's."""
    release_environment: pulumi.Input[Mapping[str, str]] | None = None
    """The onebox pin's fault environment (``ReleasePin.fault_environment``); the fleet never
    gets it."""
    release_tags: pulumi.Input[Mapping[str, str]] | None = None
    """The onebox pin's ``FaultSwitch`` tag while a fault is on."""
    tasks: int = 1
    weight: int = 1
    fleet_weight: int = 99


@dataclass(frozen=True)
class ServiceEnvironmentArgs:
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    host_security_group_id: pulumi.Input[str]
    service: ServiceWithAutoscalingArgs
    """Template for the fleet service; target group and load balancer fields are filled here."""
    health_check: HealthCheckSpec = field(default_factory=HealthCheckSpec)
    deregistration_delay: int = 15
    onebox: OneboxSpec | None = None
    certificate_arn: pulumi.Input[str] | None = None
    deletion_protection: bool = False
    access_logs: bool = True
    access_log_retention_days: int = 90
    idle_timeout: int = 60
    force_destroy: bool = False
    """Let `pulumi destroy` remove non-empty log buckets (dev, or prod armed for teardown)."""
    load_balancer_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags of the load balancer (``Teardown=armed`` while armed for teardown)."""
    web_acl_arn: pulumi.Input[str] | None = None
    """The stack's AWS WAF web ACL the load balancer is associated with; None: no WAF."""
    zonal_shift: bool = False
    """ARC zonal shift integration on the load balancer (``zonal_shift.config.enabled``)."""


def target_group_args(
    vpc_id: pulumi.Input[str],
    port: int,
    health: HealthCheckSpec,
    deregistration_delay: int,
    tags: Mapping[str, str],
) -> aws.lb.TargetGroupArgs:
    """Instance targets on the dynamic host port ECS registers; checks `/health` for a 200."""
    return aws.lb.TargetGroupArgs(
        vpc_id=vpc_id,
        port=port,
        protocol="HTTP",
        target_type="instance",
        deregistration_delay=deregistration_delay,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            path=health.path,
            protocol="HTTP",
            port="traffic-port",
            matcher="200",
            interval=health.interval,
            timeout=health.timeout,
            healthy_threshold=health.healthy_threshold,
            unhealthy_threshold=health.unhealthy_threshold,
        ),
        tags=dict(tags),
    )


class ServiceEnvironment(pulumi.ComponentResource):
    """One environment: ALB → weighted listener → fleet (autoscaled) and onebox (fixed) services.

    Services are created after the listener so ECS never sees a target group without a load balancer.
    The onebox share is the listener weight, judged by the same guardrail as the settings.
    """

    url: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    alb_zone_id: pulumi.Output[str]
    alb_arn_suffix: pulumi.Output[str]
    alb_arn: pulumi.Output[str]
    services: dict[str, ServiceWithAutoscaling]
    target_group_arn_suffixes: dict[str, pulumi.Output[str]]
    bucket_arns: list[pulumi.Output[str]]
    """The environment's S3 buckets (its load balancer's access logs)."""

    def __init__(
        self, name: str, args: ServiceEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:environment:ServiceEnvironment", name, None, opts)
        template = args.service
        roles = ["fleet"] + (["onebox"] if args.onebox else [])
        target_groups = {
            role: aws.lb.TargetGroup(
                f"{name}-{role}-tg",
                target_group_args(
                    args.vpc_id,
                    template.container_port,
                    args.health_check,
                    args.deregistration_delay,
                    {"Role": role, "Environment": template.environment_name},
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in roles
        }
        weights = (
            {"fleet": args.onebox.fleet_weight, "onebox": args.onebox.weight}
            if args.onebox
            else {"fleet": 1}
        )
        lb = PublicLoadBalancer(
            name,
            PublicLoadBalancerArgs(
                vpc_id=args.vpc_id,
                public_subnet_ids=args.public_subnet_ids,
                targets=[WeightedTarget(target_groups[r].arn, weights[r]) for r in roles],
                host_security_group_id=args.host_security_group_id,
                certificate_arn=args.certificate_arn,
                deletion_protection=args.deletion_protection,
                access_logs=args.access_logs,
                access_log_retention_days=args.access_log_retention_days,
                idle_timeout=args.idle_timeout,
                force_destroy_logs=args.force_destroy,
                tags=dict(args.load_balancer_tags),
                web_acl_arn=args.web_acl_arn,
                zonal_shift=args.zonal_shift,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.services = {}
        for role in roles:
            service_args = replace(
                template,
                role=role,
                target_group_arn=target_groups[role].arn,
                target_group_arn_suffix=target_groups[role].arn_suffix,
                load_balancer_arn_suffix=lb.arn_suffix,
                environment={
                    **template.environment,
                    "APP_ENVIRONMENT": f"{template.environment_name}-{role}",
                },
            )
            if role == "onebox" and args.onebox:
                # Fixed size: the onebox exists to meet a new image with a sliver of traffic.
                if args.onebox.version is not None:
                    service_args = replace(
                        service_args,
                        environment={
                            **service_args.environment,
                            "APP_VERSION": args.onebox.version,
                        },
                    )
                service_args = replace(
                    service_args,
                    image=args.onebox.image,
                    release_environment=args.onebox.release_environment,
                    release_tags=args.onebox.release_tags,
                    scaling=replace(
                        template.scaling,
                        min_tasks=args.onebox.tasks,
                        max_tasks=args.onebox.tasks,
                        fast_scale_out=None,  # a fixed size has nothing to scale out to
                    ),
                )
            self.services[role] = ServiceWithAutoscaling(
                f"{name}-{role}",
                service_args,
                opts=pulumi.ResourceOptions(parent=self, depends_on=lb.listeners),
            )

        self.url = lb.url
        self.alb_dns_name = lb.dns_name
        self.alb_zone_id = lb.zone_id
        self.alb_arn_suffix = lb.arn_suffix
        self.alb_arn = lb.arn
        self.bucket_arns = lb.bucket_arns
        self.target_group_arn_suffixes = {r: tg.arn_suffix for r, tg in target_groups.items()}
        self.register_outputs({"url": self.url})
