"""PublicLoadBalancer: an internet-facing ALB whose listener splits traffic over weighted target
groups (fleet and, optionally, onebox), and the security-group path from it to the container hosts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .access_logs import AccessLogBucket, AccessLogBucketArgs

# Docker's dynamic host ports in bridge mode come from the kernel's ephemeral range; the ECS
# documentation tells load-balanced services to open 32768-65535 from the load balancer.
DYNAMIC_PORTS = (32768, 65535)
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class WeightedTarget:
    target_group_arn: pulumi.Input[str]
    weight: int


@dataclass(frozen=True)
class PublicLoadBalancerArgs:
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """At least two zones' public subnets."""
    targets: Sequence[WeightedTarget]
    """Target groups the default action forwards to, by weight."""
    host_security_group_id: pulumi.Input[str]
    """Security group of the container hosts; gets ingress from this ALB on the dynamic ports."""
    certificate_arn: pulumi.Input[str] | None = None
    """With a certificate, HTTP redirects to HTTPS and HTTPS forwards; without, HTTP forwards."""
    deletion_protection: bool = False
    access_logs: bool = True
    access_log_retention_days: int = 90
    idle_timeout: int = 60
    force_destroy_logs: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags of the load balancer (besides ``Name``)."""
    web_acl_arn: pulumi.Input[str] | None = None
    """A regional AWS WAF web ACL (components.web_acl) to associate with the ALB; None: none."""
    zonal_shift: bool = False
    """ARC zonal shift integration (ELB attribute ``zonal_shift.config.enabled``, off by default
    in AWS): lets an operator, or zonal autoshift, move traffic out of one zone."""


def forward_action(targets: Sequence[WeightedTarget]) -> aws.lb.ListenerDefaultActionArgs:
    """Forward to every target group by weight (one group still uses the weighted form)."""
    if not targets:
        raise ValueError("targets: need at least one target group to forward to")
    return aws.lb.ListenerDefaultActionArgs(
        type="forward",
        forward=aws.lb.ListenerDefaultActionForwardArgs(
            target_groups=[
                aws.lb.ListenerDefaultActionForwardTargetGroupArgs(
                    arn=t.target_group_arn, weight=t.weight
                )
                for t in targets
            ],
            stickiness=aws.lb.ListenerDefaultActionForwardStickinessArgs(enabled=False, duration=1),
        ),
    )


class PublicLoadBalancer(pulumi.ComponentResource):
    """Internet-facing ALB across the public subnets. Open to the world on 80 (and 443 with a
    certificate) only; reaches the hosts only on the dynamic port range; drops invalid headers;
    defensive desync mitigation; access logs to a private bucket; TLS 1.2+ policy on HTTPS; with
    ``web_acl_arn``, every request passes the AWS WAF web ACL first; with ``zonal_shift``, ARC can
    shift it out of one zone.
    """

    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    url: pulumi.Output[str]
    listeners: list[aws.lb.Listener]
    bucket_arns: list[pulumi.Output[str]]
    """The access-log buckets (empty without access logs), for the S3 gateway endpoint policy."""

    def __init__(
        self, name: str, args: PublicLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate before anything registers: a refused argument leaves no half-built component.
        forward = forward_action(args.targets)
        super().__init__("steadystate:load_balancer:PublicLoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        https = args.certificate_arn is not None

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"{name}: public HTTP(S) in, container host dynamic ports out",
                tags={"Name": f"{name}-alb"},
            ),
            opts=child,
        )
        public_ports = [80, 443] if https else [80]
        for port in public_ports:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-in-{port}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=sg.id,
                    description=f"clients on port {port}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4="0.0.0.0/0",
                ),
                opts=child,
            )
        low, high = DYNAMIC_PORTS
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-hosts",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=sg.id,
                description="to container hosts on bridge-mode dynamic ports",
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                referenced_security_group_id=args.host_security_group_id,
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-hosts-in",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=args.host_security_group_id,
                description=f"from load balancer {name} on bridge-mode dynamic ports",
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                referenced_security_group_id=sg.id,
            ),
            opts=child,
        )

        access_logs = None
        depends: list[pulumi.Resource] = []
        self.bucket_arns = []
        if args.access_logs:
            logs = AccessLogBucket(
                f"{name}-logs",
                AccessLogBucketArgs(
                    retention_days=args.access_log_retention_days,
                    force_destroy=args.force_destroy_logs,
                ),
                opts=child,
            )
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=logs.bucket_name, prefix=logs.prefix, enabled=True
            )
            depends.append(logs.ready)
            self.bucket_arns = list(logs.bucket_arns)

        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            aws.lb.LoadBalancerArgs(
                load_balancer_type="application",
                internal=False,
                security_groups=[sg.id],
                subnets=args.public_subnet_ids,
                drop_invalid_header_fields=True,
                desync_mitigation_mode="defensive",
                enable_deletion_protection=args.deletion_protection,
                enable_http2=True,
                idle_timeout=args.idle_timeout,
                access_logs=access_logs,
                enable_zonal_shift=args.zonal_shift,
                tags={"Name": name, **args.tags},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

        if args.web_acl_arn is not None:
            aws.wafv2.WebAclAssociation(
                f"{name}-waf",
                aws.wafv2.WebAclAssociationArgs(resource_arn=alb.arn, web_acl_arn=args.web_acl_arn),
                opts=child,
            )

        if https:
            http_action = aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"
                ),
            )
        else:
            http_action = forward
        self.listeners = [
            aws.lb.Listener(
                f"{name}-http",
                aws.lb.ListenerArgs(
                    load_balancer_arn=alb.arn,
                    port=80,
                    protocol="HTTP",
                    default_actions=[http_action],
                ),
                opts=child,
            )
        ]
        if https:
            self.listeners.append(
                aws.lb.Listener(
                    f"{name}-https",
                    aws.lb.ListenerArgs(
                        load_balancer_arn=alb.arn,
                        port=443,
                        protocol="HTTPS",
                        ssl_policy=TLS_POLICY,
                        certificate_arn=args.certificate_arn,
                        default_actions=[forward],
                    ),
                    opts=child,
                )
            )

        self.arn = alb.arn
        self.arn_suffix = alb.arn_suffix
        self.dns_name = alb.dns_name
        self.zone_id = alb.zone_id
        self.security_group_id = sg.id
        scheme = "https" if https else "http"
        self.url = alb.dns_name.apply(lambda dns: f"{scheme}://{dns}")
        self.register_outputs({"url": self.url, "arn_suffix": self.arn_suffix})
