"""Check request payloads against the AWS API models botocore ships (the shapes AWS validates)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator


@cache
def _model(service: str):
    return botocore.session.get_session().get_service_model(service)


def api_problems(service: str, operation: str, params: dict[str, Any]) -> str:
    """Botocore's validation report for `params` ('' when the API would accept their shape)."""
    shape = _model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""


def documented_values(service: str, operation: str, member: str) -> set[str]:
    """The "Valid Values" the API model documents for a string parameter without an enum
    (e.g. RDS CreateEventSubscription ``SourceType``); empty when it documents none."""
    shape = _model(service).operation_model(operation).input_shape
    members = getattr(shape, "members", {})
    doc = members[member].documentation or ""
    found = re.findall(r"Valid Values:\s*<code>([^<]+)</code>", doc)
    return {v.strip() for values in found for v in values.split("|")}


def register_task_definition_params(inputs: dict[str, Any]) -> dict[str, Any]:
    """RegisterTaskDefinition parameters from a recorded `aws:ecs/taskDefinition` resource."""
    params: dict[str, Any] = {
        "family": inputs["family"],
        "containerDefinitions": json.loads(inputs["containerDefinitions"]),
    }
    for key in (
        "networkMode",
        "requiresCompatibilities",
        "cpu",
        "memory",
        "executionRoleArn",
        "taskRoleArn",
    ):
        if key in inputs:
            params[key] = inputs[key]
    if "volumes" in inputs:
        params["volumes"] = [{"name": v["name"]} for v in inputs["volumes"]]
    return params
