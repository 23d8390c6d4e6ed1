"""Names of one database *generation*: the RDS instance identifier, its final snapshot and its
Postgres log group.

Why generations: a final snapshot's name is chosen when the instance is created (it is an input)
and used when the instance is deleted. A fixed name works once; the next deletion (after a
replacement, or after ``pulumi destroy`` and ``pulumi up``) fails with DBSnapshotAlreadyExists.
So every instance gets a name of its own, fixed for its whole life and different from every
earlier one, without any randomness in the program's inputs:

- a *generation marker* (an SSM String parameter, free) is auto-named by Pulumi when it is
  created: the engine picks a random suffix once and keeps it in the state, so re-runs from any
  checkout see the same name;
- the marker's value lists the instance inputs whose change makes RDS replace the instance, and
  the marker is replaced when that value changes (``replace_on_changes``): a new instance gets a
  new marker, a ``pulumi destroy`` deletes the marker with the instance;
- the instance identifier is ``<stack prefix>-<8 hex of the marker's name>``; the final snapshot
  and the log group are named after the identifier.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

IDENTIFIER_MAX = 63
"""RDS instance identifiers: 1..63 letters, digits and single hyphens, starting with a letter."""
GENERATION_HEX = 8
"""Hex digits of the marker's name kept in the identifier."""

REPLACEMENT_INPUTS = ("engine", "db_name", "username", "storage_encrypted", "kms_key_id")
"""Instance inputs RDS cannot change in place (the provider replaces the instance): the marker's
value holds exactly these."""


def _cleaned(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)


def identifier_prefix(project: str, stack: str, name: str) -> str:
    """``<project>-<stack>-<name>``, cleaned for RDS and short enough for the generation suffix."""
    prefix = _cleaned(f"{project}-{stack}-{name}")
    if not prefix or not prefix[0].isalpha():
        prefix = f"db-{prefix}".rstrip("-")
    return prefix[: IDENTIFIER_MAX - GENERATION_HEX - 1].rstrip("-")


def instance_identifier(prefix: str, marker_name: str) -> str:
    """The identifier of the generation whose marker is called ``marker_name``."""
    generation = hashlib.sha256(marker_name.encode()).hexdigest()[:GENERATION_HEX]
    return f"{prefix}-{generation}"


def final_snapshot_identifier(identifier: str) -> str:
    """The final snapshot of instance ``identifier`` (unique because the identifier is)."""
    return f"{identifier}-final"


def postgres_log_group_name(identifier: str) -> str:
    """The log group RDS exports the ``postgresql`` log of instance ``identifier`` to."""
    return f"/aws/rds/instance/{identifier}/postgresql"


def marker_value(inputs: Mapping[str, object]) -> str:
    """The marker's value: the replacement inputs as canonical JSON (None for unset)."""
    return json.dumps({key: inputs.get(key) for key in REPLACEMENT_INPUTS}, sort_keys=True)
