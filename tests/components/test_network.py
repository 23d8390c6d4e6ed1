"""Network under mocks: routing per NAT strategy, endpoints, flow logs, tags, conventions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.cidr import plan_subnets
from components.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    ECS_AGENT_ENDPOINTS,
    Network,
    NetworkArgs,
    endpoint_service_name,
    flow_log_source_arn,
    interface_endpoint_services,
    nat_and_endpoints_problem,
    nat_gateway_plan,
)
from ops.synth.mocks import ACCOUNT_ID, ResourceRecord
from ops.synth.runner import Recording
from tests.support.sar_resource_level import ineffective_grants

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
IGW = "aws:ec2/internetGateway:InternetGateway"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

DEV_ZONES = ["us-east-2a", "us-east-2b"]
PROD_ZONES = ["us-east-2a", "us-east-2b", "us-east-2c"]
OUTPUTS = (
    "vpc_id",
    "vpc_cidr",
    "public_subnet_ids",
    "private_subnet_ids",
    "isolated_subnet_ids",
    "private_route_table_ids",
    "nat_public_ips",
    "endpoint_security_group_id",
    "flow_log_group_name",
)

Mocked = Callable[..., Recording]


def args(**overrides: Any) -> NetworkArgs:
    values: dict[str, Any] = {
        "cidr": "10.20.0.0/16",
        "availability_zones": DEV_ZONES,
        "nat_strategy": "single",
        "interface_endpoints": True,
        "flow_log_retention_days": 30,
    }
    return NetworkArgs(**{**values, **overrides})


def build(mocked: Mocked, name: str = "net", region: str = "us-east-2", **overrides: Any):
    """Run a Network under mocks; its outputs come back as stack outputs."""

    def program() -> None:
        net = Network(name, args(**overrides))
        for key in OUTPUTS:
            pulumi.export(key, getattr(net, key))

    return mocked(program, region=region)


# -- small readers over a recording -------------------------------------------------------------


def subnets(rec: Recording, tier: str) -> list[ResourceRecord]:
    """A tier's subnets in zone order (records come in registration order, which is async)."""
    found = [r for r in rec.of_type(SUBNET) if r.inputs["tags"]["Tier"] == tier]
    return sorted(found, key=lambda r: r.inputs["availabilityZone"])


def by_id(rec: Recording, type_: str) -> dict[str, ResourceRecord]:
    return {r.id: r for r in rec.of_type(type_)}


def route_table_of(rec: Recording, subnet: ResourceRecord) -> ResourceRecord:
    (assoc,) = [a for a in rec.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    return by_id(rec, ROUTE_TABLE)[assoc.inputs["routeTableId"]]


def routes_of(rec: Recording, table: ResourceRecord) -> list[dict[str, Any]]:
    inline = table.inputs.get("routes") or []
    separate = [r.inputs for r in rec.of_type(ROUTE) if r.inputs["routeTableId"] == table.id]
    return [*inline, *separate]


def default_route(rec: Recording, subnet: ResourceRecord) -> dict[str, Any] | None:
    found = [
        r
        for r in routes_of(rec, route_table_of(rec, subnet))
        if r.get("destinationCidrBlock") == "0.0.0.0/0"
    ]
    assert len(found) <= 1
    return found[0] if found else None


def nat_zone(rec: Recording, nat: ResourceRecord) -> str:
    return by_id(rec, SUBNET)[nat.inputs["subnetId"]].inputs["availabilityZone"]


def interface_endpoints(rec: Recording) -> list[ResourceRecord]:
    return [e for e in rec.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]


# -- subnets and the CIDR plan ------------------------------------------------------------------


def test_vpc_has_dns_support_and_hostnames_for_private_dns(mocked: Mocked) -> None:
    (vpc,) = build(mocked).of_type(VPC)
    assert vpc.inputs["cidrBlock"] == "10.20.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


@pytest.mark.parametrize("zones", [DEV_ZONES, PROD_ZONES])
def test_three_tagged_tiers_per_zone_on_the_planned_cidrs(mocked: Mocked, zones: list[str]) -> None:
    rec = build(mocked, availability_zones=zones)
    plan = plan_subnets("10.20.0.0/16", len(zones))
    assert len(rec.of_type(SUBNET)) == 3 * len(zones)
    for tier in ("public", "private", "isolated"):
        got = subnets(rec, tier)
        assert [s.inputs["availabilityZone"] for s in got] == zones
        assert [s.inputs["cidrBlock"] for s in got] == plan[tier]
        assert all(s.inputs["vpcId"] == rec.of_type(VPC)[0].id for s in got)
        assert all(s.inputs["tags"]["Name"] == s.name for s in got)


def test_no_subnet_maps_public_ips_on_launch(mocked: Mocked) -> None:
    rec = build(mocked)
    assert {s.inputs.get("mapPublicIpOnLaunch") for s in rec.of_type(SUBNET)} == {False}


def test_adding_a_zone_keeps_existing_subnets_untouched(mocked: Mocked) -> None:
    before = {s.name: s.inputs for s in build(mocked, availability_zones=DEV_ZONES).of_type(SUBNET)}
    after = {s.name: s.inputs for s in build(mocked, availability_zones=PROD_ZONES).of_type(SUBNET)}
    assert set(before) < set(after)
    assert all(after[name] == inputs for name, inputs in before.items())


# -- routing per NAT strategy -------------------------------------------------------------------


def test_public_subnets_route_to_the_internet_gateway(mocked: Mocked) -> None:
    rec = build(mocked)
    (igw,) = rec.of_type(IGW)
    for subnet in subnets(rec, "public"):
        route = default_route(rec, subnet)
        assert route is not None
        assert route.get("gatewayId") == igw.id
        assert not route.get("natGatewayId")


def test_dev_single_nat_serves_every_private_subnet(mocked: Mocked) -> None:
    rec = build(mocked, nat_strategy="single")
    (nat,) = rec.of_type(NAT)
    (eip,) = rec.of_type(EIP)
    assert nat.inputs["allocationId"] == eip.id
    assert eip.inputs["domain"] == "vpc"
    assert nat.inputs["subnetId"] == subnets(rec, "public")[0].id
    for subnet in subnets(rec, "private"):
        route = default_route(rec, subnet)
        assert route is not None
        assert route.get("natGatewayId") == nat.id
    assert rec.outputs["nat_public_ips"] == [eip.outputs["publicIp"]]


def test_prod_per_az_nat_keeps_each_zone_on_its_own_gateway(mocked: Mocked) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy="perAz")
    nats = by_id(rec, NAT)
    assert len(nats) == 3
    assert len(rec.of_type(EIP)) == 3
    assert sorted(nat_zone(rec, n) for n in nats.values()) == PROD_ZONES
    assert len({n.inputs["allocationId"] for n in nats.values()}) == 3
    public_ids = {s.id for s in subnets(rec, "public")}
    assert {n.inputs["subnetId"] for n in nats.values()} == public_ids
    for subnet in subnets(rec, "private"):
        route = default_route(rec, subnet)
        assert route is not None
        assert nat_zone(rec, nats[route["natGatewayId"]]) == subnet.inputs["availabilityZone"]
    # one route table per private subnet, so no zone shares another's egress path
    tables = {route_table_of(rec, s).id for s in subnets(rec, "private")}
    assert len(tables) == 3


def test_none_means_no_nat_and_no_private_default_route(mocked: Mocked) -> None:
    rec = build(mocked, nat_strategy="none", interface_endpoints=True)
    assert rec.of_type(NAT) == []
    assert rec.of_type(EIP) == []
    assert all(default_route(rec, s) is None for s in subnets(rec, "private"))
    assert rec.outputs["nat_public_ips"] == []


@pytest.mark.parametrize("strategy", ["none", "single", "perAz"])
def test_isolated_subnets_only_have_the_local_route(mocked: Mocked, strategy: str) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy=strategy)
    tables = {route_table_of(rec, s).id: route_table_of(rec, s) for s in subnets(rec, "isolated")}
    assert len(tables) == 1
    (table,) = tables.values()
    assert routes_of(rec, table) == []
    assert table.id != rec.of_type(VPC)[0].outputs["mainRouteTableId"]
    for endpoint in rec.of_type(ENDPOINT):
        assert table.id not in (endpoint.inputs.get("routeTableIds") or [])


def test_every_subnet_has_exactly_one_explicit_route_table(mocked: Mocked) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy="perAz")
    associated = [a.inputs["subnetId"] for a in rec.of_type(ASSOCIATION)]
    assert sorted(associated) == sorted(s.id for s in rec.of_type(SUBNET))


# -- endpoints -----------------------------------------------------------------------------------


def test_s3_gateway_endpoint_is_on_the_private_route_tables(mocked: Mocked) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy="perAz")
    (s3,) = [e for e in rec.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    assert s3.inputs["serviceName"] == "com.amazonaws.us-east-2.s3"
    private_tables = [route_table_of(rec, s).id for s in subnets(rec, "private")]
    assert s3.inputs["routeTableIds"] == private_tables
    assert rec.outputs["private_route_table_ids"] == private_tables


@pytest.mark.parametrize("strategy", ["single", "perAz"])
def test_interface_endpoints_when_on(mocked: Mocked, strategy: str) -> None:
    rec = build(mocked, nat_strategy=strategy, interface_endpoints=True)
    endpoints = interface_endpoints(rec)
    assert sorted(e.inputs["serviceName"] for e in endpoints) == sorted(
        f"com.amazonaws.us-east-2.{svc}"
        for svc in ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages")
    )
    (sg,) = rec.of_type(SG)
    private_ids = [s.id for s in subnets(rec, "private")]
    for endpoint in endpoints:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == private_ids
        assert endpoint.inputs["securityGroupIds"] == [sg.id]
    assert rec.outputs["endpoint_security_group_id"] == sg.id


def test_endpoint_security_group_admits_only_https_from_the_vpc(mocked: Mocked) -> None:
    rec = build(mocked)
    (sg,) = rec.of_type(SG)
    rules = [r for r in rec.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.id]
    assert [
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in rules
    ] == [("tcp", 443, 443, "10.20.0.0/16")]
    assert not sg.inputs.get("ingress")
    assert not sg.inputs.get("egress")
    assert [r for r in rec.of_type(EGRESS) if r.inputs["securityGroupId"] == sg.id] == []


def test_no_interface_endpoints_when_off(mocked: Mocked) -> None:
    rec = build(mocked, interface_endpoints=False)
    assert interface_endpoints(rec) == []
    assert rec.of_type(SG) == []
    assert rec.outputs["endpoint_security_group_id"] is None
    assert len(rec.of_type(ENDPOINT)) == 1  # the free S3 gateway stays


def test_without_nat_the_ecs_agent_endpoints_are_added(mocked: Mocked) -> None:
    rec = build(mocked, nat_strategy="none")
    names = {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in interface_endpoints(rec)}
    assert {"ecs", "ecs-agent", "ecs-telemetry"} <= names
    assert len(interface_endpoints(rec)) == 9


def test_extra_endpoints_and_region_from_the_provider(mocked: Mocked) -> None:
    rec = build(mocked, region="eu-west-1", extra_interface_endpoints=["ec2messages", "logs"])
    names = sorted(e.inputs["serviceName"] for e in interface_endpoints(rec))
    assert len(names) == 7
    assert "com.amazonaws.eu-west-1.ec2messages" in names
    assert all(n.startswith("com.amazonaws.eu-west-1.") for n in names)


# -- flow logs -----------------------------------------------------------------------------------


def test_flow_log_captures_all_traffic_into_a_group_with_retention(mocked: Mocked) -> None:
    rec = build(mocked, flow_log_retention_days=90)
    (group,) = rec.of_type(LOG_GROUP)
    (flow,) = rec.of_type(FLOW_LOG)
    (role,) = rec.of_type(ROLE)
    (policy,) = rec.of_type(ROLE_POLICY)
    assert group.inputs["retentionInDays"] == 90
    assert flow.inputs["vpcId"] == rec.of_type(VPC)[0].id
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow.inputs["logDestination"] == group.outputs["arn"]
    assert flow.inputs["maxAggregationInterval"] == 60
    assert flow.inputs["iamRoleArn"] == role.outputs["arn"]
    assert policy.urn in flow.dependencies  # the role can write before delivery starts
    assert rec.outputs["flow_log_group_name"] == group.outputs["name"]


def test_flow_log_role_is_trusted_by_flow_logs_of_this_account_only(mocked: Mocked) -> None:
    rec = build(mocked)
    (role,) = rec.of_type(ROLE)
    (stmt,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert stmt["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole"]
    assert stmt["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:us-east-2:{ACCOUNT_ID}:vpc-flow-log/*"},
    }


def test_flow_log_role_may_only_write_to_its_group(mocked: Mocked) -> None:
    rec = build(mocked)
    (group,) = rec.of_type(LOG_GROUP)
    (role,) = rec.of_type(ROLE)
    (policy,) = rec.of_type(ROLE_POLICY)
    assert policy.inputs["role"] == role.id
    document = json.loads(policy.inputs["policy"])
    statements = {s["Sid"]: s for s in document["Statement"]}
    deliver = statements["DeliverFlowLogs"]
    assert set(deliver["Action"]) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    }
    arn = group.outputs["arn"]
    assert deliver["Resource"] == [arn, f"{arn}:*"]
    assert statements["FindFlowLogGroup"] == {
        "Sid": "FindFlowLogGroup",
        "Effect": "Allow",
        "Action": ["logs:DescribeLogGroups"],
        "Resource": ["*"],
    }
    assert set(statements) == {"DeliverFlowLogs", "FindFlowLogGroup"}


def test_flow_log_role_grants_nothing_that_could_not_take_effect(mocked: Mocked) -> None:
    """logs:DescribeLogGroups has no resource-level permissions (Service Authorization Reference,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html):
    scoped to the group's ARN it granted nothing."""
    rec = build(mocked)
    (policy,) = rec.of_type(ROLE_POLICY)
    assert ineffective_grants(json.loads(policy.inputs["policy"])) == []


# -- conventions ---------------------------------------------------------------------------------


def test_every_child_is_parented_named_after_the_component_and_auto_named(mocked: Mocked) -> None:
    rec = build(mocked, name="edge", availability_zones=PROD_ZONES, nat_strategy="perAz")
    component = rec.named("edge")
    assert component.type == "steadystate:network:Network"
    children = [r for r in rec.records if r is not component]
    assert children == rec.children_of(component)
    assert all(r.name.startswith("edge-") for r in children)
    assert all("name" not in r.inputs and "namePrefix" not in r.inputs for r in children)


def test_security_groups_and_rules_are_described(mocked: Mocked) -> None:
    rec = build(mocked)
    for record in [*rec.of_type(SG), *rec.of_type(INGRESS), *rec.of_type(EGRESS)]:
        assert record.inputs.get("description", "").strip(), record.name


def test_default_security_group_is_stripped_of_rules(mocked: Mocked) -> None:
    rec = build(mocked)
    (default,) = rec.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == rec.of_type(VPC)[0].id
    assert default.inputs["ingress"] == []
    assert default.inputs["egress"] == []


def test_taggable_resources_carry_a_name_tag(mocked: Mocked) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy="perAz")
    untaggable = {ROUTE, ASSOCIATION, ROLE_POLICY}
    taggable = [r for r in rec.records if r.custom and r.type not in untaggable]
    assert [r.name for r in taggable if not r.inputs.get("tags", {}).get("Name")] == []


def test_outputs_list_the_subnets_by_tier_in_zone_order(mocked: Mocked) -> None:
    rec = build(mocked, availability_zones=PROD_ZONES, nat_strategy="perAz")
    (vpc,) = rec.of_type(VPC)
    assert rec.outputs["vpc_id"] == vpc.id
    assert rec.outputs["vpc_cidr"] == "10.20.0.0/16"
    for tier in ("public", "private", "isolated"):
        assert rec.outputs[f"{tier}_subnet_ids"] == [s.id for s in subnets(rec, tier)]


# -- argument checks and pure helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"availability_zones": []}, "non-empty"),
        ({"availability_zones": ["us-east-2a", "us-east-2a"]}, "must not repeat"),
        ({"availability_zones": [f"us-east-2{c}" for c in "abcdefg"]}, "zone_count"),
        ({"nat_strategy": "perZone"}, "nat_strategy"),
        ({"flow_log_retention_days": 0}, "retention value"),
        ({"flow_log_retention_days": 31}, "retention value"),
        ({"cidr": "10.20.0.0/24"}, r"10\.20\.0\.0/24 is too small.*/22"),
        ({"cidr": "10.20.0.0"}, "too small"),
        ({"cidr": "10.20.0.1/16"}, "host bits"),
    ],
)
def test_bad_args_are_rejected_before_anything_is_created(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        args(**overrides)


def test_args_normalise_sequences_to_tuples() -> None:
    a = args(availability_zones=["us-east-2a"], extra_interface_endpoints=["sts"])
    assert a.availability_zones == ("us-east-2a",)
    assert a.extra_interface_endpoints == ("sts",)


def test_nat_and_endpoints_problem() -> None:
    assert "interface endpoints must be on" in (nat_and_endpoints_problem("none", False) or "")
    assert nat_and_endpoints_problem("none", True) is None
    for strategy in ("single", "perAz"):
        assert nat_and_endpoints_problem(strategy, False) is None
        assert nat_and_endpoints_problem(strategy, True) is None
    assert "one of" in (nat_and_endpoints_problem("both", True) or "")


def test_nat_gateway_plan() -> None:
    assert nat_gateway_plan("none", 3) == [None, None, None]
    assert nat_gateway_plan("single", 3) == [0, 0, 0]
    assert nat_gateway_plan("perAz", 3) == [0, 1, 2]
    with pytest.raises(ValueError, match="nat strategy"):
        nat_gateway_plan("PerAz", 2)


def test_interface_endpoint_services() -> None:
    assert interface_endpoint_services("single") == DEFAULT_INTERFACE_ENDPOINTS
    assert interface_endpoint_services("perAz") == DEFAULT_INTERFACE_ENDPOINTS
    assert interface_endpoint_services("none") == DEFAULT_INTERFACE_ENDPOINTS + ECS_AGENT_ENDPOINTS
    assert interface_endpoint_services("single", ["ssm", "sts"]) == (
        *DEFAULT_INTERFACE_ENDPOINTS,
        "sts",
    )
    assert "ec2messages" not in DEFAULT_INTERFACE_ENDPOINTS


def test_arn_helpers() -> None:
    assert endpoint_service_name("us-east-2", "ecr.dkr") == "com.amazonaws.us-east-2.ecr.dkr"
    vpc_arn = "arn:aws-us-gov:ec2:us-gov-west-1:111122223333:vpc/vpc-0abc"
    assert flow_log_source_arn(vpc_arn) == (
        "arn:aws-us-gov:ec2:us-gov-west-1:111122223333:vpc-flow-log/*"
    )
