"""One-shot database bootstrap, run from the app's image: ``python -m steadystate_app.bootstrap_db``.

Connects as the RDS master user (credentials from the RDS-managed secret ``DB_MASTER_SECRET_ARN``)
and makes the app's least-privilege role (:mod:`.db_roles`) match the app secret
``DB_SECRET_ARN``:

- first run (the app secret has no value yet): generates a password, creates the role, stores
  ``{"username", "password", "engine", "host", "port", "dbname"}`` in the app secret;
- later runs: sets the role's password and grants to what the secret holds (repairs drift);
- ``--rotate``: generates a new password, sets it on the role and stores it as a new AWSCURRENT
  version of the secret. Running apps pick it up on their next refused login.

The role change and the secret write are ordered so they never disagree for long: the new
password is stored while the ALTER ROLE transaction is still open and committed right after;
if storing fails, the transaction rolls back and the old password stays valid everywhere.

Environment: DB_MASTER_SECRET_ARN, DB_SECRET_ARN, DB_HOST (required); DB_PORT (5432), DB_NAME
(postgres), DB_SSLMODE (prefer), DB_APP_USERNAME (steadystate_app), DB_APP_SCHEMA (steadystate),
AWS_REGION. Exit 0 when done, 2 for a refused configuration, 1 when the work failed; the
password is never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg.conninfo

from . import logs
from .db_credentials import CredentialsError, parse_secret, secrets_manager_client
from .db_roles import RoleError, ensure_app_role
from .settings import SettingsError

log = logging.getLogger(__name__)

_IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED_PREFIXES = ("pg_", "rds")
PASSWORD_BYTES = 32
"""Random bytes in a generated password (43 URL-safe characters)."""


@dataclass(frozen=True)
class BootstrapSettings:
    master_secret_id: str
    app_secret_id: str
    host: str
    port: int
    dbname: str
    sslmode: str
    username: str
    schema: str
    region: str | None


def bootstrap_settings(env: Mapping[str, str] = os.environ) -> BootstrapSettings:
    """Read and check the bootstrap's environment; SettingsError names the bad variable."""
    missing = [
        name for name in ("DB_MASTER_SECRET_ARN", "DB_SECRET_ARN", "DB_HOST") if not env.get(name)
    ]
    if missing:
        raise SettingsError(f"set {', '.join(missing)}")
    if env["DB_MASTER_SECRET_ARN"] == env["DB_SECRET_ARN"]:
        raise SettingsError("DB_SECRET_ARN must be the app's secret, not the master secret")
    port_text = env.get("DB_PORT", "5432").strip() or "5432"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65_535:
        raise SettingsError(f"DB_PORT={port_text!r} must be a port number 1..65535")
    names = {
        "DB_APP_USERNAME": env.get("DB_APP_USERNAME", "steadystate_app"),
        "DB_APP_SCHEMA": env.get("DB_APP_SCHEMA", "steadystate"),
    }
    for variable, value in names.items():
        if not _IDENTIFIER_RE.match(value) or value.startswith(_RESERVED_PREFIXES):
            raise SettingsError(
                f"{variable}={value!r} must be lower-case letters, digits and '_' (max 63), "
                "starting with a letter or '_', not pg_* or rds*"
            )
    app_secret = env["DB_SECRET_ARN"]
    parts = app_secret.split(":")
    region = parts[3] if app_secret.startswith("arn:") and len(parts) > 3 and parts[3] else None
    return BootstrapSettings(
        master_secret_id=env["DB_MASTER_SECRET_ARN"],
        app_secret_id=app_secret,
        host=env["DB_HOST"],
        port=int(port_text),
        dbname=env.get("DB_NAME") or "postgres",
        sslmode=env.get("DB_SSLMODE", "prefer"),
        username=names["DB_APP_USERNAME"],
        schema=names["DB_APP_SCHEMA"],
        region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )


def current_app_password(client: Any, settings: BootstrapSettings) -> str | None:
    """The app secret's password, or None when the secret has no value yet (first run) or names
    another user (the role is being renamed: a new password for the new role)."""
    try:
        answer = client.get_secret_value(SecretId=settings.app_secret_id)
    except client.exceptions.ResourceNotFoundException:
        # Also raised for an existing secret without an AWSCURRENT version, as the stack
        # creates it; a secret that does not exist at all fails later, in PutSecretValue.
        return None
    stored = parse_secret(settings.app_secret_id, answer.get("SecretString"))
    return stored.password if stored.username == settings.username else None


def run(settings: BootstrapSettings, rotate: bool, client: Any) -> dict[str, Any]:
    """Do the bootstrap; the summary to log (no secret values)."""
    master_answer = client.get_secret_value(SecretId=settings.master_secret_id)
    master = parse_secret(settings.master_secret_id, master_answer.get("SecretString"))
    password = None if rotate else current_app_password(client, settings)
    new_password = password is None
    if password is None:
        password = secrets.token_urlsafe(PASSWORD_BYTES)
    conninfo = psycopg.conninfo.make_conninfo(
        host=settings.host,
        port=settings.port,
        dbname=settings.dbname,
        sslmode=settings.sslmode,
        user=master.username,
        password=master.password,
        connect_timeout=10,
        application_name="steadystate-bootstrap",
    )
    version_id = None
    with psycopg.connect(conninfo) as conn:  # commits on a clean exit, rolls back on an error
        outcome = ensure_app_role(conn, settings.username, settings.schema, password)
        if new_password:
            answer = client.put_secret_value(
                SecretId=settings.app_secret_id,
                SecretString=json.dumps(
                    {
                        "username": settings.username,
                        "password": password,
                        "engine": "postgres",
                        "host": settings.host,
                        "port": settings.port,
                        "dbname": settings.dbname,
                    }
                ),
            )
            version_id = answer.get("VersionId")
    return {
        "role": settings.username,
        "schema": settings.schema,
        "database": settings.dbname,
        "role_created": outcome.created,
        "password_changed": new_password,
        "secret_version": version_id,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m steadystate_app.bootstrap_db",
        description="Create or update the app's least-privilege database role and its secret.",
    )
    parser.add_argument(
        "--rotate", action="store_true", help="give the role a new password and store it"
    )
    options = parser.parse_args(argv)
    logs.configure()
    try:
        settings = bootstrap_settings()
    except SettingsError as exc:
        log.error("refusing to start: %s", exc)
        return 2
    try:
        summary = run(settings, options.rotate, secrets_manager_client(settings.region))
    except (CredentialsError, RoleError, psycopg.Error) as exc:
        log.error("bootstrap failed: %s", exc)
        return 1
    except Exception as exc:  # botocore errors: the message names the call and the reason
        log.error("bootstrap failed: %s: %s", type(exc).__name__, exc)
        return 1
    log.info("database role ready", extra=summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
