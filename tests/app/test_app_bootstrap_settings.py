"""The bootstrap's environment: what it needs, what it refuses (naming the variable)."""

from __future__ import annotations

import pytest
from steadystate_app.bootstrap_db import bootstrap_settings
from steadystate_app.settings import SettingsError

MASTER = "arn:aws:secretsmanager:us-east-2:123456789012:secret:rds!db-1-AbCdEf"
APP = "arn:aws:secretsmanager:us-east-2:123456789012:secret:db-app-credentials-1-XyZ"
BASE = {"DB_MASTER_SECRET_ARN": MASTER, "DB_SECRET_ARN": APP, "DB_HOST": "db.internal"}


def test_defaults() -> None:
    settings = bootstrap_settings(BASE)
    assert (settings.username, settings.schema) == ("steadystate_app", "steadystate")
    assert (settings.port, settings.dbname, settings.sslmode) == (5432, "postgres", "prefer")
    assert settings.region == "us-east-2"  # from the secret's ARN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DB_HOST": ""}, "set DB_HOST"),
        ({"DB_SECRET_ARN": MASTER}, "not the master secret"),
        ({"DB_PORT": "70000"}, "DB_PORT='70000'"),
        ({"DB_APP_USERNAME": "App"}, "DB_APP_USERNAME='App'"),
        ({"DB_APP_USERNAME": "pg_app"}, "DB_APP_USERNAME"),
        ({"DB_APP_SCHEMA": "rdsadmin"}, "DB_APP_SCHEMA"),
        ({"DB_APP_USERNAME": "a" * 58}, "at most 57 characters: rotation alternates it with"),
    ],
)
def test_refusals_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        bootstrap_settings({**BASE, **change})


def test_the_longest_name_leaves_room_for_its_twin() -> None:
    assert bootstrap_settings({**BASE, "DB_APP_USERNAME": "a" * 57}).username == "a" * 57
