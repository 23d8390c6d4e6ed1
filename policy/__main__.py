"""Entry point Pulumi runs (cwd=policy/): builds the pack and serves it. Constructing a
PolicyPack starts the analyzer gRPC server and blocks, so nothing may import this module."""

import gc
import platform

# The engine's analyzer process lives for one preview: collect cycles less often, as the project's
# tools do (ops/cli/gc_tuning.py says why; mypy does the same).
if platform.python_implementation() == "CPython":
    gc.set_threshold(200_000, 30, 30)

from guardrails import deserialize_once
from guardrails.registry import PACK_ENFORCEMENT_LEVEL, all_policies
from pulumi_policy import PolicyPack

deserialize_once.install()

PolicyPack(
    name="steadystate-guardrails",
    policies=all_policies(),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
)
