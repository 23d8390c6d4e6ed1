"""The stack outputs table: what `__main__.py` exports for each stack, read from its synthesis.

The descriptions live here; the names, which stack has which output and the keys of map-valued
outputs come from running the program under mocks, so an output added, removed or renamed in
`__main__.py` shows up (or fails :func:`table`, when it has no description).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DESCRIPTIONS: dict[str, str] = {
    "url": "the service's URL: the failover record's name with DNS, else the load balancer's",
    "dnsPrimary": "the environment that takes traffic while healthy (`dns.primary`)",
    "environmentUrls": "each environment's own load balancer URL (the release smoke test's target)",
    "clusterName": "the ECS cluster",
    "hostGroups": "each capacity group's Auto Scaling group (an environment's, or `shared`): the release pipeline's host step and the environment-loss experiment act on it",
    "serviceNames": "the ECS service of each `<environment>-<role>`",
    "logGroupNames": "the container log group of each service",
    "deploymentAlarmNames": "the alarms ECS watches while it deploys each service",
    "repositoryName": "the ECR repository the image is pushed to",
    "imageRef": "the image this checkout builds, by digest",
    "imageVersion": "the image's content tag (`src-…`), which `/version` reports",
    "releasePins": "the release (image digest and version) each service runs",
    "alarmTopicArn": "the SNS topic every alarm notifies",
    "connectivityAlarmNames": "the connectivity alarm of each environment and dependency",
    "fisTemplateIds": "the AWS FIS experiment template of each chaos experiment key",
    "dashboardUrl": "the CloudWatch dashboard in the console",
    "databaseAddress": "the database's host name (private)",
    "databaseBootstrapCommand": "the `aws ecs run-task` command that creates the app's database role",
    "databaseRotateCommand": "the same task with `--rotate`: a new password for the app's role",
    "databaseRotationSchedule": "the EventBridge Scheduler schedule that runs the rotate task every `database.rotationDays` days",
}


class UndocumentedOutput(Exception):
    """A stack exports an output this module has no description for."""


def _shape(value: Any) -> str:
    """What a reader gets: a text, or a map and its keys (the values are mock answers)."""
    if isinstance(value, Mapping):
        keys = ", ".join(f"`{key}`" for key in value)
        return f"map: {keys}" if keys else "map (empty)"
    if isinstance(value, list):
        return "list"
    return "text"


def table(outputs: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown table of every output of every stack (`outputs`: stack -> its outputs)."""
    names: list[str] = []
    for values in outputs.values():
        names += [name for name in values if name not in names]
    missing = [name for name in names if name not in DESCRIPTIONS]
    if missing:
        raise UndocumentedOutput(
            f"stack outputs without a description in ops/docs/outputs.py: {', '.join(missing)}"
        )
    order = [name for name in DESCRIPTIONS if name in names]
    stacks = list(outputs)
    lines = [
        "| output | what it holds | " + " | ".join(stacks) + " |",
        "|---|---|" + "---|" * len(stacks),
    ]
    for name in order:
        cells = [_shape(outputs[s][name]) if name in outputs[s] else "—" for s in stacks]
        lines.append(f"| `{name}` | {DESCRIPTIONS[name]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
