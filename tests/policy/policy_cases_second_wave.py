"""Violating and compliant inputs for the second wave of resource policies (issue 12)."""

from __future__ import annotations

from policy_cases import GOOD_RDS, GOOD_SERVICE, Case, container, policy_doc, task, with_

from policy.guardrails import aws_types as t

DIGEST = "sha256:" + "a" * 64
PINNED = f"123456789012.dkr.ecr.us-east-2.amazonaws.com/app@{DIGEST}"
HARDENED = container(image=PINNED, user="10001:10001")


def sg(*rules: dict) -> dict:
    return {"description": "web", "ingress": list(rules)}


def rule(port: int, cidr: str = "0.0.0.0/0", to: int | None = None, v6: bool = False) -> dict:
    key = "ipv6CidrBlocks" if v6 else "cidrBlocks"
    return {
        "protocol": "tcp",
        "fromPort": port,
        "toPort": to or port,
        key: [cidr],
        "description": "x",
    }


GOOD_LT = {
    "imageId": "ami-1",
    "metadataOptions": {"httpTokens": "required"},
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30, "encrypted": "true"}}
    ],
}

GOOD_ASG = {
    "minSize": 1,
    "maxSize": 3,
    "vpcZoneIdentifiers": ["subnet-a", "subnet-b"],
    "launchTemplate": {"id": "lt-1", "version": "$Latest"},
    "protectFromScaleIn": True,
}

TRUST_ECS = policy_doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)

TRACKING = "targetTrackingScalingPolicyConfiguration"

SECOND_WAVE_CASES = [
    Case(
        "security-group-no-world-high-risk-ports",
        t.SECURITY_GROUP,
        sg(rule(5432)),
        sg(rule(443), rule(5432, "10.0.0.0/16")),
        "referencedSecurityGroupId",
    ),
    Case(
        "security-group-no-world-high-risk-ports",
        t.SG_INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379, "cidrIpv6": "::/0"},
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "::/0"},
        "allow only known sources",
    ),
    Case(
        "security-group-no-world-high-risk-ports",
        t.SECURITY_GROUP_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 3306,
            "toPort": 3306,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 3306,
            "toPort": 3306,
            "cidrBlocks": ["10.0.0.0/8"],
        },
        "allow only known sources",
    ),
    Case(
        "security-group-world-ingress-authorized-ports",
        t.SG_INGRESS_RULE,
        {"ipProtocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrIpv4": "0.0.0.0/0"},
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"},
        "allow only known sources",
    ),
    Case(
        "security-group-world-ingress-authorized-ports",
        t.SECURITY_GROUP,
        sg(rule(80, to=443)),
        sg(rule(80), rule(443, "::/0", v6=True)),
        "allow only known sources",
    ),
    Case(
        "network-acl-no-world-admin-ingress",
        t.NETWORK_ACL_RULE,
        {
            "networkAclId": "acl-1",
            "ruleNumber": 100,
            "egress": False,
            "protocol": "tcp",
            "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0",
            "fromPort": 22,
            "toPort": 22,
        },
        {
            "networkAclId": "acl-1",
            "ruleNumber": 100,
            "egress": False,
            "protocol": "tcp",
            "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0",
            "fromPort": 443,
            "toPort": 443,
        },
        "set its action to deny",
    ),
    Case(
        "network-acl-no-world-admin-ingress",
        t.NETWORK_ACL,
        {
            "vpcId": "vpc-1",
            "ingress": [
                {
                    "ruleNo": 100,
                    "protocol": "-1",
                    "action": "allow",
                    "cidrBlock": "0.0.0.0/0",
                    "fromPort": 0,
                    "toPort": 0,
                }
            ],
        },
        {
            "vpcId": "vpc-1",
            "ingress": [
                {
                    "ruleNo": 100,
                    "protocol": "-1",
                    "action": "deny",
                    "cidrBlock": "0.0.0.0/0",
                    "fromPort": 0,
                    "toPort": 0,
                }
            ],
        },
        "narrow the rule's cidrBlock",
    ),
    Case(
        "hosts-no-public-ip",
        t.LAUNCH_TEMPLATE,
        with_(
            GOOD_LT,
            networkInterfaces=[{"associatePublicIpAddress": "true", "securityGroups": ["sg-1"]}],
        ),
        with_(
            GOOD_LT,
            networkInterfaces=[{"associatePublicIpAddress": "false", "securityGroups": ["sg-1"]}],
        ),
        'associatePublicIpAddress="false"',
    ),
    Case(
        "hosts-no-public-ip",
        t.INSTANCE,
        {"ami": "ami-1", "associatePublicIpAddress": True},
        {"ami": "ami-1", "associatePublicIpAddress": False},
        "associatePublicIpAddress=false",
    ),
    Case(
        "hosts-encrypted-volumes",
        t.LAUNCH_TEMPLATE,
        {"imageId": "ami-1"},
        GOOD_LT,
        'encrypted: "true"',
    ),
    Case(
        "hosts-encrypted-volumes",
        t.INSTANCE,
        {"ami": "ami-1", "rootBlockDevice": {"encrypted": False}},
        {"ami": "ami-1", "rootBlockDevice": {"encrypted": True}},
        "rootBlockDevice={encrypted: true",
    ),
    Case(
        "hosts-encrypted-volumes",
        t.EBS_VOLUME,
        {"availabilityZone": "us-east-2a", "size": 10},
        {"availabilityZone": "us-east-2a", "size": 10, "encrypted": True},
        "encrypted=true",
    ),
    Case(
        "autoscaling-group-multi-az",
        t.AUTOSCALING_GROUP,
        with_(GOOD_ASG, vpcZoneIdentifiers=["subnet-a"]),
        GOOD_ASG,
        "at least two Availability Zones",
    ),
    Case(
        "autoscaling-group-launch-template",
        t.AUTOSCALING_GROUP,
        {
            "minSize": 1,
            "maxSize": 2,
            "vpcZoneIdentifiers": ["a", "b"],
            "launchConfiguration": "old-lc",
        },
        GOOD_ASG,
        "set launchTemplate={id",
    ),
    Case(
        "containers-non-root-user",
        t.ECS_TASK_DEFINITION,
        task(HARDENED, container(name="sidecar", image=PINNED, user="0:0")),
        task(HARDENED),
        '"user": "<uid>:<gid>"',
    ),
    Case(
        "containers-no-added-capabilities",
        t.ECS_TASK_DEFINITION,
        task(container(linuxParameters={"capabilities": {"add": ["SYS_ADMIN"], "drop": []}})),
        task(container(linuxParameters={"capabilities": {"drop": ["ALL"]}})),
        "remove SYS_ADMIN from linuxParameters.capabilities.add",
    ),
    Case(
        "containers-image-pinned-by-digest",
        t.ECS_TASK_DEFINITION,
        task(container(image="public.ecr.aws/nginx/nginx:latest")),
        task(HARDENED),
        "<repository>@sha256:<digest>",
    ),
    Case(
        "ecs-task-no-host-network",
        t.ECS_TASK_DEFINITION,
        task(HARDENED, networkMode="host"),
        task(HARDENED, networkMode="bridge"),
        'networkMode="awsvpc"',
    ),
    Case(
        "ecs-task-no-host-ipc",
        t.ECS_TASK_DEFINITION,
        task(HARDENED, ipcMode="host"),
        task(HARDENED, ipcMode="task"),
        'ipcMode="task"',
    ),
    Case(
        "ecs-task-efs-transit-encryption",
        t.ECS_TASK_DEFINITION,
        task(
            HARDENED, volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
        ),
        task(
            HARDENED,
            volumes=[
                {
                    "name": "data",
                    "efsVolumeConfiguration": {
                        "fileSystemId": "fs-1",
                        "transitEncryption": "ENABLED",
                    },
                }
            ],
        ),
        'transitEncryption="ENABLED"',
    ),
    Case(
        "sns-topic-encrypted",
        t.SNS_TOPIC,
        {"name": "alerts"},
        {"name": "alerts", "kmsMasterKeyId": "arn:aws:kms:us-east-2:1:key/abc"},
        "set kmsMasterKeyId",
    ),
    Case(
        "kms-key-rotation",
        t.KMS_KEY,
        {"description": "alerts", "enableKeyRotation": False},
        {"description": "alerts", "enableKeyRotation": True},
        "enableKeyRotation=true",
    ),
    Case(
        "s3-public-access-block-on",
        t.S3_PUBLIC_ACCESS_BLOCK,
        {
            "bucket": "logs",
            "blockPublicAcls": True,
            "blockPublicPolicy": False,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        {
            "bucket": "logs",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        "blockPublicPolicy=true",
    ),
    Case(
        "iam-no-service-wildcard-on-all-resources",
        t.IAM_ROLE_POLICY,
        {
            "role": "app",
            "policy": policy_doc({"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}),
        },
        {
            "role": "app",
            "policy": policy_doc(
                {"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::logs/*"}
            ),
        },
        "replace s3:* with the exact actions",
    ),
    Case(
        "iam-no-privileged-action-on-all-resources",
        t.IAM_POLICY,
        {
            "policy": policy_doc(
                {"Effect": "Allow", "Action": ["iam:PassRole", "ecs:RunTask"], "Resource": "*"}
            )
        },
        {
            "policy": policy_doc(
                {
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": "arn:aws:iam::1:role/app",
                    "Condition": {
                        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                    },
                }
            )
        },
        "iam:PassedToService",
    ),
    Case(
        "iam-no-privileged-action-on-all-resources",
        t.IAM_ROLE,
        {
            "assumeRolePolicy": TRUST_ECS,
            "inlinePolicies": [
                {
                    "name": "kms",
                    "policy": policy_doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
                }
            ],
        },
        {
            "assumeRolePolicy": TRUST_ECS,
            "inlinePolicies": [
                {
                    "name": "kms",
                    "policy": policy_doc(
                        {
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": "arn:aws:kms:us-east-2:1:key/abc",
                        }
                    ),
                }
            ],
        },
        "set Resource to the exact ARNs",
    ),
    Case(
        "iam-role-trust-not-public",
        t.IAM_ROLE,
        {
            "assumeRolePolicy": policy_doc(
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            )
        },
        {"assumeRolePolicy": TRUST_ECS},
        '"aws:SourceAccount"',
    ),
    Case(
        "resource-policy-not-public",
        t.SNS_TOPIC_POLICY,
        {
            "arn": "arn:aws:sns:us-east-2:1:alerts",
            "policy": policy_doc(
                {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
            ),
        },
        {
            "arn": "arn:aws:sns:us-east-2:1:alerts",
            "policy": policy_doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sns:Publish",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "1"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ),
        },
        "set Principal to the exact service",
    ),
    Case(
        "resource-policy-not-public",
        t.KMS_KEY,
        {
            "enableKeyRotation": True,
            "policy": policy_doc(
                {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "kms:*", "Resource": "*"}
            ),
        },
        {
            "enableKeyRotation": True,
            "policy": policy_doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::1:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
        },
        "set Principal to the exact service",
    ),
    Case(
        "iam-no-user-policies",
        t.IAM_POLICY_ATTACHMENT,
        {"name": "deploy", "policyArn": "arn:aws:iam::1:policy/deploy", "users": ["deployer"]},
        {"name": "deploy", "policyArn": "arn:aws:iam::1:policy/deploy", "roles": ["app"]},
        "attach the policy to a role",
    ),
    Case(
        "iam-no-admin-managed-policies",
        t.IAM_ROLE_POLICY_ATTACHMENT,
        {"role": "app", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        {
            "role": "app",
            "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
        },
        "customer managed or inline policy",
    ),
    Case(
        "rds-auto-minor-version-upgrade",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, autoMinorVersionUpgrade=False),
        GOOD_RDS,
        "autoMinorVersionUpgrade=true",
    ),
    Case(
        "rds-log-exports",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, enabledCloudwatchLogsExports=["upgrade"]),
        with_(GOOD_RDS, enabledCloudwatchLogsExports=["postgresql", "upgrade"]),
        'enabledCloudwatchLogsExports=["postgresql"]',
    ),
    Case(
        "rds-copy-tags-to-snapshots",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, copyTagsToSnapshot=False),
        with_(GOOD_RDS, copyTagsToSnapshot=True),
        "copyTagsToSnapshot=true",
    ),
    Case(
        "rds-enhanced-monitoring",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, monitoringInterval=0),
        GOOD_RDS,
        "set monitoringInterval=60",
    ),
    Case(
        "rds-custom-admin-username",
        t.RDS_INSTANCE,
        with_(GOOD_RDS, username="postgres"),
        with_(GOOD_RDS, username="app_admin"),
        "set username to a name of your own",
    ),
    Case(
        "dns-health-check-detection-within-target",
        t.DNS_HEALTH_CHECK,
        {"type": "HTTPS", "fqdn": "alb.example.com", "resourcePath": "/health", "port": 443},
        {
            "type": "HTTPS",
            "fqdn": "alb.example.com",
            "resourcePath": "/health",
            "port": 443,
            "requestInterval": 10,
            "failureThreshold": 3,
        },
        "set requestInterval=10 and failureThreshold=3 or less",
    ),
    Case(
        "dns-alarm-health-check-unhealthy-on-missing-data",
        t.DNS_HEALTH_CHECK,
        {
            "type": "CLOUDWATCH_METRIC",
            "cloudwatchAlarmName": "a",
            "cloudwatchAlarmRegion": "us-east-2",
            "insufficientDataHealthStatus": "Healthy",
        },
        {
            "type": "CLOUDWATCH_METRIC",
            "cloudwatchAlarmName": "a",
            "cloudwatchAlarmRegion": "us-east-2",
            "insufficientDataHealthStatus": "Unhealthy",
        },
        'insufficientDataHealthStatus="Unhealthy"',
    ),
    Case(
        "connectivity-alarm-detection-within-target",
        t.METRIC_ALARM,
        {
            "metricName": "db-connectivity",
            "namespace": "steadystate",
            "period": 300,
            "evaluationPeriods": 3,
        },
        {
            "metricName": "db-connectivity",
            "namespace": "steadystate",
            "period": 60,
            "evaluationPeriods": 2,
            "datapointsToAlarm": 2,
        },
        "datapointsToAlarm (and evaluationPeriods) to at most 3",
    ),
    Case(
        "ecs-service-prod-minimum-healthy-percent",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=50),
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=100, deploymentMaximumPercent=200),
        "deploymentMinimumHealthyPercent=100",
    ),
    Case(
        "ecs-service-deployment-headroom",
        t.ECS_SERVICE,
        with_(GOOD_SERVICE, deploymentMaximumPercent=100),
        with_(GOOD_SERVICE, deploymentMinimumHealthyPercent=50, deploymentMaximumPercent=100),
        "deploymentMaximumPercent=200",
    ),
    Case(
        "ecs-service-deployment-alarms-roll-back",
        t.ECS_SERVICE,
        with_(
            GOOD_SERVICE, alarms={"alarmNames": ["web-latency"], "enable": True, "rollback": False}
        ),
        GOOD_SERVICE,
        "alarms.rollback=true",
    ),
    Case(
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        {
            "policyType": "TargetTrackingScaling",
            "resourceId": "service/main/web",
            TRACKING: {
                "targetValue": 60,
                "predefinedMetricSpecification": {
                    "predefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
            },
        },
        {
            "policyType": "TargetTrackingScaling",
            "resourceId": "service/main/web",
            TRACKING: {
                "targetValue": 60,
                "scaleOutCooldown": 60,
                "scaleInCooldown": 300,
                "predefinedMetricSpecification": {
                    "predefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
            },
        },
        f"{TRACKING}.scaleOutCooldown=60",
    ),
    Case(
        "autoscaling-scale-out-cooldown",
        t.SCALING_POLICY,
        {
            "policyType": "StepScaling",
            "resourceId": "service/main/web",
            "stepScalingPolicyConfiguration": {
                "cooldown": 600,
                "stepAdjustments": [{"scalingAdjustment": 2, "metricIntervalLowerBound": "0"}],
            },
        },
        {
            "policyType": "StepScaling",
            "resourceId": "service/main/web",
            "stepScalingPolicyConfiguration": {
                "cooldown": 600,
                "stepAdjustments": [{"scalingAdjustment": -1, "metricIntervalUpperBound": "0"}],
            },
        },
        "stepScalingPolicyConfiguration.cooldown=60",
    ),
    Case(
        "ecs-capacity-provider-termination-protection",
        t.ECS_CAPACITY_PROVIDER,
        {
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": "arn:asg",
                "managedTerminationProtection": "DISABLED",
            }
        },
        {
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": "arn:asg",
                "managedTerminationProtection": "ENABLED",
            }
        },
        'managedTerminationProtection="ENABLED"',
    ),
    Case(
        "rds-event-subscription-delivers",
        t.RDS_EVENT_SUBSCRIPTION,
        {"snsTopic": "arn:aws:sns:us-east-2:123456789012:alerts", "enabled": False},
        {
            "snsTopic": "arn:aws:sns:us-east-2:123456789012:alerts",
            "sourceType": "db-instance",
            "eventCategories": ["maintenance", "configuration change", "failure"],
            "enabled": True,
        },
        "set enabled=true",
    ),
    Case(
        "rds-event-subscription-delivers",
        t.RDS_EVENT_SUBSCRIPTION,
        {"snsTopic": "arn:aws:sqs:us-east-2:123456789012:events", "sourceType": "db-instance"},
        {"snsTopic": "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts.fifo"},
        "set snsTopic to the ARN of an aws:sns/topic",
    ),
]
