"""User data for ECS container instances: a shell script that writes `/etc/ecs/ecs.config`.

Pure functions, so tests (and reviewers) can read exactly what an instance boots with.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

ECS_CONFIG_PATH = "/etc/ecs/ecs.config"

#: Agent settings every host gets. Task IAM roles for bridge-mode tasks need
#: ECS_ENABLE_TASK_IAM_ROLE; the container metadata file lets the app read its own task/port
#: mapping; 30 s matches the app's graceful shutdown (SIGTERM, then SIGKILL after the timeout).
#: ENI trunking is not set: the service uses bridge network mode, which needs no ENI per task.
BASE_AGENT_SETTINGS: Mapping[str, str] = {
    "ECS_ENABLE_CONTAINER_METADATA": "true",
    "ECS_ENABLE_TASK_IAM_ROLE": "true",
    "ECS_CONTAINER_STOP_TIMEOUT": "30s",
}

_KEY = re.compile(r"ECS_[A-Z0-9_]+")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:/@+=,-]*")


def ecs_agent_settings(cluster_name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `KEY=value` settings for the agent: `ECS_CLUSTER` first, then the base, then `extra`."""
    settings = {"ECS_CLUSTER": cluster_name, **BASE_AGENT_SETTINGS, **(extra or {})}
    for key, value in settings.items():
        if not _KEY.fullmatch(key):
            raise ValueError(f"ECS agent setting {key!r} must look like ECS_SOME_NAME")
        if not _SAFE_VALUE.fullmatch(value) or not value:
            raise ValueError(
                f"ECS agent setting {key}={value!r} has characters unsafe in ecs.config"
            )
    return settings


def ecs_user_data_script(cluster_name: str, extra: Mapping[str, str] | None = None) -> str:
    """A bash script that appends the agent settings to `/etc/ecs/ecs.config` before it starts.

    Appending (not overwriting) keeps anything the AMI already put there. The ECS-optimized AMI
    starts the agent after cloud-init runs user data, so the settings are in place on first boot.
    """
    lines = [f"{k}={v}" for k, v in ecs_agent_settings(cluster_name, extra).items()]
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            f"cat >> {ECS_CONFIG_PATH} <<'EOF'",
            *lines,
            "EOF",
            "",
        ]
    )


def encode_user_data(script: str) -> str:
    """Base64 of the script, as launch templates take user data."""
    return base64.b64encode(script.encode()).decode()


def parse_ecs_config(script: str) -> dict[str, str]:
    """The `ECS_*=value` lines of a script (or of ecs.config itself), for tests and audits."""
    found: dict[str, str] = {}
    for line in script.splitlines():
        key, sep, value = line.partition("=")
        if sep and _KEY.fullmatch(key):
            found[key] = value
    return found
