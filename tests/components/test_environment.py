"""ServiceEnvironment and PublicLoadBalancer: the listener, its weights and the path to the hosts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.environment import OneboxSpec, ServiceEnvironment, ServiceEnvironmentArgs
from components.load_balancer import PublicLoadBalancer, PublicLoadBalancerArgs, WeightedTarget
from tests.components.test_service import service_args

CERT = "arn:aws:acm:us-east-2:123456789012:certificate/abc"


def env_args(**overrides) -> ServiceEnvironmentArgs:
    template = replace(
        service_args(),
        target_group_arn=None,
        target_group_arn_suffix=None,
        load_balancer_arn_suffix=None,
    )
    base = dict(
        vpc_id="vpc-1",
        public_subnet_ids=["subnet-a", "subnet-b"],
        host_security_group_id="sg-hosts",
        service=template,
        onebox=OneboxSpec(image="repo@sha256:" + "c" * 64, tasks=1, weight=1, fleet_weight=99),
    )
    base.update(overrides)
    return ServiceEnvironmentArgs(**base)


@pytest.fixture
def rec(mocked):
    return mocked(lambda: ServiceEnvironment("blue", env_args()))


def test_listener_splits_one_percent_to_onebox(rec) -> None:
    action = rec.named("blue-http").inputs["defaultActions"][0]
    weights = {tg["arn"]: tg["weight"] for tg in action["forward"]["targetGroups"]}
    fleet, onebox = (
        rec.named("blue-fleet-tg").outputs["arn"],
        rec.named("blue-onebox-tg").outputs["arn"],
    )
    assert weights == {fleet: 99, onebox: 1}


def test_onebox_runs_the_fresh_image_at_fixed_size_and_fleet_keeps_its_own(rec) -> None:
    onebox_task = json.loads(rec.named("blue-onebox-taskdef").inputs["containerDefinitions"])
    fleet_task = json.loads(rec.named("blue-fleet-taskdef").inputs["containerDefinitions"])
    assert onebox_task[0]["image"].endswith("c" * 64)
    assert fleet_task[0]["image"].endswith("b" * 64)
    scaling = rec.named("blue-onebox-scaling").inputs
    assert (scaling["minCapacity"], scaling["maxCapacity"]) == (1, 1)
    assert scaling["tags"]["Role"] == "onebox"
    env = {e["name"]: e["value"] for e in onebox_task[0]["environment"]}
    assert env["APP_ENVIRONMENT"] == "blue-onebox"


def test_services_wait_for_the_listener(rec) -> None:
    listener = rec.named("blue-http").urn
    for role in ("fleet", "onebox"):
        assert listener in rec.named(f"blue-{role}").dependencies


def test_target_group_health_check_is_deliberate(rec) -> None:
    tg = rec.named("blue-fleet-tg").inputs
    assert tg["targetType"] == "instance" and tg["deregistrationDelay"] == 15
    hc = tg["healthCheck"]
    assert (hc["path"], hc["matcher"], hc["port"]) == ("/health", "200", "traffic-port")
    assert (hc["interval"], hc["timeout"], hc["healthyThreshold"], hc["unhealthyThreshold"]) == (
        10,
        3,
        2,
        2,
    )
    assert tg["tags"] == {"Role": "fleet", "Environment": "blue"}


def test_alb_is_hardened_and_logs(rec) -> None:
    alb = rec.named("blue-alb").inputs
    assert alb["dropInvalidHeaderFields"] is True and alb["desyncMitigationMode"] == "defensive"
    assert alb["subnets"] == ["subnet-a", "subnet-b"] and alb["internal"] is False
    assert alb["accessLogs"]["enabled"] is True
    assert alb["accessLogs"]["bucket"] == rec.named("blue-logs-bucket").outputs["bucket"]
    assert rec.named("blue-logs-policy").urn in rec.named("blue-alb").dependencies


def test_world_reaches_only_port_80_without_certificate(rec) -> None:
    ingress = [
        r.inputs for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ]
    open_to_world = [
        (i["fromPort"], i["toPort"]) for i in ingress if i.get("cidrIpv4") == "0.0.0.0/0"
    ]
    assert open_to_world == [(80, 80)]
    hosts = rec.named("blue-hosts-in").inputs
    assert hosts["securityGroupId"] == "sg-hosts"
    assert (hosts["fromPort"], hosts["toPort"]) == (32768, 65535)
    assert hosts["referencedSecurityGroupId"] == rec.named("blue-sg").outputs["id"]
    assert all(i.get("description") for i in ingress)


def test_with_certificate_http_redirects_and_https_uses_tls12_policy(mocked) -> None:
    rec = mocked(lambda: ServiceEnvironment("blue", env_args(certificate_arn=CERT, onebox=None)))
    http = rec.named("blue-http").inputs["defaultActions"][0]
    assert http["type"] == "redirect" and http["redirect"]["protocol"] == "HTTPS"
    https = rec.named("blue-https").inputs
    assert https["certificateArn"] == CERT and https["sslPolicy"].startswith(
        "ELBSecurityPolicy-TLS13"
    )
    ports = sorted(
        r.inputs["fromPort"]
        for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("cidrIpv4")
    )
    assert ports == [80, 443]
    assert not [r for r in rec.records if "onebox" in r.name]


def test_load_balancer_needs_a_target(mocked) -> None:
    """Refused before anything registers: a half-built component would leave registrations and
    outputs pending on the event loop, never awaited."""
    with pytest.raises(ValueError, match="targets") as refused:
        mocked(
            lambda: PublicLoadBalancer(
                "lb",
                PublicLoadBalancerArgs(
                    vpc_id="v",
                    public_subnet_ids=["a", "b"],
                    targets=[],
                    host_security_group_id="sg",
                ),
            )
        )
    assert refused.value.partial_recording.records == []  # type: ignore[attr-defined]


def test_load_balancer_alone_without_access_logs(mocked) -> None:
    rec = mocked(
        lambda: PublicLoadBalancer(
            "lb",
            PublicLoadBalancerArgs(
                vpc_id="v",
                public_subnet_ids=["a", "b"],
                targets=[WeightedTarget("tg-arn", 1)],
                host_security_group_id="sg",
                access_logs=False,
            ),
        )
    )
    assert "accessLogs" not in rec.named("lb-alb").inputs
    assert not rec.of_type("aws:s3/bucket:Bucket")


def test_access_log_bucket_is_server_access_logged_into_a_guarded_bucket(rec) -> None:
    source = rec.named("blue-logs-bucket")
    target = rec.named("blue-logs-server-logs-bucket")
    (logging,) = rec.of_type("aws:s3/bucketLogging:BucketLogging")
    assert logging.inputs["bucket"] == source.id
    assert logging.inputs["targetBucket"] == target.id != source.id
    assert logging.inputs["targetPrefix"] == "s3/"
    # The target carries the same guardrails as the source.
    for kind in ("public-access", "ownership", "encryption", "expiry"):
        assert rec.named(f"blue-logs-server-logs-{kind}").inputs["bucket"] == target.id
    block = rec.named("blue-logs-server-logs-public-access").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))
    statements = {
        s["Sid"]: s
        for s in json.loads(rec.named("blue-logs-server-logs-policy").inputs["policy"])["Statement"]
    }
    write = statements["S3ServerAccessLogsWrite"]
    assert write["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert write["Resource"] == [f"{target.outputs['arn']}/s3/*"]
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": source.outputs["arn"]}
    assert write["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    # Logging waits for the policy that lets S3 write.
    assert rec.named("blue-logs-server-logs-policy").urn in logging.dependencies


def test_every_log_bucket_aborts_incomplete_multipart_uploads_after_seven_days(rec) -> None:
    buckets = {b.id: b.name for b in rec.of_type("aws:s3/bucket:Bucket")}
    assert len(buckets) == 2
    covered = set()
    for lifecycle in rec.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ):
        (abort,) = [r for r in lifecycle.inputs["rules"] if "abortIncompleteMultipartUpload" in r]
        assert abort["status"] == "Enabled"
        assert abort["filter"] == {"prefix": ""}  # the whole bucket
        assert abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
        covered.add(lifecycle.inputs["bucket"])
    assert covered == set(buckets)
