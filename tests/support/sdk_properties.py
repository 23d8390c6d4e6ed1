"""The input property names pulumi-aws declares for a resource type, read from the installed SDK."""

from __future__ import annotations

import importlib
import keyword
from functools import cache


@cache
def declared_inputs(type_token: str) -> frozenset[str]:
    """camelCase inputs of e.g. `aws:ec2/vpc:Vpc`, from its `*Args` class's property getters."""
    package, module_path, name = type_token.split(":")
    submodule = module_path.split("/")[0]
    if keyword.iskeyword(submodule):  # `aws:lambda/...` lives in pulumi_aws.lambda_
        submodule += "_"
    module = importlib.import_module(
        f"pulumi_{package}" + ("" if submodule == "index" else "." + submodule)
    )
    for candidate in (f"{name}InitArgs", f"{name}Args"):  # InitArgs where names clash
        cls = getattr(module, candidate, None)
        resource = getattr(module, name, None)
        if cls is None or resource is None:
            continue
        names = {
            getattr(prop.fget, "_pulumi_name", None)
            for prop in vars(cls).values()
            if isinstance(prop, property)
        }
        names.discard(None)
        if names:
            return frozenset(str(n) for n in names)
    raise LookupError(f"no Args class for {type_token} in {module.__name__}")
