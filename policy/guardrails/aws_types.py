"""Type tokens of the pulumi-aws resources the guardrails judge, as the analyzer reports them.

Each token is copied from the ``super().__init__('<token>', ...)`` call of the resource class in
pulumi-aws 7.x. The ``aws:alb/*`` classes are pulumi-aws's alternative spelling of ``aws:lb/*``
and carry the same properties.
"""

from __future__ import annotations

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")

ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"

ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"

RDS_INSTANCE = "aws:rds/instance:Instance"

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"

IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE = "aws:iam/role:Role"

SCALING_POLICY = "aws:appautoscaling/policy:Policy"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"

DNS_RECORD = "aws:route53/record:Record"


def short(token: str) -> str:
    """``aws:rds/instance:Instance`` -> ``aws:rds/instance`` (how messages and docs name types)."""
    return token.rsplit(":", 1)[0] if token.count(":") >= 2 else token
