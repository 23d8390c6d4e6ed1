"""Second-wave stack policies (issue 12): violating and compliant stacks, with known values and with
preview-time unknowns resolved through property dependencies."""

from __future__ import annotations

import json

from policy_harness import UNKNOWN_STRING, Res, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from policy.guardrails import aws_types as t

BUCKET_TYPE = t.S3_BUCKETS[0]
BUCKET = Res(
    BUCKET_TYPE, "logs", {"bucket": "logs-123", "id": "logs-123", "arn": "arn:aws:s3:::logs-123"}
)
ALL_ON = dict.fromkeys(
    ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
)


def pab(**flags: bool) -> Res:
    return Res(t.S3_PUBLIC_ACCESS_BLOCK, "logs-pab", {"bucket": "logs-123", **ALL_ON, **flags})


# s3 bucket companions ---------------------------------------------------------------------------


def test_bucket_without_public_access_block_is_reported() -> None:
    outcome = run_stack("s3-bucket-public-access-blocked", [BUCKET])
    assert_reported(outcome, BUCKET, "no public access block", "aws:s3/bucketPublicAccessBlock")


def test_bucket_with_a_partial_public_access_block_is_reported() -> None:
    outcome = run_stack("s3-bucket-public-access-blocked", [BUCKET, pab(blockPublicPolicy=False)])
    assert_reported(outcome, BUCKET)


def test_bucket_with_full_public_access_block_passes_also_by_dependency() -> None:
    assert_clean(run_stack("s3-bucket-public-access-blocked", [BUCKET, pab()]))
    bucket = Res(BUCKET_TYPE, "logs", {"bucket": UNKNOWN_STRING, "id": UNKNOWN_STRING})
    block = Res(
        t.S3_PUBLIC_ACCESS_BLOCK,
        "logs-pab",
        {**ALL_ON, "bucket": UNKNOWN_STRING},
        {"bucket": ["logs"]},
    )
    assert_clean(run_stack("s3-bucket-public-access-blocked", [bucket, block]))


def _bucket_policy(*statements: dict) -> Res:
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Res(t.S3_BUCKET_POLICY, "logs-policy", {"bucket": "logs-123", "policy": document})


DENY_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::logs-123/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_bucket_policy_without_tls_deny_is_reported() -> None:
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs-123/*",
    }
    outcome = run_stack("s3-bucket-tls-only", [BUCKET, _bucket_policy(allow)])
    assert_reported(outcome, BUCKET, "plain HTTP", '"aws:SecureTransport": "false"')


def test_bucket_policy_with_tls_deny_passes() -> None:
    assert_clean(run_stack("s3-bucket-tls-only", [BUCKET, _bucket_policy(DENY_HTTP)]))


def test_bucket_acls_and_lifecycle() -> None:
    controls = Res(
        t.S3_OWNERSHIP_CONTROLS,
        "own",
        {"bucket": "logs-123", "rule": {"objectOwnership": "ObjectWriter"}},
    )
    assert_reported(
        run_stack("s3-bucket-acls-disabled", [BUCKET, controls]), BUCKET, "BucketOwnerEnforced"
    )
    controls.props["rule"]["objectOwnership"] = "BucketOwnerEnforced"
    assert_clean(run_stack("s3-bucket-acls-disabled", [BUCKET, controls]))

    lifecycle = Res(
        t.S3_LIFECYCLE[0],
        "expiry",
        {"bucket": "logs-123", "rules": [{"id": "x", "status": "Disabled"}]},
    )
    assert_reported(run_stack("s3-bucket-lifecycle", [BUCKET, lifecycle]), BUCKET, "expiration")
    lifecycle.props["rules"][0]["status"] = "Enabled"
    assert_clean(run_stack("s3-bucket-lifecycle", [BUCKET, lifecycle]))


# rds-force-tls ----------------------------------------------------------------------------------


def db(**props) -> Res:
    base = {
        "engine": "postgres",
        "parameterGroupName": "db-params-1",
        "dbSubnetGroupName": "db-subnets-1",
    }
    return Res(t.RDS_INSTANCE, "db", {**base, **props})


def params(value: str | None) -> Res:
    parameters = [] if value is None else [{"name": "rds.force_ssl", "value": value}]
    return Res(
        t.RDS_PARAMETER_GROUP,
        "db-params",
        {"name": "db-params-1", "family": "postgres16", "parameters": parameters},
    )


def test_rds_without_forced_tls_is_reported() -> None:
    assert_reported(
        run_stack("rds-force-tls", [db(), params("0")]), db(), "rds.force_ssl=", 'value: "1"'
    )
    assert_reported(run_stack("rds-force-tls", [db(), params(None)]), db(), "(unset)")
    assert_reported(
        run_stack("rds-force-tls", [db(parameterGroupName=None)]), db(), "default parameter group"
    )


def test_rds_with_forced_tls_passes_also_by_dependency() -> None:
    assert_clean(run_stack("rds-force-tls", [db(), params("1")]))
    preview = Res(
        t.RDS_INSTANCE,
        "db",
        {"engine": "postgres", "parameterGroupName": UNKNOWN_STRING},
        {"parameterGroupName": ["db-params"]},
    )
    assert_clean(run_stack("rds-force-tls", [preview, params("1")]))


def test_mysql_needs_require_secure_transport() -> None:
    group = Res(
        t.RDS_PARAMETER_GROUP,
        "db-params",
        {
            "name": "db-params-1",
            "parameters": [{"name": "require_secure_transport", "value": "ON"}],
        },
    )
    assert_clean(run_stack("rds-force-tls", [db(engine="mysql"), group]))
    assert_reported(
        run_stack("rds-force-tls", [db(engine="mysql"), params("1")]),
        db(),
        "require_secure_transport",
    )


# rds-isolated-subnets ---------------------------------------------------------------------------


def network(route: dict | None) -> list[Res]:
    """Two subnets of one DB subnet group, both associated with one route table."""
    resources = [
        Res(t.SUBNET, "iso-a", {"id": "subnet-a", "availabilityZone": "us-east-2a"}),
        Res(t.SUBNET, "iso-b", {"id": "subnet-b", "availabilityZone": "us-east-2b"}),
        Res(t.ROUTE_TABLE, "iso-rt", {"id": "rtb-1", "vpcId": "vpc-1"}),
        Res(
            t.ROUTE_TABLE_ASSOCIATION, "assoc-a", {"subnetId": "subnet-a", "routeTableId": "rtb-1"}
        ),
        Res(
            t.ROUTE_TABLE_ASSOCIATION, "assoc-b", {"subnetId": "subnet-b", "routeTableId": "rtb-1"}
        ),
        Res(
            t.RDS_SUBNET_GROUP,
            "db-subnets",
            {"name": "db-subnets-1", "subnetIds": ["subnet-a", "subnet-b"]},
        ),
    ]
    if route is not None:
        resources.append(
            Res(
                t.ROUTE,
                "default",
                {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", **route},
            )
        )
    return resources


def test_rds_in_subnets_routed_to_an_internet_gateway_is_reported() -> None:
    outcome = run_stack("rds-isolated-subnets", [*network({"gatewayId": "igw-1"}), db()])
    assert_reported(outcome, db(), 'subnet "iso-a"', "iso-rt", "0.0.0.0/0", "isolated subnets")


def test_rds_in_subnets_routed_to_a_nat_gateway_is_reported() -> None:
    outcome = run_stack("rds-isolated-subnets", [*network({"natGatewayId": "nat-1"}), db()])
    assert_reported(outcome, db(), "internet or NAT gateway")


def test_inline_routes_of_the_route_table_count() -> None:
    resources = network(None)
    resources[2].props["routes"] = [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-9"}]
    assert_reported(run_stack("rds-isolated-subnets", [*resources, db()]), db())


def test_rds_in_isolated_subnets_passes() -> None:
    assert_clean(run_stack("rds-isolated-subnets", [*network(None), db()]))
    local_only = network({"gatewayId": "local"})
    assert_clean(run_stack("rds-isolated-subnets", [*local_only, db()]))


def test_rds_without_subnet_group_is_reported() -> None:
    outcome = run_stack("rds-isolated-subnets", [db(dbSubnetGroupName=None)])
    assert_reported(outcome, db(), "default VPC")


def test_rds_placement_follows_dependencies_during_preview() -> None:
    resources = [
        Res(t.SUBNET, "iso-a", {"id": UNKNOWN_STRING}),
        Res(t.ROUTE_TABLE, "rt", {"id": UNKNOWN_STRING}),
        Res(t.INTERNET_GATEWAY, "igw", {"id": UNKNOWN_STRING}),
        Res(
            t.ROUTE_TABLE_ASSOCIATION,
            "assoc",
            {"subnetId": UNKNOWN_STRING, "routeTableId": UNKNOWN_STRING},
            {"subnetId": ["iso-a"], "routeTableId": ["rt"]},
        ),
        Res(
            t.ROUTE,
            "default",
            {
                "routeTableId": UNKNOWN_STRING,
                "gatewayId": UNKNOWN_STRING,
                "destinationCidrBlock": "0.0.0.0/0",
            },
            {"routeTableId": ["rt"], "gatewayId": ["igw"]},
        ),
        Res(
            t.RDS_SUBNET_GROUP,
            "db-subnets",
            {"name": UNKNOWN_STRING, "subnetIds": [UNKNOWN_STRING]},
            {"subnetIds": ["iso-a"]},
        ),
    ]
    instance = Res(
        t.RDS_INSTANCE,
        "db",
        {"engine": "postgres", "dbSubnetGroupName": UNKNOWN_STRING},
        {"dbSubnetGroupName": ["db-subnets"]},
    )
    assert_reported(
        run_stack("rds-isolated-subnets", [*resources, instance]), instance, "routes to"
    )


# ecs-deployment-alarms-exist -------------------------------------------------------------------


def service(names) -> Res:
    return Res(
        t.ECS_SERVICE,
        "web",
        {"name": "web", "alarms": {"alarmNames": names, "enable": True, "rollback": True}},
    )


LATENCY = Res(t.METRIC_ALARM, "web-latency", {"name": "web-latency-1"})


def test_deployment_alarm_that_does_not_exist_is_reported() -> None:
    web = service(["web-latency-1", "web-5xx"])
    assert_reported(run_stack("ecs-deployment-alarms-exist", [LATENCY, web]), web, '"web-5xx"')


def test_deployment_alarms_that_exist_pass() -> None:
    assert_clean(run_stack("ecs-deployment-alarms-exist", [LATENCY, service(["web-latency-1"])]))


# capacity-provider-asg-scale-in-protection ------------------------------------------------------


def provider(protection: str = "ENABLED") -> Res:
    return Res(
        t.ECS_CAPACITY_PROVIDER,
        "ec2",
        {
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": "arn:asg/hosts",
                "managedTerminationProtection": protection,
            }
        },
    )


def test_termination_protection_without_scale_in_protection_is_reported() -> None:
    group = Res(t.AUTOSCALING_GROUP, "hosts", {"arn": "arn:asg/hosts", "protectFromScaleIn": False})
    outcome = run_stack("capacity-provider-asg-scale-in-protection", [group, provider()])
    assert_reported(outcome, provider(), "protectFromScaleIn=false", "protectFromScaleIn=true")


def test_termination_protection_with_scale_in_protection_passes() -> None:
    group = Res(t.AUTOSCALING_GROUP, "hosts", {"arn": UNKNOWN_STRING, "protectFromScaleIn": True})
    linked = Res(provider().type, "ec2", provider().props, {"autoScalingGroupProvider": ["hosts"]})
    assert_clean(run_stack("capacity-provider-asg-scale-in-protection", [group, linked]))
    unprotected = Res(
        t.AUTOSCALING_GROUP, "hosts", {"arn": "arn:asg/hosts", "protectFromScaleIn": False}
    )
    assert_clean(
        run_stack("capacity-provider-asg-scale-in-protection", [unprotected, provider("DISABLED")])
    )


# alarm-topics-have-subscriber -------------------------------------------------------------------

TOPIC = Res(
    t.SNS_TOPIC,
    "alerts",
    {"arn": "arn:aws:sns:us-east-2:1:alerts", "id": "arn:aws:sns:us-east-2:1:alerts"},
)
ALARM = Res(t.METRIC_ALARM, "cpu", {"alarmActions": ["arn:aws:sns:us-east-2:1:alerts"]})


def test_alarm_topic_without_subscriber_is_reported() -> None:
    outcome = run_stack("alarm-topics-have-subscriber", [TOPIC, ALARM])
    assert_reported(outcome, TOPIC, "nothing is subscribed", "aws:sns/topicSubscription")


def test_alarm_topic_with_subscriber_passes_and_unused_topic_is_ignored() -> None:
    email = Res(
        t.SNS_TOPIC_SUBSCRIPTION,
        "oncall",
        {"topic": "arn:aws:sns:us-east-2:1:alerts", "protocol": "email"},
    )
    assert_clean(run_stack("alarm-topics-have-subscriber", [TOPIC, ALARM, email]))
    assert_clean(run_stack("alarm-topics-have-subscriber", [TOPIC]))


def test_alarm_topic_subscriber_is_not_applicable_in_dev() -> None:
    outcome = run_stack(
        "alarm-topics-have-subscriber", [TOPIC, ALARM], config={"environment": "dev"}
    )
    assert outcome.violations == []
    assert "prod-only" in outcome.not_applicable


# vpc-default-security-group-closed -------------------------------------------------------------

MAIN_VPC = Res(t.VPC, "vpc", {"id": "vpc-1"})


def test_vpc_whose_default_group_is_not_adopted_is_reported() -> None:
    outcome = run_stack("vpc-default-security-group-closed", [MAIN_VPC])
    assert_reported(outcome, MAIN_VPC, "keeps AWS's allow rules", "ingress=[]")


def test_adopted_default_group_with_rules_is_reported() -> None:
    group = Res(
        t.DEFAULT_SECURITY_GROUP,
        "default",
        {"vpcId": "vpc-1", "ingress": [{"protocol": "-1"}], "egress": []},
    )
    outcome = run_stack("vpc-default-security-group-closed", [MAIN_VPC, group])
    assert_reported(outcome, MAIN_VPC, "still has rules")


def test_adopted_empty_default_group_passes_also_by_dependency() -> None:
    group = Res(
        t.DEFAULT_SECURITY_GROUP, "default", {"vpcId": "vpc-1", "ingress": [], "egress": []}
    )
    assert_clean(run_stack("vpc-default-security-group-closed", [MAIN_VPC, group]))
    preview_vpc = Res(t.VPC, "vpc", {"id": UNKNOWN_STRING})
    preview_group = Res(
        t.DEFAULT_SECURITY_GROUP,
        "default",
        {"vpcId": UNKNOWN_STRING, "ingress": [], "egress": []},
        {"vpcId": ["vpc"]},
    )
    assert_clean(run_stack("vpc-default-security-group-closed", [preview_vpc, preview_group]))


def test_deployment_alarm_names_from_stack_alarms_pass_during_preview() -> None:
    latency = Res(t.METRIC_ALARM, "web-latency", {"name": UNKNOWN_STRING})
    web = Res(
        t.ECS_SERVICE,
        "web",
        {"alarms": {"alarmNames": [UNKNOWN_STRING], "enable": True}},
        {"alarms": ["web-latency"]},
    )
    assert_clean(run_stack("ecs-deployment-alarms-exist", [latency, web]))


def test_deployment_alarm_names_of_unknown_origin_skip_with_reason() -> None:
    web = Res(t.ECS_SERVICE, "web", {"alarms": {"alarmNames": [UNKNOWN_STRING], "enable": True}})
    outcome = run_stack("ecs-deployment-alarms-exist", [LATENCY, web])
    assert outcome.violations == []
    assert "unknown during preview" in outcome.not_applicable


# ecs-service-placement-allows-scale-in ----------------------------------------------------------

ZONE_SPREAD = {"type": "spread", "field": "attribute:ecs.availability-zone"}


def placed_service(*strategies: dict, provider_name: str = "ec2-cp") -> Res:
    return Res(
        t.ECS_SERVICE,
        "web",
        {
            "capacityProviderStrategies": [{"capacityProvider": provider_name, "weight": 1}],
            "orderedPlacementStrategies": list(strategies),
        },
    )


def named_provider(protection: str = "ENABLED") -> Res:
    return Res(provider().type, "ec2", {**provider(protection).props, "name": "ec2-cp"})


def test_instance_spread_on_termination_protected_capacity_is_reported() -> None:
    for field in ("instanceId", "host"):
        web = placed_service(ZONE_SPREAD, {"type": "spread", "field": field})
        outcome = run_stack("ecs-service-placement-allows-scale-in", [named_provider(), web])
        assert_reported(outcome, web, f"spreads tasks by {field}", '"binpack"')


def test_spread_without_binpack_on_termination_protected_capacity_is_reported() -> None:
    web = placed_service(ZONE_SPREAD)
    outcome = run_stack("ecs-service-placement-allows-scale-in", [named_provider(), web])
    assert_reported(outcome, web, "no binpack placement strategy")


def test_zone_spread_then_binpack_passes_also_by_dependency() -> None:
    binpack = {"type": "binpack", "field": "memory"}
    web = placed_service(ZONE_SPREAD, binpack)
    assert_clean(run_stack("ecs-service-placement-allows-scale-in", [named_provider(), web]))
    unknown_name = Res(
        t.ECS_SERVICE,
        "web",
        {
            "capacityProviderStrategies": [{"capacityProvider": UNKNOWN_STRING}],
            "orderedPlacementStrategies": [ZONE_SPREAD, {"type": "spread", "field": "instanceId"}],
        },
        {"capacityProviderStrategies": ["ec2"]},
    )
    outcome = run_stack("ecs-service-placement-allows-scale-in", [named_provider(), unknown_name])
    assert_reported(outcome, unknown_name, "spreads tasks by instanceId")


def test_instance_spread_is_allowed_where_hosts_are_not_termination_protected() -> None:
    web = placed_service(ZONE_SPREAD, {"type": "spread", "field": "instanceId"})
    assert_clean(
        run_stack("ecs-service-placement-allows-scale-in", [named_provider("DISABLED"), web])
    )
    other = placed_service(ZONE_SPREAD, provider_name="another-cp")
    assert_clean(run_stack("ecs-service-placement-allows-scale-in", [named_provider(), other]))


# s3-bucket-aborts-incomplete-uploads (Checkov CKV_AWS_300) ----------------------------------------

ABORT = {"daysAfterInitiation": 7}


def lifecycle_rules(*rules: dict, deps: dict | None = None, bucket: str = "logs-123") -> Res:
    return Res(t.S3_LIFECYCLE[0], "expiry", {"bucket": bucket, "rules": list(rules)}, deps or {})


def test_bucket_without_an_abort_rule_is_reported() -> None:
    expiry_only = lifecycle_rules({"id": "expire", "status": "Enabled", "expiration": {"days": 9}})
    for stack in ([BUCKET], [BUCKET, expiry_only]):
        outcome = run_stack("s3-bucket-aborts-incomplete-uploads", stack)
        assert_reported(
            outcome, BUCKET, "aborts incomplete multipart uploads", "daysAfterInitiation"
        )


def test_a_disabled_or_narrowed_abort_rule_is_reported() -> None:
    for rule in (
        {"status": "Disabled", "filter": {"prefix": ""}, "abortIncompleteMultipartUpload": ABORT},
        {
            "status": "Enabled",
            "filter": {"prefix": "alb/"},
            "abortIncompleteMultipartUpload": ABORT,
        },
        {"status": "Enabled", "prefix": "tmp/", "abortIncompleteMultipartUpload": ABORT},
        {
            "status": "Enabled",
            "filter": {"objectSizeGreaterThan": 1},
            "abortIncompleteMultipartUpload": ABORT,
        },
        {"status": "Enabled", "filter": {}, "abortIncompleteMultipartUpload": {}},
    ):
        outcome = run_stack("s3-bucket-aborts-incomplete-uploads", [BUCKET, lifecycle_rules(rule)])
        assert_reported(outcome, BUCKET)


def test_an_enabled_abort_rule_over_the_whole_bucket_passes() -> None:
    for chosen in ({"filter": {"prefix": ""}}, {"filter": {}}, {}, {"prefix": ""}):
        rule = {
            "status": "Enabled",
            **chosen,
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
        }
        assert_clean(
            run_stack("s3-bucket-aborts-incomplete-uploads", [BUCKET, lifecycle_rules(rule)])
        )


def test_abort_rule_found_through_the_dependency_during_preview() -> None:
    bucket = Res(BUCKET_TYPE, "logs", {"bucket": UNKNOWN_STRING, "id": UNKNOWN_STRING})
    rule = {"status": "Enabled", "filter": {"prefix": ""}, "abortIncompleteMultipartUpload": ABORT}
    linked = lifecycle_rules(rule, deps={"bucket": ["logs"]}, bucket=UNKNOWN_STRING)
    assert_clean(run_stack("s3-bucket-aborts-incomplete-uploads", [bucket, linked]))
