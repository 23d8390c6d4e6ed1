"""Entry point Pulumi runs (cwd=policy/): builds the pack and serves it. Constructing a
PolicyPack starts the analyzer gRPC server and blocks, so nothing may import this module."""

from guardrails import deserialize_once
from guardrails.registry import PACK_ENFORCEMENT_LEVEL, all_policies
from pulumi_policy import PolicyPack

deserialize_once.install()

PolicyPack(
    name="steadystate-guardrails",
    policies=all_policies(),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
)
