"""Pulumi mock runtime with realistic computed outputs, and a monitor that records every registration.

Unit tests and the offline gate (`make check`) both run the real program under these mocks. The
outputs mimic what AWS returns (ARNs in the right shape, ALB DNS names, ECR repository URLs, RDS
master-user secrets) so that code which formats or parses them is exercised for real. Function
invokes the program does not expect fail loudly instead of returning an empty answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.sync_await import _ensure_event_loop

ACCOUNT_ID = "123456789012"

# Resource types whose physical name Pulumi derives from the logical name (auto-naming).
_AUTONAMED = {
    "aws:ecs/cluster:Cluster",
    "aws:ecs/service:Service",
    "aws:ecs/capacityProvider:CapacityProvider",
    "aws:iam/role:Role",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/policy:Policy",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm",
    "aws:ecr/repository:Repository",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:autoscaling/group:Group",
    "aws:sns/topic:Topic",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:cloudwatch/dashboard:Dashboard",
    "aws:ssm/parameter:Parameter",
    "aws:ssm/document:Document",
    "aws:secretsmanager/secret:Secret",
    "aws:lambda/function:Function",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:wafv2/webAcl:WebAcl",
    "aws:sqs/queue:Queue",
    "aws:scheduler/schedule:Schedule",
}

_SERVICE_OF = {
    "lb": "elasticloadbalancing",
    "cloudwatch": "cloudwatch",
    "appautoscaling": "application-autoscaling",
}


def _suffix(name: str, length: int = 7) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _arn(service: str, region: str, resource: str, *, global_service: bool = False) -> str:
    return f"arn:aws:{service}:{'' if global_service else region}:{ACCOUNT_ID}:{resource}"


@dataclass
class SteadyMocks(pulumi.runtime.Mocks):
    """Mocks answering like AWS in `region`; computed outputs are deterministic per logical name."""

    region: str = "us-east-2"
    availability_zones: tuple[str, ...] = ()
    zone_states: dict[str, str] = field(default_factory=dict)
    """Zone name -> its `State` as DescribeAvailabilityZones reports it (default `available`):
    an AZ event is `impaired` or `unavailable`."""
    invokes: list[str] = field(default_factory=list)
    invoke_args: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Every function invoke with its arguments, in order."""

    def __post_init__(self) -> None:
        if not self.availability_zones:
            self.availability_zones = tuple(f"{self.region}{letter}" for letter in "abc")

    # -- resources ---------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom:
            return "", dict(args.inputs)
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        physical = inputs.get("name") or (f"{name}-{_suffix(name)}" if typ in _AUTONAMED else name)
        state: dict[str, Any] = {**inputs}
        if typ in _AUTONAMED:
            state["name"] = physical
        resource_id, extra = self._computed(typ, name, physical, inputs)
        state.update(extra)
        state.setdefault("id", resource_id)
        state.setdefault("tagsAll", inputs.get("tags") or {})
        return resource_id, state

    def _computed(self, typ: str, name: str, physical: str, inputs: dict) -> tuple[str, dict]:
        # pulumi-aws 7: a resource's own `region` input overrides the provider's region.
        region, h = inputs.get("region") or self.region, _suffix(name, 17)
        module = typ.split(":")[1].split("/")[0]
        service = _SERVICE_OF.get(module, module)
        if typ == "aws:ec2/vpc:Vpc":
            return f"vpc-{h}", {
                "arn": _arn("ec2", region, f"vpc/vpc-{h}"),
                "defaultSecurityGroupId": f"sg-{_suffix(name + 'd', 17)}",
                "mainRouteTableId": f"rtb-{_suffix(name + 'm', 17)}",
            }
        prefixes = {
            "aws:ec2/subnet:Subnet": "subnet",
            "aws:ec2/securityGroup:SecurityGroup": "sg",
            "aws:ec2/routeTable:RouteTable": "rtb",
            "aws:ec2/natGateway:NatGateway": "nat",
            "aws:ec2/internetGateway:InternetGateway": "igw",
            "aws:ec2/eip:Eip": "eipalloc",
            "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
            "aws:ec2/launchTemplate:LaunchTemplate": "lt",
            "aws:ec2/flowLog:FlowLog": "fl",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
        }
        if typ in prefixes:
            rid = f"{prefixes[typ]}-{h}"
            extra: dict[str, Any] = {"arn": _arn("ec2", region, f"{prefixes[typ]}/{rid}")}
            if typ == "aws:ec2/eip:Eip":
                extra["publicIp"] = "203.0.113." + str(int(h[:2], 16) % 250 + 1)
            if typ == "aws:ec2/launchTemplate:LaunchTemplate":
                extra["latestVersion"] = 1
            return rid, extra
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            suffix = f"app/{physical}/{h[:16]}"
            return _arn(service, region, f"loadbalancer/{suffix}"), {
                "arn": _arn(service, region, f"loadbalancer/{suffix}"),
                "arnSuffix": suffix,
                "dnsName": f"{physical}-{int(h[:8], 16)}.{region}.elb.amazonaws.com",
                "zoneId": "Z3AADJGX6KTTL2",
            }
        if typ == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{physical}/{h[:16]}"
            arn = _arn(service, region, suffix)
            return arn, {"arn": arn, "arnSuffix": suffix}
        if typ in ("aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule"):
            arn = _arn(service, region, f"listener/app/{name}/{h[:16]}")
            return arn, {"arn": arn}
        if typ == "aws:ecr/repository:Repository":
            url = f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{physical}"
            return physical, {
                "arn": _arn("ecr", region, f"repository/{physical}"),
                "repositoryUrl": url,
                "registryId": ACCOUNT_ID,
            }
        if typ == "docker:index/image:Image":
            image_name = inputs.get("imageName", name)
            digest = hashlib.sha256(str(image_name).encode()).hexdigest()
            repo = str(image_name).rsplit(":", 1)[0]
            return f"{image_name}", {
                "repoDigest": f"{repo}@sha256:{digest}",
                "imageName": image_name,
            }
        if typ == "aws:ecs/cluster:Cluster":
            arn = _arn("ecs", region, f"cluster/{physical}")
            return arn, {"arn": arn}
        if typ == "aws:ecs/service:Service":
            arn = _arn("ecs", region, f"service/{inputs.get('cluster', 'cluster')}/{physical}")
            return arn, {"arn": arn}
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family", name)
            arn = _arn("ecs", region, f"task-definition/{family}:1")
            return arn, {"arn": arn, "arnWithoutRevision": arn.rsplit(":", 1)[0], "revision": 1}
        if typ == "aws:ecs/capacityProvider:CapacityProvider":
            return physical, {"arn": _arn("ecs", region, f"capacity-provider/{physical}")}
        if typ == "aws:autoscaling/group:Group":
            return physical, {
                "arn": _arn(
                    "autoscaling", region, f"autoScalingGroup:{h}:autoScalingGroupName/{physical}"
                )
            }
        if typ in (
            "aws:iam/role:Role",
            "aws:iam/policy:Policy",
            "aws:iam/instanceProfile:InstanceProfile",
        ):
            kind = typ.split(":")[-1]
            kind = {"Role": "role", "Policy": "policy", "InstanceProfile": "instance-profile"}[kind]
            arn = _arn("iam", region, f"{kind}/{physical}", global_service=True)
            return (arn if kind == "policy" else physical), {
                "arn": arn,
                "uniqueId": f"AROA{h.upper()}",
            }
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return physical, {"arn": _arn("logs", region, f"log-group:{physical}")}
        if typ in (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        ):
            alarm_name = inputs.get("name") or physical
            return alarm_name, {"arn": _arn("cloudwatch", region, f"alarm:{alarm_name}")}
        if typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{physical}"
            return url, {"arn": _arn("sqs", region, physical), "url": url, "name": physical}
        if typ == "aws:sns/topic:Topic":
            return _arn("sns", region, physical), {"arn": _arn("sns", region, physical)}
        if typ == "aws:rds/instance:Instance":
            identifier = inputs.get("identifier") or f"{name}-{_suffix(name)}"
            secret = _arn("secretsmanager", region, f"secret:rds!db-{h[:8]}-{h[8:12]}-AbCdEf")
            return identifier, {
                "identifier": identifier,
                "arn": _arn("rds", region, f"db:{identifier}"),
                "address": f"{identifier}.c{h[:10]}.{region}.rds.amazonaws.com",
                "endpoint": f"{identifier}.c{h[:10]}.{region}.rds.amazonaws.com:5432",
                "port": inputs.get("port", 5432),
                "masterUserSecrets": [
                    {"secretArn": secret, "kmsKeyId": "", "secretStatus": "active"}
                ]
                if inputs.get("manageMasterUserPassword")
                else [],
            }
        if typ == "aws:rds/eventSubscription:EventSubscription":
            return physical, {
                "arn": _arn("rds", region, f"es:{physical}"),
                "customerAwsId": ACCOUNT_ID,
            }
        if typ == "aws:secretsmanager/secret:Secret":
            arn = _arn("secretsmanager", region, f"secret:{physical}-{h[:6]}")
            return arn, {"arn": arn}
        if typ == "aws:ssm/document:Document":
            return physical, {"arn": _arn("ssm", region, f"document/{physical}")}
        if typ == "aws:ssm/parameter:Parameter":
            return physical, {"arn": _arn("ssm", region, f"parameter/{physical}"), "version": 1}
        if typ == "aws:route53/zone:Zone":
            return f"Z{h.upper()[:20]}", {
                "zoneId": f"Z{h.upper()[:20]}",
                "arn": f"arn:aws:route53:::hostedzone/Z{h.upper()[:20]}",
                "nameServers": ["ns-1.awsdns-01.org"],
            }
        if typ == "aws:route53/queryLog:QueryLog":
            config_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{_suffix(name + 'ql', 12)}"
            return config_id, {"arn": f"arn:aws:route53:::queryloggingconfig/{config_id}"}
        if typ == "aws:route53/healthCheck:HealthCheck":
            hc = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{_suffix(name + 'hc', 12)}"
            return hc, {"arn": f"arn:aws:route53:::healthcheck/{hc}"}
        if typ == "aws:appautoscaling/target:Target":
            return str(inputs.get("resourceId", name)), {
                "arn": _arn(service, region, f"scalable-target/{h}")
            }
        if typ == "aws:appautoscaling/policy:Policy":
            return physical, {
                "arn": _arn("autoscaling", region, f"scalingPolicy:{h}:{physical}"),
                "alarmArns": [],
            }
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            bucket = inputs.get("bucket") or f"{name}-{_suffix(name, 12)}"
            return bucket, {
                "bucket": bucket,
                "arn": f"arn:aws:s3:::{bucket}",
                "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            }
        if typ == "aws:kms/key:Key":
            key = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{_suffix(name + 'k', 12)}"
            return key, {"arn": _arn("kms", region, f"key/{key}"), "keyId": key}
        if typ == "aws:lambda/function:Function":
            arn = _arn("lambda", region, f"function:{physical}")
            return physical, {"arn": arn, "qualifiedArn": f"{arn}:$LATEST"}
        if typ == "aws:wafv2/webAcl:WebAcl":
            acl_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{_suffix(name + 'w', 12)}"
            arn = _arn("wafv2", region, f"regional/webacl/{physical}/{acl_id}")
            return acl_id, {"arn": arn, "capacity": 0}
        if typ == "aws:sqs/queue:Queue":
            url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{physical}"
            return url, {"arn": _arn("sqs", region, physical), "url": url}
        if typ == "aws:cloudwatch/eventRule:EventRule":
            return physical, {"arn": _arn("events", region, f"rule/{physical}")}
        if typ == "aws:cloudwatch/dashboard:Dashboard":
            return physical, {
                "dashboardArn": _arn(
                    "cloudwatch", region, f"dashboard/{physical}", global_service=True
                )
            }
        return f"{name}-{_suffix(name, 12)}", {"arn": _arn(service, region, f"{module}/{name}")}

    # -- function invokes --------------------------------------------------------------------
    def call(self, args: MockCallArgs) -> tuple[dict, list]:
        self.invokes.append(args.token)
        self.invoke_args.append((args.token, dict(args.args)))
        return self._answer(args.token, dict(args.args)), []

    def _zones(self, a: dict) -> dict:
        """DescribeAvailabilityZones as the provider reads it: filtered by `state` only when
        asked (terraform-provider-aws `ec2_availability_zones_data_source.go`), names sorted with
        their IDs alongside."""
        zones = sorted(self.availability_zones)
        if a.get("state"):
            zones = [z for z in zones if self.zone_states.get(z, "available") == a["state"]]
        for flt in a.get("filters") or []:
            if flt.get("name") == "state":
                zones = [z for z in zones if self.zone_states.get(z, "available") in flt["values"]]
            elif flt.get("name") == "zone-type" and "availability-zone" not in flt["values"]:
                zones = []
        ids = {z: f"use2-az{i + 1}" for i, z in enumerate(sorted(self.availability_zones))}
        return {
            "names": zones,
            "zoneIds": [ids[z] for z in zones],
            "id": self.region,
            "groupNames": [self.region],
        }

    def _answer(self, token: str, a: dict) -> dict:
        region = self.region
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return self._zones(a)
        if token == "aws:index/getRegion:getRegion":
            return {
                "name": region,
                "region": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": "mock region",
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if token == "aws:ssm/getParameter:getParameter":
            value = "ami-0" + _suffix(str(a.get("name")), 16)
            return {
                "name": a.get("name"),
                "value": value,
                "insecureValue": value,
                "type": "String",
                "version": 1,
                "id": a.get("name"),
                "arn": _arn("ssm", region, f"parameter{a.get('name')}"),
            }
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "userName": "AWS",
                "password": "mock-ecr-password",
                "authorizationToken": "QVdTOm1vY2s=",
                "expiresAt": "2099-01-01T00:00:00Z",
                "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com",
                "id": region,
            }
        if token == "aws:route53/getZone:getZone":
            zone = str(a.get("name", "example.com")).rstrip(".")
            zid = "Z" + _suffix(zone, 20).upper()
            return {
                "zoneId": zid,
                "name": zone,
                "id": zid,
                "arn": f"arn:aws:route53:::hostedzone/{zid}",
                "privateZone": False,
                "nameServers": ["ns-1.awsdns-01.org"],
            }
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::033677994240:root", "id": "033677994240"}
        if token == "aws:acm/getCertificate:getCertificate":
            dom = a.get("domain", "example.com")
            return {
                "arn": _arn("acm", region, f"certificate/{_suffix(dom, 32)}"),
                "domain": dom,
                "id": dom,
                "status": "ISSUED",
            }
        raise NotImplementedError(
            f"ops.synth.mocks: no mock answer for function {token!r}; add one to SteadyMocks.call "
            "with the outputs AWS really returns"
        )


@dataclass
class ResourceRecord:
    """One resource as the engine saw it: what the program asked for, with which options."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    options: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    id: str = ""
    secret_inputs: list[str] = field(default_factory=list)
    """Top-level inputs the program marked secret (kept encrypted in the state)."""


def _plain(value: Any) -> Any:
    """Turn deserialized values into JSON-ready data: secrets unwrapped, resources as URNs."""
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_urn_string", None) or repr(value)
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return _plain(value.get("value"))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps the full registration request of every resource, in order.

    `on_record`, when given, is called with each record as soon as it is kept (from the SDK's
    executor threads, so it must be thread-safe and quick).
    """

    def __init__(
        self, mocks: SteadyMocks, on_record: Callable[[ResourceRecord], None] | None = None
    ) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []
        self._on_record = on_record

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """Build URNs as the engine does: the full chain of parent types, the root stack omitted."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return super().make_urn("", type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        _ensure_event_loop()
        raw_inputs = rpc.deserialize_properties(request.object)
        inputs = _plain(raw_inputs)
        registration = self.resources.get(response.urn)
        provider = request.provider
        if request.custom and not provider:
            package = request.type.split(":")[0]
            version = (request.version or "0.0.0").replace(".", "_")
            stack, project = response.urn.split("::")[0].split(":")[-1], response.urn.split("::")[1]
            provider = (
                f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::default_{version}"
                "::00000000-0000-0000-0000-000000000000"
            )
        timeouts = request.customTimeouts
        record = ResourceRecord(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=provider,
            inputs=inputs,
            outputs=_plain(registration.state) if registration else {},
            options={
                "protect": bool(request.protect),
                "ignoreChanges": list(request.ignoreChanges),
                "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                "retainOnDelete": bool(request.retainOnDelete),
                "replaceOnChanges": list(request.replaceOnChanges),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "customTimeouts": {
                    "create": timeouts.create,
                    "update": timeouts.update,
                    "delete": timeouts.delete,
                },
                "version": request.version,
                # Names (or URNs) this resource was known by before: what it adopts.
                "aliases": [
                    alias.spec.name if alias.HasField("spec") else alias.urn
                    for alias in request.aliases
                ],
            },
            dependencies=list(request.dependencies),
            property_dependencies={
                key: list(deps.urns) for key, deps in request.propertyDependencies.items()
            },
            id=response.id,
            secret_inputs=sorted(k for k, v in raw_inputs.items() if _is_secret(v)),
        )
        self.records.append(record)
        if self._on_record is not None:
            self._on_record(record)
        return response
