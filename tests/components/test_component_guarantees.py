"""Each component's guarantee, read from the inputs that carry it, in both real stacks.

A child checked by name alone (the alarm exists) passes when the input that makes the guarantee
true (its missing-data treatment, period, threshold) changes. Here every component of the dev and
prod stacks is held to its docstring's guarantee, input by input, against the settings the stack
was built from (``load_settings`` of the stack's own config): a component that drops or
hard-codes a setting, or a child whose guarding input drifts, fails naming the resource.

A third stack, ``distinct``, is prod with every setting these tests read moved off both its
default and the values dev and prod use: a setting that no longer reaches its resource (the
component's own default wins, or a sibling setting is passed instead) is invisible in dev and prod
when the values coincide, and fails here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ops.synth.mocks import ResourceRecord
from ops.synth.runner import PROJECT_DIR, Synthesis, run_under_mocks, synthesize
from ops.synth.stack_config import load_stack_config
from policy.guardrails import limits
from settings import Settings, load_settings

STACKS = ("dev", "prod", "distinct")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


class Stack:
    """One synthesized stack with the settings it ran with."""

    def __init__(self, synthesis: Synthesis) -> None:
        assert synthesis.config is not None
        self.s: Settings = load_settings(synthesis.config.values)
        self.records = synthesis.records
        self.by_urn = {r.urn: r for r in synthesis.records}

    def of(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type == type_]

    def named(self, name: str) -> ResourceRecord:
        (record,) = [r for r in self.records if r.name == name]
        return record

    def under(self, component_type: str) -> Iterator[tuple[ResourceRecord, ResourceRecord]]:
        """(component, child) for every resource below a component of ``component_type``."""
        for record in self.records:
            parent = self.by_urn.get(record.parent)
            while parent is not None:
                if parent.type == component_type:
                    yield parent, record
                    break
                parent = self.by_urn.get(parent.parent)

    def topic_arn(self) -> str:
        """The alert topic (AlertTopic's), which every alarm of the stack notifies."""
        return self.alert_topic().outputs["arn"]

    def alert_topic(self) -> ResourceRecord:
        (topic,) = [
            child
            for _, child in self.under("steadystate:alert_topic:AlertTopic")
            if child.type == "aws:sns/topic:Topic"
        ]
        return topic

    def service_keys(self) -> list[str]:
        roles = ("fleet", "onebox") if self.s.release.onebox else ("fleet",)
        return [f"{env}-{role}" for env in self.s.environments for role in roles]


# Off every default and off dev's and prod's values, inside every limit and cross-key rule.
DISTINCT: dict[str, dict[str, Any]] = {
    "network": {"flowLogRetentionDays": 60},
    # Zone-safe over prod's three zones (settings/loader.py zone_loss_group): 6 tasks at 65 % leave
    # 4 that carry the load, 6 hosts leave 4 with room for the 6 tasks and the onebox's 3.
    "cluster": {"targetCapacityPercent": 50, "rootVolumeGib": 40, "minInstances": 6},
    "service": {
        "minTasks": 6,
        "maxTasks": 17,
        "cpuTarget": 65,
        "memoryTarget": 75,
        "requestsPerTarget": 2500,
        "scaleOutCooldown": 45,
        "scaleInCooldown": 240,
        "healthCheckGracePeriod": 45,
        "deregistrationDelay": 20,
        "stopTimeout": 25,
        "logRetentionDays": 60,
        "maximumPercent": 150,
        "healthCheck": {
            "path": "/healthz",
            "interval": 15,
            "timeout": 4,
            "healthyThreshold": 3,
            "unhealthyThreshold": 4,
        },
        "fastScaleOut": {"cpuThreshold": 88, "datapoints": 4, "stepTasks": 3, "cooldown": 45},
    },
    "loadBalancer": {"idleTimeout": 75, "accessLogRetentionDays": 45},
    "release": {
        "oneboxTasks": 3,
        "latencyThresholdSeconds": 2.5,
        "latencyDatapoints": 4,
        "latencyEvaluationPeriods": 5,
        "errorRatePercent": 7.5,
        "errorDatapoints": 3,
        "errorEvaluationPeriods": 4,
    },
    "dns": {"failureThreshold": 2},
    "zonalShift": {"practiceDays": ["MON", "THU"], "practiceStartHour": 10, "practiceEndHour": 15},
    "database": {"allocatedStorage": 30, "maxAllocatedStorage": 120, "backupRetentionDays": 10},
    "chaos": {
        "hour": 11,
        "weekday": "WED",
        "timezone": "Europe/Berlin",
        "faultDurationMinutes": 7,
        "guard5xxPerMinute": 40,
        "azOutageMinutes": 20,
        "azExperimentZone": "use2-az2",
    },
}


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = _merge(base.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def distinct_synthesis() -> Synthesis:
    """The real program with prod's config moved to DISTINCT (as ``synthesize`` runs it)."""
    import os
    import runpy
    import sys

    config = load_stack_config(PROJECT_DIR, "prod")
    values = dict(config.values)
    for group, changes in DISTINCT.items():
        key = f"steadystate:{group}"
        values[key] = json.dumps(_merge(json.loads(values.get(key, "{}")), changes))
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(PROJECT_DIR)
    sys.path.insert(0, str(PROJECT_DIR))
    try:
        recording = run_under_mocks(
            lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"),
            project=config.project,
            stack="distinct",
            config=values,
            secret_keys=config.secret_keys,
            region=values.get("aws:region", "us-east-2"),
        )
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
    moved = dataclasses.replace(config, stack="distinct", values=values)
    return Synthesis(recording.records, recording.outputs, recording.invokes, moved)


@pytest.fixture(scope="module")
def stacks() -> dict[str, Stack]:
    out = {}
    for name in STACKS:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        out[name] = Stack(distinct_synthesis() if name == "distinct" else synthesize(name))
        loop.close()
    asyncio.set_event_loop(None)
    return out


def test_the_distinct_stack_differs_from_dev_and_prod_in_every_setting_it_moves(stacks) -> None:
    """Otherwise a dropped setting could coincide with a default there too."""
    from settings.fields import camel

    def leaves(tree: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for key, value in tree.items():
            out += leaves(value, (*path, key)) if isinstance(value, dict) else [(*path, key)]
        return out

    def value(settings: Settings, path: tuple[str, ...]) -> Any:
        found: Any = settings
        for part in path:
            (name,) = [f.name for f in dataclasses.fields(found) if camel(f.name) == part]
            found = getattr(found, name)
        return found

    default = Settings()
    for path in leaves(DISTINCT):
        moved = value(stacks["distinct"].s, path)
        others = [value(stacks[n].s, path) for n in ("dev", "prod")] + [value(default, path)]
        assert moved not in others, (".".join(path), moved, others)


@pytest.fixture(params=STACKS)
def stack(request, stacks) -> Stack:
    return stacks[request.param]


# -- ConnectivityAlarms ------------------------------------------------------------------------


def test_connectivity_alarms_breach_on_missing_data_within_the_detection_ceiling(stack) -> None:
    """Minimum < 1 for M of N periods, missing data breaching, ALARM and OK to the topic, and
    period × datapoints within limits.CONNECTIVITY_DETECTION_CEILING_SECONDS (the failover budget
    the Route 53 check counts on)."""
    s = stack.s
    alarms = [a for _, a in stack.under("steadystate:connectivity_alarms:ConnectivityAlarms")]
    probed = [d["name"] for d in s.probed_dependencies()]
    expected = {(env, f"{dep}-connectivity") for env in s.environments for dep in [*probed, "all"]}
    seen = {(a.inputs["dimensions"]["Host"], a.inputs["metricName"]) for a in alarms}
    assert seen == expected
    for alarm in alarms:
        i = alarm.inputs
        assert i["namespace"] == s.connectivity.namespace, alarm.name
        assert i["treatMissingData"] == "breaching", alarm.name
        assert (i["statistic"], i["comparisonOperator"], i["threshold"]) == (
            "Minimum",
            "LessThanThreshold",
            1,
        ), alarm.name
        assert i["datapointsToAlarm"] <= i["evaluationPeriods"], alarm.name
        assert i["period"] * i["datapointsToAlarm"] <= limits.CONNECTIVITY_DETECTION_CEILING_SECONDS
        assert i["period"] % 60 == 0, f"{alarm.name}: Route 53 accepts standard resolution only"
        assert i["alarmActions"] == i["okActions"] == [stack.topic_arn()], alarm.name
        assert i.get("actionsEnabled", True) is True, alarm.name


# -- deployment alarms (ServiceWithAutoscaling) -------------------------------------------------


def _service_alarms(stack: Stack, key: str) -> dict[str, ResourceRecord]:
    return {
        r.name.removeprefix(f"{key}-"): r
        for r in stack.of(ALARM)
        if r.name.startswith(f"{key}-") and "fast-scale-out" not in r.name
    }


def test_deployment_alarms_carry_the_release_settings_and_roll_the_service_back(stack) -> None:
    s = stack.s.release
    for key in stack.service_keys():
        alarms = _service_alarms(stack, key)
        latency, errors = alarms["latency"], alarms["5xx-rate"]
        assert latency.inputs["metricName"] == "TargetResponseTime"
        assert latency.inputs["threshold"] == s.latency_threshold_seconds, key
        assert latency.inputs["comparisonOperator"] == "GreaterThanThreshold", key
        assert latency.inputs["period"] == 60, key
        assert latency.inputs["evaluationPeriods"] == s.latency_evaluation_periods, key
        assert latency.inputs["datapointsToAlarm"] == s.latency_datapoints, key
        assert errors.inputs["threshold"] == s.error_rate_percent, key
        assert errors.inputs["comparisonOperator"] == "GreaterThanThreshold", key
        assert errors.inputs["evaluationPeriods"] == s.error_evaluation_periods, key
        assert errors.inputs["datapointsToAlarm"] == s.error_datapoints, key
        periods = {q["metric"]["period"] for q in errors.inputs["metricQueries"] if "metric" in q}
        assert periods == {60}, key
        counted = {
            q["metric"]["metricName"] for q in errors.inputs["metricQueries"] if "metric" in q
        }
        assert counted == {"HTTPCode_Target_5XX_Count", "RequestCount"}, key
        for alarm in (latency, errors):
            assert alarm.inputs["alarmActions"] == [stack.topic_arn()], alarm.name
            dimensions = alarm.inputs.get("dimensions") or next(
                q["metric"]["dimensions"] for q in alarm.inputs["metricQueries"] if "metric" in q
            )
            assert dimensions["TargetGroup"].startswith(f"targetgroup/{key}-tg"), alarm.name
        service = stack.named(f"{key}-service").inputs
        assert service["alarms"]["enable"] is True and service["alarms"]["rollback"] is True
        assert set(service["alarms"]["alarmNames"]) >= {
            latency.outputs["name"],
            errors.outputs["name"],
        }, key


# -- ServiceWithAutoscaling -------------------------------------------------------------------


def test_services_deploy_safely_with_the_service_settings(stack) -> None:
    s = stack.s
    for key in stack.service_keys():
        record = stack.named(f"{key}-service")
        i = record.inputs
        assert i["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}, key
        assert i["deploymentMinimumHealthyPercent"] == s.service.minimum_healthy_percent, key
        assert i["deploymentMaximumPercent"] == s.service.maximum_percent, key
        assert i["healthCheckGracePeriodSeconds"] == s.service.health_check_grace_period, key
        assert i["enableExecuteCommand"] is s.operations.ecs_exec, key
        assert "desiredCount" in record.options["ignoreChanges"], key
        first = i["orderedPlacementStrategies"][0]
        assert first == {"type": "spread", "field": "attribute:ecs.availability-zone"}, key
        (strategy,) = i["capacityProviderStrategies"]
        assert strategy["capacityProvider"], key


def test_services_scale_between_the_settings_bounds_on_their_targets(stack) -> None:
    s = stack.s.service
    for key in stack.service_keys():
        target = stack.named(f"{key}-scaling").inputs
        if key.endswith("-onebox"):
            bounds = (stack.s.release.onebox_tasks, stack.s.release.onebox_tasks)
        else:
            bounds = (s.min_tasks, s.max_tasks)
        assert (target["minCapacity"], target["maxCapacity"]) == bounds, key
        assert target["scalableDimension"] == "ecs:service:DesiredCount", key
        policies = {
            r.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
                "predefinedMetricType"
            ]: r.inputs["targetTrackingScalingPolicyConfiguration"]
            for r in stack.of("aws:appautoscaling/policy:Policy")
            if r.name.startswith(f"{key}-") and r.inputs["policyType"] == "TargetTrackingScaling"
        }
        expected = {"ECSServiceAverageCPUUtilization": s.cpu_target}
        if s.memory_target is not None:
            expected["ECSServiceAverageMemoryUtilization"] = s.memory_target
        if s.requests_per_target is not None:
            expected["ALBRequestCountPerTarget"] = s.requests_per_target
        assert {m: p["targetValue"] for m, p in policies.items()} == expected, key
        for policy in policies.values():
            assert policy["scaleOutCooldown"] == s.scale_out_cooldown, key
            assert policy["scaleInCooldown"] == s.scale_in_cooldown, key


def test_fast_scale_out_follows_its_settings(stack) -> None:
    fast = stack.s.service.fast_scale_out
    steps = [
        r
        for r in stack.of("aws:appautoscaling/policy:Policy")
        if r.inputs["policyType"] == "StepScaling"
    ]
    alarms = [r for r in stack.of(ALARM) if r.name.endswith("-fast-scale-out")]
    if not fast.enabled:
        assert steps == [] and alarms == []
        return
    fleets = [k for k in stack.service_keys() if k.endswith("-fleet")]
    assert sorted(r.name for r in alarms) == sorted(f"{k}-fast-scale-out" for k in fleets)
    for alarm in alarms:
        i = alarm.inputs
        assert i["threshold"] == fast.cpu_threshold, alarm.name
        assert i["comparisonOperator"] == "GreaterThanThreshold", alarm.name
        assert i["period"] == 10, alarm.name
        assert i["evaluationPeriods"] == i["datapointsToAlarm"] == fast.datapoints, alarm.name
        (policy,) = [p for p in steps if p.name == alarm.name]
        assert i["alarmActions"] == [policy.outputs["arn"]], alarm.name
        config = policy.inputs["stepScalingPolicyConfiguration"]
        assert config["adjustmentType"] == "ChangeInCapacity", policy.name
        assert config["cooldown"] == fast.cooldown, policy.name
        assert config["stepAdjustments"][0]["scalingAdjustment"] == fast.step_tasks, policy.name


def test_target_groups_check_health_as_configured(stack) -> None:
    s = stack.s.service
    hc = s.health_check
    for key in stack.service_keys():
        group = stack.named(f"{key}-tg").inputs
        assert group["port"] == s.container_port, key
        assert group["deregistrationDelay"] == s.deregistration_delay, key
        check = group["healthCheck"]
        assert check["enabled"] is True, key
        assert (
            check["path"],
            check["interval"],
            check["timeout"],
            check["healthyThreshold"],
            check["unhealthyThreshold"],
        ) == (hc.path, hc.interval, hc.timeout, hc.healthy_threshold, hc.unhealthy_threshold), key


def test_tasks_are_sized_hardened_and_logged_as_configured(stack) -> None:
    s = stack.s.service
    for key in stack.service_keys():
        task = stack.named(f"{key}-taskdef").inputs
        assert (int(task["cpu"]), int(task["memory"])) == (s.cpu, s.memory), key
        assert task["networkMode"] == "bridge", key
        assert task["executionRoleArn"] != task["taskRoleArn"], key
        for container in json.loads(task["containerDefinitions"]):
            where = f"{key}/{container['name']}"
            assert container["readonlyRootFilesystem"] is True, where
            assert str(container["user"]).split(":")[0] not in ("", "0", "root"), where
            assert container["stopTimeout"] == s.stop_timeout, where
            assert container.get("privileged") in (None, False), where
            options = container["logConfiguration"]["options"]
            group = next(
                g
                for g in stack.of("aws:cloudwatch/logGroup:LogGroup")
                if g.outputs.get("name") == options["awslogs-group"]
            )
            assert group.inputs["retentionInDays"] == s.log_retention_days, where


# -- EcsCluster --------------------------------------------------------------------------------


def test_cluster_hosts_and_capacity_follow_the_cluster_settings(stack) -> None:
    c = stack.s.cluster
    templates = stack.of("aws:ec2/launchTemplate:LaunchTemplate")
    groups = stack.of("aws:autoscaling/group:Group")
    providers = stack.of("aws:ecs/capacityProvider:CapacityProvider")
    assert templates and len(groups) == len(providers) == len(templates)
    for template in templates:
        t = template.inputs
        assert t["instanceType"] == c.instance_type, template.name
        assert t["metadataOptions"]["httpTokens"] == "required", template.name
        assert t["metadataOptions"]["httpPutResponseHopLimit"] == 1, template.name
        assert "keyName" not in t, template.name
        (root,) = t["blockDeviceMappings"]
        assert str(root["ebs"]["encrypted"]).lower() == "true", template.name
        assert root["ebs"]["volumeSize"] == c.root_volume_gib, template.name
    for group in groups:
        g = group.inputs
        assert (g["minSize"], g["maxSize"]) == (c.min_instances, c.max_instances), group.name
        assert g["protectFromScaleIn"] is c.managed_termination_protection, group.name
        assert "desiredCapacity" in group.options["ignoreChanges"], group.name
        assert {tag["key"] for tag in g["tags"]} >= {"AmazonECSManaged"}, group.name
    for provider in providers:
        p = provider.inputs["autoScalingGroupProvider"]
        assert p["managedScaling"]["status"] == "ENABLED", provider.name
        assert p["managedScaling"]["targetCapacity"] == c.target_capacity_percent, provider.name
        expected = "ENABLED" if c.managed_termination_protection else "DISABLED"
        assert p["managedTerminationProtection"] == expected, provider.name
        assert p["managedDraining"] == "ENABLED", provider.name
    (cluster,) = stack.of("aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": c.container_insights} in cluster.inputs[
        "settings"
    ]


# -- Network -----------------------------------------------------------------------------------


def test_network_layout_follows_the_network_settings(stack) -> None:
    n = stack.s.network
    subnets = stack.of("aws:ec2/subnet:Subnet")
    assert len(subnets) == 3 * n.availability_zones
    assert not [r.name for r in subnets if r.inputs.get("mapPublicIpOnLaunch")]
    tiers = sorted(r.inputs["tags"]["Tier"] for r in subnets)
    assert tiers == sorted(["public", "private", "isolated"] * n.availability_zones)
    nats = {"none": 0, "single": 1, "perAz": n.availability_zones}[n.nat_strategy]
    assert len(stack.of("aws:ec2/natGateway:NatGateway")) == nats
    (vpc,) = stack.of("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == n.cidr
    (flow_log,) = stack.of("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    (group,) = [
        g for g in stack.of("aws:cloudwatch/logGroup:LogGroup") if g.name == "network-flow-logs"
    ]
    assert group.inputs["retentionInDays"] == n.flow_log_retention_days
    interface = [
        r
        for r in stack.of("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    assert bool(interface) is n.interface_endpoints
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True, endpoint.name


# -- PublicLoadBalancer and its AccessLogBucket ------------------------------------------------


def test_load_balancers_follow_the_load_balancer_settings(stack) -> None:
    lb = stack.s.load_balancer
    balancers = stack.of("aws:lb/loadBalancer:LoadBalancer")
    assert len(balancers) == len(stack.s.environments)
    for record in balancers:
        i = record.inputs
        assert i["internal"] is False and i["loadBalancerType"] == "application", record.name
        assert i["dropInvalidHeaderFields"] is True, record.name
        assert i["desyncMitigationMode"] == "defensive", record.name
        assert i["idleTimeout"] == lb.idle_timeout, record.name
        assert i["enableDeletionProtection"] is lb.deletion_protection, record.name
        assert bool((i.get("accessLogs") or {}).get("enabled")) is lb.access_logs, record.name
        assert len(i["subnets"]) == stack.s.network.availability_zones, record.name


def test_zonal_autoshift_follows_the_zonal_shift_settings(stack) -> None:
    from components.zonal_autoshift import default_practice_days, practice_windows
    from composition.args import chaos_days

    z = stack.s.zonal_shift
    for record in stack.of("aws:lb/loadBalancer:LoadBalancer"):
        assert record.inputs["enableZonalShift"] is z.enabled, record.name
    configs = stack.of("aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration")
    if not (z.enabled and stack.s.autoshift):
        assert configs == []
        return
    assert len(configs) == len(stack.s.environments)
    days = z.practice_days or default_practice_days(chaos_days(stack.s))
    windows = practice_windows(days, z.practice_start_hour, z.practice_end_hour)
    alarms = {r.outputs.get("arn"): r for r in stack.of("aws:cloudwatch/metricAlarm:MetricAlarm")}
    for config in configs:
        i = config.inputs
        assert i["zonalAutoshiftStatus"] == "ENABLED", config.name
        assert i["allowedWindows"] == windows, config.name
        outcomes = [alarms[a["alarmIdentifier"]] for a in i["outcomeAlarms"]]
        assert len(outcomes) == 2 and i["blockingAlarms"], config.name
        for alarm in outcomes:
            assert alarm.inputs["threshold"] == stack.s.release.error_rate_percent, alarm.name
            assert f">= {max(stack.s.release.error_min_requests, 1)}," in json.dumps(
                alarm.inputs["metricQueries"]
            ), alarm.name


def test_access_log_buckets_are_private_encrypted_and_expire_as_configured(stack) -> None:
    days = stack.s.load_balancer.access_log_retention_days
    children = [c for _, c in stack.under("steadystate:access_logs:AccessLogBucket")]
    if not stack.s.load_balancer.access_logs:
        assert children == []
        return
    kinds = {c.type.rsplit(":", 1)[-1] for c in children}
    assert kinds >= {
        "BucketPublicAccessBlock",
        "BucketLifecycleConfiguration",
        "BucketServerSideEncryptionConfiguration",
    }
    for child in children:
        i = child.inputs
        if child.type.endswith("bucketPublicAccessBlock:BucketPublicAccessBlock"):
            flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls")
            assert all(i[f] is True for f in (*flags, "restrictPublicBuckets")), child.name
        if child.type.endswith("bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            expiring = [r for r in i["rules"] if r.get("expiration")]
            assert [r["expiration"]["days"] for r in expiring] == [days], child.name
        if child.type.endswith("ServerSideEncryptionConfiguration"):
            (rule,) = i["rules"]
            sse = rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
            assert sse == "AES256", child.name  # the only encryption ALB log delivery supports


# -- Database ------------------------------------------------------------------------------------


def test_database_follows_the_database_settings(stack) -> None:
    d = stack.s.database
    instances = stack.of("aws:rds/instance:Instance")
    if not d.enabled:
        assert instances == []
        return
    (db,) = instances
    i = db.inputs
    assert i["publiclyAccessible"] is False
    assert i["storageEncrypted"] is True and i["storageType"] == "gp3"
    assert i["manageMasterUserPassword"] is True and "password" not in i
    assert i["instanceClass"] == d.instance_class
    assert (i["allocatedStorage"], i["maxAllocatedStorage"]) == (
        d.allocated_storage,
        d.max_allocated_storage,
    )
    assert i["backupRetentionPeriod"] == d.backup_retention_days
    assert i["multiAz"] is d.multi_az
    assert i["deletionProtection"] is d.deletion_protection
    assert i["skipFinalSnapshot"] is (not d.final_snapshot)
    assert bool(i.get("performanceInsightsEnabled")) is d.performance_insights
    assert i["copyTagsToSnapshot"] is True and i["autoMinorVersionUpgrade"] is True
    assert "postgresql" in i["enabledCloudwatchLogsExports"]
    assert 0 < i["monitoringInterval"] <= 60
    assert str(i["engineVersion"]).split(".")[0] == d.engine_version
    (params,) = stack.of("aws:rds/parameterGroup:ParameterGroup")
    assert {"name": "rds.force_ssl", "value": "1"} in [
        {"name": p["name"], "value": p["value"]} for p in params.inputs["parameters"]
    ]
    assert params.inputs["family"] == f"postgres{d.engine_version}"


# -- BlueGreenDns ----------------------------------------------------------------------------------


def test_dns_failover_follows_the_dns_settings(stack) -> None:
    dns = stack.s.dns
    records = stack.of("aws:route53/record:Record")
    if not dns.enabled:
        assert records == []
        return
    checks = stack.of("aws:route53/healthCheck:HealthCheck")
    http = [c for c in checks if c.inputs["type"] in ("HTTP", "HTTPS")]
    alarm_checks = [c for c in checks if c.inputs["type"] == "CLOUDWATCH_METRIC"]
    assert len(http) == len(alarm_checks) == 2
    for check in http:
        assert check.inputs["requestInterval"] == dns.health_check_interval, check.name
        assert check.inputs["failureThreshold"] == dns.failure_threshold, check.name
        assert check.inputs["resourcePath"] == stack.s.service.health_check.path, check.name
    aggregates = {
        a.outputs["name"]: a.inputs["dimensions"]["Host"]
        for a in stack.of(ALARM)
        if a.inputs.get("metricName") == "all-connectivity"
    }
    for check in alarm_checks:
        assert check.inputs["insufficientDataHealthStatus"] == "Unhealthy", check.name
        env = aggregates[check.inputs["cloudwatchAlarmName"]]
        assert check.name == f"dns-{env}-alarm"
    roles = {r.inputs["failoverRoutingPolicies"][0]["type"]: r for r in records}
    assert set(roles) == {"PRIMARY", "SECONDARY"}
    albs = {
        r.name.removesuffix("-alb"): r.outputs["dnsName"]
        for r in stack.of("aws:lb/loadBalancer:LoadBalancer")
    }
    other = next(e for e in stack.s.environments if e != dns.primary)
    assert roles["PRIMARY"].inputs["aliases"][0]["name"] == albs[dns.primary]
    assert roles["SECONDARY"].inputs["aliases"][0]["name"] == albs[other]
    for record in records:
        assert record.inputs["name"] == f"{dns.record_name}.{dns.zone_name}"
        assert record.inputs["aliases"][0]["evaluateTargetHealth"] is True, record.name
        assert record.inputs["healthCheckId"], record.name


# -- ChaosExperiments ------------------------------------------------------------------------------

_CRON = re.compile(r"cron\((\d+) (\d+) \? \* ([A-Z]{3})(#\d)? \*\)")


def test_chaos_templates_stop_on_alarms_and_run_on_the_configured_schedule(stack) -> None:
    c = stack.s.chaos
    templates = stack.of("aws:fis/experimentTemplate:ExperimentTemplate")
    # the chaos component's schedules (a rotation schedule of the database is not chaos)
    schedules = [
        child
        for _, child in stack.under("steadystate:chaos:ChaosExperiments")
        if child.type == "aws:scheduler/schedule:Schedule"
    ]
    if not c.enabled:
        assert templates == [] and schedules == []
        return
    alarm_arns = {a.outputs["arn"]: a for a in stack.of(ALARM)}
    zonal = [t for t in templates if t.name.endswith("-az-power-interruption")]
    assert len(zonal) == (1 if c.az_experiment else 0)
    for template in templates:
        stops = template.inputs["stopConditions"]
        assert stops and all(s["source"] == "aws:cloudwatch:alarm" for s in stops), template.name
        for stop in stops:
            guard = alarm_arns[stop["value"]]
            assert guard.inputs["threshold"] == c.guard_5xx_per_minute, guard.name
            assert guard.inputs["period"] == 60, guard.name
        if template in zonal:
            continue
        for action in template.inputs["actions"]:
            for parameter in action.get("parameters") or []:
                if parameter["key"] == "duration":
                    assert parameter["value"] == f"PT{c.fault_duration_minutes}M", template.name
    started = {json.loads(s.inputs["target"]["input"])["ExperimentTemplateId"] for s in schedules}
    assert started == {t.id for t in templates}
    zonal_ids = {t.id for t in zonal}
    for schedule in schedules:
        i = schedule.inputs
        assert i["state"] == ("ENABLED" if c.schedules_enabled else "DISABLED"), schedule.name
        assert i["scheduleExpressionTimezone"] == c.timezone, schedule.name
        match = _CRON.fullmatch(i["scheduleExpression"])
        assert match, i["scheduleExpression"]
        assert int(match[2]) == c.hour, schedule.name
        if json.loads(i["target"]["input"])["ExperimentTemplateId"] in zonal_ids:
            # the business day after weekday; monthly: its 2nd of the month
            days = limits.BUSINESS_DAYS
            assert match[3] == days[(days.index(c.weekday) + 1) % 5], schedule.name
            assert match[4] == ("#2" if c.cadence == "monthly" else None), schedule.name
            continue
        assert match[3] == c.weekday, schedule.name
        assert bool(match[4]) is (c.cadence == "monthly"), schedule.name


def test_the_az_experiment_takes_down_the_configured_zone_for_the_configured_time(stack) -> None:
    """``chaos.azExperimentZone`` (default the first zone; the last with a single NAT gateway,
    which sits in the first) names the zone of every zone filter
    and of the capacity error; ``chaos.azOutageMinutes`` is how long hosts stay stopped and
    launches fail; the subnets are cut for the scenario's 2 minutes; the database fails over
    only when it is Multi-AZ."""
    c = stack.s.chaos
    zonal = [
        t
        for t in stack.of("aws:fis/experimentTemplate:ExperimentTemplate")
        if t.name.endswith("-az-power-interruption")
    ]
    if not (c.enabled and c.az_experiment):
        assert zonal == []
        return
    (template,) = zonal
    subnets = stack.of("aws:ec2/subnet:Subnet")
    zones = sorted({r.inputs["availabilityZone"] for r in subnets})
    zone_ids = {z: f"use2-az{i + 1}" for i, z in enumerate(zones)}  # the mocks' IDs
    wanted = c.az_experiment_zone
    # unset: the first zone, or the last when one NAT gateway sits in the first
    default = zones[-1] if stack.s.network.nat_strategy == "single" and len(zones) > 1 else zones[0]
    zone = next(z for z in zones if wanted in (z, zone_ids[z])) if wanted else default
    targets = {t["name"]: t for t in template.inputs["targets"]}
    for target in targets.values():
        for f in target.get("filters") or []:
            if "AvailabilityZone" in f["path"]:
                assert f["values"] == [zone], target["name"]
    in_zone = {r.outputs["arn"] for r in subnets if r.inputs["availabilityZone"] == zone}
    assert set(targets["zone-subnets"]["resourceArns"]) == in_zone
    params = {
        a["actionId"]: {p["key"]: p["value"] for p in a.get("parameters") or []}
        for a in template.inputs["actions"]
    }
    outage = f"PT{c.az_outage_minutes}M"
    assert params["aws:ec2:stop-instances"]["startInstancesAfterDuration"] == outage
    ice = params["aws:ec2:asg-insufficient-instance-capacity-error"]
    assert ice["duration"] == outage and ice["availabilityZoneIdentifiers"] == zone
    assert params["aws:network:disrupt-connectivity"]["duration"] == "PT2M"
    failover = params.get("aws:rds:reboot-db-instances")
    multi_az = stack.s.database.enabled and stack.s.database.multi_az
    assert failover == ({"forceFailover": "true"} if multi_az else None)


# -- AlertTopic, AppImage, Dashboard --------------------------------------------------------------


def test_alert_topic_is_encrypted_and_reaches_every_configured_address(stack) -> None:
    topic = stack.alert_topic()
    assert topic.inputs["kmsMasterKeyId"]
    subscriptions = [
        r
        for r in stack.of("aws:sns/topicSubscription:TopicSubscription")
        if r.inputs["topic"] == topic.outputs["arn"]
    ]
    emails = sorted(r.inputs["endpoint"] for r in subscriptions if r.inputs["protocol"] == "email")
    hooks = [r for r in subscriptions if r.inputs["protocol"] == "https"]
    assert emails == sorted(stack.s.connectivity.alarm_emails)
    assert len(hooks) == len(stack.s.connectivity.alarm_webhooks)
    for subscription in subscriptions:
        assert subscription.inputs["topic"] == topic.outputs["arn"], subscription.name
    (key,) = [
        k for k in stack.of("aws:kms/key:Key") if k.outputs["arn"] == topic.inputs["kmsMasterKeyId"]
    ]
    assert key.inputs["enableKeyRotation"] is True


def test_image_repository_scans_and_never_overwrites_a_tag(stack) -> None:
    (repository,) = stack.of("aws:ecr/repository:Repository")
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    (image,) = stack.of("docker:index/image:Image")
    assert image.inputs["imageName"].startswith(repository.outputs["repositoryUrl"] + ":")


def test_dashboard_exists_as_configured(stack) -> None:
    dashboards = stack.of("aws:cloudwatch/dashboard:Dashboard")
    assert len(dashboards) == (1 if stack.s.operations.dashboard else 0)
    for dashboard in dashboards:
        body: dict[str, Any] = json.loads(dashboard.inputs["dashboardBody"])
        assert body["widgets"], dashboard.name


# -- ReleasePin, S3GatewayAccess, FisRunRecorder, DatabaseBootstrap ------------------------------


def test_release_pins_hold_what_a_plain_up_must_not_move(stack) -> None:
    """One pin per service; a plain ``up`` moves the oneboxes (the fleets without onebox) and
    every other pin keeps its recorded release (``ignore_changes`` on its value)."""
    pins = {
        r.name.removesuffix("-pin"): r
        for r in stack.of("aws:ssm/parameter:Parameter")
        if r.name.endswith("-pin")
    }
    assert sorted(pins) == sorted(stack.service_keys())
    for key, pin in pins.items():
        assert pin.inputs["name"].endswith(f"/release/{key}"), key
        assert json.loads(pin.inputs["insecureValue"]).keys() >= {"image", "version"}, key
        held = "insecureValue" in pin.options["ignoreChanges"]
        assert held is (not stack.s.release.follows(key)), key


def test_s3_gateway_admits_only_ecr_layers_os_repositories_and_the_stack_buckets(stack) -> None:
    (endpoint_policy,) = stack.of("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy")
    statements = json.loads(endpoint_policy.inputs["policy"])["Statement"]
    buckets = {
        f"arn:aws:s3:::{r.outputs['bucket']}"
        for r in stack.of("aws:s3/bucket:Bucket") + stack.of("aws:s3/bucketV2:BucketV2")
    }
    allowed = {a for b in buckets for a in (b, f"{b}/*")}
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        for resource in statement["Resource"]:
            if statement["Action"] == ["s3:GetObject"]:
                assert re.fullmatch(
                    r"arn:aws:s3:::(prod-[a-z0-9-]+-starport-layer-bucket|al2023-repos-[a-z0-9-]+-\*)/\*",
                    resource,
                ), resource
            else:
                assert resource in allowed, resource
    named = {r for s in statements for r in s["Resource"]}
    assert allowed <= named, sorted(allowed - named)


def test_fis_run_recorder_hears_every_template_and_only_events_may_invoke_it(stack) -> None:
    recorder = [c for _, c in stack.under("steadystate:chaos:FisRunRecorder")]
    templates = stack.of("aws:fis/experimentTemplate:ExperimentTemplate")
    if not stack.s.chaos.enabled:
        assert recorder == []
        return

    def only(type_: str) -> ResourceRecord:
        (record,) = [c for c in recorder if c.type == type_]
        return record

    rule = only("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["source"] == ["aws.fis"]
    assert sorted(pattern["detail"]["experiment-template-id"]) == sorted(t.id for t in templates)
    terminal = set(pattern["detail"]["new-state"]["status"])
    assert terminal == {"completed", "stopped", "failed", "cancelled"}
    function = only("aws:lambda/function:Function")
    assert function.inputs["runtime"] in limits.LAMBDA_SUPPORTED_RUNTIMES
    permission = only("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.outputs["arn"]
    target = only("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == function.outputs["arn"]


def test_database_bootstrap_task_is_hardened_and_logged_as_configured(stack) -> None:
    children = [c for _, c in stack.under("steadystate:database:DatabaseBootstrap")]
    if not stack.s.database.enabled:
        assert children == []
        return
    # the bootstrap and the scheduled rotation (`--rotate`) task definitions
    tasks = [c for c in children if c.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert len(tasks) == 2
    (logs,) = [c for c in children if c.type == "aws:cloudwatch/logGroup:LogGroup"]
    assert logs.inputs["retentionInDays"] == stack.s.service.log_retention_days
    for task in tasks:
        assert task.inputs["executionRoleArn"] != task.inputs["taskRoleArn"]
        for container in json.loads(task.inputs["containerDefinitions"]):
            name = container["name"]
            assert container["readonlyRootFilesystem"] is True, name
            assert str(container["user"]).split(":")[0] not in ("", "0", "root"), name
            assert container["logConfiguration"]["options"]["awslogs-group"] == logs.outputs["name"]
