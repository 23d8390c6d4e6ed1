"""EcsCluster under mocks: hardened hosts, the capacity provider's ownership, the switches."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.ecs_cluster import (
    ECS_AMI_PARAMETER,
    EcsCluster,
    EcsClusterArgs,
    available_capacity_providers,
    capacity_provider_name_problem,
    termination_protection_setting,
)
from components.network import Network, NetworkArgs
from components.user_data import (
    ecs_agent_settings,
    ecs_user_data_script,
    encode_user_data,
    parse_ecs_config,
)
from ops.synth.mocks import SteadyMocks
from ops.synth.runner import Recording

CLUSTER = "aws:ecs/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
ATTACHED = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"
KMS_KEY = "aws:kms/key:Key"

SUBNETS = ["subnet-aaa", "subnet-bbb"]
OUTPUTS = (
    "cluster_name",
    "cluster_arn",
    "capacity_provider_name",
    "instance_security_group_id",
    "instance_role_name",
    "asg_name",
    "launch_template_id",
)

Mocked = Callable[..., Recording]


def args(**overrides: Any) -> EcsClusterArgs:
    values: dict[str, Any] = {
        "vpc_id": "vpc-123",
        "private_subnet_ids": SUBNETS,
        "instance_type": "t3.small",
        "min_instances": 1,
        "max_instances": 4,
    }
    return EcsClusterArgs(**{**values, **overrides})


def build(mocked: Mocked, name: str = "app", **overrides: Any) -> Recording:
    def program() -> None:
        cluster = EcsCluster(name, args(**overrides))
        for key in OUTPUTS:
            pulumi.export(key, getattr(cluster, key))

    return mocked(program)


def one(rec: Recording, type_: str):
    (record,) = rec.of_type(type_)
    return record


def ssm_ami() -> str:
    """What the mocks answer for the ECS AMI parameter (deterministic per parameter name)."""
    return SteadyMocks()._answer(GET_PARAMETER, {"name": ECS_AMI_PARAMETER})["insecureValue"]


# -- launch template ----------------------------------------------------------------------------


def test_launch_template_requires_imdsv2_with_hop_limit_one(mocked: Mocked) -> None:
    lt = one(build(mocked), LAUNCH_TEMPLATE)
    assert lt.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }


@pytest.mark.parametrize("size", [30, 80])
def test_root_volume_is_encrypted_gp3_on_the_ami_root_device(mocked: Mocked, size: int) -> None:
    lt = one(build(mocked, root_volume_gib=size), LAUNCH_TEMPLATE)
    (mapping,) = lt.inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"] == {
        "volumeType": "gp3",
        "volumeSize": size,
        "encrypted": "true",
        "deleteOnTermination": "true",
    }


def test_ami_comes_from_the_public_ecs_ssm_parameter(mocked: Mocked) -> None:
    rec = build(mocked)
    assert [i for i in rec.invokes if i.startswith("aws:ssm/")] == [GET_PARAMETER]
    assert one(rec, LAUNCH_TEMPLATE).inputs["imageId"] == ssm_ami()


def test_a_pinned_ami_skips_the_lookup(mocked: Mocked) -> None:
    rec = build(mocked, image_id="ami-0pinned")
    assert GET_PARAMETER not in rec.invokes
    assert one(rec, LAUNCH_TEMPLATE).inputs["imageId"] == "ami-0pinned"


def test_no_ssh_key_and_the_instance_profile_and_group_are_wired(mocked: Mocked) -> None:
    rec = build(mocked)
    lt = one(rec, LAUNCH_TEMPLATE)
    assert "keyName" not in lt.inputs
    assert lt.inputs["instanceType"] == "t3.small"
    assert lt.inputs["iamInstanceProfile"] == {"arn": one(rec, PROFILE).outputs["arn"]}
    assert lt.inputs["vpcSecurityGroupIds"] == [one(rec, SG).id]
    assert one(rec, PROFILE).inputs["role"] == one(rec, ROLE).outputs["name"]


def test_user_data_joins_this_cluster(mocked: Mocked) -> None:
    rec = build(mocked)
    script = base64.b64decode(one(rec, LAUNCH_TEMPLATE).inputs["userData"]).decode()
    assert script.startswith("#!/bin/bash\n")
    assert "/etc/ecs/ecs.config" in script
    assert parse_ecs_config(script) == {
        "ECS_CLUSTER": one(rec, CLUSTER).outputs["name"],
        "ECS_ENABLE_CONTAINER_METADATA": "true",
        "ECS_ENABLE_TASK_IAM_ROLE": "true",
        "ECS_CONTAINER_STOP_TIMEOUT": "30s",
    }


def test_instances_and_volumes_carry_the_given_tags(mocked: Mocked) -> None:
    lt = one(
        build(mocked, instance_tags={"Project": "steadystate", "Stack": "dev"}), LAUNCH_TEMPLATE
    )
    specs = {s["resourceType"]: s["tags"] for s in lt.inputs["tagSpecifications"]}
    expected = {"Name": "app-host", "Project": "steadystate", "Stack": "dev"}
    assert specs == {"instance": expected, "volume": expected}


# -- IAM and network --------------------------------------------------------------------------------


def test_instance_role_has_exactly_the_two_documented_managed_policies(mocked: Mocked) -> None:
    rec = build(mocked)
    role = one(rec, ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [(s["Principal"], s["Action"]) for s in trust] == [
        ({"Service": "ec2.amazonaws.com"}, ["sts:AssumeRole"])
    ]
    attached = rec.of_type(ATTACHMENT)
    assert all(a.inputs["role"] == role.outputs["name"] for a in attached)
    assert sorted(a.inputs["policyArn"] for a in attached) == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]
    assert rec.of_type(ROLE_POLICY) == []
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs


def test_instance_security_group_has_no_ingress_of_its_own(mocked: Mocked) -> None:
    rec = build(mocked)
    sg = one(rec, SG)
    assert sg.inputs["vpcId"] == "vpc-123"
    assert sg.inputs["description"].strip()
    assert not sg.inputs.get("ingress")
    assert rec.of_type(INGRESS) == []
    egress = one(rec, EGRESS)
    assert egress.inputs["securityGroupId"] == sg.id
    assert egress.inputs["description"].strip()
    assert rec.outputs["instance_security_group_id"] == sg.id


# -- auto scaling group and capacity provider ---------------------------------------------------------


def test_asg_leaves_desired_capacity_to_the_capacity_provider(mocked: Mocked) -> None:
    rec = build(mocked, min_instances=2, max_instances=6)
    asg = one(rec, ASG)
    assert "desiredCapacity" in asg.options["ignoreChanges"]
    assert "desiredCapacity" not in asg.inputs
    assert asg.inputs["vpcZoneIdentifiers"] == SUBNETS
    assert (asg.inputs["minSize"], asg.inputs["maxSize"]) == (2, 6)
    assert asg.inputs["healthCheckType"] == "EC2"
    assert asg.inputs["healthCheckGracePeriod"] == 120
    lt = one(rec, LAUNCH_TEMPLATE)
    assert asg.inputs["launchTemplate"] == {
        "id": lt.id,
        "version": str(lt.outputs["latestVersion"]),
    }
    assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in asg.inputs[
        "tags"
    ]


def test_instances_launch_only_after_their_role_has_its_policies(mocked: Mocked) -> None:
    rec = build(mocked)
    asg = one(rec, ASG)
    assert {a.urn for a in rec.of_type(ATTACHMENT)} <= set(asg.dependencies)


@pytest.mark.parametrize("target", [100, 75, 1])
def test_managed_scaling_tracks_the_target_capacity(mocked: Mocked, target: int) -> None:
    rec = build(mocked, target_capacity_percent=target)
    provider = one(rec, CAPACITY_PROVIDER).inputs["autoScalingGroupProvider"]
    assert provider["autoScalingGroupArn"] == one(rec, ASG).outputs["arn"]
    assert provider["managedScaling"] == {
        "status": "ENABLED",
        "targetCapacity": target,
        "minimumScalingStepSize": 1,
        "maximumScalingStepSize": 10,
        "instanceWarmupPeriod": 120,
    }
    assert provider["managedDraining"] == "ENABLED"


@pytest.mark.parametrize(("protect", "setting"), [(False, "DISABLED"), (True, "ENABLED")])
def test_termination_protection_switch_flips_asg_and_provider_together(
    mocked: Mocked, protect: bool, setting: str
) -> None:
    rec = build(mocked, managed_termination_protection=protect)
    assert one(rec, ASG).inputs["protectFromScaleIn"] is protect
    provider = one(rec, CAPACITY_PROVIDER).inputs["autoScalingGroupProvider"]
    assert provider["managedTerminationProtection"] == setting


def test_instance_refresh_is_opt_in(mocked: Mocked) -> None:
    assert "instanceRefresh" not in one(build(mocked), ASG).inputs
    refresh = one(build(mocked, instance_refresh=True), ASG).inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["minHealthyPercentage"] == 100
    assert refresh["preferences"]["scaleInProtectedInstances"] == "Refresh"


@pytest.mark.parametrize(
    ("fargate", "spot", "extra"),
    [
        (False, False, []),
        (True, False, ["FARGATE"]),
        (False, True, ["FARGATE_SPOT"]),
        (True, True, ["FARGATE", "FARGATE_SPOT"]),
    ],
)
def test_fargate_providers_only_when_enabled_and_never_default(
    mocked: Mocked, fargate: bool, spot: bool, extra: list[str]
) -> None:
    rec = build(mocked, enable_fargate=fargate, enable_fargate_spot=spot)
    attached = one(rec, ATTACHED)
    ec2 = one(rec, CAPACITY_PROVIDER).outputs["name"]
    assert attached.inputs["clusterName"] == one(rec, CLUSTER).outputs["name"]
    assert attached.inputs["capacityProviders"] == [ec2, *extra]
    assert attached.inputs["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": ec2, "weight": 1, "base": 0}
    ]


@pytest.mark.parametrize("level", ["enabled", "enhanced"])
def test_container_insights(mocked: Mocked, level: str) -> None:
    cluster = one(build(mocked, container_insights=level), CLUSTER)
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": level}]


# -- outputs and conventions ------------------------------------------------------------------------


def test_outputs_resolve_to_the_created_resources(mocked: Mocked) -> None:
    rec = build(mocked)
    assert rec.outputs == {
        "cluster_name": one(rec, CLUSTER).outputs["name"],
        "cluster_arn": one(rec, CLUSTER).outputs["arn"],
        "capacity_provider_name": one(rec, CAPACITY_PROVIDER).outputs["name"],
        "instance_security_group_id": one(rec, SG).id,
        "instance_role_name": one(rec, ROLE).outputs["name"],
        "asg_name": one(rec, ASG).outputs["name"],
        "launch_template_id": one(rec, LAUNCH_TEMPLATE).id,
    }


def test_consumers_of_the_cluster_wait_for_the_capacity_providers(mocked: Mocked) -> None:
    def program() -> None:
        cluster = EcsCluster("app", args())
        aws.ssm.Parameter(
            "consumer",
            aws.ssm.ParameterArgs(
                type="String",
                value=pulumi.Output.all(cluster.cluster_arn, cluster.capacity_provider_name).apply(
                    "/".join
                ),
            ),
        )

    rec = mocked(program)
    assert one(rec, ATTACHED).urn in rec.named("consumer").dependencies


def test_every_child_is_parented_named_after_the_component_and_auto_named(mocked: Mocked) -> None:
    rec = build(mocked, name="web")
    component = rec.named("web")
    assert component.type == "steadystate:ecs_cluster:EcsCluster"
    children = [r for r in rec.records if r is not component]
    assert children == rec.children_of(component)
    assert all(r.name.startswith("web-") for r in children)
    # The host pin's parameter has the path operators read (/<project>/<stack>/hosts/<group>).
    named = [r for r in children if r.type != "aws:ssm/parameter:Parameter"]
    assert all("name" not in r.inputs and "namePrefix" not in r.inputs for r in named)


def test_runs_on_the_network_private_subnets(mocked: Mocked) -> None:
    zones = ["us-east-2a", "us-east-2b", "us-east-2c"]

    def program() -> None:
        net = Network(
            "net",
            NetworkArgs(cidr="10.20.0.0/16", availability_zones=zones, nat_strategy="perAz"),
        )
        EcsCluster(
            "app",
            args(vpc_id=net.vpc_id, private_subnet_ids=net.private_subnet_ids),
        )

    rec = mocked(program)
    private = sorted(
        (s for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"),
        key=lambda s: s.inputs["availabilityZone"],
    )
    assert one(rec, ASG).inputs["vpcZoneIdentifiers"] == [s.id for s in private]
    instances_sg = rec.named("app-instances")
    assert instances_sg.inputs["vpcId"] == one(rec, "aws:ec2/vpc:Vpc").id


# -- argument checks and pure helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_instances": 5, "max_instances": 4}, "must not exceed"),
        ({"min_instances": -1}, "min_instances"),
        ({"max_instances": 0, "min_instances": 0}, "max_instances"),
        ({"target_capacity_percent": 0}, "target_capacity_percent"),
        ({"target_capacity_percent": 101}, "target_capacity_percent"),
        ({"root_volume_gib": 20}, "at least 30"),
        ({"container_insights": "disabled"}, "container_insights"),
        ({"instance_type": "small"}, "instance_type"),
        ({"private_subnet_ids": []}, "at least one subnet"),
        ({"max_scaling_step_size": 0}, "max_scaling_step_size"),
        ({"instance_warmup_seconds": -5}, "instance_warmup_seconds"),
        ({"health_check_grace_seconds": -1}, "health_check_grace_seconds"),
    ],
)
def test_bad_args_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        args(**overrides)


@pytest.mark.parametrize("name", ["ecs", "ECS-main", "aws-cluster", "fargate1"])
def test_names_ecs_would_refuse_for_the_capacity_provider_fail_early(name: str) -> None:
    with pytest.raises(ValueError, match="must not start with"):
        EcsCluster(name, args())


def test_capacity_provider_name_problem() -> None:
    assert capacity_provider_name_problem("app-ec2") is None
    assert capacity_provider_name_problem("steady-ecs-ec2") is None
    assert "'ecs'" in (capacity_provider_name_problem("ecs-ec2") or "")


def test_small_helpers() -> None:
    assert termination_protection_setting(True) == "ENABLED"
    assert termination_protection_setting(False) == "DISABLED"
    assert available_capacity_providers("cp", enable_fargate=False, enable_fargate_spot=True) == [
        "cp",
        "FARGATE_SPOT",
    ]


def test_user_data_round_trip_and_overrides() -> None:
    script = ecs_user_data_script("c-1", {"ECS_CONTAINER_STOP_TIMEOUT": "45s"})
    decoded = base64.b64decode(encode_user_data(script)).decode()
    assert decoded == script
    config = parse_ecs_config(decoded)
    assert config["ECS_CLUSTER"] == "c-1"
    assert config["ECS_CONTAINER_STOP_TIMEOUT"] == "45s"
    assert "ECS_ENABLE_SPOT_INSTANCE_DRAINING" not in config
    assert "ECS_ENABLE_TASK_ENI" not in config
    assert next(iter(ecs_agent_settings("c-1"))) == "ECS_CLUSTER"


@pytest.mark.parametrize(
    "extra",
    [
        {"ecs_cluster": "x"},
        {"ECS_X": "a b"},
        {"ECS_X": "$(reboot)"},
        {"ECS_X": ""},
        {"ECS_X": "a\nb"},
    ],
)
def test_user_data_refuses_settings_that_could_break_the_script(extra: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="ECS agent setting"):
        ecs_user_data_script("c-1", extra)


def test_exec_sessions_are_logged_to_a_group_with_retention(mocked: Mocked) -> None:
    rec = build(mocked, name="c", exec_log_retention_days=30)
    exec_cfg = rec.named("c-cluster").inputs["configuration"]["executeCommandConfiguration"]
    assert exec_cfg["logging"] == "OVERRIDE"
    group = rec.named("c-exec-logs")
    assert exec_cfg["logConfiguration"]["cloudWatchLogGroupName"] == group.outputs["name"]
    assert group.inputs["retentionInDays"] == 30


def test_exec_sessions_and_their_log_group_are_encrypted_with_a_customer_managed_key(
    mocked: Mocked,
) -> None:
    """ExecuteCommandConfiguration.kmsKeyId encrypts the session's data channel; with
    cloudWatchEncryptionEnabled the SSM agent sends output only to an encrypted group."""
    rec = build(mocked, name="c", exec_log_retention_days=30)
    key = one(rec, KMS_KEY)
    assert key.name == "c-exec"
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    exec_cfg = rec.named("c-cluster").inputs["configuration"]["executeCommandConfiguration"]
    assert exec_cfg["kmsKeyId"] == key.outputs["arn"]
    assert exec_cfg["logConfiguration"]["cloudWatchEncryptionEnabled"] is True
    assert rec.named("c-exec-logs").inputs["kmsKeyId"] == key.outputs["arn"]


def test_exec_key_lets_cloudwatch_logs_use_it_for_the_exec_group_only(mocked: Mocked) -> None:
    """Key policy per "Encrypt log data in CloudWatch Logs using AWS KMS" (step 2): the regional
    logs principal, its action groups under the kms:EncryptionContext:aws:logs:arn condition, and
    DescribeKey on its own (it takes no encryption context: Service Authorization Reference, AWS
    KMS). The pattern must match the group's real (auto-named) ARN, or CreateLogGroup fails."""
    rec = build(mocked, name="c", exec_log_retention_days=30)
    policy = json.loads(one(rec, KMS_KEY).inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {
        "AccountAdministersThroughIam",
        "CloudWatchLogsEncryptsTheseGroups",
        "CloudWatchLogsDescribesTheKey",
    }
    admin = statements["AccountAdministersThroughIam"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    logs = statements["CloudWatchLogsEncryptsTheseGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-2.amazonaws.com"}
    assert logs["Action"] == [
        "kms:Decrypt*",
        "kms:Encrypt*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    (pattern,) = logs["Condition"]["ArnLike"].values()
    assert list(logs["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
    assert fnmatchcase(rec.named("c-exec-logs").outputs["arn"], pattern)
    other_group = "arn:aws:logs:us-east-2:123456789012:log-group:blue-fleet-logs-1a2b3c4"
    assert not fnmatchcase(other_group, pattern)
    describe = statements["CloudWatchLogsDescribesTheKey"]
    assert describe["Principal"] == logs["Principal"] and describe["Action"] == ["kms:DescribeKey"]
    assert describe["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_without_exec_logging_there_is_no_exec_key(mocked: Mocked) -> None:
    rec = build(mocked, exec_log_retention_days=None)
    assert rec.of_type(KMS_KEY) == []
    assert "configuration" not in one(rec, CLUSTER).inputs


# -- a never-used account -------------------------------------------------------------------


def test_capacity_provider_waits_for_the_cluster_itself(mocked: Mocked) -> None:
    """CreateCluster makes AWSServiceRoleForECS where it is missing; CreateCapacityProvider
    fails without it. The order must be a direct dependency, not a side effect of user data."""
    rec = build(mocked, image_id="ami-0pinned")
    provider = one(rec, CAPACITY_PROVIDER)
    assert one(rec, CLUSTER).urn in provider.dependencies


def test_the_account_wide_service_linked_role_is_not_managed_here(mocked: Mocked) -> None:
    # Creating it fails where it exists; destroying it would take it from every other cluster.
    rec = build(mocked)
    assert not [r for r in rec.records if r.type == "aws:iam/serviceLinkedRole:ServiceLinkedRole"]
