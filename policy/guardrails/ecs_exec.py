"""ECS Exec guardrails: in prod, sessions and their log group are encrypted with a customer key."""

from __future__ import annotations

from .aws_types import ECS_CLUSTER, LOG_GROUP
from .framework import MANDATORY, StackCheck, StackResource, stack_rule
from .properties import is_set, is_unknown

EXEC_CONFIGURATION = "configuration.executeCommandConfiguration"


def _exec_log_group(check: StackCheck, cluster: StackResource) -> StackResource | bool | None:
    """The stack's log group the cluster logs sessions to; False when none of the stack's groups
    is it; None when that is unknown during preview.

    A group whose outputs flowed into the cluster's ``configuration`` counts (how the link shows
    during preview, when the name is still unknown), as does one whose known name matches.
    """
    name = cluster.get(f"{EXEC_CONFIGURATION}.logConfiguration.cloudWatchLogGroupName")
    feeding = set(cluster.depends_on("configuration"))
    unknown = False
    for group in check.of_type(LOG_GROUP):
        if group.urn in feeding:
            return group
        group_name = group.get("name")
        if is_unknown(name) or is_unknown(group_name):
            unknown = True
        elif name == group_name:
            return group
    return None if unknown else False


@stack_rule(
    "ecs-exec-encrypted",
    level=MANDATORY,
    prod_only=True,
    description=(
        "A prod ECS cluster that configures ECS Exec encrypts the sessions with a customer "
        "managed key (executeCommandConfiguration.kmsKeyId) and, when it logs them to "
        "CloudWatch, sets cloudWatchEncryptionEnabled and logs to a log group of the stack that "
        "has a kmsKeyId. Prod-only (config environment=prod): mandatory, because a session's "
        "commands and output are an operator's shell on production, secrets included; not "
        "applicable in dev."
    ),
)
def ecs_exec_encrypted(check: StackCheck) -> None:
    for cluster in check.of_type(ECS_CLUSTER):
        exec_config = cluster.get(EXEC_CONFIGURATION)
        if is_unknown(exec_config):
            check.note(f"{cluster.label()}'s executeCommandConfiguration is unknown during preview")
            continue
        if not is_set(exec_config):
            continue  # no exec configuration: nothing here to judge
        if not is_set(cluster.get(f"{EXEC_CONFIGURATION}.kmsKeyId")):
            check.violation(
                cluster,
                "ECS Exec sessions are encrypted with no customer managed key",
                f"set {EXEC_CONFIGURATION}.kmsKeyId to an aws:kms/key's arn (and grant the task "
                "roles kms:Decrypt on it)",
            )
        if not is_set(cluster.get(f"{EXEC_CONFIGURATION}.logConfiguration.cloudWatchLogGroupName")):
            continue
        encrypted = cluster.get(
            f"{EXEC_CONFIGURATION}.logConfiguration.cloudWatchEncryptionEnabled"
        )
        if encrypted is not True and not is_unknown(encrypted):
            check.violation(
                cluster,
                "ECS Exec session logs are not required to be encrypted",
                f"set {EXEC_CONFIGURATION}.logConfiguration.cloudWatchEncryptionEnabled=true",
            )
        group = _exec_log_group(check, cluster)
        if group is None:
            check.note(f"which log group {cluster.label()} logs sessions to is unknown in preview")
        elif group is False:
            check.violation(
                cluster,
                "ECS Exec sessions are logged to a log group this stack does not manage",
                "log to an aws:cloudwatch/logGroup of the stack with kmsKeyId set",
            )
        elif isinstance(group, StackResource) and not is_set(group.get("kmsKeyId")):
            check.violation(
                group,
                f"the ECS Exec log group of {cluster.label()} is not encrypted with a KMS key",
                "set kmsKeyId to an aws:kms/key's arn whose key policy lets "
                "logs.<region>.amazonaws.com use it for this group",
            )


POLICIES = [ecs_exec_encrypted]
