"""Each pricer against hand-made records: the charge is exactly the table's price times the count."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.cost.estimate import estimate_records
from ops.cost.price_table import PriceError, RegionPrices, region_prices
from ops.cost.pricers import AMI_ROOT_VOLUME_GIB, PRICERS, StackView
from ops.synth.mocks import ResourceRecord

P = region_prices("us-east-2")
HOURS = P.hours_per_month


def record(type_: str, logical: str, inputs: dict[str, Any], **outputs: Any) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:t::p::{type_}::{logical}",
        type=type_,
        name=logical,
        custom=True,
        parent="",
        provider="",
        inputs=inputs,
        outputs=outputs,
        options={},
        dependencies=[],
        property_dependencies={},
        id=outputs.get("id", ""),
    )


def price(*records: ResourceRecord, prices: RegionPrices = P):
    return estimate_records(records, prices)


def test_nat_gateway_and_its_address() -> None:
    e = price(
        record("aws:ec2/natGateway:NatGateway", "nat", {}),
        record("aws:ec2/eip:Eip", "nat-eip", {"domain": "vpc"}),
    )
    assert e.monthly_min == pytest.approx(
        (P.rate("nat_gateway_hour") + P.rate("public_ipv4_hour")) * HOURS
    )
    assert ("NAT gateways and public IPv4", "NAT gateway data processed") in e.usage


def test_public_alb_pays_hours_one_lcu_and_an_address_a_zone() -> None:
    alb = record("aws:lb/loadBalancer:LoadBalancer", "alb", {"subnets": ["a", "b", "c"]})
    expected = (
        P.rate("alb_hour") + P.rate("alb_lcu_hour") + 3 * P.rate("public_ipv4_hour")
    ) * HOURS
    assert price(alb).monthly_min == pytest.approx(expected)


def test_internal_alb_has_no_public_addresses() -> None:
    alb = record(
        "aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True, "subnets": ["a", "b"]}
    )
    assert price(alb).monthly_min == pytest.approx(
        (P.rate("alb_hour") + P.rate("alb_lcu_hour")) * HOURS
    )


def test_network_load_balancer_is_refused_by_name() -> None:
    nlb = record("aws:lb/loadBalancer:LoadBalancer", "edge", {"loadBalancerType": "network"})
    with pytest.raises(PriceError, match="edge: only application load balancers"):
        price(nlb)


def test_interface_endpoint_is_priced_per_zone_and_gateway_is_free() -> None:
    interface = record(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "logs",
        {
            "vpcEndpointType": "Interface",
            "subnetIds": ["a", "b", "c"],
            "serviceName": "com.amazonaws.us-east-2.logs",
        },
    )
    gateway = record("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"})
    assert price(interface).monthly_min == pytest.approx(
        3 * P.rate("interface_endpoint_az_hour") * HOURS
    )
    assert price(gateway).monthly_min == 0


def _hosts(instance_type: str, ebs: dict[str, Any] | None) -> tuple[ResourceRecord, ResourceRecord]:
    mappings = [{"deviceName": "/dev/xvda", "ebs": ebs}] if ebs is not None else []
    template = record(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        {"instanceType": instance_type, "blockDeviceMappings": mappings},
        id="lt-1",
    )
    group = record(
        "aws:autoscaling/group:Group",
        "asg",
        {
            "minSize": 2,
            "maxSize": 5,
            "launchTemplate": {"id": "lt-1"},
            "vpcZoneIdentifiers": ["a", "b"],
        },
    )
    return template, group


def test_hosts_are_priced_at_both_scaling_bounds_with_their_volumes() -> None:
    e = price(*_hosts("t3.medium", {"volumeSize": 40, "volumeType": "gp3"}))
    each = P.of("ec2_hour", "t3.medium", "") * HOURS + 40 * P.of("ebs_gb_month", "gp3", "")
    assert e.monthly_min == pytest.approx(2 * each)
    assert e.monthly_max == pytest.approx(5 * each)
    assert ("container hosts", "data between zones (each way)") in e.usage


def test_hosts_without_a_volume_size_get_the_ami_root_volume() -> None:
    e = price(*_hosts("t3.small", None))
    each = P.of("ec2_hour", "t3.small", "") * HOURS + AMI_ROOT_VOLUME_GIB * P.of(
        "ebs_gb_month", "gp3", ""
    )
    assert e.monthly_min == pytest.approx(2 * each)


def test_an_unknown_instance_type_names_the_choices_and_a_near_miss() -> None:
    with pytest.raises(PriceError, match=r"'t3.mediun'.*did you mean t3.medium\?"):
        price(*_hosts("t3.mediun", None))


def _db(multi_az: bool, **extra: Any) -> ResourceRecord:
    return record(
        "aws:rds/instance:Instance",
        "db",
        {
            "engine": "postgres",
            "instanceClass": "db.t4g.small",
            "allocatedStorage": 20,
            "storageType": "gp3",
            "multiAz": multi_az,
            **extra,
        },
    )


def test_multi_az_doubles_instance_and_storage() -> None:
    single, double = price(_db(False)), price(_db(True))
    assert double.monthly_min == pytest.approx(2 * single.monthly_min)
    expected = P.of("rds_postgres_hour", "db.t4g.small", "") * HOURS + 20 * P.of(
        "rds_storage_gb_month", "gp3", ""
    )
    assert single.monthly_min == pytest.approx(expected)


def test_storage_autoscaling_bound_is_the_maximum_and_managed_secret_is_charged() -> None:
    e = price(_db(False, maxAllocatedStorage=100, manageMasterUserPassword=True))
    per_gib = P.of("rds_storage_gb_month", "gp3", "")
    assert e.monthly_max - e.monthly_min == pytest.approx(80 * per_gib)
    assert any(c.item.startswith("master password secret") for c in e.charges)
    assert e.monthly_min - price(_db(False)).monthly_min == pytest.approx(P.rate("secret_month"))


@pytest.mark.parametrize(
    ("inputs", "features", "aws"),
    [
        ({"type": "HTTP", "fqdn": "x.us-east-2.elb.amazonaws.com", "requestInterval": 30}, 0, True),
        (
            {"type": "HTTPS", "fqdn": "x.us-east-2.elb.amazonaws.com", "requestInterval": 10},
            2,
            True,
        ),
        (
            {"type": "HTTPS_STR_MATCH", "fqdn": "x.elb.amazonaws.com", "measureLatency": True},
            3,
            True,
        ),
        ({"type": "HTTP", "fqdn": "www.example.com", "requestInterval": 10}, 1, False),
        ({"type": "CALCULATED", "childHealthchecks": ["a"]}, 0, True),
        ({"type": "CLOUDWATCH_METRIC", "cloudwatchAlarmName": "a"}, 0, True),
    ],
)
def test_health_check_features_and_endpoint_kind(inputs: dict, features: int, aws: bool) -> None:
    base = P.rate("route53_health_check_month" if aws else "route53_health_check_non_aws_month")
    feature = P.rate(
        "route53_health_check_feature_month"
        if aws
        else "route53_health_check_feature_non_aws_month"
    )
    e = price(record("aws:route53/healthCheck:HealthCheck", "hc", inputs))
    assert e.monthly_min == pytest.approx(base + features * feature)


def test_alarms_pay_per_metric_with_high_resolution_dearer() -> None:
    standard = record("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {"period": 60})
    high = record("aws:cloudwatch/metricAlarm:MetricAlarm", "b", {"period": 10})
    math = record(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "c",
        {
            "metricQueries": [
                {"id": "e", "metric": {"period": 60}},
                {"id": "r", "metric": {"period": 60}},
                {"id": "rate", "expression": "100*e/r"},
            ]
        },
    )
    std = P.rate("cloudwatch_alarm_metric_month")
    assert price(standard).monthly_min == pytest.approx(std)
    assert price(high).monthly_min == pytest.approx(
        P.rate("cloudwatch_high_resolution_alarm_metric_month")
    )
    assert price(math).monthly_min == pytest.approx(2 * std)


def _service_stack(insights: str) -> list[ResourceRecord]:
    prober_env = [
        {"name": "PROBE_TARGETS", "value": "db=tcp://db:5432,cdn=https://cdn/"},
        {"name": "PROBE_INTERVAL_SECONDS", "value": "20"},
        {"name": "PROBE_HOST_DIMENSION", "value": "blue"},
    ]
    return [
        record(
            "aws:ecs/cluster:Cluster",
            "cluster",
            {"settings": [{"name": "containerInsights", "value": insights}]},
            arn="arn:cluster",
        ),
        record(
            "aws:ecs/taskDefinition:TaskDefinition",
            "td",
            {
                "containerDefinitions": json.dumps(
                    [{"name": "app"}, {"name": "prober", "environment": prober_env}]
                )
            },
            arn="arn:aws:ecs:r:1:task-definition/fam:1",
        ),
        record(
            "aws:ecs/service:Service",
            "svc",
            {
                "cluster": "arn:cluster",
                "taskDefinition": "arn:aws:ecs:r:1:task-definition/fam:1",
                "desiredCount": 2,
            },
            name="svc-123",
        ),
        record(
            "aws:appautoscaling/target:Target",
            "scale",
            {"resourceId": "service/c/svc-123", "minCapacity": 2, "maxCapacity": 8},
        ),
    ]


def test_container_insights_counts_cluster_service_and_family_metrics() -> None:
    on, off = price(*_service_stack("enabled")), price(*_service_stack("disabled"))
    counts = P.container_insights_metrics
    metrics = counts["per_cluster"] + counts["per_service"] + counts["per_task_family"]
    assert on.monthly_min - off.monthly_min == pytest.approx(
        metrics * P.rate("cloudwatch_custom_metric_month")
    )


def test_prober_calls_follow_the_task_bounds_and_its_metrics_are_counted() -> None:
    e = price(*_service_stack("disabled"))
    per_task = HOURS * 3600 / 20 / 1000 * P.rate("cloudwatch_put_metric_data_thousand")
    metrics = 3 * P.rate("cloudwatch_custom_metric_month")  # db, cdn and the aggregate
    assert e.monthly_min == pytest.approx(2 * per_task + metrics)
    assert e.monthly_max == pytest.approx(8 * per_task + metrics)


def test_keys_secrets_and_dashboards() -> None:
    e = price(
        record("aws:kms/key:Key", "k", {}),
        record("aws:secretsmanager/secret:Secret", "s", {}),
        record("aws:cloudwatch/dashboard:Dashboard", "d", {}),
    )
    assert e.monthly_min == pytest.approx(
        P.rate("kms_key_month") + P.rate("secret_month") + P.rate("cloudwatch_dashboard_month")
    )


def test_storage_and_logs_are_usage_only() -> None:
    e = price(
        record("aws:s3/bucket:Bucket", "b", {}),
        record("aws:ecr/repository:Repository", "r", {}),
        record("aws:cloudwatch/logGroup:LogGroup", "l", {}),
    )
    assert e.monthly_min == 0
    assert {item for _, item in e.usage} >= {
        "S3 Standard storage",
        "ECR image storage",
        "log ingestion",
    }


def test_dns_query_logging_is_per_use_and_its_resource_policy_free() -> None:
    e = price(
        record("aws:route53/queryLog:QueryLog", "dns-query-log", {"zoneId": "Z1"}),
        record("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "dns-query-logging", {}),
    )
    assert e.monthly_min == e.monthly_max == 0
    assert e.unpriced_types == set()
    rate = e.usage[("DNS failover", "DNS query log ingestion")]
    assert rate.price == P.rate("cloudwatch_logs_ingest_gb")


def test_a_web_acl_pays_a_month_and_a_rule_a_month_per_managed_group() -> None:
    """aws.amazon.com/waf/pricing: $5.00 per web ACL a month, $1.00 per rule a month (a managed
    rule group is one rule), $0.60 per million requests; associations cost nothing."""
    group = {"managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet"}}
    acl = record(
        "aws:wafv2/webAcl:WebAcl",
        "waf-acl",
        {"rules": [{"name": "a", "statement": group}, {"name": "b", "statement": group}]},
    )
    e = price(
        acl,
        record("aws:wafv2/webAclAssociation:WebAclAssociation", "blue-waf", {}),
        record("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "log", {}),
    )
    assert e.monthly_min == e.monthly_max == pytest.approx(5.0 + 2 * 1.0)
    assert e.unpriced_types == set()
    assert e.usage[("web application firewall", "WAF requests inspected")].price == 0.6
    assert ("web application firewall", "WAF log ingestion (vended logs)") in e.usage


def test_a_type_with_no_pricer_and_not_known_free_is_reported() -> None:
    e = price(record("aws:elasticache/cluster:Cluster", "cache", {}))
    assert e.unpriced_types == {"aws:elasticache/cluster:Cluster"}


def test_an_unsupported_region_is_refused_naming_the_covered_ones() -> None:
    with pytest.raises(PriceError, match=r"'eu-west-9'.*us-east-1, us-east-2, us-west-2"):
        region_prices("eu-west-9")
    with pytest.raises(PriceError, match="did you mean us-east-2"):
        region_prices("us-east-3")


def test_same_as_regions_share_the_prices() -> None:
    assert region_prices("us-east-1").values is not None
    assert region_prices("us-east-1").rate("alb_hour") == P.rate("alb_hour")
    assert region_prices("us-east-1").name == "US East (N. Virginia)"


def test_every_pricer_key_is_a_resource_type_token() -> None:
    assert all(t.count(":") == 2 for t in PRICERS)
    assert StackView([]).of_type("x") == []


def test_fast_scale_out_adds_one_custom_metric_per_service() -> None:
    stack = _service_stack("disabled")
    definition = json.loads(stack[1].inputs["containerDefinitions"])
    definition[1]["environment"].append({"name": "SCALING_METRIC_DIMENSION", "value": "blue-fleet"})
    stack[1].inputs["containerDefinitions"] = json.dumps(definition)
    more = price(*stack).monthly_min - price(*_service_stack("disabled")).monthly_min
    assert more == pytest.approx(P.rate("cloudwatch_custom_metric_month"))


def test_lambda_is_priced_per_request_and_gb_second_of_its_architecture() -> None:
    arm = price(record("aws:lambda/function:Function", "fn", {"architectures": ["arm64"],
                                                               "memorySize": 256}))  # fmt: skip
    x86 = price(record("aws:lambda/function:Function", "fn", {}))
    assert arm.monthly_min == x86.monthly_min == 0  # per use only
    rates = {item: rate.price for (_, item), rate in arm.usage.items()}
    assert rates["Lambda requests (first million a month free)"] == pytest.approx(0.2)
    [arm_duration] = [p for item, p in rates.items() if "arm64" in item and "256 MB" in item]
    [x86_duration] = [r.price for (_, item), r in x86.usage.items() if "x86_64" in item]
    assert arm_duration == pytest.approx(P.of("lambda_gb_second", "arm64", "a") * 1000)
    assert arm_duration < x86_duration
    with pytest.raises(PriceError, match="Lambda architecture 'sparc'"):
        price(record("aws:lambda/function:Function", "fn", {"architectures": ["sparc"]}))


def test_eventbridge_rules_on_aws_events_and_lambda_permissions_are_free() -> None:
    e = price(
        record("aws:cloudwatch/eventRule:EventRule", "r", {}),
        record("aws:cloudwatch/eventTarget:EventTarget", "t", {}),
        record("aws:lambda/permission:Permission", "p", {}),
    )
    assert e.monthly_min == 0 and not e.unpriced_types and not e.usage
