"""Checks before a chaos run touches anything: the experiment's activities exist, AWS credentials
and a region are there, and an explicit ``--cluster`` belongs to ``--stack``.

Each check raises a :class:`chaos.run_errors.RunRefused` subclass with a one-line message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaos.run_errors import BadExperiment, NoCredentials, StackUnreachable, WrongStack
from chaos.runner import ExperimentError, check_python_activities

STACK_TAG = "Stack"
"""Tag every resource of a stack carries (``aws:defaultTags`` in ``Pulumi.<stack>.yaml``)."""

AUTH_ERRORS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "AuthFailure",
    }
)
"""AWS error codes that mean the credentials themselves were refused."""


def check_activities(experiment: Mapping[str, Any]) -> None:
    """Every python activity's module imports and its function takes the arguments given."""
    try:
        check_python_activities(experiment)
    except ExperimentError as err:
        raise BadExperiment(str(err)) from err


def check_credentials(region: str | None) -> None:
    """A region and credentials that boto3 can find (environment, profile, SSO, instance role)."""
    from boto3.session import Session
    from botocore.exceptions import BotoCoreError

    try:
        session = Session(region_name=region) if region else Session()
        if not session.region_name:
            raise NoCredentials(
                "no AWS region: pass --region, or set aws:region in Pulumi.<stack>.yaml or "
                "AWS_REGION"
            )
        if session.get_credentials() is None:
            raise NoCredentials(
                "no AWS credentials: set AWS_PROFILE (after `aws sso login`) or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )
    except BotoCoreError as err:  # a broken profile, an expired SSO token
        raise NoCredentials(f"AWS credentials cannot be loaded: {err}") from err


def expected_stack_tag(repo_dir: Path, stack: str) -> str:
    """The ``Stack`` tag of ``aws:defaultTags`` in ``Pulumi.<stack>.yaml``; the stack's name when
    the file or the tag is missing."""
    from ops.synth.stack_config import StackConfigError, load_stack_config

    try:
        raw = load_stack_config(repo_dir, stack).raw
    except StackConfigError:
        return stack
    tags = (raw.get("aws:defaultTags") or {}).get("tags") or {}
    return str(tags.get(STACK_TAG) or stack)


def aws_error(err: Exception, doing: str) -> Exception:
    """A botocore error as the refusal it stands for: credentials refused, or the stack's
    resources out of reach."""
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

    if isinstance(err, NoCredentialsError | NoRegionError):
        return NoCredentials(f"{doing}: {err}")
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        if code in AUTH_ERRORS:
            return NoCredentials(f"{doing}: AWS refused the credentials: {code}: {message}")
        return StackUnreachable(f"{doing}: {code}: {message}")
    return StackUnreachable(f"{doing}: {err}")


def check_cluster_stack(ecs: Any, cluster: str, stack: str, expected: str) -> None:
    """The ECS cluster exists and its ``Stack`` tag is ``expected``: chaos against a cluster
    named on the command line only hits the stack ``--stack`` names."""
    from botocore.exceptions import BotoCoreError, ClientError

    doing = f"cannot read the tags of ECS cluster {cluster!r}"
    try:
        answer = ecs.describe_clusters(clusters=[cluster], include=["TAGS"])
    except (BotoCoreError, ClientError) as err:
        raise aws_error(err, doing) from err
    clusters = answer.get("clusters") or []
    if not clusters:
        reasons = ", ".join(f.get("reason", "?") for f in answer.get("failures") or []) or "?"
        raise StackUnreachable(f"no ECS cluster {cluster!r} in this region ({reasons})")
    tags = {tag.get("key"): tag.get("value") for tag in clusters[0].get("tags") or []}
    found = tags.get(STACK_TAG)
    if found is None:
        raise WrongStack(
            f"ECS cluster {cluster!r} has no {STACK_TAG} tag: it is not a cluster of stack "
            f"{stack!r} (which tags its resources {STACK_TAG}={expected})"
        )
    if found != expected:
        raise WrongStack(
            f"ECS cluster {cluster!r} is tagged {STACK_TAG}={found}, not {STACK_TAG}={expected} "
            f"of --stack {stack}: pass the --stack it belongs to, or its own cluster"
        )
