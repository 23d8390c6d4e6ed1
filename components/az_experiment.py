"""The AZ impairment experiment: one zone of the stack loses power, as in AWS FIS's scenario
"AZ Availability: Power Interruption" (FIS user guide, scenario library,
https://docs.aws.amazon.com/fis/latest/userguide/az-availability-scenario.html).

The scenario's actions this stack has resources for, all scoped to ONE zone (``zone``):

* ``Stop-ASG-Instances``: ``aws:ec2:stop-instances`` on every running container host of the
  stack's Auto Scaling groups (tag ``aws:autoscaling:groupName``) whose
  ``Placement.AvailabilityZone`` is the zone, started again after ``outage_minutes``
  (``startInstancesAfterDuration``). ``completeIfInstancesTerminated=true`` as in the scenario:
  the group's EC2 health check counts a stopped instance as unhealthy and replaces it ("If the
  instance status is any state other than running ... Auto Scaling considers the instance to be
  unhealthy and launches a replacement", EC2 Auto Scaling user guide, "Health checks for
  instances in an Auto Scaling group"; prod's scale-in protection does not cover "health check
  replacement if the instance fails health checks", "Use instance scale-in protection"), so
  the stopped hosts may be terminated before FIS starts them again. ECS stops their tasks; the
  service starts replacements on the other zones' hosts.
* ``Pause-ASG-Scaling``: ``aws:ec2:asg-insufficient-instance-capacity-error`` on the groups
  (named by ARN) for the zone (``availabilityZoneIdentifiers``, ``percentage=100``) for
  ``outage_minutes``: the groups' launches there fail with InsufficientInstanceCapacity, so
  replacements land in the other zones (the default ``balanced-best-effort`` distribution).
* ``Pause-network-connectivity``: ``aws:network:disrupt-connectivity`` (``scope=all``) on the
  zone's subnets of every tier (named by ARN, filtered to the zone) for ``SUBNET_CUT`` — the
  scenario's 2 minutes, which "forces timeouts and DNS refresh"; FIS swaps in a deny-all
  network ACL and puts the original back. The zone's load balancer nodes and NAT gateway are
  cut with it, as in a real power loss.
* ``Failover-RDS`` for an RDS *instance*: ``aws:rds:reboot-db-instances`` with
  ``forceFailover=true`` (``aws:rds:failover-db-cluster`` is for Aurora / Multi-AZ DB clusters,
  target ``aws:rds:cluster``), only with a Multi-AZ instance (RebootDBInstance: "You can't enable
  force failover if the instance isn't configured for Multi-AZ") and only when its primary is in
  the zone (target filter ``AvailabilityZone``, the DescribeDBInstances field); otherwise the
  target resolves empty and the action is skipped (``emptyTargetResolutionMode=skip``, the
  scenario's "actions for which no targets are found will be skipped").

Left out, because the stack has no such resources: EBS volume I/O pause (the hosts' only volume
is their root volume, deleted on termination; the scenario pauses a volume with
``DeleteOnTermination=false``), ElastiCache, S3 Express One Zone, standalone (non-group)
instances, and ``aws:ec2:api-insufficient-instance-capacity-error`` on IAM roles (nothing here
launches instances but the groups). The scenario's ``aws:arc:start-zonal-autoshift`` is left to
the load balancers' own zonal autoshift (issue 21, item 3).

The role may do only this: stop and start instances carrying the groups' tag in that zone (the
Service Authorization Reference lists ``ec2:AvailabilityZone`` and ``aws:ResourceTag/${TagKey}``
for ``ec2:StopInstances`` / ``ec2:StartInstances`` on ``instance``), inject the capacity error
only for this action and these groups (``ec2:InjectApiError`` has no resource type; its condition
keys are ``ec2:FisActionId`` and ``ec2:FisTargetArns``), reboot this database.

Why one zone, fixed: a template names its zone, and the chaos schedules run each template at
most 35 days apart (``chaos-schedule-cadence``). A rotation would need one template per zone,
each run only every ``len(zones)`` months (a breach of that rule), or a redeploy each month. So
``steadystate:chaos.azExperimentZone`` picks the zone (default: the stack's first zone, or its
last with a single NAT gateway, which sits in the first: ``settings.zones.az_experiment_zone``);
move it to exercise another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import statement
from policy.guardrails import limits

TEMPLATE_KEY = "az-power-interruption"
"""The template's key: its ``steadystate:experiment`` tag, recorded and graphed as ``fis-<key>``."""
SUBNET_CUT = "PT2M"
"""How long the zone's subnets are cut: the scenario's ``Pause-network-connectivity``."""
ICE_ACTION = "aws:ec2:asg-insufficient-instance-capacity-error"
OUTAGE_MINUTES = range(5, 61)
_ZONE_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")


@dataclass(frozen=True)
class AzExperimentArgs:
    """The one zone the experiment takes down and the stack's resources in it."""

    zone: str
    """Zone NAME (``us-east-2a``): one of the stack's zones."""
    asg_names: Sequence[pulumi.Input[str]]
    """Auto Scaling groups of the container hosts (their instances carry
    ``aws:autoscaling:groupName``)."""
    asg_arns: Sequence[pulumi.Input[str]]
    """The same groups' ARNs, in the same order (the capacity-error target)."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """The zone's subnets, every tier."""
    database_arn: pulumi.Input[str] | None = None
    """A Multi-AZ RDS instance to fail over when its primary is in the zone; None: no failover."""
    outage_minutes: int = 30
    """How long the hosts stay stopped and launches in the zone fail (5-60)."""


def validate(args: AzExperimentArgs) -> None:
    """ValueError naming the bad argument and what is allowed."""
    if not _ZONE_NAME.match(args.zone):
        raise ValueError(
            f"AzExperimentArgs.zone must be a zone name like us-east-2a (got {args.zone!r})"
        )
    if not args.asg_names or len(args.asg_names) != len(args.asg_arns):
        raise ValueError(
            "AzExperimentArgs.asg_names and asg_arns must name the same groups, at least one "
            f"(got {len(args.asg_names)} names, {len(args.asg_arns)} ARNs)"
        )
    if args.outage_minutes not in OUTAGE_MINUTES:
        raise ValueError(
            f"AzExperimentArgs.outage_minutes must be 5-60 (got {args.outage_minutes!r})"
        )


def schedule_expression(cadence: str, weekday: str, hour: int) -> str:
    """At ``hour`` on the business day after ``weekday`` (FRI -> MON), so never on the day of
    another template (those run on ``weekday``): weekly, or monthly on its 2nd occurrence (28 or
    35 days apart)."""
    following = limits.next_business_day(weekday)
    return f"cron(0 {hour} ? * {following}{'#2' if cadence == 'monthly' else ''} *)"


def description(args: AzExperimentArgs) -> str:
    """What the template does, for its FIS description."""
    failover = ", the database failed over if its primary is there" if args.database_arn else ""
    return (
        f"Power loss in {args.zone} for {args.outage_minutes} min: its hosts stopped, launches "
        f"there refused, its subnets cut for 2 min{failover}"
    )


def _param(key: str, value: pulumi.Input[str]) -> aws.fis.ExperimentTemplateActionParameterArgs:
    return aws.fis.ExperimentTemplateActionParameterArgs(key=key, value=value)


def _in_zone(path: str, zone: str) -> aws.fis.ExperimentTemplateTargetFilterArgs:
    return aws.fis.ExperimentTemplateTargetFilterArgs(path=path, values=[zone])


def template(
    args: AzExperimentArgs, arn_prefix: pulumi.Input[str], region: pulumi.Input[str],
    account: pulumi.Input[str],
) -> tuple[list[aws.fis.ExperimentTemplateActionArgs], list[aws.fis.ExperimentTemplateTargetArgs]]:  # fmt: skip
    """The template's actions and targets (every target ALL, bounded by the one zone)."""
    outage = f"PT{args.outage_minutes}M"
    actions: list[aws.fis.ExperimentTemplateActionArgs] = []
    targets: list[aws.fis.ExperimentTemplateTargetArgs] = []
    for index, asg_name in enumerate(args.asg_names):
        suffix = f"-{index + 1}" if len(args.asg_names) > 1 else ""
        targets.append(
            aws.fis.ExperimentTemplateTargetArgs(
                name=f"zone-hosts{suffix}",
                resource_type="aws:ec2:instance",
                selection_mode="ALL",
                resource_tags=[
                    aws.fis.ExperimentTemplateTargetResourceTagArgs(
                        key="aws:autoscaling:groupName", value=asg_name
                    )
                ],
                filters=[
                    aws.fis.ExperimentTemplateTargetFilterArgs(
                        path="State.Name", values=["running"]
                    ),
                    _in_zone("Placement.AvailabilityZone", args.zone),
                ],
            )
        )
        actions.append(
            aws.fis.ExperimentTemplateActionArgs(
                name=f"stop-zone-hosts{suffix}",
                action_id="aws:ec2:stop-instances",
                parameters=[
                    _param("startInstancesAfterDuration", outage),
                    _param("completeIfInstancesTerminated", "true"),
                ],
                target=aws.fis.ExperimentTemplateActionTargetArgs(
                    key="Instances", value=f"zone-hosts{suffix}"
                ),
            )
        )
    targets.append(
        aws.fis.ExperimentTemplateTargetArgs(
            name="host-groups",
            resource_type="aws:ec2:autoscaling-group",
            selection_mode="ALL",
            resource_arns=list(args.asg_arns),
        )
    )
    actions.append(
        aws.fis.ExperimentTemplateActionArgs(
            name="refuse-launches-in-zone",
            action_id=ICE_ACTION,
            parameters=[
                _param("availabilityZoneIdentifiers", args.zone),
                _param("duration", outage),
                _param("percentage", "100"),
            ],
            target=aws.fis.ExperimentTemplateActionTargetArgs(
                key="AutoScalingGroups", value="host-groups"
            ),
        )
    )
    targets.append(
        aws.fis.ExperimentTemplateTargetArgs(
            name="zone-subnets",
            resource_type="aws:ec2:subnet",
            selection_mode="ALL",
            resource_arns=pulumi.Output.all(arn_prefix, region, account, args.subnet_ids).apply(
                lambda a: [f"{a[0]}ec2:{a[1]}:{a[2]}:subnet/{s}" for s in a[3]]
            ),
            filters=[_in_zone("AvailabilityZone", args.zone)],
        )
    )
    actions.append(
        aws.fis.ExperimentTemplateActionArgs(
            name="cut-zone-subnets",
            action_id="aws:network:disrupt-connectivity",
            parameters=[_param("duration", SUBNET_CUT), _param("scope", "all")],
            target=aws.fis.ExperimentTemplateActionTargetArgs(key="Subnets", value="zone-subnets"),
        )
    )
    if args.database_arn is not None:
        targets.append(
            aws.fis.ExperimentTemplateTargetArgs(
                name="database-primary-in-zone",
                resource_type="aws:rds:db",
                selection_mode="ALL",
                resource_arns=[args.database_arn],
                filters=[_in_zone("AvailabilityZone", args.zone)],
            )
        )
        actions.append(
            aws.fis.ExperimentTemplateActionArgs(
                name="fail-database-over",
                action_id="aws:rds:reboot-db-instances",
                parameters=[_param("forceFailover", "true")],
                target=aws.fis.ExperimentTemplateActionTargetArgs(
                    key="DBInstances", value="database-primary-in-zone"
                ),
            )
        )
    return actions, targets


def statements(
    args: AzExperimentArgs, arn_prefix: pulumi.Input[str], region: pulumi.Input[str],
    account: pulumi.Input[str],
) -> list[dict[str, Any]]:  # fmt: skip
    """What the FIS role needs for :func:`template` beyond the network-cut statements (ACL swap)
    and ``ec2:DescribeInstances`` the other templates already grant."""
    instance_arns = pulumi.Output.concat(arn_prefix, "ec2:", region, ":", account, ":instance/*")
    granted = [
        statement(
            ["ec2:StopInstances", "ec2:StartInstances"],
            [instance_arns],
            sid="StopAndStartTheZonesHosts",
            conditions={
                "StringEquals": {
                    "aws:ResourceTag/aws:autoscaling:groupName": list(args.asg_names),
                    "ec2:AvailabilityZone": args.zone,
                }
            },
        ),
        statement(
            ["ec2:InjectApiError"],
            ["*"],
            sid="RefuseLaunchesOfTheHostGroups",
            conditions={
                "StringEquals": {"ec2:FisActionId": ICE_ACTION},
                "ForAllValues:ArnEquals": {"ec2:FisTargetArns": list(args.asg_arns)},
                "Null": {"ec2:FisTargetArns": "false"},
            },
        ),
        statement(["autoscaling:DescribeAutoScalingGroups"], ["*"], sid="FindHostGroups"),
    ]
    if args.database_arn is not None:
        granted += [
            statement(["rds:RebootDBInstance"], [args.database_arn], sid="FailTheDatabaseOver"),
            statement(["rds:DescribeDBInstances"], ["*"], sid="FindTheDatabase"),
        ]
    return granted
