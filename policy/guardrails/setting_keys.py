"""Which `steadystate:` setting to change when a policy rejects a resource the program built.

A violation names the resource property that breaks the rule ("access logging is off. Fix: set
accessLogs=..."). On a resource this program built, that property came from a stack setting, and
the user edits the setting, not the property. :data:`SETTING_KEYS` says, per policy, which settings
build what it judges (some only inside one component: every log group's retention is a different
setting); :data:`NOT_FROM_SETTINGS` marks every other policy with why no setting changes its
verdict. The framework (:mod:`.framework`) appends :func:`settings_hint` to a violation when the
resource's URN runs through one of the program's components (type token ``steadystate:<module>:
<Name>``), so ``pulumi preview --policy-pack`` and the offline gate show the same line, and a
foreign program judged by this pack gets none.

tests/policy/test_setting_keys.py holds the two tables complete (every policy in exactly one) and
every key a real setting of ``settings.model``.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPONENT_PACKAGE = "steadystate"
"""The package of the program's component type tokens (``steadystate:network:Network``)."""


@dataclass(frozen=True)
class Source:
    """A setting (dotted camelCase key under the project namespace) that builds what a policy
    judges; with ``component``, only for resources inside that component type; with ``property``,
    only for a violation the check reports on that property (``violation(..., prop=...)``)."""

    key: str
    component: str | None = None
    property: str | None = None


def _any(*keys: str) -> tuple[Source, ...]:
    return tuple(Source(key) for key in keys)


_NETWORK = "steadystate:network:Network"
_SERVICE = "steadystate:service:ServiceWithAutoscaling"
_WEB_ACL = "steadystate:web_acl:WebAcl"
_DNS = "steadystate:blue_green_dns:BlueGreenDns"
_CLUSTER = "steadystate:ecs_cluster:EcsCluster"
_CHAOS = "steadystate:chaos:ChaosExperiments"
_RECORDER = "steadystate:chaos:FisRunRecorder"
_DATABASE = "steadystate:database:Database"
_BOOTSTRAP = "steadystate:database:DatabaseBootstrap"

SETTING_KEYS: dict[str, tuple[Source, ...]] = {
    "lb-access-logs-enabled": _any("loadBalancer.accessLogs"),
    "lb-deletion-protection": _any("loadBalancer.deletionProtection", "teardown.allowDataLoss"),
    "lb-multi-az": _any("network.availabilityZones"),
    # issue 21: failure domains and zones
    "lb-zonal-shift-enabled": _any("zonalShift.enabled"),
    "lb-zonal-autoshift-practised": _any(
        "zonalShift.autoshift",
        "zonalShift.practiceDays",
        "zonalShift.practiceStartHour",
        "zonalShift.practiceEndHour",
    ),
    "ecs-environments-own-capacity": _any("cluster.capacityPerEnvironment"),
    "zone-loss-static-stability": _any(
        "service.minTasks",
        "service.cpuTarget",
        "cluster.minInstances",
        "cluster.targetCapacityPercent",
    ),
    "lb-subnets-distinct-azs": _any("network.availabilityZones", "network.zones"),
    "lb-http-redirects-to-https": _any(
        "loadBalancer.certificateArn", "loadBalancer.certificateDomain"
    ),
    "lb-target-group-health-check": _any("service.healthCheck"),
    "onebox-traffic-share": _any("release.oneboxWeight", "release.fleetWeight"),
    "ecs-cluster-container-insights": _any("cluster.containerInsights"),
    "ecs-service-health-check-grace-period": _any("service.healthCheckGracePeriod"),
    "ecr-lifecycle-policy-expires-images": _any("image.keepImages"),
    "rds-backup-retention": _any("database.backupRetentionDays"),
    "rds-multi-az": _any("database.multiAz"),
    "rds-deletion-protection": _any("database.deletionProtection", "teardown.allowDataLoss"),
    "log-group-retention": (
        Source("network.flowLogRetentionDays", _NETWORK),
        Source("loadBalancer.wafLogRetentionDays", _WEB_ACL),
        Source("dns.queryLogRetentionDays", _DNS),
        Source("service.logRetentionDays", _SERVICE),
        Source("service.logRetentionDays", _CLUSTER),
        Source("service.logRetentionDays", _CHAOS),
        Source("service.logRetentionDays", _RECORDER),
        Source("service.logRetentionDays", _DATABASE),
        Source("service.logRetentionDays", _BOOTSTRAP),
    ),
    "autoscaling-target-value-range": _any("service.cpuTarget", "service.memoryTarget"),
    "autoscaling-capacity-bounds": _any(
        "service.minTasks", "service.maxTasks", "release.oneboxTasks"
    ),
    "autoscaling-prod-min-capacity": _any("service.minTasks", "release.oneboxTasks"),
    "autoscaling-group-multi-az": _any("network.availabilityZones"),
    "step-scaling-bounded": _any("service.fastScaleOut.stepTasks"),
    "step-scaling-alarm-sustained": _any("service.fastScaleOut.datapoints"),
    "autoscaling-scale-out-cooldown": (
        Source(
            "service.scaleOutCooldown",
            property="targetTrackingScalingPolicyConfiguration.scaleOutCooldown",
        ),
        Source("service.fastScaleOut.cooldown", property="stepScalingPolicyConfiguration.cooldown"),
    ),
    "ecs-capacity-provider-termination-protection": _any("cluster.managedTerminationProtection"),
    "ecs-service-prod-minimum-healthy-percent": _any("service.minimumHealthyPercent"),
    "ecs-service-deployment-headroom": _any(
        "service.minimumHealthyPercent", "service.maximumPercent"
    ),
    "dns-health-check-detection-within-target": _any(
        "dns.healthCheckInterval", "dns.failureThreshold"
    ),
    "connectivity-alarm-detection-within-target": _any("connectivity.probeIntervalSeconds"),
    "alarm-topics-have-subscriber": _any("connectivity.alarmEmails", "connectivity.alarmWebhooks"),
    "chaos-schedule-cadence": _any(
        "chaos.cadence", "chaos.weekday", "chaos.hour", "chaos.timezone"
    ),
    "chaos-schedule-enabled-in-prod": _any("chaos.schedulesEnabled"),
    "fis-templates-scheduled-in-prod": _any("chaos.schedulesEnabled"),
    "teardown-armed": _any("teardown.allowDataLoss"),
    "lb-internet-facing-waf": _any("loadBalancer.waf"),
    "db-app-secret-rotation": _any("database.rotationDays"),
}
"""Policy name -> the settings that build what it judges."""

_ALWAYS = "the program always builds it this way; no setting turns it off"
_NO_SUCH = "the program builds no resource of this kind"
_DERIVED = "derived by the program from other resources, never from a setting's value"

NOT_FROM_SETTINGS: dict[str, str] = {
    "security-group-no-world-admin-ingress": _ALWAYS,
    "security-group-descriptions": _ALWAYS,
    "subnet-private-no-public-ip": _ALWAYS,
    "vpc-flow-logs-enabled": _ALWAYS,
    "lb-drop-invalid-headers": _ALWAYS,
    "lb-desync-mitigation-defensive": _ALWAYS,
    "lb-tls-policy-modern": _ALWAYS,
    "ecs-service-no-public-ip": _ALWAYS,
    "ecs-service-circuit-breaker": _ALWAYS,
    "ecs-service-deployment-alarms": _ALWAYS,
    "ecs-task-no-host-pid": _ALWAYS,
    "ecs-task-distinct-roles": _ALWAYS,
    "containers-not-privileged": _ALWAYS,
    "containers-readonly-root-filesystem": _ALWAYS,
    "containers-no-plaintext-secrets": _ALWAYS,
    "containers-log-configuration": _ALWAYS,
    "ecr-scan-on-push": _ALWAYS,
    "ecr-immutable-tags": _ALWAYS,
    "ecr-repository-has-lifecycle-policy": _ALWAYS,
    "rds-not-publicly-accessible": _ALWAYS,
    "rds-storage-encrypted": _ALWAYS,
    "rds-managed-master-password": _ALWAYS,
    "iam-no-admin-wildcard": _ALWAYS,
    "launch-template-imdsv2": _ALWAYS,
    "ecs-capacity-provider-managed-scaling": _ALWAYS,
    "ecs-service-autoscaling-attached": _ALWAYS,
    "dns-routing-ttl-ceiling": "the record TTL is the program's constant, not a setting",
    "dns-failover-primary-health-checked": _ALWAYS,
    "connectivity-alarms-missing-data-breaching": _ALWAYS,
    "alarms-notify-topic-in-stack": _ALWAYS,
    "vpc-endpoint-policy-scoped": _ALWAYS,
    "iam-service-trust-source-account": _ALWAYS,
    "s3-bucket-server-access-logging": _ALWAYS,
    "security-group-no-world-high-risk-ports": _ALWAYS,
    "security-group-world-ingress-authorized-ports": (
        "the internet reaches only the load balancers' listeners on 80 and 443; "
        "service.containerPort opens only to the load balancer's security group"
    ),
    "network-acl-no-world-admin-ingress": _NO_SUCH,
    "vpc-default-security-group-closed": _ALWAYS,
    "hosts-no-public-ip": _ALWAYS,
    "hosts-encrypted-volumes": _ALWAYS,
    "autoscaling-group-launch-template": _ALWAYS,
    "containers-non-root-user": _ALWAYS,
    "containers-no-added-capabilities": _ALWAYS,
    "containers-image-pinned-by-digest": (
        "the program pins every image by digest; release.pins refuses a reference without one"
    ),
    "ecs-task-no-host-network": _ALWAYS,
    "ecs-task-no-host-ipc": _ALWAYS,
    "ecs-task-efs-transit-encryption": _NO_SUCH,
    "sns-topic-encrypted": _ALWAYS,
    "kms-key-rotation": _ALWAYS,
    "s3-public-access-block-on": _ALWAYS,
    "s3-bucket-public-access-blocked": _ALWAYS,
    "s3-bucket-tls-only": _ALWAYS,
    "s3-bucket-acls-disabled": _ALWAYS,
    "s3-bucket-lifecycle": _ALWAYS,
    "s3-bucket-aborts-incomplete-uploads": _ALWAYS,
    "iam-no-service-wildcard-on-all-resources": _ALWAYS,
    "iam-no-privileged-action-on-all-resources": _ALWAYS,
    "iam-role-trust-not-public": _ALWAYS,
    "resource-policy-not-public": _ALWAYS,
    "iam-no-user-policies": _NO_SUCH,
    "iam-no-admin-managed-policies": _ALWAYS,
    "rds-auto-minor-version-upgrade": _ALWAYS,
    "rds-log-exports": _ALWAYS,
    "rds-copy-tags-to-snapshots": _ALWAYS,
    "rds-custom-admin-username": _ALWAYS,
    "rds-enhanced-monitoring": _ALWAYS,
    "rds-force-tls": _ALWAYS,
    "rds-isolated-subnets": _ALWAYS,
    "rds-instance-event-subscription": _ALWAYS,
    "rds-parameter-group-event-subscription": _ALWAYS,
    "rds-event-subscription-delivers": _ALWAYS,
    "capacity-provider-asg-scale-in-protection": _DERIVED,
    "ecs-service-placement-allows-scale-in": _DERIVED,
    "ecs-service-deployment-alarms-roll-back": _ALWAYS,
    "ecs-deployment-alarms-exist": _DERIVED,
    "dns-alarm-health-check-unhealthy-on-missing-data": _ALWAYS,
    "dns-public-zone-query-logging": _ALWAYS,
    "ecs-exec-encrypted": (
        "operations.ecsExec only adds or removes ECS Exec; when on, the program always encrypts "
        "the sessions with its own key"
    ),
    "fis-template-alarm-stop-condition": _ALWAYS,
    "fis-template-logs": _ALWAYS,
    "fis-template-bounded-targets": _ALWAYS,
    "chaos-schedule-failures-kept": _ALWAYS,
    "lambda-permission-not-public": _ALWAYS,
    "lambda-supported-runtime": _ALWAYS,
    "lambda-async-failures-kept": _ALWAYS,
    "aws-create-time-limits": (
        "a setting's bounds are AWS's create-time limits (tests/settings/test_settings_limits.py), "
        "so no value a setting accepts breaks one"
    ),
    "waf-web-acl-logging": _ALWAYS,
    "waf-web-acl-managed-rules": _ALWAYS,
}
"""Policy name -> why no setting changes what it judges on this program's resources."""


def _parts(urn: str) -> tuple[str, str, list[str]] | None:
    """(stack, project, the type chain outermost first) of ``urn:pulumi:<stack>::<project>::<chain>::<name>``."""
    if not urn.startswith("urn:pulumi:"):
        return None
    parts = urn[len("urn:pulumi:") :].split("::", 3)
    if len(parts) != 4:
        return None
    stack, project, chain, _name = parts
    return stack, project, chain.split("$")


def setting_sources(policy: str, chain: list[str], prop: str | None = None) -> list[str]:
    """The settings (dotted keys) behind ``policy``'s verdict on a resource whose type chain is
    ``chain``, for a violation on ``prop`` (None: not said); empty when the resource was not built
    by the program's components."""
    components = [t for t in chain[:-1] if t.startswith(f"{COMPONENT_PACKAGE}:")]
    if not components:
        return []
    keys: list[str] = []
    for source in SETTING_KEYS.get(policy, ()):
        in_component = source.component is None or source.component in components
        on_property = source.property is None or prop is None or source.property == prop
        if in_component and on_property and source.key not in keys:
            keys.append(source.key)
    return keys


def settings_hint(policy: str, urn: str | None, prop: str | None = None) -> str:
    """What to append to ``policy``'s violation on the resource ``urn`` (on its property
    ``prop``, when the check says): the settings to change, in the project's namespace and the
    stack's file; empty when no setting built it."""
    parsed = _parts(urn or "")
    if parsed is None:
        return ""
    stack, project, chain = parsed
    keys = setting_sources(policy, chain, prop)
    if not keys:
        return ""
    names = " or ".join(f"{project}:{key}" for key in keys)
    return f" Built from settings: change {names} in Pulumi.{stack}.yaml."
