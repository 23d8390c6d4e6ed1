"""A record of every FIS run: an EventBridge rule on FIS's terminal state changes of the stack's
templates, and a Lambda function (``chaos.fis_record``) that publishes each run in the chaos
metrics schema (``chaos.metrics``: outcome, error rate during the fault) as ``fis-<template key>``.

The function's package is the handler and ``chaos/metrics.py`` as inline text (``StringAsset``),
so it depends on nothing but the files' contents. Its role may put metrics only in
``steadystate/chaos``, read only this account's FIS experiments and the stack's templates, read
the guard alarms' state, and write only to its own log group. ``reserved_concurrency=1`` would
serialize deliveries, so that not even two copies of an event delivered at once are published
twice (see ``chaos.fis_record``); it is off by default because any reservation fails the first
`pulumi up` in a new account whose concurrency quota is still 10.

No run goes unrecorded without a trace. EventBridge invokes the function asynchronously, so a
failure can happen in two places, each with its own keeper (both deliver to one dead-letter
queue, ``components.dead_letters``, whose alarm notifies the alert topic):

* the function failed (an error, a timeout, throttling past the event's age): Lambda retries
  twice, then sends the invocation record to the on-failure destination of the function's
  event invoke config; Lambda sends it with the function's execution role, which may therefore
  ``sqs:SendMessage`` to this queue (Lambda developer guide, "Capturing records of Lambda
  asynchronous invocations",
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
* EventBridge could not hand the event to Lambda at all (the permission is missing, the function
  is gone): EventBridge sends it to the rule target's dead-letter queue, allowed by the queue's
  resource policy for ``events.amazonaws.com`` from this rule only (EventBridge user guide,
  "Using dead-letter queues to process undelivered events",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/rule-dlq.html). A failure after
  Lambda accepted the event never reaches that queue, hence the destination as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from chaos import fis_record, metrics
from components.dead_letters import dead_letter_alarm, dead_letter_queue
from components.iam_documents import assume_role_policy, document, statement

RUNTIME = "python3.13"
HANDLER = "chaos.fis_record.handler"
ARCHITECTURE = "arm64"
ASYNC_RETRY_ATTEMPTS = 2
"""Lambda's retries of a failed asynchronous invocation (its default and maximum, made explicit)."""
PACKAGE_INIT = '"""The FIS run recorder: chaos.fis_record and the metrics schema it publishes."""\n'


def package() -> pulumi.AssetArchive:
    """The function's code: the handler and the schema module, as text."""
    return pulumi.AssetArchive(
        {
            "chaos/__init__.py": pulumi.StringAsset(PACKAGE_INIT),
            "chaos/metrics.py": pulumi.StringAsset(Path(metrics.__file__).read_text()),
            "chaos/fis_record.py": pulumi.StringAsset(Path(fis_record.__file__).read_text()),
        }
    )


def event_pattern(template_ids: Sequence[str]) -> str:
    """FIS state changes to a terminal status, of these templates only."""
    return json.dumps(
        {
            "source": [fis_record.SOURCE],
            "detail-type": [fis_record.DETAIL_TYPE],
            "detail": {
                "experiment-template-id": sorted(template_ids),
                "new-state": {"status": list(fis_record.TERMINAL_STATUSES)},
            },
        }
    )


def environment(args: FisRunRecorderArgs) -> dict[str, pulumi.Input[str]]:
    """The function's environment: ``STACK``, ``LOAD_BALANCER`` and, for the cut check,
    ``PROBE_NAMESPACE`` and ``PRIMARY``."""
    variables: dict[str, pulumi.Input[str]] = {
        "STACK": args.stack,
        "LOAD_BALANCER": args.load_balancer_arn_suffix,
    }
    if args.probe_namespace and args.primary_environment:
        variables |= {"PROBE_NAMESPACE": args.probe_namespace, "PRIMARY": args.primary_environment}
    return variables


@dataclass(frozen=True)
class FisRunRecorderArgs:
    """Inputs of :class:`FisRunRecorder`."""

    template_ids: Mapping[str, pulumi.Input[str]]
    """template key -> FIS experiment template id (``ChaosExperiments.template_ids``)."""
    guard_alarm_arns: Sequence[pulumi.Input[str]]
    """The templates' stop-condition alarms: the function reads their state."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """``app/<name>/<id>`` of the primary load balancer (the error rate's source)."""
    stack: str
    """The ``Stack`` dimension of the published metrics."""
    alarm_topic_arn: pulumi.Input[str]
    """Topic the dead-letter alarm notifies."""
    probe_namespace: str | None = None
    """Namespace of the prober's ``<dep>-connectivity`` metrics; with ``primary_environment``
    the function checks that a completed ``dependency-<dep>`` cut held (``chaos.fis_record``)."""
    primary_environment: str | None = None
    """``Host`` dimension of the primary environment's prober (``blue``)."""
    log_retention_days: int = 90
    memory_mb: int = 128
    timeout_seconds: int = 60
    reserved_concurrency: int | None = None
    """None (the default) reserves nothing: Lambda keeps 10 executions unreserved, so reserving
    even 1 fails the first `pulumi up` in an account whose concurrency quota is still the
    new-account 10. 1 serializes deliveries, so two copies of one event can never both pass the
    duplicate check; without it they could only if EventBridge delivered them at the same moment."""


def validate_args(args: FisRunRecorderArgs) -> None:
    if not args.template_ids:
        raise ValueError(
            "FisRunRecorderArgs.template_ids must be a non-empty mapping of template key to id (got {})"
        )
    if not args.stack:
        raise ValueError("FisRunRecorderArgs.stack must be the stack's name (got '')")
    if not 128 <= args.memory_mb <= 10240:
        raise ValueError(f"FisRunRecorderArgs.memory_mb must be 128-10240 (got {args.memory_mb})")
    if args.reserved_concurrency is not None and args.reserved_concurrency < 1:
        raise ValueError(
            "FisRunRecorderArgs.reserved_concurrency must be None or >= 1 "
            f"(got {args.reserved_concurrency}; 0 would throttle every delivery)"
        )
    if bool(args.probe_namespace) != bool(args.primary_environment):
        raise ValueError(
            "FisRunRecorderArgs.probe_namespace and primary_environment must be given together "
            f"(got {args.probe_namespace!r} and {args.primary_environment!r})"
        )
    if not 3 <= args.timeout_seconds <= 900:
        raise ValueError(
            f"FisRunRecorderArgs.timeout_seconds must be 3-900 (got {args.timeout_seconds})"
        )


class FisRunRecorder(pulumi.ComponentResource):
    """EventBridge rule -> Lambda function that records each finished FIS run as metrics.

    Guarantees: only the stack's rule may invoke the function; its role is least-privilege; an
    event EventBridge could not deliver, or the function failed on after Lambda's retries, lands
    in an encrypted dead-letter queue whose alarm notifies the alert topic.
    """

    function_name: pulumi.Output[str]
    rule_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    """Where a run the function could not record lands (its event and the error)."""
    dead_letter_alarm_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: FisRunRecorderArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_args(args)
        super().__init__("steadystate:chaos:FisRunRecorder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        fis_arn = pulumi.Output.concat("arn:", partition, ":fis:", region, ":", account, ":")

        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(retention_in_days=args.log_retention_days),
            opts=child,
        )
        dead_letters = dead_letter_queue(f"{name}-dlq", child)
        alarm = dead_letter_alarm(
            f"{name}-dlq", dead_letters, "Recording a FIS run", args.alarm_topic_arn, child
        )
        role = aws.iam.Role(
            f"{name}-fn",
            aws.iam.RoleArgs(
                description="Lambda: record finished FIS experiments as chaos metrics",
                assume_role_policy=assume_role_policy(
                    "lambda.amazonaws.com", source_account=account
                ),
            ),
            opts=child,
        )
        template_arns: list[pulumi.Input[str]] = [
            pulumi.Output.concat(fis_arn, "experiment-template/", template_id)
            for _, template_id in sorted(args.template_ids.items())
        ]
        policy = aws.iam.RolePolicy(
            f"{name}-fn",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=document(
                    statement(
                        ["cloudwatch:PutMetricData"],
                        ["*"],
                        sid="PublishChaosMetrics",
                        conditions={"StringEquals": {"cloudwatch:namespace": metrics.NAMESPACE}},
                    ),
                    # GetMetricStatistics has no resource-level permissions
                    statement(["cloudwatch:GetMetricStatistics"], ["*"], sid="ReadMetrics"),
                    statement(
                        ["cloudwatch:DescribeAlarms"],
                        list(args.guard_alarm_arns),
                        sid="ReadGuardAlarms",
                    ),
                    statement(
                        ["fis:GetExperiment"],
                        [pulumi.Output.concat(fis_arn, "experiment/*")],
                        sid="ReadExperiments",
                    ),
                    statement(
                        ["fis:GetExperimentTemplate"], template_arns, sid="ReadTheStacksTemplates"
                    ),
                    statement(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        [pulumi.Output.concat(logs.arn, ":*")],
                        sid="OwnLogGroup",
                    ),
                    statement(["sqs:SendMessage"], [dead_letters.arn], sid="OnFailureDestination"),
                ),
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-fn",
            aws.lambda_.FunctionArgs(
                description="Record finished FIS experiments in steadystate/chaos",
                runtime=RUNTIME,
                handler=HANDLER,
                architectures=[ARCHITECTURE],
                code=package(),
                role=role.arn,
                memory_size=args.memory_mb,
                timeout=args.timeout_seconds,
                reserved_concurrent_executions=args.reserved_concurrency,
                environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment(args)),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                    log_format="JSON",
                    log_group=logs.name,
                    application_log_level="INFO",
                    system_log_level="WARN",
                ),
            ),
            # the role's policy must exist before the first invocation can write logs
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # Lambda checks the role's access to the destination when the config is written
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-fn",
            aws.lambda_.FunctionEventInvokeConfigArgs(
                function_name=function.name,
                maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
                destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                    on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                        destination=dead_letters.arn
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-fis-ended",
            aws.cloudwatch.EventRuleArgs(
                description="A FIS experiment of the stack's templates reached a terminal state",
                event_pattern=pulumi.Output.all(*args.template_ids.values()).apply(
                    lambda ids: event_pattern([str(i) for i in ids])
                ),
            ),
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-invoke",
            aws.lambda_.PermissionArgs(
                action="lambda:InvokeFunction",
                function=function.name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
                source_account=account,
            ),
            opts=child,
        )
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-dlq",
            aws.sqs.QueuePolicyArgs(
                queue_url=dead_letters.url,
                policy=document(
                    statement(
                        ["sqs:SendMessage"],
                        [dead_letters.arn],
                        sid="UndeliveredRecorderEvents",
                        principals={"Service": "events.amazonaws.com"},
                        conditions={"ArnEquals": {"aws:SourceArn": rule.arn}},
                    )
                ),
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-fis-ended",
            aws.cloudwatch.EventTargetArgs(
                rule=rule.name,
                arn=function.arn,
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(
                    arn=dead_letters.arn
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission, queue_policy]),
        )
        self.function_name = function.name
        self.rule_arn = rule.arn
        self.log_group_name = logs.name
        self.dead_letter_queue_arn = dead_letters.arn
        self.dead_letter_alarm_arn = alarm.arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "rule_arn": self.rule_arn,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "dead_letter_alarm_arn": self.dead_letter_alarm_arn,
            }
        )
