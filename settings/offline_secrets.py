"""How a `secure:` value looks when the program runs without the Pulumi CLI.

Offline (`make check`, `make release-plan`, the tests) nobody can decrypt a stack's secrets, so each
`secure:` value becomes a placeholder string. A placeholder is not the user's value: the settings
skip the rules they cannot judge without it (an e-mail address's shape), and a whole object or list
given as one secret is read as its shape's neutral value (see :func:`stand_in`).
"""

from __future__ import annotations

from typing import Any

PREFIX = "offline-placeholder-for-"


def placeholder(key: str) -> str:
    """The offline stand-in for the secret at `key` (`project:setting` or a `--path` below it)."""
    return PREFIX + key.replace(":", "-")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def stand_in(value: str, kind: type, default: Any) -> Any:
    """What the settings read for a placeholder where `kind` is expected.

    A list holds one unknown item (a list of secret addresses is not an empty one); any other
    non-string kind keeps its default, which the program's real run replaces with the decrypted
    value.
    """
    if kind is str:
        return value
    if kind is list:
        return [value]
    return default
