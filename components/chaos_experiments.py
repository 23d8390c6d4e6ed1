"""AWS FIS experiment templates for the stack's faults, started by EventBridge Scheduler.

Templates (each stops when a guard alarm on the primary load balancer's 5xx fires):

* ``stop-task``: ``aws:ecs:stop-task`` on one task of the primary fleet (target ``aws:ecs:task``
  with the ``cluster`` and ``service`` parameters). Chosen over the ``aws:ecs:task-*`` network
  and stress actions, which need the SSM agent as a sidecar and ECS Exec off — this stack runs
  ECS Exec and bridge networking — while stop-task needs neither.
* ``terminate-host``: ``aws:ec2:terminate-instances`` on one running instance of the primary
  environment's Auto Scaling group (``aws:autoscaling:groupName`` tag): the group replaces it.
* ``dependency-db`` (only with database subnets): ``aws:network:disrupt-connectivity`` on the
  database subnets for ``fault_duration`` (FIS swaps in a deny-all network ACL and restores the
  original one at the end — the rollback is FIS's); the ``db-connectivity`` alarms fire.
* ``dependency-<name>`` for each host dependency (``blackhole_hosts``, e.g. ``cdn``):
  ``aws:ssm:send-command`` on every running instance of the Auto Scaling group with the stack's
  own Command document (``components.host_blackhole``): for ``fault_duration`` the containers of
  the primary environment's tasks (``blackhole_families``) lose the host — by TLS server name and
  HTTP Host, whatever address they resolved, and by the addresses it resolves to on the host —
  through iptables rules on each host, which the document removes at the end and when FIS
  cancels the command (experiment stopped). The hosts are the primary environment's own group
  where environments have capacity of their own (prod), and shared otherwise (dev): either way
  neither a network ACL nor a security group could cut blue's tasks alone.
* ``az-power-interruption`` (with ``az_experiment``): one zone loses power — its hosts stopped,
  launches there refused, its subnets cut, the Multi-AZ database failed over
  (``components.az_experiment``); at the cadence, on the business day after ``weekday``.

A least-privilege role for FIS (only these actions, scoped by cluster, Auto Scaling group tag,
subnet and document), a log group for FIS experiment logs, and one schedule per template with
``arn:aws:scheduler:::aws-sdk:fis:startExperiment`` as a universal target: weekly or on the
first to fourth weekday of the month (so never more than 35 days apart), inside business hours.

A scheduled start that fails is never dropped silently. Each schedule retries
(``SCHEDULE_RETRY_ATTEMPTS`` within ``SCHEDULE_MAX_EVENT_AGE_SECONDS``, so a late start is still
inside business hours), then delivers a dead-letter event to the stack's schedule dead-letter
queue (``components.dead_letters``), whose alarm notifies the alert topic. EventBridge
Scheduler sends dead letters with the schedule's execution role: "your schedule execution role
needs the following permissions policy: sqs:SendMessage" (EventBridge Scheduler user guide,
"Configuring a schedule's dead-letter queue",
https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html), so the
queue needs no resource policy and the role may send to this queue only.

The first ``StartExperiment`` in an account creates FIS's service-linked role
``AWSServiceRoleForFIS`` ("When you start an experiment, AWS FIS creates a service-linked role
on your behalf", FIS user guide, "Start an experiment from a template" and "Use service-linked
roles for AWS FIS"; the Service Authorization Reference lists ``iam:CreateServiceLinkedRole`` as
``fis:StartExperiment``'s dependent action). The Scheduler role may therefore create that one
role (its ARN, ``iam:AWSServiceName = fis.amazonaws.com``) and nothing else in IAM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import az_experiment, host_blackhole
from components.dead_letters import dead_letter_alarm, dead_letter_queue
from components.iam_documents import assume_role_policy, document, statement
from policy.guardrails import limits

START_EXPERIMENT_TARGET = "arn:aws:scheduler:::aws-sdk:fis:startExperiment"
"""EventBridge Scheduler's universal target for FIS StartExperiment."""

CADENCES = ("weekly", "monthly")
WEEKDAYS = limits.BUSINESS_DAYS
BUSINESS_HOURS = range(limits.BUSINESS_HOURS_START, limits.BUSINESS_HOURS_END)
MAX_DAYS_BETWEEN_RUNS = limits.CHAOS_MAX_DAYS_BETWEEN_RUNS
MAX_MONTHLY_TEMPLATES = 4
"""Monthly runs use the 1st-4th ``weekday`` of the month; a 5th does not exist every month."""
"""The resiliency-testing article: at least once every 4-5 weeks."""
SCHEDULE_RETRY_ATTEMPTS = 3
"""Retries of a failed StartExperiment (Scheduler allows 0-185) before the dead letter."""
SCHEDULE_MAX_EVENT_AGE_SECONDS = 600
"""Scheduler stops retrying 10 minutes after the scheduled time (60-86400 allowed): the latest
schedule starts at 16:45 (weekly, 4th template), so even its last retry starts before 17:00."""
FIS_SERVICE = "fis.amazonaws.com"
FIS_SERVICE_LINKED_ROLE = f"aws-service-role/{FIS_SERVICE}/AWSServiceRoleForFIS"
"""Path and name of FIS's service-linked role (FIS user guide, "Use service-linked roles")."""
_ISO_DURATION = re.compile(r"^PT([1-9][0-9]?M|[1-9][0-9]*S)$")
_DEPENDENCY_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class ChaosExperimentsArgs:
    """Inputs of :class:`ChaosExperiments`."""

    cluster_name: pulumi.Input[str]
    """ECS cluster of the primary fleet."""
    service_name: pulumi.Input[str]
    """Primary fleet service whose tasks ``stop-task`` stops."""
    asg_name: pulumi.Input[str]
    """Auto Scaling group of the container instances."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """``app/<name>/<id>`` of the primary load balancer (the guard alarms watch its 5xx)."""
    alarm_topic_arn: pulumi.Input[str]
    """Topic the guard alarms notify."""
    database_subnet_ids: pulumi.Input[Sequence[str]] | None = None
    """Subnets of the database; None leaves the dependency template out."""
    blackhole_hosts: Mapping[str, str] = field(default_factory=dict)
    """Dependency name -> DNS name that ``dependency-<name>`` cuts for the primary environment's
    tasks on the container hosts (the prober's https dependencies, e.g. ``cdn``)."""
    blackhole_families: Sequence[pulumi.Input[str]] = ()
    """Task definition families of the primary environment (fleet and onebox): the containers
    the host cuts apply to. Required with ``blackhole_hosts``."""
    cadence: str = "monthly"
    """``weekly`` or ``monthly``."""
    weekday: str = "TUE"
    """Day of the week the schedules run (MON-FRI)."""
    hour: int = 10
    """Hour of the day (9-16, in ``timezone``)."""
    timezone: str = "UTC"
    """IANA time zone of the schedules."""
    schedules_enabled: bool = True
    """False creates the schedules DISABLED (the templates can still be started by hand)."""
    fault_duration: str = "PT5M"
    """ISO 8601 duration of the dependency cut."""
    guard_5xx_per_minute: int = 50
    """5xx responses in one minute that stop a running experiment."""
    log_retention_days: int = 90
    az_experiment: az_experiment.AzExperimentArgs | None = None
    """The zone the ``az-power-interruption`` template takes down; None leaves it out."""


def _problem(arg: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"ChaosExperimentsArgs.{arg} must be {allowed} (got {value!r})")


def validate_args(args: ChaosExperimentsArgs) -> None:
    if args.az_experiment is not None:
        az_experiment.validate(args.az_experiment)
    if args.cadence not in CADENCES:
        raise _problem("cadence", args.cadence, f"one of {', '.join(CADENCES)}")
    if args.weekday not in WEEKDAYS:
        raise _problem("weekday", args.weekday, f"one of {', '.join(WEEKDAYS)}")
    if args.hour not in BUSINESS_HOURS:
        raise _problem("hour", args.hour, "an hour of business hours, 9-16")
    if not _ISO_DURATION.match(args.fault_duration):
        raise _problem("fault_duration", args.fault_duration, "PT<n>M (n < 100) or PT<n>S")
    if not 1 <= args.guard_5xx_per_minute <= 100000:
        raise _problem("guard_5xx_per_minute", args.guard_5xx_per_minute, "1-100000")
    for dependency, host in args.blackhole_hosts.items():
        if not _DEPENDENCY_NAME.match(dependency) or dependency == "db":
            raise _problem(
                "blackhole_hosts", dependency, "keyed by dependency names other than db (a-z0-9-)"
            )
        problem = host_blackhole.parameter_problem("Host", host)
        if problem:
            raise _problem("blackhole_hosts", host, f"DNS names the document admits: {problem}")
    if args.blackhole_hosts and not args.blackhole_families:
        raise _problem("blackhole_families", args.blackhole_families, "given with blackhole_hosts")
    count = 2 + (args.database_subnet_ids is not None) + len(args.blackhole_hosts)
    if args.cadence == "monthly" and count > MAX_MONTHLY_TEMPLATES:
        raise _problem(
            "blackhole_hosts", sorted(args.blackhole_hosts),
            f"at most {MAX_MONTHLY_TEMPLATES} templates in all with the monthly cadence (one per "
            f"weekday of the month, 1st-4th): {count} here; use the weekly cadence or fewer hosts",
        )  # fmt: skip
    if len(args.blackhole_families) > host_blackhole.MAX_FAMILIES:
        raise _problem(
            "blackhole_families", args.blackhole_families,
            f"at most {host_blackhole.MAX_FAMILIES} families",
        )  # fmt: skip


def schedule_expression(cadence: str, weekday: str, hour: int, nth: int) -> str:
    """``cron`` for the ``nth`` template: weekly every ``weekday``, the templates 15 minutes
    apart so two faults never start together; monthly on the ``nth`` ``weekday`` of the month
    (1-4: every month has a 4th, between the 22nd and the 28th), so consecutive runs are 28 or 35
    days apart."""
    if cadence == "weekly":
        return f"cron({15 * (nth - 1)} {hour} ? * {weekday} *)"
    return f"cron(0 {hour} ? * {weekday}#{nth} *)"


def running_hosts(
    name: str, selection_mode: str, asg_name: pulumi.Input[str]
) -> aws.fis.ExperimentTemplateTargetArgs:
    """FIS target: running instances of the cluster's Auto Scaling group (``aws:autoscaling:
    groupName`` tag), ``selection_mode`` of them."""
    return aws.fis.ExperimentTemplateTargetArgs(
        name=name,
        resource_type="aws:ec2:instance",
        selection_mode=selection_mode,
        resource_tags=[
            aws.fis.ExperimentTemplateTargetResourceTagArgs(
                key="aws:autoscaling:groupName", value=asg_name
            )
        ],
        filters=[aws.fis.ExperimentTemplateTargetFilterArgs(path="State.Name", values=["running"])],
    )


def max_days_between_runs(cadence: str) -> int:
    """Longest gap between two runs of one template at ``cadence``."""
    return 7 if cadence == "weekly" else 35


class ChaosExperiments(pulumi.ComponentResource):
    """FIS experiment templates, their role, logs, guard alarms and schedules.

    Guarantees: every template has at least one CloudWatch-alarm stop condition; the FIS role
    can do only what the templates do (tasks only in the stack's cluster; the AZ template's hosts
    only in its one zone); each template has a
    schedule at most 35 days apart; a scheduled start that fails is retried for 10 minutes, then
    lands in an alarmed dead-letter queue; the first start in a fresh account may create FIS's
    service-linked role.
    """

    template_ids: dict[str, pulumi.Output[str]]
    """template key (``stop-task``) -> FIS experiment template id."""
    schedule_names: dict[str, pulumi.Output[str]]
    guard_alarm_arns: list[pulumi.Output[str]]
    dead_letter_queue_arn: pulumi.Output[str]
    """Where a schedule's failed StartExperiment lands after its retries."""
    dead_letter_alarm_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ChaosExperimentsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:chaos:ChaosExperiments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        account = identity.account_id
        arn_prefix = pulumi.Output.concat("arn:", partition.partition, ":")

        guards = []
        for metric in ("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"):
            guards.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-guard-{metric.split('_')[1].lower()}-5xx",
                    aws.cloudwatch.MetricAlarmArgs(
                        alarm_description=(
                            f"Stops a running FIS experiment: {metric} of the primary load "
                            f"balancer >= {args.guard_5xx_per_minute} in a minute"
                        ),
                        namespace="AWS/ApplicationELB",
                        metric_name=metric,
                        dimensions={"LoadBalancer": args.load_balancer_arn_suffix},
                        statistic="Sum",
                        period=60,
                        evaluation_periods=1,
                        datapoints_to_alarm=1,
                        threshold=float(args.guard_5xx_per_minute),
                        comparison_operator="GreaterThanOrEqualToThreshold",
                        treat_missing_data="notBreaching",
                        alarm_actions=[args.alarm_topic_arn],
                        ok_actions=[args.alarm_topic_arn],
                    ),
                    opts=child,
                )
            )
        self.guard_alarm_arns = [guard.arn for guard in guards]
        stop_conditions = [
            aws.fis.ExperimentTemplateStopConditionArgs(source="aws:cloudwatch:alarm", value=arn)
            for arn in self.guard_alarm_arns
        ]

        logs = aws.cloudwatch.LogGroup(
            f"{name}-fis-logs",
            aws.cloudwatch.LogGroupArgs(retention_in_days=args.log_retention_days),
            opts=child,
        )

        cluster_arn = pulumi.Output.concat(
            arn_prefix, "ecs:", region, ":", account, ":cluster/", args.cluster_name
        )
        task_arns = pulumi.Output.concat(
            arn_prefix, "ecs:", region, ":", account, ":task/", args.cluster_name, "/*"
        )
        instance_arns = pulumi.Output.concat(
            arn_prefix, "ec2:", region, ":", account, ":instance/*"
        )
        subnet_arns = pulumi.Output.concat(arn_prefix, "ec2:", region, ":", account, ":subnet/*")
        acl_arns = pulumi.Output.concat(arn_prefix, "ec2:", region, ":", account, ":network-acl/*")
        vpc_arns = pulumi.Output.concat(arn_prefix, "ec2:", region, ":", account, ":vpc/*")
        statements = [
            statement(
                ["ecs:StopTask"],
                [task_arns],
                sid="StopTasksOfTheCluster",
                conditions={"ArnEquals": {"ecs:cluster": cluster_arn}},
            ),
            # both support the ecs:cluster condition key; DescribeTasks also resource-level
            # permissions on task ARNs, ListTasks only on container instances (Service
            # Authorization Reference, Amazon ECS), which FIS's listing by cluster and service
            # does not name: the condition is what scopes it
            statement(
                ["ecs:DescribeTasks"],
                [task_arns],
                sid="DescribeTasksOfTheCluster",
                conditions={"ArnEquals": {"ecs:cluster": cluster_arn}},
            ),
            statement(
                ["ecs:ListTasks"],
                ["*"],
                sid="ListTasksOfTheCluster",
                conditions={"ArnEquals": {"ecs:cluster": cluster_arn}},
            ),
            statement(
                ["ec2:TerminateInstances"],
                [instance_arns],
                sid="TerminateClusterHosts",
                conditions={
                    "StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": args.asg_name}
                },
            ),
            statement(["ec2:DescribeInstances"], ["*"], sid="FindHosts"),
            statement(
                [
                    "logs:CreateLogDelivery",
                    "logs:DescribeLogGroups",
                    "logs:DescribeResourcePolicies",
                    "logs:PutResourcePolicy",
                ],
                ["*"],
                sid="ExperimentLogs",
            ),
        ]
        if args.database_subnet_ids is not None or args.az_experiment is not None:
            statements += [
                statement(
                    [
                        "ec2:DescribeNetworkAcls",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeVpcs",
                        "ec2:DescribeManagedPrefixLists",
                        "ec2:GetManagedPrefixListEntries",
                    ],
                    ["*"],
                    sid="FindNetwork",
                ),
                # CreateNetworkAcl authorizes on the VPC and on the new ACL (tagged by FIS)
                statement(["ec2:CreateNetworkAcl"], [vpc_arns], sid="TemporaryDenyAclInTheVpc"),
                statement(
                    ["ec2:CreateNetworkAcl"],
                    [acl_arns],
                    sid="TemporaryDenyAcl",
                    conditions={"StringEquals": {"aws:RequestTag/managedByFIS": "true"}},
                ),
                statement(
                    ["ec2:CreateTags"],
                    [acl_arns],
                    sid="TagTheTemporaryAcl",
                    conditions={"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl"}},
                ),
                statement(
                    ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
                    [acl_arns],
                    sid="OnlyTheTemporaryAcl",
                    conditions={"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}},
                ),
                statement(
                    ["ec2:ReplaceNetworkAclAssociation"],
                    [subnet_arns, acl_arns],
                    sid="SwapSubnetAcls",
                ),
            ]
        if args.az_experiment is not None:
            statements += az_experiment.statements(args.az_experiment, arn_prefix, region, account)
        blackhole_document: aws.ssm.Document | None = None
        if args.blackhole_hosts:
            blackhole_document = aws.ssm.Document(
                f"{name}-host-blackhole",
                aws.ssm.DocumentArgs(
                    document_type="Command",
                    document_format="JSON",
                    content=host_blackhole.document_content(),
                    target_type="/AWS::EC2::Instance",
                    tags={"steadystate:experiment": "dependency-host"},
                ),
                opts=child,
            )
            statements += [
                statement(
                    ["ssm:SendCommand"],
                    [blackhole_document.arn],
                    sid="SendTheBlackholeDocument",
                ),
                # SendCommand authorizes on the document and on each instance: only the
                # cluster's hosts (the Auto Scaling group's tag)
                statement(
                    ["ssm:SendCommand"],
                    [instance_arns],
                    sid="SendCommandsToClusterHosts",
                    conditions={
                        "StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": args.asg_name}
                    },
                ),
                # neither supports resource-level permissions
                statement(["ssm:CancelCommand", "ssm:ListCommands"], ["*"], sid="FollowCommands"),
            ]
        fis_role = aws.iam.Role(
            f"{name}-fis",
            aws.iam.RoleArgs(
                description="AWS FIS: run the stack's chaos experiment templates",
                assume_role_policy=assume_role_policy("fis.amazonaws.com", source_account=account),
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-fis",
            aws.iam.RolePolicyArgs(role=fis_role.id, policy=document(*statements)),
            opts=child,
        )
        log_configuration = aws.fis.ExperimentTemplateLogConfigurationArgs(
            log_schema_version=2,
            cloudwatch_logs_configuration=(
                aws.fis.ExperimentTemplateLogConfigurationCloudwatchLogsConfigurationArgs(
                    log_group_arn=pulumi.Output.concat(logs.arn, ":*")
                )
            ),
        )

        templates: dict[str, tuple[str, aws.fis.ExperimentTemplateActionArgs,
                                   aws.fis.ExperimentTemplateTargetArgs]] = {}  # fmt: skip
        templates["stop-task"] = (
            "Stop one task of the primary fleet; ECS starts a replacement",
            aws.fis.ExperimentTemplateActionArgs(
                name="stop-one-task",
                action_id="aws:ecs:stop-task",
                target=aws.fis.ExperimentTemplateActionTargetArgs(key="Tasks", value="fleet-task"),
            ),
            aws.fis.ExperimentTemplateTargetArgs(
                name="fleet-task",
                resource_type="aws:ecs:task",
                selection_mode="COUNT(1)",
                parameters={"cluster": args.cluster_name, "service": args.service_name},
            ),
        )
        templates["terminate-host"] = (
            "Terminate one container host; the Auto Scaling group replaces it",
            aws.fis.ExperimentTemplateActionArgs(
                name="terminate-one-host",
                action_id="aws:ec2:terminate-instances",
                target=aws.fis.ExperimentTemplateActionTargetArgs(
                    key="Instances", value="cluster-host"
                ),
            ),
            running_hosts("cluster-host", "COUNT(1)", args.asg_name),
        )
        if args.database_subnet_ids is not None:
            templates["dependency-db"] = (
                f"Cut the database subnets' network for {args.fault_duration}; "
                "db-connectivity alarms fire, FIS restores the ACLs",
                aws.fis.ExperimentTemplateActionArgs(
                    name="blackhole-the-database",
                    action_id="aws:network:disrupt-connectivity",
                    parameters=[
                        aws.fis.ExperimentTemplateActionParameterArgs(
                            key="duration", value=args.fault_duration
                        ),
                        aws.fis.ExperimentTemplateActionParameterArgs(key="scope", value="all"),
                    ],
                    target=aws.fis.ExperimentTemplateActionTargetArgs(
                        key="Subnets", value="database-subnets"
                    ),
                ),
                aws.fis.ExperimentTemplateTargetArgs(
                    name="database-subnets",
                    resource_type="aws:ec2:subnet",
                    selection_mode="ALL",
                    resource_arns=pulumi.Output.all(
                        arn_prefix, region, account, args.database_subnet_ids
                    ).apply(lambda a: [f"{a[0]}ec2:{a[1]}:{a[2]}:subnet/{s}" for s in a[3]]),
                ),
            )

        if blackhole_document is not None:
            duration_seconds = host_blackhole.iso_duration_seconds(args.fault_duration)
            families = pulumi.Output.all(*args.blackhole_families)
            for dependency, host in args.blackhole_hosts.items():
                templates[f"dependency-{dependency}"] = (
                    f"Cut {host} for the primary environment's tasks on every container host "
                    f"for {args.fault_duration}; {dependency}-connectivity alarms fire",
                    aws.fis.ExperimentTemplateActionArgs(
                        name=f"blackhole-{dependency}",
                        action_id="aws:ssm:send-command",
                        parameters=[
                            aws.fis.ExperimentTemplateActionParameterArgs(
                                key="documentArn", value=blackhole_document.arn
                            ),
                            aws.fis.ExperimentTemplateActionParameterArgs(
                                key="documentParameters",
                                value=families.apply(
                                    lambda fs, h=host: host_blackhole.document_parameters(
                                        [str(f) for f in fs], h, duration_seconds
                                    )
                                ),
                            ),
                            aws.fis.ExperimentTemplateActionParameterArgs(
                                key="duration", value=args.fault_duration
                            ),
                        ],
                        target=aws.fis.ExperimentTemplateActionTargetArgs(
                            key="Instances", value="cluster-hosts"
                        ),
                    ),
                    # ALL hosts: the command itself touches only the primary's containers
                    running_hosts("cluster-hosts", "ALL", args.asg_name),
                )

        scheduler_role = aws.iam.Role(
            f"{name}-scheduler",
            aws.iam.RoleArgs(
                description="EventBridge Scheduler: start the stack's FIS experiments",
                assume_role_policy=assume_role_policy(
                    "scheduler.amazonaws.com", source_account=account
                ),
            ),
            opts=child,
        )
        dead_letters = dead_letter_queue(f"{name}-schedule-dlq", child)
        alarm = dead_letter_alarm(
            f"{name}-schedule-dlq",
            dead_letters,
            "A scheduled FIS experiment start",
            args.alarm_topic_arn,
            child,
        )
        self.dead_letter_queue_arn = dead_letters.arn
        self.dead_letter_alarm_arn = alarm.arn
        self.template_ids = {}
        self.schedule_names = {}
        template_arns = []
        schedules = []
        specs = [
            (key, text, [action], [target]) for key, (text, action, target) in templates.items()
        ]
        if args.az_experiment is not None:
            az = args.az_experiment
            specs.append(
                (
                    az_experiment.TEMPLATE_KEY,
                    az_experiment.description(az),
                    *az_experiment.template(az, arn_prefix, region, account),
                )
            )
        for nth, (key, description, actions, targets) in enumerate(specs, start=1):
            zonal = key == az_experiment.TEMPLATE_KEY
            template = aws.fis.ExperimentTemplate(
                f"{name}-{key}",
                aws.fis.ExperimentTemplateArgs(
                    description=description,
                    role_arn=fis_role.arn,
                    actions=actions,
                    targets=targets,
                    stop_conditions=stop_conditions,
                    log_configuration=log_configuration,
                    # the scenario's "actions for which no targets are found will be skipped"
                    experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                        empty_target_resolution_mode="skip"
                    )
                    if zonal
                    else None,
                    tags={"Name": f"{name}-{key}", "steadystate:experiment": key},
                ),
                opts=child,
            )
            self.template_ids[key] = template.id
            template_arns.append(
                pulumi.Output.concat(
                    arn_prefix, "fis:", region, ":", account, ":experiment-template/", template.id
                )
            )
            schedule = aws.scheduler.Schedule(
                f"{name}-{key}",
                aws.scheduler.ScheduleArgs(
                    description=f"Start the FIS experiment {key} ({args.cadence})",
                    schedule_expression=az_experiment.schedule_expression(
                        args.cadence, args.weekday, args.hour
                    )
                    if zonal
                    else schedule_expression(args.cadence, args.weekday, args.hour, nth),
                    schedule_expression_timezone=args.timezone,
                    flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                    state="ENABLED" if args.schedules_enabled else "DISABLED",
                    target=aws.scheduler.ScheduleTargetArgs(
                        arn=START_EXPERIMENT_TARGET,
                        role_arn=scheduler_role.arn,
                        input=template.id.apply(
                            lambda tid: json.dumps(
                                {
                                    "ExperimentTemplateId": tid,
                                    "ClientToken": "<aws.scheduler.execution-id>",
                                }
                            )
                        ),
                        retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                            maximum_retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                            maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_SECONDS,
                        ),
                        dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                            arn=dead_letters.arn
                        ),
                    ),
                ),
                opts=child,
            )
            schedules.append(schedule)
            self.schedule_names[key] = schedule.name
        experiment_arns = pulumi.Output.concat(
            arn_prefix, "fis:", region, ":", account, ":experiment/*"
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler",
            aws.iam.RolePolicyArgs(
                role=scheduler_role.id,
                policy=document(
                    statement(
                        ["fis:StartExperiment"],
                        [*template_arns, experiment_arns],
                        sid="StartTheStacksTemplates",
                    ),
                    statement(["fis:TagResource"], [experiment_arns], sid="TagExperiments"),
                    statement(
                        ["iam:CreateServiceLinkedRole"],
                        [
                            pulumi.Output.concat(
                                arn_prefix, "iam::", account, ":role/", FIS_SERVICE_LINKED_ROLE
                            )
                        ],
                        sid="CreateFisServiceLinkedRoleOnFirstUse",
                        conditions={"StringEquals": {"iam:AWSServiceName": FIS_SERVICE}},
                    ),
                    statement(
                        ["sqs:SendMessage"], [dead_letters.arn], sid="DeadLetterFailedStarts"
                    ),
                ),
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "template_ids": self.template_ids,
                "schedule_names": self.schedule_names,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "dead_letter_alarm_arn": self.dead_letter_alarm_arn,
            }
        )
