"""One pricer a billable resource type: a synthesized record in, its charges and usage rates out.

Every pricer reads the inputs the program gave the resource (the keys pulumi-aws sends to the
engine) and the stack around it (a launch template for an Auto Scaling group, the scaling bounds of
a service), and prices them with `RegionPrices`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ops.cost.model import Charge, UsageRate
from ops.cost.price_table import PriceError, RegionPrices
from ops.synth.mocks import ResourceRecord

# The ECS-optimized Amazon Linux 2023 AMI's root volume, used when a launch template sets no size.
AMI_ROOT_VOLUME_GIB = 30
# Route 53 counts an endpoint as an AWS endpoint when it is an AWS resource in the same account.
AWS_ENDPOINT_SUFFIXES = (".elb.amazonaws.com", ".amazonaws.com", ".cloudfront.net")
DEFAULT_PROBE_INTERVAL_S = 10.0

NETWORK, ENDPOINTS, BALANCERS, HOSTS = (
    "NAT gateways and public IPv4",
    "VPC interface endpoints",
    "load balancers",
    "container hosts",
)
DATABASE, DNS, CLOUDWATCH, KEYS = "database", "DNS failover", "CloudWatch", "keys and secrets"
WAF = "web application firewall"
STORAGE = "storage"

# Types with no charge of their own (their cost, if any, is in another resource's line).
FREE_TYPES = frozenset(
    {
        "aws:appautoscaling/policy:Policy",
        "aws:appautoscaling/target:Target",
        # ARC guide, "Pricing for zonal shift in ARC": "There is no additional charge for using
        # zonal shift"; autoshift's practice runs are zonal shifts ARC starts (its alarms are
        # priced as alarms)
        "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration",
        # AWS service events on the default event bus match rules and reach targets for free
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/route:Route",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecs/capacityProvider:CapacityProvider",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:ecs/service:Service",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "aws:lambda/permission:Permission",
        "aws:lb/listener:Listener",
        "aws:lb/listenerRule:ListenerRule",
        "aws:lb/targetGroup:TargetGroup",
        "aws:rds/eventSubscription:EventSubscription",  # free; SNS deliveries are per use
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:route53/record:Record",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:ssm/document:Document",  # Run Command and custom documents: no charge
        "aws:ssm/parameter:Parameter",  # standard tier: no charge
        "aws:sns/topic:Topic",  # pay per notification, first 1,000 e-mails a month free
        # pay per request, the first million a month free: a dead-letter queue makes requests
        # only when something fails (and someone reads it)
        "aws:sqs/queue:Queue",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        # AWS WAF bills the web ACL, its rules and the requests it inspects, not associations
        "aws:wafv2/webAclAssociation:WebAclAssociation",
        "docker:index/image:Image",
    }
)


@dataclass(frozen=True)
class Priced:
    charges: list[Charge]
    usage: list[UsageRate]


class StackView:
    """The synthesized records, with the look-ups pricers need to follow references."""

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self.records = [r for r in records if r.custom]

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type == type_token]

    def by_output(self, type_token: str, key: str, value: Any) -> ResourceRecord | None:
        """The `type_token` record whose output `key` (or id) equals `value`."""
        for record in self.of_type(type_token):
            if value in (record.outputs.get(key), record.id):
                return record
        return None

    def task_bounds(self, task_definition: ResourceRecord) -> tuple[float, float]:
        """Tasks running this task definition at the scaling bounds (summed over its services)."""
        arn = task_definition.outputs.get("arn")
        low = high = 0.0
        for service in self.of_type("aws:ecs/service:Service"):
            if service.inputs.get("taskDefinition") != arn:
                continue
            desired = float(service.inputs.get("desiredCount", 1))
            bounds = (desired, desired)
            name = service.outputs.get("name", service.name)
            for target in self.of_type("aws:appautoscaling/target:Target"):
                if str(target.inputs.get("resourceId", "")).endswith(f"/{name}"):
                    bounds = (
                        float(target.inputs["minCapacity"]),
                        float(target.inputs["maxCapacity"]),
                    )
            low, high = low + bounds[0], high + bounds[1]
        return low, high


Pricer = Callable[[ResourceRecord, StackView, RegionPrices], Priced]


def _nat_gateway(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(NETWORK, record.name, "NAT gateway", p.monthly("nat_gateway_hour"))],
        [UsageRate(NETWORK, "NAT gateway data processed", p.rate("nat_gateway_gb"), "GB")],
    )


def _elastic_ip(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(NETWORK, record.name, "public IPv4 address", p.monthly("public_ipv4_hour"))], []
    )


def _load_balancer(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    kind = record.inputs.get("loadBalancerType", "application")
    if kind != "application":
        raise PriceError(f"{record.name}: only application load balancers are priced, not {kind}")
    charges = [
        Charge(BALANCERS, record.name, "ALB hours", p.monthly("alb_hour")),
        Charge(BALANCERS, record.name, "ALB minimum 1 LCU", p.monthly("alb_lcu_hour")),
    ]
    if not record.inputs.get("internal", False):
        zones = len(record.inputs.get("subnets") or record.inputs.get("subnetMappings") or [])
        charges.append(
            Charge(
                BALANCERS,
                record.name,
                "ALB public IPv4 (one a zone)",
                p.monthly("public_ipv4_hour"),
                zones,
            )
        )
    usage = [UsageRate(BALANCERS, "ALB LCUs above the first", p.rate("alb_lcu_hour"), "LCU-hour")]
    return Priced(charges, usage)


def _vpc_endpoint(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    if record.inputs.get("vpcEndpointType", "Gateway") != "Interface":
        return Priced([], [])  # gateway endpoints (S3, DynamoDB) have no charge
    zones = len(record.inputs.get("subnetIds") or [])
    service = str(record.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
    return Priced(
        [
            Charge(
                ENDPOINTS,
                record.name,
                f"interface endpoint ({service}) a zone",
                p.monthly("interface_endpoint_az_hour"),
                zones,
            )
        ],
        [
            UsageRate(
                ENDPOINTS,
                "interface endpoint data processed",
                p.rate("interface_endpoint_gb"),
                "GB",
            )
        ],
    )


def _auto_scaling_group(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    reference = record.inputs.get("launchTemplate") or {}
    template = stack.by_output("aws:ec2/launchTemplate:LaunchTemplate", "id", reference.get("id"))
    if template is None:
        raise PriceError(
            f"{record.name}: its launch template {reference.get('id')!r} is not in the stack"
        )
    instance_type = str(template.inputs.get("instanceType", ""))
    hourly = p.of("ec2_hour", instance_type, "instance type")
    low, high = float(record.inputs.get("minSize", 0)), float(record.inputs.get("maxSize", 0))
    mappings = template.inputs.get("blockDeviceMappings") or [{}]
    ebs = mappings[0].get("ebs") or {}
    size = float(ebs.get("volumeSize") or AMI_ROOT_VOLUME_GIB)
    volume_type = str(ebs.get("volumeType") or "gp3")
    volume = size * p.of("ebs_gb_month", volume_type, "EBS volume type")
    usage = []
    if len(record.inputs.get("vpcZoneIdentifiers") or []) > 1:
        usage.append(
            UsageRate(HOSTS, "data between zones (each way)", p.rate("cross_az_gb_each_way"), "GB")
        )
    return Priced(
        [
            Charge(
                HOSTS, record.name, f"{instance_type} host", hourly * p.hours_per_month, low, high
            ),
            Charge(
                HOSTS, record.name, f"{size:g} GiB {volume_type} root volume", volume, low, high
            ),
        ],
        usage,
    )


def _database(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    engine = record.inputs.get("engine", "postgres")
    if engine != "postgres":
        raise PriceError(f"{record.name}: only RDS for PostgreSQL is priced, not {engine}")
    zones = 2 if record.inputs.get("multiAz") else 1
    suffix = " (multi-AZ: primary + standby)" if zones == 2 else ""
    instance_class = str(record.inputs.get("instanceClass", ""))
    hourly = p.of("rds_postgres_hour", instance_class, "RDS instance class")
    storage_type = str(record.inputs.get("storageType") or "gp2")
    per_gib = p.of("rds_storage_gb_month", storage_type, "RDS storage type") * zones
    allocated = float(record.inputs.get("allocatedStorage", 0))
    ceiling = float(record.inputs.get("maxAllocatedStorage") or allocated)
    charges = [
        Charge(
            DATABASE, record.name, f"{instance_class}{suffix}", hourly * zones * p.hours_per_month
        ),
        Charge(
            DATABASE,
            record.name,
            f"{storage_type} storage GiB{suffix}",
            per_gib,
            allocated,
            ceiling,
        ),
    ]
    if record.inputs.get("manageMasterUserPassword"):
        charges.append(
            Charge(
                KEYS, record.name, "master password secret (RDS-managed)", p.rate("secret_month")
            )
        )
    return Priced(charges, [])


def _zone(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(DNS, record.name, "hosted zone", p.rate("route53_zone_month"))],
        [
            UsageRate(
                DNS,
                "DNS queries (alias queries to AWS resources are free)",
                p.rate("route53_queries_million"),
                "million queries",
            )
        ],
    )


def _is_aws_endpoint(inputs: dict[str, Any]) -> bool:
    fqdn = str(inputs.get("fqdn") or "")
    return not fqdn or fqdn.endswith(AWS_ENDPOINT_SUFFIXES)


def _health_check(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    inputs = record.inputs
    kind = str(inputs.get("type", ""))
    aws = _is_aws_endpoint(inputs) or kind in ("CALCULATED", "CLOUDWATCH_METRIC")
    base = p.rate("route53_health_check_month" if aws else "route53_health_check_non_aws_month")
    feature = p.rate(
        "route53_health_check_feature_month"
        if aws
        else "route53_health_check_feature_non_aws_month"
    )
    features = []
    if kind.startswith("HTTPS"):
        features.append("HTTPS")
    if kind.endswith("STR_MATCH"):
        features.append("string matching")
    if (
        kind in ("HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH")
        and float(inputs.get("requestInterval", 30)) == 10
    ):
        features.append("fast interval")
    if inputs.get("measureLatency"):
        features.append("latency measurement")
    label = f"{kind.lower()} health check" + (f" + {', '.join(features)}" if features else "")
    return Priced([Charge(DNS, record.name, label, base + feature * len(features))], [])


def _alarm_metrics(inputs: dict[str, Any]) -> Iterator[float]:
    """The period of every metric an alarm evaluates (math expressions are not billed)."""
    queries = inputs.get("metricQueries")
    if queries:
        for query in queries:
            if query.get("metric"):
                yield float(query["metric"].get("period", 60))
    else:
        yield float(inputs.get("period", 60))


def _metric_alarm(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    periods = list(_alarm_metrics(record.inputs))
    high = sum(1 for period in periods if period < 60)
    standard = len(periods) - high
    monthly = standard * p.rate("cloudwatch_alarm_metric_month") + high * p.rate(
        "cloudwatch_high_resolution_alarm_metric_month"
    )
    label = f"alarm on {len(periods)} metric{'s' if len(periods) != 1 else ''}"
    if high:
        label += f" ({high} high-resolution)"
    return Priced([Charge(CLOUDWATCH, record.name, label, monthly)], [])


def _composite_alarm(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [
            Charge(
                CLOUDWATCH,
                record.name,
                "composite alarm",
                p.rate("cloudwatch_composite_alarm_month"),
            )
        ],
        [],
    )


def _dashboard(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(CLOUDWATCH, record.name, "dashboard", p.rate("cloudwatch_dashboard_month"))], []
    )


def _cluster(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    settings = {s.get("name"): s.get("value") for s in record.inputs.get("settings") or []}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        return Priced([], [])
    if settings["containerInsights"] == "enhanced":
        raise PriceError(
            f"{record.name}: Container Insights 'enhanced' is not priced; use 'enabled'"
        )
    cluster_refs = {record.outputs.get("arn"), record.outputs.get("name"), record.id}
    services = [
        s
        for s in stack.of_type("aws:ecs/service:Service")
        if s.inputs.get("cluster") in cluster_refs
    ]
    families = {
        s.inputs.get("taskDefinition", "").rsplit("/", 1)[-1].split(":")[0] for s in services
    }
    counts = p.container_insights_metrics
    metrics = counts["per_cluster"] + counts["per_service"] * len(services)
    metrics += counts["per_task_family"] * len(families)
    return Priced(
        [
            Charge(
                CLOUDWATCH,
                record.name,
                "Container Insights metrics",
                p.rate("cloudwatch_custom_metric_month"),
                metrics,
            )
        ],
        [
            UsageRate(
                CLOUDWATCH,
                "Container Insights performance log events",
                p.rate("cloudwatch_logs_ingest_gb"),
                "GB",
            )
        ],
    )


def _prober_environments(task_definition: ResourceRecord) -> Iterator[dict[str, str]]:
    """The environment of each prober sidecar (a container with PROBE_TARGETS) of a task."""
    for container in json.loads(task_definition.inputs.get("containerDefinitions") or "[]"):
        env = {e["name"]: e["value"] for e in container.get("environment") or []}
        if "PROBE_TARGETS" in env:
            yield env


def _prober(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    """The connectivity prober sidecar: its custom metrics and one PutMetricData a task a cycle."""
    charges: list[Charge] = []
    low, high = stack.task_bounds(record)
    for env in _prober_environments(record):
        interval = float(env.get("PROBE_INTERVAL_SECONDS", DEFAULT_PROBE_INTERVAL_S))
        calls = p.hours_per_month * 3600 / interval / 1000
        charges.append(
            Charge(
                CLOUDWATCH,
                record.name,
                f"prober PutMetricData every {interval:g} s a task",
                calls * p.rate("cloudwatch_put_metric_data_thousand"),
                low,
                high,
            )
        )
    return Priced(charges, [])


def prober_metrics(stack: StackView, p: RegionPrices) -> list[Charge]:
    """Custom metrics the probers publish: one a dependency plus the aggregate, per Host value,
    and the task-CPU metric of fast scale-out per Service value."""
    names: set[tuple[str, str]] = set()
    for record in stack.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        for env in _prober_environments(record):
            host = env.get("PROBE_HOST_DIMENSION", "")
            targets = [t.split("=", 1)[0] for t in env["PROBE_TARGETS"].split(",") if t]
            names.update((host, name) for name in [*targets, "all"])
            if env.get("SCALING_METRIC_DIMENSION"):  # fast scale-out's task-CPU metric
                names.add((env["SCALING_METRIC_DIMENSION"], "task-cpu-utilization"))
    if not names:
        return []
    return [
        Charge(
            CLOUDWATCH,
            "prober",
            "custom connectivity metrics",
            p.rate("cloudwatch_custom_metric_month"),
            len(names),
        )
    ]


def _kms_key(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(KEYS, record.name, "KMS customer managed key", p.rate("kms_key_month"))],
        [UsageRate(KEYS, "KMS requests", p.rate("kms_requests_ten_thousand"), "10,000 requests")],
    )


def _secret(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [Charge(KEYS, record.name, "Secrets Manager secret", p.rate("secret_month"))],
        [
            UsageRate(
                KEYS,
                "Secrets Manager API calls",
                p.rate("secret_requests_ten_thousand"),
                "10,000 calls",
            )
        ],
    )


def _usage_only(category: str, item: str, key: str, unit: str) -> Pricer:
    def price(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
        return Priced([], [UsageRate(category, item, p.rate(key), unit)])

    return price


def _log_group(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    return Priced(
        [],
        [
            UsageRate(CLOUDWATCH, "log ingestion", p.rate("cloudwatch_logs_ingest_gb"), "GB"),
            UsageRate(
                CLOUDWATCH, "log storage", p.rate("cloudwatch_logs_storage_gb_month"), "GB-month"
            ),
        ],
    )


def _lambda_function(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    """Per use only: requests, and GB-seconds at the function's architecture (its memory in GB
    times the seconds it runs)."""
    architecture = str((record.inputs.get("architectures") or ["x86_64"])[0])
    per_gb_second = p.of("lambda_gb_second", architecture, "Lambda architecture")
    memory_mb = float(record.inputs.get("memorySize", 128))
    return Priced(
        [],
        [
            UsageRate(
                CLOUDWATCH,
                "Lambda requests (first million a month free)",
                p.rate("lambda_requests_million"),
                "million requests",
            ),
            UsageRate(
                CLOUDWATCH,
                f"Lambda duration, {architecture} (a {memory_mb:g} MB function runs "
                f"{memory_mb / 1024:g} GB; first 400,000 GB-seconds a month free)",
                per_gb_second * 1000,
                "1,000 GB-seconds",
            ),
        ],
    )


def _web_acl(record: ResourceRecord, stack: StackView, p: RegionPrices) -> Priced:
    """A web ACL a month, plus a rule a month for each rule; a managed rule group is one rule
    (AWS WAF pricing: "rule groups ... count as a single rule"; AWS's baseline managed groups
    carry no subscription fee), plus the requests it inspects."""
    rules = record.inputs.get("rules") or []
    charges = [Charge(WAF, record.name, "web ACL", p.rate("waf_web_acl_month"))]
    for rule in rules:
        group = (rule.get("statement") or {}).get("managedRuleGroupStatement") or {}
        what = f"rule group {group['name']}" if group.get("name") else f"rule {rule.get('name')}"
        charges.append(Charge(WAF, record.name, what, p.rate("waf_rule_month")))
    return Priced(
        charges,
        [
            UsageRate(
                WAF, "WAF requests inspected", p.rate("waf_requests_million"), "million requests"
            )
        ],
    )


PRICERS: dict[str, Pricer] = {
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _elastic_ip,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:autoscaling/group:Group": _auto_scaling_group,
    "aws:rds/instance:Instance": _database,
    "aws:route53/zone:Zone": _zone,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _composite_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:ecs/cluster:Cluster": _cluster,
    "aws:ecs/taskDefinition:TaskDefinition": _prober,
    "aws:kms/key:Key": _kms_key,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:fis/experimentTemplate:ExperimentTemplate": _usage_only(
        CLOUDWATCH,
        "FIS experiment runs (per action, per minute it runs)",
        "fis_action_minute",
        "action-minute",
    ),
    "aws:scheduler/schedule:Schedule": _usage_only(
        CLOUDWATCH,
        "EventBridge Scheduler invocations (first 14 million a month free)",
        "scheduler_invocations_million",
        "million invocations",
    ),
    "aws:lambda/function:Function": _lambda_function,
    # Route 53 does not charge for query logging; CloudWatch Logs bills the logs it delivers (the
    # us-east-1 log group's storage is priced with the log group).
    "aws:route53/queryLog:QueryLog": _usage_only(
        DNS, "DNS query log ingestion", "cloudwatch_logs_ingest_gb", "GB"
    ),
    "aws:ec2/flowLog:FlowLog": _usage_only(
        CLOUDWATCH, "flow log ingestion (vended logs)", "cloudwatch_logs_ingest_gb", "GB"
    ),
    "aws:s3/bucket:Bucket": _usage_only(
        KEYS, "S3 Standard storage", "s3_standard_gb_month", "GB-month"
    ),
    "aws:s3/bucketV2:BucketV2": _usage_only(
        KEYS, "S3 Standard storage", "s3_standard_gb_month", "GB-month"
    ),
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    # WAF's logs to CloudWatch Logs are vended logs; the log group prices their storage.
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _usage_only(
        WAF, "WAF log ingestion (vended logs)", "cloudwatch_logs_ingest_gb", "GB"
    ),
    "aws:sqs/queue:Queue": _usage_only(
        CLOUDWATCH,
        "SQS requests (first million a month free)",
        "sqs_requests_million",
        "million requests",
    ),
    "aws:ecr/repository:Repository": _usage_only(
        KEYS, "ECR image storage", "ecr_storage_gb_month", "GB-month"
    ),
}
