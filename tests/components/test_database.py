"""Database under mocks: network isolation, encryption, managed secret, prod switches, helpers."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest

from components import iam_documents
from components.database import Database, DatabaseArgs, parameter_group_family

INSTANCE = "aws:rds/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
SECRET = "aws:secretsmanager/secret:Secret"

DEV = DatabaseArgs(
    vpc_id="vpc-0123",
    isolated_subnet_ids=["subnet-iso-a", "subnet-iso-b"],
    client_security_group_ids=["sg-ecs-instances", "sg-ecs-tasks"],
)
PROD = dataclasses.replace(
    DEV,
    multi_az=True,
    deletion_protection=True,
    skip_final_snapshot=False,
    performance_insights=True,
    backup_retention_days=14,
)
CMK = "arn:aws:kms:us-east-2:123456789012:key/secret-key"


def build(args: DatabaseArgs = DEV) -> Database:
    db = Database("db", args)
    pulumi.export("address", db.address)
    pulumi.export("port", db.port)
    pulumi.export("db_name", db.db_name)
    pulumi.export("secret_arn", db.secret_arn)
    pulumi.export("security_group_id", db.security_group_id)
    pulumi.export("app_secret_arn", db.app_secret_arn)
    pulumi.export("identifier", db.identifier)
    pulumi.export("log_group_name", db.log_group_name)
    pulumi.export("ecs_environment", db.ecs_environment())
    pulumi.export("policy", iam_documents.document(*db.app_secret_read_statements()))
    pulumi.export("bootstrap_policy", iam_documents.document(*db.bootstrap_statements()))
    return db


@pytest.fixture
def dev(mocked):
    return mocked(build)


@pytest.fixture
def prod(mocked):
    return mocked(lambda: build(PROD))


def instance(rec) -> dict:
    (record,) = rec.of_type(INSTANCE)
    return record.inputs


def test_private_encrypted_postgres_with_managed_password(dev) -> None:
    db = instance(dev)
    assert db["engine"] == "postgres"
    assert db["engineVersion"] == "16"
    assert db["autoMinorVersionUpgrade"] is True
    assert db["instanceClass"] == "db.t4g.micro"
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["storageType"] == "gp3"
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (20, 100)
    assert db["manageMasterUserPassword"] is True
    assert "password" not in db and "passwordWo" not in db
    assert (db["dbName"], db["username"]) == ("app", "app_admin")
    assert db["port"] == 5432
    assert db["copyTagsToSnapshot"] is True
    assert db["backupRetentionPeriod"] == 7
    assert db["enabledCloudwatchLogsExports"] == ["postgresql"]


def test_dev_switches_are_off(dev) -> None:
    db = instance(dev)
    assert db["multiAz"] is False
    assert db["deletionProtection"] is False
    assert db["performanceInsightsEnabled"] is False
    assert db["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in db


def test_prod_switches_are_on(prod) -> None:
    db = instance(prod)
    assert db["multiAz"] is True
    assert db["deletionProtection"] is True
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsRetentionPeriod"] == 7
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == f"{db['identifier']}-final"
    assert db["backupRetentionPeriod"] == 14


def test_subnet_group_is_exactly_the_isolated_subnets(dev) -> None:
    (group,) = dev.of_type(SUBNET_GROUP)
    assert group.inputs["subnetIds"] == ["subnet-iso-a", "subnet-iso-b"]
    assert instance(dev)["dbSubnetGroupName"] == group.outputs["name"]


def test_security_group_admits_only_the_clients_on_5432(dev) -> None:
    (group,) = dev.of_type(SECURITY_GROUP)
    assert group.inputs["vpcId"] == "vpc-0123"
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert instance(dev)["vpcSecurityGroupIds"] == [group.id]
    assert dev.outputs["security_group_id"] == group.id
    rules = dev.of_type(INGRESS)
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == [
        "sg-ecs-instances",
        "sg-ecs-tasks",
    ]
    for rule in rules:
        assert rule.inputs["securityGroupId"] == group.id
        assert rule.inputs["ipProtocol"] == "tcp"
        assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 5432
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
        assert "prefixListId" not in rule.inputs
        assert rule.inputs["description"]
    assert not dev.of_type(EGRESS)


def test_no_bastion_and_no_ssh(dev) -> None:
    assert not dev.of_type("aws:ec2/instance:Instance")
    for rule in dev.of_type(INGRESS):
        assert rule.inputs["fromPort"] != 22


def test_parameter_group_forces_tls(dev) -> None:
    (group,) = dev.of_type(PARAMETER_GROUP)
    assert group.inputs["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {"rds.force_ssl": "1"}
    assert instance(dev)["parameterGroupName"] == group.outputs["name"]


def test_outputs(dev) -> None:
    (record,) = dev.of_type(INSTANCE)
    assert dev.outputs["address"] == record.outputs["address"]
    assert dev.outputs["port"] == 5432
    assert dev.outputs["db_name"] == "app"
    assert dev.outputs["secret_arn"] == record.outputs["masterUserSecrets"][0]["secretArn"]


def test_ecs_environment_carries_the_non_secret_connection_details(dev) -> None:
    assert dev.outputs["ecs_environment"] == [
        {"name": "DB_HOST", "value": dev.outputs["address"]},
        {"name": "DB_PORT", "value": "5432"},
        {"name": "DB_NAME", "value": "app"},
    ]


def test_serving_statement_reads_only_the_app_secret(dev) -> None:
    (statement,) = json.loads(dev.outputs["policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == [dev.outputs["app_secret_arn"]]
    assert dev.outputs["secret_arn"] not in dev.outputs["policy"]  # never the master secret


def test_bootstrap_statements_read_the_master_and_write_the_app_secret(dev) -> None:
    statements = json.loads(dev.outputs["bootstrap_policy"])["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["secretsmanager:GetSecretValue"], [dev.outputs["secret_arn"]]),
        (
            ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            [dev.outputs["app_secret_arn"]],
        ),
    ]


def test_customer_key_adds_a_scoped_decrypt(mocked) -> None:
    rec = mocked(lambda: build(dataclasses.replace(DEV, master_user_secret_kms_key_id=CMK)))
    assert instance(rec)["masterUserSecretKmsKeyId"] == CMK
    (secret,) = rec.of_type(SECRET)
    assert secret.inputs["kmsKeyId"] == CMK
    statements = json.loads(rec.outputs["policy"])["Statement"]
    assert [s["Action"] for s in statements] == [["secretsmanager:GetSecretValue"], ["kms:Decrypt"]]
    decrypt = statements[1]
    assert decrypt["Resource"] == [CMK]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-2.amazonaws.com"}
    }
    bootstrap = json.loads(rec.outputs["bootstrap_policy"])["Statement"]
    assert bootstrap[-1]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert bootstrap[-1]["Condition"] == decrypt["Condition"]


def test_storage_autoscaling_off_when_ceiling_equals_allocation(mocked) -> None:
    rec = mocked(lambda: build(dataclasses.replace(DEV, max_allocated_storage=20)))
    assert instance(rec)["maxAllocatedStorage"] == 0


def test_children_are_parented(dev) -> None:
    component = dev.named("db")
    assert component.type == "steadystate:database:Database"
    assert len(dev.children_of(component)) == len(dev.records) - 1


def test_pure_helpers() -> None:
    assert parameter_group_family("16") == "postgres16"
    assert parameter_group_family("16.4") == "postgres16"


@pytest.mark.parametrize(
    ("change", "arg"),
    [
        ({"isolated_subnet_ids": ["subnet-a"]}, "isolated_subnet_ids"),
        ({"client_security_group_ids": []}, "client_security_group_ids"),
        ({"engine_version": "latest"}, "engine_version"),
        ({"allocated_storage": 10}, "allocated_storage"),
        ({"max_allocated_storage": 10}, "max_allocated_storage"),
        ({"backup_retention_days": 1}, "backup_retention_days"),
        ({"backup_retention_days": 36}, "backup_retention_days"),
        ({"db_name": "1app"}, "db_name"),
        ({"username": "rdsadmin"}, "username"),
        ({"instance_class": "t4g.micro"}, "instance_class"),
    ],
)
def test_invalid_args_raise_naming_the_argument(change: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"DatabaseArgs\.{arg} must be"):
        Database("db", dataclasses.replace(DEV, **change))


ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def test_enhanced_monitoring_every_60_s_through_a_role_only_rds_monitoring_assumes(dev) -> None:
    db = instance(dev)
    (role,) = dev.of_type(ROLE)
    (attachment,) = dev.of_type(ATTACHMENT)
    assert db["monitoringInterval"] == 60
    assert db["monitoringRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "monitoring.rds.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert attachment.inputs["policyArn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")


def test_enhanced_monitoring_off_creates_no_role(mocked) -> None:
    rec = mocked(lambda: build(dataclasses.replace(DEV, monitoring_interval_seconds=0)))
    assert instance(rec)["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in instance(rec)
    assert rec.of_type(ROLE) == []


def test_invalid_monitoring_interval_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"monitoring_interval_seconds must be one of 0, 1, 5"):
        Database("db", dataclasses.replace(DEV, monitoring_interval_seconds=45))
