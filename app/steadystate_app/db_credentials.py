"""Database credentials read from Secrets Manager when the app connects, cached, and re-read when
they may have changed.

The app never takes its database password from the environment in a deployed stack: ECS would
inject the value once, at task start, and a rotation would leave every running task with a stale
password. Instead :class:`SecretCredentials` calls ``GetSecretValue`` on the secret named by
``DB_SECRET_ARN`` and keeps the answer for ``DB_SECRET_REFRESH_SECONDS``. A connection refused
for its credentials (:func:`is_auth_failure`) re-reads the secret at once, at most once every
:data:`MIN_FORCED_REFRESH_SECONDS` (never more often than the refresh interval allows), so a
rotation heals within one refresh interval without a restart and a wrong password cannot turn
every ``/ready`` call into a Secrets Manager call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MIN_FORCED_REFRESH_SECONDS = 5.0
"""Shortest gap between two re-reads forced by authentication failures."""

# libpq reports a refused login only in the message (psycopg leaves sqlstate unset for connection
# failures). RDS servers speak English; these are the server's FATAL texts for a wrong password
# (28P01) and for a user name that does not exist (yet) (28000).
_AUTH_FAILURE_TEXTS = ("password authentication failed", 'role "', "does not exist")


class CredentialsError(RuntimeError):
    """The secret cannot be used as database credentials (its value is never echoed)."""


@dataclass(frozen=True)
class Credentials:
    """One version of the secret: who to log in as. ``password`` is left out of the repr."""

    username: str
    password: str = field(repr=False)
    version_id: str = ""


def is_auth_failure(exc: BaseException) -> bool:
    """Whether a connection error means "these credentials were refused"."""
    text = str(exc)
    if _AUTH_FAILURE_TEXTS[0] in text:
        return True
    return _AUTH_FAILURE_TEXTS[1] in text and _AUTH_FAILURE_TEXTS[2] in text


def parse_secret(secret_id: str, secret_string: str | None, version_id: str = "") -> Credentials:
    """The ``username``/``password`` of a Secrets Manager JSON secret; raises CredentialsError."""
    try:
        value = json.loads(secret_string or "")
        username, password = value["username"], value["password"]
    except (ValueError, TypeError, KeyError):
        username = password = None
    if not (isinstance(username, str) and isinstance(password, str) and username and password):
        raise CredentialsError(
            f'secret {secret_id} must hold a JSON object with string "username" and '
            '"password" (as the bootstrap writes it)'
        )
    return Credentials(username, password, version_id)


def secrets_manager_client(region: str | None) -> Any:
    """A boto3 Secrets Manager client with short timeouts (the caller is a bounded probe).

    ``AWS_ENDPOINT_URL`` (read by boto3 itself) points it at another endpoint, as tests do.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}
    )
    return boto3.client("secretsmanager", region_name=region, config=config)


class SecretCredentials:
    """The current credentials in one Secrets Manager secret, cached for ``refresh_seconds``."""

    def __init__(
        self,
        secret_id: str,
        refresh_seconds: float,
        region: str | None = None,
        *,
        client_factory: Callable[[str | None], Any] = secrets_manager_client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_id = secret_id
        self.refresh_seconds = refresh_seconds
        self.region = region
        self._client_factory = client_factory
        self._clock = clock
        self._client: Any = None
        self._cached: Credentials | None = None
        self._fetched_at = float("-inf")
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"SecretCredentials(secret_id={self.secret_id!r}, refresh={self.refresh_seconds:g})"

    @property
    def forced_refresh_gap(self) -> float:
        return min(MIN_FORCED_REFRESH_SECONDS, self.refresh_seconds)

    async def current(self) -> Credentials:
        """The cached credentials, re-read once they are older than ``refresh_seconds``."""
        async with self._guard():
            if self._cached is None or self._age() >= self.refresh_seconds:
                await self._fetch()
            assert self._cached is not None
            return self._cached

    async def refresh_after_auth_failure(self, refused: Credentials) -> Credentials | None:
        """Re-read the secret after ``refused`` was turned down; the new credentials, or None
        when there is nothing new to try (unchanged, or re-read too recently)."""
        async with self._guard():
            if self._cached is not None and self._cached != refused:
                return self._cached  # another probe already picked up a newer version
            if self._age() < self.forced_refresh_gap:
                return None
            await self._fetch()
            assert self._cached is not None
            return None if self._cached == refused else self._cached

    def _age(self) -> float:
        return self._clock() - self._fetched_at

    def _guard(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _fetch(self) -> None:
        self._cached = await asyncio.to_thread(self._get_secret_value)
        self._fetched_at = self._clock()

    def _get_secret_value(self) -> Credentials:
        if self._client is None:
            self._client = self._client_factory(self.region)
        answer = self._client.get_secret_value(SecretId=self.secret_id)
        return parse_secret(
            self.secret_id, answer.get("SecretString"), str(answer.get("VersionId", ""))
        )
