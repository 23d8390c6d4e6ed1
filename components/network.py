"""The VPC the service runs in: three subnet tiers per zone, NAT, endpoints and flow logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import pulumi
import pulumi_aws as aws

from components.cidr import DEFAULT_MAX_ZONES, plan_subnets
from components.endpoint_policies import interface_endpoint_policy
from components.iam_documents import document, statement
from policy.guardrails.limits import CLOUDWATCH_RETENTION_DAYS

NatStrategy = Literal["none", "single", "perAz"]
NAT_STRATEGIES: tuple[str, ...] = get_args(NatStrategy)

TIERS: tuple[str, ...] = ("public", "private", "isolated")

#: Interface endpoints the tasks and hosts need to run without the internet (each is billed per
#: zone-hour). ecr.api/ecr.dkr pull images (layers come from S3 through the gateway endpoint), logs
#: ships awslogs output, secretsmanager and ssm resolve task secrets and parameters, ssm and
#: ssmmessages carry Session Manager and ECS Exec. `ec2messages` is deliberately absent: SSM Agent
#: 3.3.40.0 and later (shipped on the ECS-optimized AL2023 AMI) reaches Systems Manager through
#: ssmmessages when it can, and falls back to ec2messages only when it cannot; add it through
#: `NetworkArgs.extra_interface_endpoints` if an older agent is pinned.
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "ssm",
    "ssmmessages",
)

#: The ECS control plane as the container agent on EC2 reaches it. Normally through NAT; with
#: `nat_strategy="none"` the agent cannot register or report task state without these endpoints.
ECS_AGENT_ENDPOINTS: tuple[str, ...] = ("ecs", "ecs-agent", "ecs-telemetry")


def nat_and_endpoints_problem(nat_strategy: str, interface_endpoints: bool) -> str | None:
    """Why this NAT/endpoint combination cannot work, or None when it can (for the validator)."""
    if nat_strategy not in NAT_STRATEGIES:
        return f"nat strategy must be one of {', '.join(NAT_STRATEGIES)} (got {nat_strategy!r})"
    if nat_strategy == "none" and not interface_endpoints:
        return (
            "interface endpoints must be on when the NAT strategy is none: private subnets have "
            "no internet route, so tasks could not pull from ECR or ship logs to CloudWatch"
        )
    return None


def nat_gateway_plan(nat_strategy: str, zone_count: int) -> list[int | None]:
    """For each zone's private subnet, the index of the NAT gateway it routes through (or None).

    The number of NAT gateways is `len(set(plan) - {None})`; NAT gateway `i` lives in the public
    subnet of zone `i`. `single` puts the one gateway in the first zone.
    """
    if nat_strategy not in NAT_STRATEGIES:
        raise ValueError(f"nat strategy must be one of {NAT_STRATEGIES}, got {nat_strategy!r}")
    if nat_strategy == "none":
        return [None] * zone_count
    if nat_strategy == "single":
        return [0] * zone_count
    return list(range(zone_count))


def interface_endpoint_services(nat_strategy: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Short service names (`ecr.api`, ...) to create interface endpoints for, without duplicates.

    Without NAT the ECS agent's own control-plane endpoints are added: otherwise container
    instances in private subnets could never register with the cluster.
    """
    wanted = list(DEFAULT_INTERFACE_ENDPOINTS)
    if nat_strategy == "none":
        wanted += ECS_AGENT_ENDPOINTS
    wanted += extra
    return tuple(dict.fromkeys(wanted))


def endpoint_service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>`, the name AWS gives its PrivateLink services."""
    return f"com.amazonaws.{region}.{service}"


def flow_log_source_arn(vpc_arn: str) -> str:
    """ARN pattern of flow logs in the VPC's account and region (trust-policy `aws:SourceArn`)."""
    _, partition, _, region, account, _ = vpc_arn.split(":", 5)
    return f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"


def account_of(arn: str) -> str:
    """The account id field of an ARN."""
    return arn.split(":")[4]


def _tags(name: str, **extra: str) -> dict[str, str]:
    return {"Name": name, **extra}


@dataclass(frozen=True)
class NetworkArgs:
    """Settings of one `Network`; all plain values, known before deploy, checked on creation."""

    cidr: str
    """IPv4 CIDR of the VPC, `/16` to `/22`; subnets are planned from it by `components.cidr`."""

    availability_zones: Sequence[str]
    """Zone NAMES (e.g. `us-east-2a`) chosen by the caller, 1 to `max_zones`. Order matters: zone
    `i` keeps its subnets when zones are appended, so only ever append."""

    nat_strategy: NatStrategy = "single"
    """`none` (no internet egress from private subnets), `single` (one NAT gateway in the first
    zone, shared: cheap, but private egress of every zone fails with that zone) or `perAz` (one per
    zone, each zone egresses through its own)."""

    interface_endpoints: bool = True
    """Create the PrivateLink interface endpoints (`interface_endpoint_services`) in the private
    subnets. They cost per zone-hour; without NAT they are required."""

    flow_log_retention_days: int = 30
    """Retention of the VPC flow-log group; one of CloudWatch Logs' accepted values."""

    extra_interface_endpoints: Sequence[str] = ()
    """More interface endpoint services by short name (e.g. `ec2messages`, `sts`)."""

    max_zones: int = DEFAULT_MAX_ZONES
    """Zone slots the CIDR plan reserves. Changing it moves every subnet: set once per VPC."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "availability_zones", tuple(self.availability_zones))
        object.__setattr__(self, "extra_interface_endpoints", tuple(self.extra_interface_endpoints))
        if problem := network_args_problem(self):
            raise ValueError(problem)


def network_args_problem(args: NetworkArgs) -> str | None:
    """What is wrong with `args` (first problem found), or None."""
    zones = list(args.availability_zones)
    if not zones or any(not isinstance(z, str) or not z for z in zones):
        return "availability_zones must be a non-empty list of zone names"
    if len(set(zones)) != len(zones):
        return f"availability_zones must not repeat a zone (got {zones})"
    if args.nat_strategy not in NAT_STRATEGIES:
        return (
            f"nat_strategy must be one of {', '.join(NAT_STRATEGIES)} (got {args.nat_strategy!r})"
        )
    if args.flow_log_retention_days not in CLOUDWATCH_RETENTION_DAYS:
        return (
            "flow_log_retention_days must be a CloudWatch Logs retention value "
            f"({', '.join(map(str, CLOUDWATCH_RETENTION_DAYS))}), got {args.flow_log_retention_days}"
        )
    try:
        plan_subnets(args.cidr, len(zones), max_zones=args.max_zones)
    except ValueError as exc:
        return str(exc)
    return None


class Network(pulumi.ComponentResource):
    """A VPC with public, private and isolated subnets in every given zone.

    Guarantees:
    * Subnet CIDRs come from `components.cidr.plan_subnets`: inside the VPC, disjoint, and stable
      when zones are appended. Every subnet is tagged `Tier=public|private|isolated`; none maps
      public IPs on launch (the ALB does not need it).
    * Public subnets route 0.0.0.0/0 to the internet gateway. Private subnets route 0.0.0.0/0 to a
      NAT gateway (`single`: the one in the first zone; `perAz`: their own zone's), or not at all
      with `none`. Isolated subnets have only the local route: no internet, no NAT, no S3.
    * The S3 gateway endpoint (free) is on the private route tables, so image layers and dnf
      repositories stay off NAT; its policy is attached by `S3GatewayAccess` once the stack's
      buckets exist (`s3_endpoint_id`). Interface endpoints, when on, sit in the private subnets
      with private DNS, a security group admitting only HTTPS from the VPC CIDR, and a policy
      admitting only this account's principals (`components.endpoint_policies`).
    * VPC flow logs (ALL traffic, 60 s aggregation) go to a log group with retention, written by a
      role that `vpc-flow-logs.amazonaws.com` of this account alone can assume and that may only
      write to that group.
    * The VPC's default security group is stripped of all rules, so nothing attached to it by
      accident can talk.
    """

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    isolated_subnet_ids: pulumi.Output[list[str]]
    private_route_table_ids: pulumi.Output[list[str]]
    s3_endpoint_id: pulumi.Output[str]
    nat_public_ips: pulumi.Output[list[str]]
    endpoint_security_group_id: pulumi.Output[str] | None
    flow_log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("steadystate:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(args.availability_zones)
        plan = plan_subnets(args.cidr, len(zones), max_zones=args.max_zones)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=args.cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags=_tags(f"{name}-vpc"),
            ),
            opts=child,
        )
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            aws.ec2.DefaultSecurityGroupArgs(
                vpc_id=vpc.id, ingress=[], egress=[], tags=_tags(f"{name}-default-unused")
            ),
            opts=child,
        )

        subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for zone, cidr in zip(zones, plan[tier], strict=True):
                subnet_name = f"{name}-{tier}-{zone}"
                subnets[tier].append(
                    aws.ec2.Subnet(
                        subnet_name,
                        aws.ec2.SubnetArgs(
                            vpc_id=vpc.id,
                            availability_zone=zone,
                            cidr_block=cidr,
                            map_public_ip_on_launch=False,
                            tags=_tags(subnet_name, Tier=tier),
                        ),
                        opts=child,
                    )
                )

        # Public tier: one route table, default route to the internet gateway.
        igw = aws.ec2.InternetGateway(
            f"{name}-igw",
            aws.ec2.InternetGatewayArgs(vpc_id=vpc.id, tags=_tags(f"{name}-igw")),
            opts=child,
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            aws.ec2.RouteTableArgs(vpc_id=vpc.id, tags=_tags(f"{name}-public-rt", Tier="public")),
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-public-default",
            aws.ec2.RouteArgs(
                route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
            ),
            opts=child,
        )
        for zone, subnet in zip(zones, subnets["public"], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                aws.ec2.RouteTableAssociationArgs(route_table_id=public_rt.id, subnet_id=subnet.id),
                opts=child,
            )

        # NAT gateways in the public subnets of the zones the plan names.
        nat_for_zone = nat_gateway_plan(args.nat_strategy, len(zones))
        nats: dict[int, aws.ec2.NatGateway] = {}
        eips: list[aws.ec2.Eip] = []
        for index in sorted({i for i in nat_for_zone if i is not None}):
            zone = zones[index]
            eip = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                aws.ec2.EipArgs(domain="vpc", tags=_tags(f"{name}-nat-{zone}", Role="nat")),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            eips.append(eip)
            nats[index] = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                aws.ec2.NatGatewayArgs(
                    # A VPC EIP's id is its allocation id (and the mocks only model `id`).
                    allocation_id=eip.id,
                    subnet_id=subnets["public"][index].id,
                    connectivity_type="public",
                    tags=_tags(f"{name}-nat-{zone}", Role="nat"),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )

        # Private tier: a route table per zone, so `single` -> `perAz` only swaps routes.
        private_rts: list[aws.ec2.RouteTable] = []
        for zone, subnet, nat_index in zip(zones, subnets["private"], nat_for_zone, strict=True):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{zone}",
                aws.ec2.RouteTableArgs(
                    vpc_id=vpc.id, tags=_tags(f"{name}-private-rt-{zone}", Tier="private")
                ),
                opts=child,
            )
            private_rts.append(rt)
            if nat_index is not None:
                aws.ec2.Route(
                    f"{name}-private-default-{zone}",
                    aws.ec2.RouteArgs(
                        route_table_id=rt.id,
                        destination_cidr_block="0.0.0.0/0",
                        nat_gateway_id=nats[nat_index].id,
                    ),
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}",
                aws.ec2.RouteTableAssociationArgs(route_table_id=rt.id, subnet_id=subnet.id),
                opts=child,
            )

        # Isolated tier: an explicit table with only the implicit local route (not the main table,
        # which anyone can edit in the console and which would then apply silently).
        isolated_rt = aws.ec2.RouteTable(
            f"{name}-isolated-rt",
            aws.ec2.RouteTableArgs(
                vpc_id=vpc.id, tags=_tags(f"{name}-isolated-rt", Tier="isolated")
            ),
            opts=child,
        )
        for zone, subnet in zip(zones, subnets["isolated"], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-{zone}",
                aws.ec2.RouteTableAssociationArgs(
                    route_table_id=isolated_rt.id, subnet_id=subnet.id
                ),
                opts=child,
            )

        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id
        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-vpce-s3",
            aws.ec2.VpcEndpointArgs(
                vpc_id=vpc.id,
                service_name=region.apply(lambda r: endpoint_service_name(r, "s3")),
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in private_rts],
                tags=_tags(f"{name}-vpce-s3", Role="endpoint"),
            ),
            opts=child,
        )

        endpoint_sg_id: pulumi.Output[str] | None = None
        if args.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                aws.ec2.SecurityGroupArgs(
                    vpc_id=vpc.id,
                    description="Interface VPC endpoints: HTTPS from inside the VPC only",
                    tags=_tags(f"{name}-endpoints", Role="endpoint"),
                ),
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=endpoint_sg.id,
                    description="HTTPS to AWS service endpoints from anything in the VPC",
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ipv4=vpc.cidr_block,
                    tags=_tags(f"{name}-endpoints-https"),
                ),
                opts=child,
            )
            endpoint_sg_id = endpoint_sg.id
            private_subnet_ids = [s.id for s in subnets["private"]]
            for service in interface_endpoint_services(
                args.nat_strategy, args.extra_interface_endpoints
            ):
                label = service.replace(".", "-")
                aws.ec2.VpcEndpoint(
                    f"{name}-vpce-{label}",
                    aws.ec2.VpcEndpointArgs(
                        vpc_id=vpc.id,
                        service_name=region.apply(
                            lambda r, svc=service: endpoint_service_name(r, svc)
                        ),
                        vpc_endpoint_type="Interface",
                        private_dns_enabled=True,
                        subnet_ids=private_subnet_ids,
                        security_group_ids=[endpoint_sg.id],
                        policy=interface_endpoint_policy(service, account),
                        tags=_tags(f"{name}-vpce-{label}", Role="endpoint"),
                    ),
                    opts=child,
                )

        flow_log_group = self._flow_logs(name, vpc, args.flow_log_retention_days)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["public"]])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["private"]])
        self.isolated_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["isolated"]])
        self.private_route_table_ids = pulumi.Output.all(*[rt.id for rt in private_rts])
        self.s3_endpoint_id = s3_endpoint.id
        self.nat_public_ips = pulumi.Output.all(*[eip.public_ip for eip in eips])
        self.endpoint_security_group_id = endpoint_sg_id
        self.flow_log_group_name = flow_log_group.name
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "isolated_subnet_ids": self.isolated_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "s3_endpoint_id": self.s3_endpoint_id,
                "nat_public_ips": self.nat_public_ips,
                "endpoint_security_group_id": self.endpoint_security_group_id,
                "flow_log_group_name": self.flow_log_group_name,
            }
        )

    def _flow_logs(
        self, name: str, vpc: aws.ec2.Vpc, retention_days: int
    ) -> aws.cloudwatch.LogGroup:
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            aws.cloudwatch.LogGroupArgs(
                retention_in_days=retention_days, tags=_tags(f"{name}-flow-logs", Role="flow-logs")
            ),
            opts=child,
        )
        trust = document(
            statement(
                ["sts:AssumeRole"],
                principals={"Service": "vpc-flow-logs.amazonaws.com"},
                conditions={
                    "StringEquals": {"aws:SourceAccount": vpc.arn.apply(account_of)},
                    "ArnLike": {"aws:SourceArn": vpc.arn.apply(flow_log_source_arn)},
                },
            )
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            aws.iam.RoleArgs(
                assume_role_policy=trust,
                description="VPC flow logs delivery to its own CloudWatch log group",
                tags=_tags(f"{name}-flow-logs", Role="flow-logs"),
            ),
            opts=child,
        )
        # The group exists already, so no logs:CreateLogGroup: if someone deletes it, delivery stops
        # visibly instead of recreating an unmanaged group without retention.
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=document(
                    statement(
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [log_group.arn, log_group.arn.apply(lambda arn: f"{arn}:*")],
                        sid="DeliverFlowLogs",
                    ),
                    # DescribeLogGroups has no resource-level permissions (Service Authorization
                    # Reference, CloudWatch Logs): scoped to an ARN it would grant nothing.
                    statement(["logs:DescribeLogGroups"], ["*"], sid="FindFlowLogGroup"),
                ),
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            aws.ec2.FlowLogArgs(
                vpc_id=vpc.id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn,
                iam_role_arn=role.arn,
                max_aggregation_interval=60,
                tags=_tags(f"{name}-flow-log", Role="flow-logs"),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        return log_group
