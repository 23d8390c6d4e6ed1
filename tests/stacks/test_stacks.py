"""The real program, run for the dev and prod stacks from their YAML, under mocks."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ops.synth.runner import Synthesis, synthesize
from tests.support.aws_api import api_problems, register_task_definition_params
from tests.support.sdk_properties import declared_inputs

# Every kind of resource the foundation issue names, by type token.
FOUNDATION = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:ecs/cluster:Cluster",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:autoscaling/group:Group",
    "aws:ecs/capacityProvider:CapacityProvider",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "docker:index/image:Image",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/listener:Listener",
    "aws:lb/targetGroup:TargetGroup",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:ecs/service:Service",
    "aws:appautoscaling/target:Target",
    "aws:appautoscaling/policy:Policy",
    "aws:iam/role:Role",
}
RESILIENCE = {
    "aws:rds/instance:Instance",
    "aws:route53/record:Record",
    "aws:route53/healthCheck:HealthCheck",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/dashboard:Dashboard",
    "aws:sns/topic:Topic",
}


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    import asyncio

    out = {}
    for name in ("dev", "prod"):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        out[name] = synthesize(name)
        loop.close()
    asyncio.set_event_loop(None)
    return out


def types(s: Synthesis) -> Counter:
    return Counter(r.type for r in s.records)


def test_dev_is_two_zones_with_one_nat(stacks) -> None:
    dev = stacks["dev"]
    assert types(dev)["aws:ec2/natGateway:NatGateway"] == 1
    zones = {r.inputs["availabilityZone"] for r in dev.of_type("aws:ec2/subnet:Subnet")}
    assert zones == {"us-east-2a", "us-east-2b"}
    assert not [
        r
        for r in dev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]


def test_prod_is_three_zones_three_nats_and_at_least_two_tasks(stacks) -> None:
    prod = stacks["prod"]
    assert types(prod)["aws:ec2/natGateway:NatGateway"] == 3
    zones = {r.inputs["availabilityZone"] for r in prod.of_type("aws:ec2/subnet:Subnet")}
    assert len(zones) == 3
    fleets = [
        t
        for t in prod.of_type("aws:appautoscaling/target:Target")
        if t.inputs["tags"]["Role"] == "fleet"
    ]
    assert len(fleets) == 2 and all(t.inputs["minCapacity"] >= 2 for t in fleets)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_foundation_resource_is_present(stacks, stack: str) -> None:
    missing = FOUNDATION - set(types(stacks[stack]))
    assert not missing


def test_prod_has_every_resilience_resource(stacks) -> None:
    assert not RESILIENCE - set(types(stacks["prod"]))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_property_names_pulumi_aws_declares(stacks, stack: str) -> None:
    unknown = {
        (r.type, key)
        for r in stacks[stack].records
        if r.custom
        for key in r.inputs
        if key not in declared_inputs(r.type)
    }
    assert not unknown


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_task_definitions_are_accepted_by_the_ecs_api(stacks, stack: str) -> None:
    tasks = stacks[stack].of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert tasks
    for task in tasks:
        assert (
            api_problems(
                "ecs", "RegisterTaskDefinition", register_task_definition_params(task.inputs)
            )
            == ""
        )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_services_run_the_pushed_digest(stacks, stack: str) -> None:
    s = stacks[stack]
    digest = s.outputs["imageRef"]
    images = {
        json.loads(t.inputs["containerDefinitions"])[0]["image"]
        for t in s.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    assert images == {digest}, "without a promoted fleetImage every service runs the fresh build"
    assert "@sha256:" in digest


def test_prod_services_get_database_credentials_only_as_secrets(stacks) -> None:
    prod = stacks["prod"]
    secret_arn = prod.of_type("aws:rds/instance:Instance")[0].outputs["masterUserSecrets"][0][
        "secretArn"
    ]
    for task in prod.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        app = json.loads(task.inputs["containerDefinitions"])[0]
        assert {s["valueFrom"] for s in app["secrets"]} == {
            f"{secret_arn}:username::",
            f"{secret_arn}:password::",
        }
        env = {e["name"] for e in app["environment"]}
        assert {"DB_HOST", "DB_PORT", "DB_NAME"} <= env and "DB_PASSWORD" not in env


def test_prod_prober_watches_the_database(stacks) -> None:
    prod = stacks["prod"]
    address = prod.outputs["databaseAddress"]
    for task in prod.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        prober = json.loads(task.inputs["containerDefinitions"])[1]
        targets = {e["name"]: e["value"] for e in prober["environment"]}["PROBE_TARGETS"]
        assert f"db=tcp://{address}:5432" in targets


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exports(stacks, stack: str) -> None:
    outputs = stacks[stack].outputs
    assert outputs["url"].startswith("http")
    assert {"clusterName", "serviceNames", "repositoryName", "logGroupNames"} <= set(outputs)


def test_prod_url_is_the_failover_name(stacks) -> None:
    assert stacks["prod"].outputs["url"] == "https://api.example.com"


def test_prod_runs_fis_experiments_on_a_schedule_and_dev_does_not(stacks) -> None:
    prod, dev = stacks["prod"], stacks["dev"]
    templates = prod.of_type("aws:fis/experimentTemplate:ExperimentTemplate")
    actions = sorted(t.inputs["actions"][0]["actionId"] for t in templates)
    assert actions == [
        "aws:ec2:terminate-instances",
        "aws:ecs:stop-task",
        "aws:network:disrupt-connectivity",
    ]
    schedules = prod.of_type("aws:scheduler/schedule:Schedule")
    assert len(schedules) == 3 and all(s.inputs["state"] == "ENABLED" for s in schedules)
    assert all("#" in s.inputs["scheduleExpression"] for s in schedules)  # monthly
    assert not dev.of_type("aws:fis/experimentTemplate:ExperimentTemplate")
