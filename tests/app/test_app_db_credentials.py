"""SecretCredentials in process: caching, the refresh interval, re-reads after a refused login,
and the settings that build it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict
from steadystate_app.db_credentials import (
    MIN_FORCED_REFRESH_SECONDS,
    Credentials,
    CredentialsError,
    SecretCredentials,
    is_auth_failure,
    parse_secret,
)
from steadystate_app.settings import SettingsError, app_settings

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-app-credentials-AbCdEf"


class FakeSecretsManager:
    """Answers GetSecretValue with whatever ``value`` holds now, counting calls."""

    def __init__(self) -> None:
        self.value = {"username": "app", "password": "one"}
        self.version = 1
        self.calls = 0

    def set(self, **value: str) -> None:
        self.value = {**self.value, **value}
        self.version += 1

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        assert SecretId == ARN
        self.calls += 1
        return {"SecretString": json.dumps(self.value), "VersionId": f"v{self.version}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def source(refresh: float = 300.0) -> tuple[SecretCredentials, FakeSecretsManager, Clock]:
    client, clock = FakeSecretsManager(), Clock()
    regions: list[str | None] = []

    def factory(region: str | None) -> FakeSecretsManager:
        regions.append(region)
        return client

    creds = SecretCredentials(ARN, refresh, "eu-west-1", client_factory=factory, clock=clock)
    return creds, client, clock


def test_cached_until_the_refresh_interval_passes() -> None:
    creds, client, clock = source(refresh=60)
    first = asyncio.run(creds.current())
    assert (first.username, first.password) == ("app", "one")
    client.set(password="two")
    clock.now += 59
    assert asyncio.run(creds.current()).password == "one"
    assert client.calls == 1
    clock.now += 1
    assert asyncio.run(creds.current()).password == "two"
    assert client.calls == 2


def test_refused_login_rereads_at_once_but_not_more_often_than_the_gap() -> None:
    creds, client, clock = source(refresh=3600)
    old = asyncio.run(creds.current())
    clock.now += MIN_FORCED_REFRESH_SECONDS
    # Postgres changed first: the re-read finds the same value, nothing new to try.
    assert asyncio.run(creds.refresh_after_auth_failure(old)) is None
    assert client.calls == 2
    client.set(password="two")
    clock.now += MIN_FORCED_REFRESH_SECONDS - 0.5
    assert asyncio.run(creds.refresh_after_auth_failure(old)) is None  # inside the gap
    assert client.calls == 2
    clock.now += 0.5
    newer = asyncio.run(creds.refresh_after_auth_failure(old))
    assert newer is not None and newer.password == "two"
    assert asyncio.run(creds.current()) == newer
    assert client.calls == 3


def test_gap_never_exceeds_the_refresh_interval() -> None:
    creds, _, _ = source(refresh=2)
    assert creds.forced_refresh_gap == 2


def test_a_newer_version_already_cached_is_returned_without_a_call() -> None:
    creds, client, _clock = source()
    old = asyncio.run(creds.current())
    stale = Credentials("app", "zero", "v0")
    assert asyncio.run(creds.refresh_after_auth_failure(stale)) == old
    assert client.calls == 1


def test_secret_values_are_checked_and_never_echoed() -> None:
    with pytest.raises(CredentialsError, match='"username" and "password"') as caught:
        parse_secret(ARN, json.dumps({"username": "app", "pass": "hunter2"}))
    assert "hunter2" not in str(caught.value)
    with pytest.raises(CredentialsError):
        parse_secret(ARN, None)
    assert "hunter2" not in repr(Credentials("app", "hunter2"))


@pytest.mark.parametrize(
    ("message", "refused"),
    [
        ('FATAL:  password authentication failed for user "app"', True),
        ('FATAL:  role "steadystate_app" does not exist', True),
        ("connection refused", False),
        ('FATAL:  database "app" does not exist', False),
    ],
)
def test_auth_failures_are_told_apart(message: str, refused: bool) -> None:
    assert is_auth_failure(RuntimeError(message)) is refused


def test_settings_build_a_secret_backed_database() -> None:
    env = {
        "DB_SECRET_ARN": ARN,
        "DB_HOST": "db.internal",
        "DB_NAME": "app",
        "DB_SSLMODE": "require",
        "DB_SECRET_REFRESH_SECONDS": "120",
    }
    (database,) = app_settings(env).dependencies
    assert conninfo_to_dict(database.conninfo) == {
        "host": "db.internal",
        "port": "5432",
        "dbname": "app",
        "sslmode": "require",
    }
    assert database.credentials is not None
    assert database.credentials.refresh_seconds == 120
    assert database.credentials.region == "eu-west-1"  # the ARN's region


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_SECRET_ARN": ARN}, "DB_SECRET_ARN is set but DB_HOST is not"),
        ({"DB_SECRET_ARN": ARN, "DATABASE_URL": "postgresql://x"}, "only one of"),
        ({"DB_SECRET_ARN": ARN, "DB_USERNAME": "u", "DB_PASSWORD": "p"}, "only one of"),
        (
            {"DB_SECRET_ARN": ARN, "DB_HOST": "h", "DB_SECRET_REFRESH_SECONDS": "0"},
            "DB_SECRET_REFRESH_SECONDS=0 is outside",
        ),
    ],
)
def test_settings_refuse_bad_secret_configuration(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        app_settings(env)
