"""The control-by-control coverage table of docs/reference/controls.md: every AWS Security Hub
FSBP control for the services this program uses (EC2, Auto Scaling, ECS, ELB, RDS, S3, SNS, KMS, IAM, ECR,
CloudWatch, Route 53, Lambda, EventBridge, WAF, Secrets Manager), with the policies that enforce it or why none does;
and operational rows (SNS delivery, Route 53 failover, FIS, Scheduler) for rules no FSBP control
asks for.

Run from the project root: ``python -m policy.guardrails.coverage``. Every policy named here must
exist in the pack (tests/policy/test_policy_coverage.py checks it, and that the table is current).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .catalogue import markdown_cell


@dataclass(frozen=True)
class Control:
    """One FSBP control: ``policies`` enforce it, else ``reason`` says why none does."""

    id: str
    title: str
    policies: tuple[str, ...] = ()
    reason: str = ""
    checkov: str = ""


ACCOUNT = (
    "account-level setting, not a resource this stack creates (belongs to the account baseline)"
)
CLASSIC = "Classic Load Balancer only; the program creates Application Load Balancers"
NOT_CREATED = "the program creates no such resource and its components cannot"

CONTROLS: tuple[Control, ...] = (
    # EC2 and VPC
    Control(
        "EC2.2",
        "VPC default security groups allow no traffic",
        ("vpc-default-security-group-closed",),
        checkov="CKV2_AWS_12",
    ),
    Control(
        "EC2.3",
        "Attached EBS volumes are encrypted",
        ("hosts-encrypted-volumes",),
        checkov="CKV_AWS_3/8",
    ),
    Control(
        "EC2.6", "VPC flow logging is enabled", ("vpc-flow-logs-enabled",), checkov="CKV2_AWS_11"
    ),
    Control(
        "EC2.7",
        "EBS default encryption is enabled",
        reason=ACCOUNT + "; hosts-encrypted-volumes encrypts this stack's volumes explicitly",
    ),
    Control("EC2.8", "Instances use IMDSv2", ("launch-template-imdsv2",), checkov="CKV_AWS_79"),
    Control(
        "EC2.9",
        "Instances have no public IPv4 address",
        ("hosts-no-public-ip",),
        checkov="CKV_AWS_88",
    ),
    Control(
        "EC2.10",
        "EC2 is reached through a VPC endpoint",
        reason="not adopted: nothing in the VPC calls the EC2 API (hosts and tasks call ECS, ECR, CloudWatch Logs, Secrets Manager and SSM); VPC endpoint rules are the edges rules' concern",
    ),
    Control(
        "EC2.15",
        "Subnets do not auto-assign public IPs",
        ("subnet-private-no-public-ip",),
        checkov="CKV_AWS_130",
    ),
    Control(
        "EC2.16",
        "Unused network ACLs are removed",
        reason="needs the live account (which ACLs are associated); the program creates no network ACLs",
    ),
    Control(
        "EC2.17",
        "Instances do not use multiple ENIs",
        reason="ECS bridge-mode hosts use one ENI; awsvpc tasks get their own ENIs by design, which the control would flag falsely",
    ),
    Control(
        "EC2.18",
        "Security groups open only authorized ports to the world",
        ("security-group-world-ingress-authorized-ports",),
    ),
    Control(
        "EC2.19",
        "Security groups do not open high-risk ports to the world",
        ("security-group-no-world-high-risk-ports", "security-group-no-world-admin-ingress"),
        checkov="CKV_AWS_24/25/277",
    ),
    Control(
        "EC2.21",
        "Network ACLs do not allow 0.0.0.0/0 to 22 or 3389",
        ("network-acl-no-world-admin-ingress",),
    ),
    Control(
        "EC2.22",
        "Unused security groups are removed",
        reason="needs the live account (attachments); every group the program creates is attached",
    ),
    Control("EC2.25", "Launch templates assign no public IPs", ("hosts-no-public-ip",)),
    Control(
        "EC2.53/54",
        "Security groups block 0.0.0.0/0 and ::/0 to remote administration ports",
        ("security-group-no-world-admin-ingress",),
    ),
    Control(
        "EC2.55-57",
        "Interface endpoints for ECR API, Docker registry and Systems Manager",
        reason="prod creates all three (network.interfaceEndpoints: ecr.api, ecr.dkr, ssm, ssmmessages, logs, secretsmanager); dev turns them off and uses the NAT gateway to save cost, so no policy forces them; VPC endpoint rules are the edges rules' concern",
    ),
    Control("EC2.170", "Launch templates use IMDSv2", ("launch-template-imdsv2",)),
    Control(
        "EC2.172",
        "VPC Block Public Access blocks internet gateway traffic",
        reason=ACCOUNT + "; the public tier needs its internet gateway",
    ),
    # Auto Scaling
    Control(
        "AutoScaling.1",
        "Groups behind a load balancer use ELB health checks",
        reason="the group holds ECS container instances, not load-balancer targets; tasks are health-checked by the target group and replaced by ECS",
    ),
    Control(
        "AutoScaling.2", "Groups span multiple Availability Zones", ("autoscaling-group-multi-az",)
    ),
    Control(
        "AutoScaling.3",
        "Launch configurations require IMDSv2",
        ("autoscaling-group-launch-template", "launch-template-imdsv2"),
    ),
    Control(
        "AutoScaling.5",
        "Launch configurations assign no public IPs",
        ("autoscaling-group-launch-template", "hosts-no-public-ip"),
    ),
    Control(
        "AutoScaling.6",
        "Groups use several instance types in several AZs",
        reason="not adopted: one instance type keeps the ECS capacity-provider arithmetic exact; the group does span zones",
    ),
    Control(
        "AutoScaling.9",
        "Groups launch from launch templates",
        ("autoscaling-group-launch-template",),
    ),
    # ECS
    Control(
        "ECS.1",
        "Task definitions use secure networking modes and user definitions",
        ("ecs-task-no-host-network", "containers-non-root-user", "containers-not-privileged"),
    ),
    Control(
        "ECS.2",
        "Services assign no public IPs",
        ("ecs-service-no-public-ip",),
        checkov="CKV_AWS_333",
    ),
    Control(
        "ECS.3",
        "Task definitions do not share the host's process namespace",
        ("ecs-task-no-host-pid",),
        checkov="CKV_AWS_335",
    ),
    Control(
        "ECS.4",
        "Containers run non-privileged",
        ("containers-not-privileged",),
        checkov="CKV_AWS_334",
    ),
    Control(
        "ECS.5",
        "Containers have read-only root filesystems",
        ("containers-readonly-root-filesystem",),
        checkov="CKV_AWS_336",
    ),
    Control(
        "ECS.8",
        "Secrets are not passed as environment variables",
        ("containers-no-plaintext-secrets",),
    ),
    Control(
        "ECS.9", "Task definitions have a logging configuration", ("containers-log-configuration",)
    ),
    Control(
        "ECS.10",
        "Fargate services run the latest platform version",
        reason="the program runs on EC2 capacity, not Fargate",
    ),
    Control(
        "ECS.12",
        "Clusters use Container Insights",
        ("ecs-cluster-container-insights",),
        checkov="CKV_AWS_65",
    ),
    Control(
        "ECS.16",
        "Task sets assign no public IPs",
        reason=NOT_CREATED + " (task sets belong to the EXTERNAL deployment controller)",
    ),
    Control(
        "ECS.17", "Task definitions do not use host network mode", ("ecs-task-no-host-network",)
    ),
    Control(
        "ECS (IPC)",
        "Task definitions do not share the host's IPC namespace",
        ("ecs-task-no-host-ipc",),
    ),
    Control(
        "ECS.18",
        "EFS volumes use transit encryption",
        ("ecs-task-efs-transit-encryption",),
        checkov="CKV_AWS_97",
    ),
    Control(
        "ECS.19",
        "Capacity providers have managed termination protection",
        (
            "ecs-capacity-provider-termination-protection",
            "capacity-provider-asg-scale-in-protection",
        ),
    ),
    Control("ECS.20", "Linux containers run as non-root users", ("containers-non-root-user",)),
    Control(
        "ECS.21",
        "Windows containers run as non-administrators",
        reason="the image and AMI are Linux only",
    ),
    # ELB
    Control(
        "ELB.1",
        "HTTP listeners redirect to HTTPS",
        ("lb-http-redirects-to-https",),
        checkov="CKV2_AWS_20",
    ),
    Control(
        "ELB.2/3/7/8/9/10/14",
        "Classic Load Balancer certificates, listeners, draining, policies, zones, desync",
        reason=CLASSIC,
    ),
    Control(
        "ELB.4",
        "ALBs drop invalid HTTP headers",
        ("lb-drop-invalid-headers",),
        checkov="CKV_AWS_131",
    ),
    Control(
        "ELB.5", "Load balancers log access", ("lb-access-logs-enabled",), checkov="CKV_AWS_91"
    ),
    Control(
        "ELB.6",
        "Load balancers have deletion protection",
        ("lb-deletion-protection",),
        checkov="CKV_AWS_150",
    ),
    Control(
        "ELB.12",
        "ALBs use defensive or strictest desync mitigation",
        ("lb-desync-mitigation-defensive",),
        checkov="CKV_AWS_328",
    ),
    Control(
        "ELB.13",
        "Load balancers span multiple Availability Zones",
        ("lb-multi-az", "lb-subnets-distinct-azs"),
    ),
    Control(
        "ELB.16",
        "ALBs are associated with AWS WAF",
        ("lb-internet-facing-waf",),
        reason="prod only: dev may turn the web ACL off (loadBalancer.waf)",
        checkov="CKV2_AWS_28",
    ),
    Control(
        "ELB.17",
        "Listeners use a recommended TLS security policy",
        ("lb-tls-policy-modern",),
        checkov="CKV_AWS_103",
    ),
    # RDS
    Control("RDS.1", "Snapshots are private", reason=NOT_CREATED + " (no manual snapshots)"),
    Control(
        "RDS.2",
        "Instances are not publicly accessible",
        ("rds-not-publicly-accessible", "rds-isolated-subnets"),
        checkov="CKV_AWS_17",
    ),
    Control(
        "RDS.3", "Instances are encrypted at rest", ("rds-storage-encrypted",), checkov="CKV_AWS_16"
    ),
    Control(
        "RDS.4",
        "Snapshots are encrypted",
        ("rds-storage-encrypted",),
        reason="snapshots of an encrypted instance are encrypted",
    ),
    Control("RDS.5", "Instances are Multi-AZ", ("rds-multi-az",), checkov="CKV_AWS_157"),
    Control(
        "RDS.6",
        "Enhanced monitoring is on",
        ("rds-enhanced-monitoring",),
        checkov="CKV_AWS_118",
    ),
    Control(
        "RDS.8",
        "Instances have deletion protection",
        ("rds-deletion-protection",),
        checkov="CKV_AWS_293",
    ),
    Control(
        "RDS.9",
        "Instances publish logs to CloudWatch Logs",
        ("rds-log-exports",),
        checkov="CKV_AWS_129",
    ),
    Control(
        "RDS.10",
        "IAM authentication is configured",
        reason="not adopted: the Database component can turn it on (iam_database_authentication), but the app authenticates with the RDS-managed, RDS-rotated Secrets Manager password (rds-managed-master-password); IAM tokens would need the app to mint one every 15 minutes",
    ),
    Control(
        "RDS.11", "Automatic backups are enabled", ("rds-backup-retention",), checkov="CKV_AWS_133"
    ),
    Control(
        "RDS.13",
        "Automatic minor version upgrades are on",
        ("rds-auto-minor-version-upgrade",),
        checkov="CKV_AWS_226",
    ),
    Control("RDS.17", "Instances copy tags to snapshots", ("rds-copy-tags-to-snapshots",)),
    Control(
        "RDS.20",
        "Event subscriptions cover instance maintenance, configuration change and failure",
        ("rds-instance-event-subscription", "rds-event-subscription-delivers"),
        reason="the Database component subscribes its instance to the alert topic, whose key and topic policy admit events.rds.amazonaws.com for this account's RDS resources in the region",
    ),
    Control(
        "RDS.21",
        "Event subscriptions cover parameter group configuration changes",
        ("rds-parameter-group-event-subscription", "rds-event-subscription-delivers"),
    ),
    Control(
        "RDS.22",
        "Event subscriptions cover security group configuration changes and failures",
        ("rds-event-subscription-delivers",),
        reason="DB security groups are EC2-Classic only (retired 2022; pulumi-aws 7 has no aws:rds/securityGroup), so no stack resource needs one; the Database component still subscribes db-security-group (configuration change, failure), because Security Hub fails RDS.22 once any subscription exists without it",
    ),
    Control(
        "RDS.23",
        "Instances do not use the engine's default port",
        reason="not adopted: a non-default port is obscurity; the security group admits only the service, and the subnets are isolated",
    ),
    Control(
        "RDS.25", "Instances use a custom administrator user name", ("rds-custom-admin-username",)
    ),
    Control("RDS.36", "PostgreSQL instances publish logs to CloudWatch Logs", ("rds-log-exports",)),
    Control(
        "RDS (TLS)",
        "Connections are encrypted in transit (rds.force_ssl)",
        ("rds-force-tls",),
        checkov="CKV2_AWS_69",
    ),
    Control(
        "RDS.7/12/14/15/16/24/27/35",
        "Aurora cluster controls",
        reason="the program creates an RDS instance, not an Aurora cluster",
    ),
    # S3
    Control(
        "S3.1",
        "Account-level S3 Block Public Access",
        reason=ACCOUNT + "; every bucket gets its own block (S3.8)",
    ),
    Control(
        "S3.2/S3.3",
        "Buckets prohibit public read and write",
        ("s3-bucket-public-access-blocked", "resource-policy-not-public"),
    ),
    Control("S3.5", "Buckets require TLS", ("s3-bucket-tls-only",)),
    Control(
        "S3.8",
        "Bucket-level Block Public Access",
        ("s3-public-access-block-on", "s3-bucket-public-access-blocked"),
        checkov="CKV_AWS_53-56",
    ),
    Control(
        "S3.9",
        "Server access logging",
        reason="the only buckets hold load-balancer access logs; logging the log bucket would need a second bucket for no reader",
    ),
    Control("S3.12", "ACLs are not used", ("s3-bucket-acls-disabled",)),
    Control("S3.13", "Buckets have lifecycle configurations", ("s3-bucket-lifecycle",)),
    Control(
        "S3.14/S3.15",
        "Versioning and Object Lock",
        reason="not adopted: access logs are append-only records that expire; versioning would keep every expired object",
    ),
    Control(
        "S3.17",
        "Buckets are encrypted with KMS keys",
        reason="not adopted: ALB log delivery supports only SSE-S3 (AES256), which the bucket sets",
    ),
    # SNS
    Control(
        "SNS.1", "Topics are encrypted with KMS", ("sns-topic-encrypted",), checkov="CKV_AWS_26"
    ),
    Control(
        "SNS.4", "Topic access policies do not allow public access", ("resource-policy-not-public",)
    ),
    Control("SNS (delivery)", "Alarm topics reach someone", ("alarm-topics-have-subscriber",)),
    # KMS
    Control(
        "KMS.1/KMS.2",
        "IAM policies do not allow decryption on all KMS keys",
        ("iam-no-privileged-action-on-all-resources",),
    ),
    Control(
        "KMS.3",
        "Keys are not deleted unintentionally",
        reason="deletion is always an explicit `pulumi destroy` with a 7-day window (deletionWindowInDays)",
    ),
    Control("KMS.4", "Key rotation is enabled", ("kms-key-rotation",), checkov="CKV_AWS_7"),
    Control(
        "KMS.5",
        "Keys are not publicly accessible",
        ("resource-policy-not-public",),
        checkov="CKV_AWS_33",
    ),
    # IAM
    Control(
        "IAM.1",
        "Policies do not grant full administrative privileges",
        ("iam-no-admin-wildcard", "iam-no-admin-managed-policies"),
        checkov="CKV_AWS_62/63/355",
    ),
    Control(
        "IAM.2", "Users have no policies attached", ("iam-no-user-policies",), checkov="CKV_AWS_40"
    ),
    Control(
        "IAM.3-IAM.19, IAM.22",
        "Access keys, MFA, password policy, unused credentials",
        reason=ACCOUNT + " (the stack creates no users)",
    ),
    Control(
        "IAM.21",
        "Policies do not allow service-wide wildcards",
        ("iam-no-service-wildcard-on-all-resources",),
    ),
    Control(
        "IAM (trust)",
        "Roles cannot be assumed by anyone",
        ("iam-role-trust-not-public",),
        checkov="CKV_AWS_60",
    ),
    Control(
        "IAM (PassRole)",
        "iam:PassRole is not granted on *",
        ("iam-no-privileged-action-on-all-resources",),
        checkov="CKV_AWS_286",
    ),
    Control("IAM.27", "No AWSCloudShellFullAccess attachment", ("iam-no-admin-managed-policies",)),
    # ECR
    Control("ECR.1", "Image scanning is on", ("ecr-scan-on-push",), checkov="CKV_AWS_163"),
    Control(
        "ECR.2",
        "Tags are immutable",
        ("ecr-immutable-tags", "containers-image-pinned-by-digest"),
        checkov="CKV_AWS_51",
    ),
    Control(
        "ECR.3",
        "Repositories have a lifecycle policy",
        ("ecr-repository-has-lifecycle-policy", "ecr-lifecycle-policy-expires-images"),
    ),
    Control(
        "ECR.4",
        "Public repositories are tagged",
        reason=NOT_CREATED + " (the repository is private)",
    ),
    Control(
        "ECR.5",
        "Repositories are encrypted with customer managed keys",
        reason="not adopted: the repository uses KMS with the AWS managed key; a customer key adds key-policy upkeep without changing who can pull, which IAM decides",
    ),
    # CloudWatch
    Control(
        "CloudWatch.1-14",
        "CIS metric filters and alarms for account activity",
        reason=ACCOUNT + " (CloudTrail-based)",
    ),
    Control("CloudWatch.15", "Alarms have actions", ("alarms-notify-topic-in-stack",)),
    Control(
        "CloudWatch.16",
        "Log groups keep logs for a set period",
        ("log-group-retention",),
        checkov="CKV_AWS_338",
    ),
    Control("CloudWatch.17", "Alarm actions are activated", ("alarms-notify-topic-in-stack",)),
    Control(
        "CloudWatch (KMS)",
        "Log groups are encrypted with KMS",
        reason="not adopted: CloudWatch Logs encrypts at rest with service keys; a customer key per log group adds key policy upkeep",
        checkov="CKV_AWS_158",
    ),
    # Route 53
    Control(
        "Route53.1",
        "Health checks are tagged",
        reason="tags are not a control here; every health check the program creates carries a Name tag",
    ),
    Control(
        "Route53.2",
        "Public hosted zones log DNS queries",
        ("dns-public-zone-query-logging",),
    ),
    Control(
        "Route 53 (failover)",
        "Failover detects within the target; missing data is unhealthy",
        (
            "dns-health-check-detection-within-target",
            "dns-alarm-health-check-unhealthy-on-missing-data",
            "connectivity-alarm-detection-within-target",
            "dns-failover-primary-health-checked",
            "dns-routing-ttl-ceiling",
        ),
    ),
    # Lambda (the FIS run recorder, components/chaos_records.py) and EventBridge
    Control(
        "Lambda.1",
        "Function policies prohibit public access",
        ("lambda-permission-not-public",),
        checkov="CKV_AWS_364",
    ),
    Control(
        "Lambda.2",
        "Functions use supported runtimes",
        ("lambda-supported-runtime",),
    ),
    Control(
        "Lambda.3",
        "Functions are in a VPC",
        reason="not adopted: the recorder calls only FIS and CloudWatch APIs and reaches nothing in the VPC; in the VPC it would need endpoints or the NAT path for those calls",
        checkov="CKV_AWS_117",
    ),
    Control(
        "Lambda.5",
        "VPC functions run in several Availability Zones",
        reason="the function is not attached to a VPC (Lambda.3); outside a VPC Lambda runs it across the region's zones",
    ),
    Control(
        "Lambda (async failures)",
        "Asynchronously invoked functions keep failed invocations",
        ("lambda-async-failures-kept",),
        reason="no FSBP control; after its retries Lambda drops a failed asynchronous event that has no on-failure destination or dead-letter queue",
    ),
    Control(
        "EventBridge.3",
        "Custom event buses have a resource-based policy",
        reason="the program creates no custom event bus: its one rule is on the default bus, for FIS's own events",
    ),
    Control(
        "EventBridge.4",
        "Global endpoints have event replication",
        reason=NOT_CREATED + " (no global endpoint)",
    ),
    # AWS WAF (components/web_acl.py)
    Control(
        "WAF.10",
        "Web ACLs have at least one rule or rule group",
        ("waf-web-acl-managed-rules",),
        checkov="CKV_AWS_192",
    ),
    Control(
        "WAF.11", "Web ACL logging is enabled", ("waf-web-acl-logging",), checkov="CKV2_AWS_31"
    ),
    Control(
        "WAF.12",
        "Web ACL rules publish CloudWatch metrics",
        ("waf-web-acl-managed-rules",),
    ),
    # Secrets Manager (the app's database secret: components/database.py)
    Control(
        "SecretsManager.1",
        "Secrets have automatic rotation enabled",
        ("db-app-secret-rotation",),
        reason="prod only; the policy also accepts an ENABLED schedule running the bootstrap's --rotate task (alternating users), which Security Hub does not see as rotation",
        checkov="CKV2_AWS_57",
    ),
    Control(
        "SecretsManager.2",
        "Secrets configured with automatic rotation rotate successfully",
        reason="a runtime result, not a property of the program; a failed scheduled rotation lands in the rotation failures queue and its alarm notifies the alert topic (components/credential_rotation.py)",
    ),
    Control(
        "SecretsManager.3",
        "Unused secrets are removed",
        reason="a runtime result: the app reads its secret on every new connection",
    ),
    Control(
        "SecretsManager.4",
        "Secrets are rotated within a specified number of days",
        ("db-app-secret-rotation",),
        reason="maximumDays, default 30",
    ),
    # FIS and EventBridge Scheduler: FSBP has no control for either; these rows are operational
    Control(
        "FIS (stop)",
        "Experiments stop on an alarm",
        ("fis-template-alarm-stop-condition",),
        reason="no FSBP control; a chaos experiment that cannot stop itself is an outage",
    ),
    Control(
        "FIS (logs)",
        "Experiments are logged",
        ("fis-template-logs",),
        reason="no FSBP control; the experiment log is the record of what a fault touched",
    ),
    Control(
        "FIS (blast radius)",
        "Targets select a bounded share of a fleet",
        ("fis-template-bounded-targets",),
        reason="no FSBP control; ALL is accepted only for subnets named by ARN",
    ),
    Control(
        "Scheduler (chaos)",
        "Experiments run on a schedule: often enough, in business hours, enabled in prod",
        (
            "chaos-schedule-cadence",
            "chaos-schedule-enabled-in-prod",
            "fis-templates-scheduled-in-prod",
        ),
        reason="no FSBP control; the resiliency-testing article asks for a run at least every 35 days",
    ),
    Control(
        "Scheduler (failures)",
        "A failed scheduled start is retried, then kept in a dead-letter queue",
        ("chaos-schedule-failures-kept",),
        reason="no FSBP control; without a dead-letter queue Scheduler drops a failed start silently",
    ),
)


def render(controls: Sequence[Control] = CONTROLS) -> str:
    """The coverage table as markdown."""
    lines = [
        "| control | asks for | enforced by | Checkov | why not / note |",
        "|---|---|---|---|---|",
    ]
    for control in controls:
        policies = ", ".join(f"`{p}`" for p in control.policies) or "—"
        lines.append(
            f"| {control.id} | {markdown_cell(control.title)} | {policies} | "
            f"{control.checkov or '—'} | {markdown_cell(control.reason) or '—'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
