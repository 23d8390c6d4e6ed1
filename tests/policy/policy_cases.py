"""Inputs for the resource-policy tests: per policy, a violating and a compliant resource."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from policy.guardrails import aws_types as t

GOOD_CONTAINER = {
    "name": "web",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:abc",
    "readonlyRootFilesystem": True,
    "privileged": False,
    "environment": [{"name": "PORT", "value": "8080"}, {"name": "DB_SECRET_ARN", "value": "arn"}],
    "secrets": [
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:db"}
    ],
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
}


def task(*containers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"family": "web", "containerDefinitions": json.dumps(list(containers)), **extra}


def container(**changes: Any) -> dict[str, Any]:
    merged = {**GOOD_CONTAINER, **changes}
    return {k: v for k, v in merged.items() if v is not None}


GOOD_ALB = {
    "loadBalancerType": "application",
    "subnets": ["subnet-a", "subnet-b"],
    "accessLogs": {"bucket": "logs", "enabled": True},
    "enableDeletionProtection": True,
    "dropInvalidHeaderFields": True,
    "desyncMitigationMode": "defensive",
}

GOOD_SERVICE = {
    "name": "web",
    "cluster": "arn:aws:ecs:eu-west-1:1:cluster/main",
    "networkConfiguration": {"subnets": ["subnet-a"], "assignPublicIp": False},
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    "alarms": {"alarmNames": ["web-latency"], "enable": True, "rollback": True},
    "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}],
    "healthCheckGracePeriodSeconds": 60,
}

GOOD_RDS = {
    "engine": "postgres",
    "publiclyAccessible": False,
    "storageEncrypted": True,
    "backupRetentionPeriod": 7,
    "multiAz": True,
    "deletionProtection": True,
    "manageMasterUserPassword": True,
    "username": "app_admin",
    "autoMinorVersionUpgrade": True,
    "copyTagsToSnapshot": True,
    "enabledCloudwatchLogsExports": ["postgresql"],
    "monitoringInterval": 60,
    "monitoringRoleArn": "arn:aws:iam::123456789012:role/db-monitoring",
}

TRACKING = "targetTrackingScalingPolicyConfiguration"


def scaling_policy(target: float, metric: str = "ECSServiceAverageCPUUtilization") -> dict:
    return {
        "policyType": "TargetTrackingScaling",
        "resourceId": "service/main/web",
        TRACKING: {
            "targetValue": target,
            "predefinedMetricSpecification": {"predefinedMetricType": metric},
        },
    }


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass
class Case:
    policy: str
    type: str
    bad: dict[str, Any]
    good: dict[str, Any]
    fix: str
    """A fragment of the fix the violation message must carry (the property and value)."""
    config: dict[str, Any] | None = None


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


CASES = [
    Case(
        "security-group-no-world-admin-ingress",
        t.SECURITY_GROUP,
        {
            "description": "web",
            "ingress": [
                {
                    "protocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrBlocks": ["0.0.0.0/0"],
                    "description": "ssh",
                }
            ],
        },
        {
            "description": "web",
            "ingress": [
                {
                    "protocol": "tcp",
                    "fromPort": 443,
                    "toPort": 443,
                    "cidrBlocks": ["0.0.0.0/0"],
                    "description": "https",
                }
            ],
        },
        "remove the world CIDR",
    ),
    Case(
        "security-group-no-world-admin-ingress",
        t.SG_INGRESS_RULE,
        {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0", "securityGroupId": "sg-1"},
        {"ipProtocol": "-1", "referencedSecurityGroupId": "sg-alb", "securityGroupId": "sg-1"},
        "referencedSecurityGroupId",
    ),
    Case(
        "security-group-no-world-admin-ingress",
        t.SECURITY_GROUP_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 3000,
            "toPort": 3500,
            "ipv6CidrBlocks": ["::/0"],
        },
        {
            "type": "egress",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        "remove the world CIDR",
    ),
    Case(
        "security-group-descriptions",
        t.SECURITY_GROUP,
        {
            "description": "Managed by Pulumi",
            "ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80}],
        },
        {
            "description": "ALB",
            "ingress": [
                {
                    "protocol": "tcp",
                    "fromPort": 80,
                    "toPort": 80,
                    "description": "HTTP from the internet",
                }
            ],
        },
        "set description",
    ),
    Case(
        "security-group-descriptions",
        t.SG_EGRESS_RULE,
        {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
        {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0", "description": "all egress via NAT"},
        "set description",
    ),
    Case(
        "subnet-private-no-public-ip",
        t.SUBNET,
        {"mapPublicIpOnLaunch": True, "tags": {"Tier": "private"}},
        {"mapPublicIpOnLaunch": True, "tags": {"Tier": "public"}},
        "mapPublicIpOnLaunch=false",
    ),
    Case(
        "lb-access-logs-enabled",
        t.LOAD_BALANCERS[0],
        with_(GOOD_ALB, accessLogs={"bucket": "logs", "enabled": False}),
        GOOD_ALB,
        "accessLogs={bucket",
    ),
    Case(
        "lb-deletion-protection",
        t.LOAD_BALANCERS[1],
        with_(GOOD_ALB, enableDeletionProtection=False),
        GOOD_ALB,
        "enableDeletionProtection=true",
    ),
    Case(
        "lb-drop-invalid-headers",
        t.LOAD_BALANCERS[0],
        with_(GOOD_ALB, dropInvalidHeaderFields=False),
        GOOD_ALB,
        "dropInvalidHeaderFields=true",
    ),
    Case(
        "lb-desync-mitigation-defensive",
        t.LOAD_BALANCERS[0],
        with_(GOOD_ALB, desyncMitigationMode="monitor"),
        GOOD_ALB,
        'desyncMitigationMode="defensive"',
    ),
    Case(
        "lb-multi-az",
        t.LOAD_BALANCERS[0],
        with_(GOOD_ALB, subnets=["subnet-a"]),
        GOOD_ALB,
        "at least two Availability Zones",
    ),
    Case(
        "lb-http-redirects-to-https",
        t.LISTENERS[0],
        {
            "port": 80,
            "protocol": "HTTP",
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}],
        },
        {
            "port": 80,
            "protocol": "HTTP",
            "defaultActions": [
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                }
            ],
        },
        'redirect: {protocol: "HTTPS"',
    ),
    Case(
        "lb-tls-policy-modern",
        t.LISTENERS[0],
        {
            "port": 443,
            "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-2016-08",
            "certificateArn": "arn:cert",
        },
        {
            "port": 443,
            "protocol": "HTTPS",
            "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "certificateArn": "arn:cert",
        },
        'sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06"',
    ),
    Case(
        "lb-target-group-health-check",
        t.TARGET_GROUPS[0],
        {"port": 80, "protocol": "HTTP", "targetType": "ip"},
        {
            "port": 80,
            "protocol": "HTTP",
            "targetType": "ip",
            "healthCheck": {"enabled": True, "path": "/health", "matcher": "200"},
        },
        "healthCheck={enabled: true",
    ),
    Case(
        "ecs-cluster-container-insights",
        t.ECS_CLUSTER,
        {"name": "main", "settings": [{"name": "containerInsights", "value": "disabled"}]},
        {"name": "main", "settings": [{"name": "containerInsights", "value": "enabled"}]},
        'value: "enabled"',
    ),
    Case(
        "ecs-service-no-public-ip",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, networkConfiguration={"subnets": ["s"], "assignPublicIp": True}),
        GOOD_SERVICE,
        "assignPublicIp=false",
    ),
    Case(
        "ecs-service-circuit-breaker",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentCircuitBreaker={"enable": True, "rollback": False}),
        GOOD_SERVICE,
        "deploymentCircuitBreaker={enable: true, rollback: true}",
    ),
    Case(
        "ecs-service-deployment-alarms",
        t.ECS_SERVICE,
        {k: v for k, v in GOOD_SERVICE.items() if k != "alarms"},
        GOOD_SERVICE,
        "alarms={alarmNames",
    ),
    Case(
        "ecs-service-health-check-grace-period",
        t.ECS_SERVICE,
        {k: v for k, v in GOOD_SERVICE.items() if k != "healthCheckGracePeriodSeconds"},
        GOOD_SERVICE,
        "healthCheckGracePeriodSeconds to at least 30",
    ),
    Case(
        "ecs-task-no-host-pid",
        t.ECS_TASK_DEFINITION,
        task(GOOD_CONTAINER, pidMode="host"),
        task(GOOD_CONTAINER, pidMode="task"),
        'pidMode="task"',
    ),
    Case(
        "ecs-task-distinct-roles",
        t.ECS_TASK_DEFINITION,
        task(GOOD_CONTAINER, executionRoleArn="arn:role/a", taskRoleArn="arn:role/a"),
        task(GOOD_CONTAINER, executionRoleArn="arn:role/exec", taskRoleArn="arn:role/app"),
        "set taskRoleArn to a separate role",
    ),
    Case(
        "containers-not-privileged",
        t.ECS_TASK_DEFINITION,
        task(container(privileged=True)),
        task(GOOD_CONTAINER),
        '"privileged": false',
    ),
    Case(
        "containers-readonly-root-filesystem",
        t.ECS_TASK_DEFINITION,
        task(GOOD_CONTAINER, container(name="sidecar", readonlyRootFilesystem=None)),
        task(GOOD_CONTAINER),
        '"readonlyRootFilesystem": true',
    ),
    Case(
        "containers-no-plaintext-secrets",
        t.ECS_TASK_DEFINITION,
        task(container(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}])),
        task(GOOD_CONTAINER),
        '"valueFrom"',
    ),
    Case(
        "containers-log-configuration",
        t.ECS_TASK_DEFINITION,
        task(container(logConfiguration=None)),
        task(GOOD_CONTAINER),
        '"logDriver": "awslogs"',
    ),
    Case(
        "ecr-scan-on-push",
        t.ECR_REPOSITORY,
        {"imageScanningConfiguration": {"scanOnPush": False}, "imageTagMutability": "IMMUTABLE"},
        {"imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "IMMUTABLE"},
        "imageScanningConfiguration={scanOnPush: true}",
    ),
    Case(
        "ecr-immutable-tags",
        t.ECR_REPOSITORY,
        {"imageTagMutability": "MUTABLE"},
        {"imageTagMutability": "IMMUTABLE"},
        'imageTagMutability="IMMUTABLE"',
    ),
    Case(
        "ecr-lifecycle-policy-expires-images",
        t.ECR_LIFECYCLE_POLICY,
        {"repository": "web", "policy": json.dumps({"rules": []})},
        {
            "repository": "web",
            "policy": json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 14,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        },
        '"action": {"type": "expire"}',
    ),
    Case(
        "rds-not-publicly-accessible",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, publiclyAccessible=True),
        GOOD_RDS,
        "publiclyAccessible=false",
    ),
    Case(
        "rds-storage-encrypted",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, storageEncrypted=False),
        GOOD_RDS,
        "storageEncrypted=true",
    ),
    Case(
        "rds-backup-retention",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, backupRetentionPeriod=1),
        GOOD_RDS,
        "backupRetentionPeriod between 7 and 35",
    ),
    Case(
        "rds-multi-az",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, multiAz=False),
        GOOD_RDS,
        "multiAz=true",
    ),
    Case(
        "rds-deletion-protection",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, deletionProtection=False),
        GOOD_RDS,
        "deletionProtection=true",
    ),
    Case(
        "rds-managed-master-password",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, manageMasterUserPassword=False, password="hunter2hunter2"),
        GOOD_RDS,
        "manageMasterUserPassword=true",
    ),
    Case(
        "iam-no-admin-wildcard",
        t.IAM_ROLE_POLICY,
        {"role": "app", "policy": policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        {
            "role": "app",
            "policy": policy_doc(
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": "arn:aws:secretsmanager:::secret:db",
                }
            ),
        },
        "list the exact actions",
    ),
    Case(
        "iam-no-admin-wildcard",
        t.IAM_POLICY,
        {
            "policy": json.dumps(
                {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": ["*"]}}
            )
        },
        {
            "policy": json.dumps(
                {"Statement": {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ["*"]}}
            )
        },
        "in Resource",
    ),
    Case(
        "iam-no-admin-wildcard",
        t.IAM_ROLE,
        {
            "assumeRolePolicy": "{}",
            "inlinePolicies": [
                {
                    "name": "admin",
                    "policy": policy_doc(
                        {"Effect": "Allow", "Action": "*:*", "NotResource": "arn:x"}
                    ),
                }
            ],
        },
        {
            "assumeRolePolicy": "{}",
            "inlinePolicies": [
                {
                    "name": "deny",
                    "policy": policy_doc({"Effect": "Deny", "Action": "*", "Resource": "*"}),
                }
            ],
        },
        "in Action",
    ),
    Case(
        "log-group-retention",
        t.LOG_GROUP,
        {"name": "/ecs/web"},
        {"name": "/ecs/web", "retentionInDays": 30},
        "retentionInDays=30",
    ),
    Case(
        "launch-template-imdsv2",
        t.LAUNCH_TEMPLATE,
        {"metadataOptions": {"httpTokens": "optional"}},
        {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required"}},
        'httpTokens: "required"',
    ),
    Case(
        "ecs-capacity-provider-managed-scaling",
        t.ECS_CAPACITY_PROVIDER,
        {
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": "arn:asg",
                "managedScaling": {"status": "DISABLED"},
            }
        },
        {
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": "arn:asg",
                "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            }
        },
        'managedScaling={status: "ENABLED"',
    ),
    Case(
        "autoscaling-target-value-range",
        t.SCALING_POLICY,
        scaling_policy(95),
        scaling_policy(60),
        f"{TRACKING}.targetValue between 10 and 90",
    ),
    Case(
        "autoscaling-capacity-bounds",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 5, "maxCapacity": 4},
        {"serviceNamespace": "ecs", "minCapacity": 2, "maxCapacity": 20},
        "set 0 <= minCapacity <= maxCapacity <= 20",
    ),
    Case(
        "step-scaling-bounded",
        t.SCALING_POLICY,
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 50}],
            },
        },
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [
                    {
                        "metricIntervalLowerBound": "0",
                        "metricIntervalUpperBound": "20",
                        "scalingAdjustment": 2,
                    },
                    {"metricIntervalLowerBound": "20", "scalingAdjustment": 4},
                ],
            },
        },
        "set it between 1 and 10; scale-in belongs to target tracking",
    ),
    Case(
        "step-scaling-bounded",
        t.SCALING_POLICY,
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [{"metricIntervalUpperBound": "0", "scalingAdjustment": -3}],
            },
        },
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [
                    {
                        "metricIntervalLowerBound": "0",
                        "metricIntervalUpperBound": "20",
                        "scalingAdjustment": 2,
                    },
                    {"metricIntervalLowerBound": "20", "scalingAdjustment": 4},
                ],
            },
        },
        "scale-in belongs to target tracking",
    ),
    Case(
        "step-scaling-bounded",
        t.SCALING_POLICY,
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "PercentChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 2}],
            },
        },
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [
                    {
                        "metricIntervalLowerBound": "0",
                        "metricIntervalUpperBound": "20",
                        "scalingAdjustment": 2,
                    },
                    {"metricIntervalLowerBound": "20", "scalingAdjustment": 4},
                ],
            },
        },
        "set stepScalingPolicyConfiguration.adjustmentType=ChangeInCapacity",
    ),
    Case(
        "step-scaling-bounded",
        t.SCALING_POLICY,
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 5,
                "stepAdjustments": [{"metricIntervalLowerBound": "0", "scalingAdjustment": 2}],
            },
        },
        {
            "policyType": "StepScaling",
            "stepScalingPolicyConfiguration": {
                "adjustmentType": "ChangeInCapacity",
                "cooldown": 60,
                "stepAdjustments": [
                    {
                        "metricIntervalLowerBound": "0",
                        "metricIntervalUpperBound": "20",
                        "scalingAdjustment": 2,
                    },
                    {"metricIntervalLowerBound": "20", "scalingAdjustment": 4},
                ],
            },
        },
        "set stepScalingPolicyConfiguration.cooldown to at least 30",
    ),
    Case(
        "autoscaling-prod-min-capacity",
        t.SCALABLE_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 1, "maxCapacity": 4},
        {"serviceNamespace": "ecs", "minCapacity": 2, "maxCapacity": 4},
        "set minCapacity=2 or more",
    ),
    Case(
        "dns-routing-ttl-ceiling",
        t.DNS_RECORD,
        {
            "name": "api",
            "type": "CNAME",
            "ttl": 300,
            "records": ["a"],
            "failoverRoutingPolicies": [{"type": "PRIMARY"}],
        },
        {
            "name": "api",
            "type": "CNAME",
            "ttl": 60,
            "records": ["a"],
            "failoverRoutingPolicies": [{"type": "PRIMARY"}],
        },
        "set ttl=60",
    ),
    Case(
        "connectivity-alarms-missing-data-breaching",
        t.METRIC_ALARM,
        {
            "metricName": "db-connectivity",
            "namespace": "steadystate",
            "treatMissingData": "notBreaching",
        },
        {
            "metricName": "db-connectivity",
            "namespace": "steadystate",
            "treatMissingData": "breaching",
        },
        'treatMissingData="breaching"',
    ),
    Case(
        "iam-service-trust-source-account",
        t.IAM_ROLE,
        {
            "assumeRolePolicy": policy_doc(
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                }
            )
        },
        {
            "assumeRolePolicy": policy_doc(
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": "123456789012"},
                        "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-2:123456789012:*"},
                    },
                }
            )
        },
        '"aws:SourceAccount": "<account>"',
    ),
]

# The second wave of resource policies (issue 12) keeps its inputs beside this file.
from policy_cases_second_wave import SECOND_WAVE_CASES  # noqa: E402

CASES += SECOND_WAVE_CASES

# Chaos as a practice (issue 11): FIS templates and their schedules.
from policy_cases_chaos import CHAOS_CASES  # noqa: E402

CASES += CHAOS_CASES

from policy_cases_lambda import LAMBDA_CASES  # noqa: E402

CASES += LAMBDA_CASES

# Tests that know AWS's rules (issue 20): values AWS rejects at create time.
from policy_cases_create_limits import CREATE_LIMIT_CASES  # noqa: E402

CASES += CREATE_LIMIT_CASES

# A first `pulumi up` that works (issue 19): a prod stack armed for teardown is reported.
CASES += [
    Case(
        "teardown-armed",
        t.LOAD_BALANCERS[0],
        with_(GOOD_ALB, enableDeletionProtection=False, tags={"Teardown": "armed"}),
        GOOD_ALB,
        "steadystate:teardown.allowDataLoss to false",
    ),
    Case(
        "teardown-armed",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, deletionProtection=False, tags={"Teardown": "armed"}),
        GOOD_RDS,
        "steadystate:teardown.allowDataLoss to false",
    ),
]

from policy_cases_waf import WAF_CASES  # noqa: E402

CASES += WAF_CASES
CASES.append(
    Case(
        "lb-zonal-shift-enabled",
        t.LOAD_BALANCERS[0],
        GOOD_ALB,
        with_(GOOD_ALB, enableZonalShift=True),
        "enableZonalShift=true",
    )
)
