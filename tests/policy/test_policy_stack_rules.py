"""Every stack policy: violating and compliant stacks, with known values (after deploy) and with
preview-time unknowns resolved through property dependencies."""

from __future__ import annotations

from policy_harness import UNKNOWN_ARRAY, UNKNOWN_STRING, Res, run_stack

from policy.guardrails import aws_types as t

LISTENER = t.LISTENERS[0]
TG = t.TARGET_GROUPS[0]


def assert_reported(outcome, resource: Res, *fragments: str) -> None:
    assert outcome.violations, "expected a violation"
    urns = [urn for _, urn in outcome.violations]
    assert resource.urn in urns
    message = next(m for m, urn in outcome.violations if urn == resource.urn)
    assert f'"{resource.name}"' in message
    assert "Fix: " in message
    for fragment in fragments:
        assert fragment in message


def assert_clean(outcome) -> None:
    assert outcome.violations == []
    assert outcome.not_applicable is None


# vpc-flow-logs-enabled ------------------------------------------------------------------------

VPC = Res(t.VPC, "main-vpc", {"id": "vpc-1", "cidrBlock": "10.0.0.0/16"})


def test_vpc_without_flow_log_is_reported() -> None:
    outcome = run_stack("vpc-flow-logs-enabled", [VPC])
    assert_reported(outcome, VPC, "no flow log", "aws:ec2/flowLog with vpcId")


def test_vpc_with_flow_log_passes() -> None:
    flow_log = Res(t.FLOW_LOG, "main-flow", {"vpcId": "vpc-1", "trafficType": "ALL"})
    assert_clean(run_stack("vpc-flow-logs-enabled", [VPC, flow_log]))


def test_flow_log_of_another_vpc_does_not_count() -> None:
    flow_log = Res(t.FLOW_LOG, "other-flow", {"vpcId": "vpc-2"})
    assert_reported(run_stack("vpc-flow-logs-enabled", [VPC, flow_log]), VPC)


def test_flow_log_is_matched_by_dependency_during_preview() -> None:
    vpc = Res(t.VPC, "main-vpc", {"id": UNKNOWN_STRING})
    flow_log = Res(t.FLOW_LOG, "main-flow", {"vpcId": UNKNOWN_STRING}, {"vpcId": ["main-vpc"]})
    assert_clean(run_stack("vpc-flow-logs-enabled", [vpc, flow_log]))


def test_flow_log_with_unknown_vpc_and_no_dependency_skips_with_reason() -> None:
    vpc = Res(t.VPC, "main-vpc", {"id": UNKNOWN_STRING})
    flow_log = Res(t.FLOW_LOG, "main-flow", {"vpcId": UNKNOWN_STRING})
    outcome = run_stack("vpc-flow-logs-enabled", [vpc, flow_log])
    assert outcome.violations == []
    assert "unknown during preview" in outcome.not_applicable


# lb-subnets-distinct-azs ----------------------------------------------------------------------


def subnets(*zones: str) -> list[Res]:
    return [
        Res(t.SUBNET, f"public-{i}", {"id": f"subnet-{i}", "availabilityZone": zone})
        for i, zone in enumerate(zones)
    ]


def alb(*subnet_ids: str, deps: list[str] | None = None) -> Res:
    props = {"subnets": list(subnet_ids) if subnet_ids else UNKNOWN_ARRAY}
    return Res(t.LOAD_BALANCERS[0], "web-alb", props, {"subnets": deps or []})


def test_lb_with_subnets_in_one_zone_is_reported() -> None:
    lb = alb("subnet-0", "subnet-1")
    outcome = run_stack("lb-subnets-distinct-azs", [*subnets("eu-west-1a", "eu-west-1a"), lb])
    assert_reported(outcome, lb, "eu-west-1a", "two distinct Availability Zones")


def test_lb_with_subnets_in_two_zones_passes() -> None:
    lb = alb("subnet-0", "subnet-1")
    assert_clean(run_stack("lb-subnets-distinct-azs", [*subnets("eu-west-1a", "eu-west-1b"), lb]))


def test_lb_subnet_zones_resolve_through_dependencies_during_preview() -> None:
    lb = alb(deps=["public-0", "public-1"])
    outcome = run_stack("lb-subnets-distinct-azs", [*subnets("eu-west-1a", "eu-west-1a"), lb])
    assert_reported(outcome, lb)


def test_lb_with_subnets_outside_the_stack_skips_with_reason() -> None:
    outcome = run_stack("lb-subnets-distinct-azs", [alb("subnet-x", "subnet-y")])
    assert outcome.violations == []
    assert "not defined in this stack" in outcome.not_applicable


# onebox-traffic-share -------------------------------------------------------------------------

ONEBOX_TG = Res(TG, "web-onebox-tg", {"arn": "arn:tg/onebox", "tags": {"Role": "onebox"}})
FLEET_TG = Res(TG, "web-fleet-tg", {"arn": "arn:tg/fleet", "tags": {"Role": "fleet"}})


def listener(onebox_weight: float, fleet_weight: float, **arns: str) -> Res:
    groups = [
        {"arn": arns.get("onebox", "arn:tg/onebox"), "weight": onebox_weight},
        {"arn": arns.get("fleet", "arn:tg/fleet"), "weight": fleet_weight},
    ]
    action = {"type": "forward", "forward": {"targetGroups": groups}}
    return Res(LISTENER, "web-https", {"port": 443, "defaultActions": [action]})


def test_onebox_over_its_share_is_reported() -> None:
    http = listener(25, 75)
    outcome = run_stack("onebox-traffic-share", [ONEBOX_TG, FLEET_TG, http])
    assert_reported(outcome, http, "got 25%", "tagged Role=onebox", "onebox weight 1, fleet")


def test_onebox_identified_by_tag_even_with_swapped_weights() -> None:
    http = listener(99, 1)
    assert_reported(run_stack("onebox-traffic-share", [ONEBOX_TG, FLEET_TG, http]), http, "99%")


def test_onebox_identified_as_the_group_not_tagged_fleet() -> None:
    untagged = Res(TG, "web-canary-tg", {"arn": "arn:tg/onebox"})
    http = listener(60, 40)
    outcome = run_stack("onebox-traffic-share", [untagged, FLEET_TG, http])
    assert_reported(outcome, http, "not tagged Role=fleet", "60%")


def test_small_onebox_share_passes() -> None:
    assert_clean(run_stack("onebox-traffic-share", [ONEBOX_TG, FLEET_TG, listener(1, 99)]))


def test_untagged_split_treats_the_smaller_weight_as_onebox() -> None:
    http = listener(30, 70, onebox="arn:tg/a", fleet="arn:tg/b")
    assert_reported(run_stack("onebox-traffic-share", [http]), http, "smaller weight", "30%")


def test_share_ceiling_comes_from_config() -> None:
    http = listener(30, 70, onebox="arn:tg/a", fleet="arn:tg/b")
    outcome = run_stack("onebox-traffic-share", [http], config={"oneboxShareCeilingPercent": 50})
    assert_clean(outcome)


def test_listener_rule_forwarding_all_traffic_to_onebox_is_reported() -> None:
    rule = Res(
        t.LISTENER_RULES[0],
        "web-api-rule",
        {"priority": 10, "actions": [{"type": "forward", "targetGroupArn": "arn:tg/onebox"}]},
    )
    assert_reported(run_stack("onebox-traffic-share", [ONEBOX_TG, rule]), rule, "got 100%")


def test_unknown_weights_skip_with_reason() -> None:
    http = listener(1, 99)
    http.props["defaultActions"][0]["forward"]["targetGroups"][0]["weight"] = UNKNOWN_STRING
    outcome = run_stack("onebox-traffic-share", [http])
    assert outcome.violations == []
    assert "weights" in outcome.not_applicable


# ecr-repository-has-lifecycle-policy ----------------------------------------------------------

REPO = Res(t.ECR_REPOSITORY, "web-repo", {"name": "web", "id": "web"})


def test_repository_without_lifecycle_policy_is_reported() -> None:
    outcome = run_stack("ecr-repository-has-lifecycle-policy", [REPO])
    assert_reported(outcome, REPO, "aws:ecr/lifecyclePolicy with repository")


def test_repository_with_lifecycle_policy_passes() -> None:
    policy = Res(t.ECR_LIFECYCLE_POLICY, "web-lifecycle", {"repository": "web", "policy": "{}"})
    assert_clean(run_stack("ecr-repository-has-lifecycle-policy", [REPO, policy]))


def test_lifecycle_policy_matched_by_dependency_during_preview() -> None:
    repo = Res(t.ECR_REPOSITORY, "web-repo", {"name": UNKNOWN_STRING})
    policy = Res(
        t.ECR_LIFECYCLE_POLICY,
        "web-lc",
        {"repository": UNKNOWN_STRING},
        {"repository": ["web-repo"]},
    )
    assert_clean(run_stack("ecr-repository-has-lifecycle-policy", [repo, policy]))


# ecs-service-autoscaling-attached -------------------------------------------------------------

CLUSTER = Res(
    t.ECS_CLUSTER, "main-cluster", {"name": "main", "arn": "arn:aws:ecs:r:1:cluster/main"}
)


def service(name: str = "web", **props) -> Res:
    base = {
        "name": name,
        "cluster": "arn:aws:ecs:r:1:cluster/main",
        "loadBalancers": [
            {"targetGroupArn": "arn:tg/fleet", "containerName": "web", "containerPort": 8080}
        ],
    }
    return Res(t.ECS_SERVICE, f"{name}-service", {**base, **props})


def target(resource_id: str = "service/main/web", deps: list[str] | None = None) -> Res:
    props = {
        "serviceNamespace": "ecs",
        "scalableDimension": "ecs:service:DesiredCount",
        "resourceId": resource_id,
        "minCapacity": 2,
        "maxCapacity": 6,
    }
    return Res(t.SCALABLE_TARGET, "web-target", props, {"resourceId": deps or []})


def scaling(resource_id: str = "service/main/web", deps: list[str] | None = None) -> Res:
    props = {
        "policyType": "TargetTrackingScaling",
        "resourceId": resource_id,
        "serviceNamespace": "ecs",
    }
    return Res(t.SCALING_POLICY, "web-cpu", props, {"resourceId": deps or []})


def test_service_without_scalable_target_is_reported() -> None:
    svc = service()
    outcome = run_stack("ecs-service-autoscaling-attached", [CLUSTER, svc])
    assert_reported(outcome, svc, '"service/main/web"', "aws:appautoscaling/target")


def test_service_with_target_but_no_policy_is_reported() -> None:
    svc = service()
    outcome = run_stack("ecs-service-autoscaling-attached", [CLUSTER, svc, target()])
    assert_reported(outcome, svc, "has no aws:appautoscaling/policy", "TargetTrackingScaling")


def test_service_with_target_and_policy_passes() -> None:
    stack = [CLUSTER, service(), target(), scaling()]
    assert_clean(run_stack("ecs-service-autoscaling-attached", stack))


def test_cluster_name_comes_from_the_cluster_resource_whatever_its_arn_looks_like() -> None:
    cluster = Res(t.ECS_CLUSTER, "main-cluster", {"name": "main", "arn": "main-cluster-arn"})
    stack = [cluster, service(cluster="main-cluster-arn"), target(), scaling()]
    assert_clean(run_stack("ecs-service-autoscaling-attached", stack))


def test_target_of_another_service_does_not_count() -> None:
    svc = service("api")
    stack = [CLUSTER, svc, target(), scaling()]
    assert_reported(run_stack("ecs-service-autoscaling-attached", stack), svc, "service/main/api")


def test_service_without_load_balancer_is_not_concerned() -> None:
    worker = service("worker", loadBalancers=[])
    assert_clean(run_stack("ecs-service-autoscaling-attached", [CLUSTER, worker]))


def test_autoscaling_matched_by_dependencies_during_preview() -> None:
    svc = service()
    svc.props.update(cluster=UNKNOWN_STRING, name=UNKNOWN_STRING)
    stack = [
        svc,
        target(UNKNOWN_STRING, deps=["web-service"]),
        scaling(UNKNOWN_STRING, deps=["web-target"]),
    ]
    assert_clean(run_stack("ecs-service-autoscaling-attached", stack))


def test_unknown_service_names_without_dependencies_skip_with_reason() -> None:
    svc = service(cluster=UNKNOWN_STRING)
    outcome = run_stack("ecs-service-autoscaling-attached", [svc, target(UNKNOWN_STRING)])
    assert outcome.violations == []
    assert "unknown during preview" in outcome.not_applicable


# dns-failover-primary-health-checked ----------------------------------------------------------


def record(role: str, name: str = "api.example.com", **props) -> Res:
    base = {
        "zoneId": "Z1",
        "name": name,
        "type": "A",
        "setIdentifier": role.lower(),
        "failoverRoutingPolicies": [{"type": role}],
        "aliases": [{"name": "lb.aws", "zoneId": "Z2", "evaluateTargetHealth": True}],
    }
    return Res(t.DNS_RECORD, f"{name}-{role.lower()}", {**base, **props})


def test_primary_without_health_check_is_reported() -> None:
    primary = record("PRIMARY")
    outcome = run_stack("dns-failover-primary-health-checked", [primary, record("SECONDARY")])
    assert_reported(outcome, primary, "no health check", "set healthCheckId")


def test_primary_without_secondary_is_reported() -> None:
    primary = record("PRIMARY", healthCheckId="hc-1")
    outcome = run_stack("dns-failover-primary-health-checked", [primary])
    assert_reported(outcome, primary, "no failover SECONDARY", '{type: "SECONDARY"}')


def test_secondary_for_another_name_does_not_count() -> None:
    primary = record("PRIMARY", healthCheckId="hc-1")
    other = record("SECONDARY", name="www.example.com")
    assert_reported(run_stack("dns-failover-primary-health-checked", [primary, other]), primary)


def test_health_checked_primary_with_secondary_passes() -> None:
    stack = [record("PRIMARY", healthCheckId="hc-1"), record("SECONDARY")]
    assert_clean(run_stack("dns-failover-primary-health-checked", stack))


def test_health_check_id_unknown_during_preview_counts_as_set() -> None:
    stack = [record("PRIMARY", healthCheckId=UNKNOWN_STRING), record("SECONDARY")]
    assert_clean(run_stack("dns-failover-primary-health-checked", stack))


# alarms-notify-topic-in-stack -----------------------------------------------------------------

TOPIC = Res(t.SNS_TOPIC, "alerts", {"arn": "arn:aws:sns:eu-west-1:1:alerts", "name": "alerts"})


def alarm(actions, deps: list[str] | None = None, **props) -> Res:
    base = {"metricName": "db-connectivity", "alarmActions": actions, **props}
    return Res(t.METRIC_ALARM, "db-alarm", base, {"alarmActions": deps or []})


def test_alarm_without_actions_is_reported() -> None:
    silent = alarm([])
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, silent])
    assert_reported(outcome, silent, "no alarmActions", "alarmActions=[<arn of an aws:sns/topic")


def test_alarm_notifying_topic_outside_the_stack_is_reported() -> None:
    foreign = alarm(["arn:aws:sns:eu-west-1:1:elsewhere"])
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, foreign])
    assert_reported(outcome, foreign, "arn:aws:sns:eu-west-1:1:elsewhere", "not defined in this")


def test_alarm_with_only_non_sns_actions_is_reported() -> None:
    scaling_only = alarm(["arn:aws:autoscaling:eu-west-1:1:scalingPolicy:x"])
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, scaling_only])
    assert_reported(outcome, scaling_only, "none of its alarmActions is an SNS topic")


def test_alarm_driving_a_scaling_policy_of_this_stack_is_a_trigger_not_a_page() -> None:
    arn = "arn:aws:autoscaling:eu-west-1:1:scalingPolicy:fast"
    policy = Res(t.SCALING_POLICY, "fast-scale-out", {"arn": arn, "policyType": "StepScaling"})
    trigger = Res(
        t.METRIC_ALARM, "fast", {"alarmActions": [arn]}, {"alarmActions": ["fast-scale-out"]}
    )
    assert_clean(run_stack("alarms-notify-topic-in-stack", [TOPIC, policy, trigger]))
    # ...but a scaling ARN beside a foreign one still needs a topic of this stack.
    mixed = Res(
        t.METRIC_ALARM,
        "mixed",
        {"alarmActions": [arn, "arn:aws:autoscaling:eu-west-1:1:scalingPolicy:other"]},
        {"alarmActions": ["fast-scale-out"]},
    )
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, policy, mixed])
    assert_reported(outcome, mixed, "none of its alarmActions is an SNS topic")


def test_alarm_with_actions_disabled_is_reported() -> None:
    muted = alarm([TOPIC.props["arn"]], actionsEnabled=False)
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, muted])
    assert_reported(outcome, muted, "actionsEnabled=true")


def test_alarm_notifying_topic_in_stack_passes() -> None:
    assert_clean(run_stack("alarms-notify-topic-in-stack", [TOPIC, alarm([TOPIC.props["arn"]])]))


def test_alarm_topic_resolved_by_dependency_during_preview() -> None:
    topic = Res(t.SNS_TOPIC, "alerts", {"arn": UNKNOWN_STRING})
    stack = [topic, alarm([UNKNOWN_STRING], deps=["alerts"])]
    assert_clean(run_stack("alarms-notify-topic-in-stack", stack))


def test_unknown_alarm_actions_without_dependency_skip_with_reason() -> None:
    outcome = run_stack("alarms-notify-topic-in-stack", [TOPIC, alarm(UNKNOWN_ARRAY)])
    assert outcome.violations == []
    assert "unknown during preview" in outcome.not_applicable


# step-scaling-alarm-sustained ----------------------------------------------------------------

STEP_ARN = "arn:aws:autoscaling:eu-west-1:1:scalingPolicy:fast"
STEP = Res(
    t.SCALING_POLICY,
    "fast-scale-out",
    {"arn": STEP_ARN, "policyType": "StepScaling", "resourceId": "service/c/blue-fleet"},
)
TRACKING = Res(
    t.SCALING_POLICY,
    "cpu-tracking",
    {
        "policyType": "TargetTrackingScaling",
        "resourceId": "service/c/blue-fleet",
        "targetTrackingScalingPolicyConfiguration": {
            "targetValue": 70,
            "predefinedMetricSpecification": {
                "predefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    },
)


def trigger(**props) -> Res:
    base = {
        "metricName": "task-cpu-utilization",
        "period": 10,
        "threshold": 85,
        "evaluationPeriods": 3,
        "datapointsToAlarm": 3,
        "alarmActions": [STEP_ARN],
        **props,
    }
    return Res(t.METRIC_ALARM, "fast", base, {"alarmActions": ["fast-scale-out"]})


def test_a_sustained_trigger_above_the_tracking_target_passes() -> None:
    assert_clean(run_stack("step-scaling-alarm-sustained", [STEP, TRACKING, trigger()]))


def test_a_trigger_on_one_datapoint_is_reported() -> None:
    blip = trigger(datapointsToAlarm=1, evaluationPeriods=1)
    outcome = run_stack("step-scaling-alarm-sustained", [STEP, TRACKING, blip])
    assert_reported(outcome, blip, "scales out on 1 datapoint", "at least 2")


def test_a_trigger_at_or_below_the_tracking_target_is_reported() -> None:
    low = trigger(threshold=70)
    outcome = run_stack("step-scaling-alarm-sustained", [STEP, TRACKING, low])
    assert_reported(
        outcome, low, "not above the CPU tracking target 70", "fastScaleOut.cpuThreshold"
    )


def test_alarms_that_drive_no_step_policy_are_not_judged() -> None:
    page = Res(
        t.METRIC_ALARM, "page", {"metricName": "cpu", "threshold": 1, "datapointsToAlarm": 1}
    )
    assert_clean(run_stack("step-scaling-alarm-sustained", [STEP, TRACKING, page]))
