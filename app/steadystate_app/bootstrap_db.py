"""One-shot database bootstrap, run from the app's image: ``python -m steadystate_app.bootstrap_db``.

Connects as the RDS master user (credentials from the RDS-managed secret ``DB_MASTER_SECRET_ARN``)
and makes the app's least-privilege role (:mod:`.db_roles`) match the app secret
``DB_SECRET_ARN``:

- first run (the app secret has no value yet): generates a password, creates the role, stores
  ``{"username", "password", "engine", "host", "port", "dbname"}`` in the app secret;
- later runs: sets the password and grants of the role the secret names to what the secret
  holds (repairs drift);
- ``--rotate``: alternating users. The app's role has a twin, ``<DB_APP_USERNAME>_clone``, with
  the same grants. A rotation gives the role the secret does *not* name (creating the twin on the
  first rotation) a new password, commits, and only then stores that role and password as the
  secret's new AWSCURRENT version. The role the secret named until then keeps its password, so
  every task still holding it (a cached secret, an open connection) keeps logging in; tasks move
  to the new version when their cache expires (``DB_SECRET_REFRESH_SECONDS``). Each password is
  replaced two rotations after it was made. Nothing a rotation does refuses a login, as long as
  rotations are further apart than the apps' refresh interval (30 days against 5 minutes).

  This is Secrets Manager's "alternating users" strategy ("If the application retrieves the
  secret during rotation, the application still gets a valid set of credentials. After rotation,
  both user and user_clone credentials are valid."), run by a scheduled task instead of a
  rotation Lambda; its "single user" strategy has a window in which "the database [may deny]
  calls that use the rotated credentials"
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html).

  If storing the secret fails after the commit, the secret still names the role whose password
  did not change: nothing breaks, the run exits 1 and the next rotation sets the twin again.

The first run stores the new password while the CREATE ROLE transaction is still open and commits
right after: if storing fails, the transaction rolls back and the role does not exist.

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
from .db_credentials import Credentials, CredentialsError, parse_secret, secrets_manager_client
from .db_roles import RoleError, ensure_app_role
from .settings import SettingsError

log = logging.getLogger(__name__)

_IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TWIN_SUFFIX = "_clone"
"""The alternating twin of the app's role is ``<DB_APP_USERNAME>_clone`` (Secrets Manager's
alternating-users rotation names its second user the same way)."""
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
    if len(names["DB_APP_USERNAME"]) > 63 - len(TWIN_SUFFIX):
        raise SettingsError(
            f"DB_APP_USERNAME={names['DB_APP_USERNAME']!r} must be at most "
            f"{63 - len(TWIN_SUFFIX)} characters: rotation alternates it with "
            f"<DB_APP_USERNAME>{TWIN_SUFFIX}, and Postgres names are at most 63"
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


def app_roles(settings: BootstrapSettings) -> tuple[str, str]:
    """The app's role and its alternating twin."""
    return settings.username, settings.username + TWIN_SUFFIX


def current_app_credentials(client: Any, settings: BootstrapSettings) -> Credentials | None:
    """What the app secret holds, or None when it has no value yet (first run) or names neither
    of the app's roles (the role is being renamed: a new password for the new role)."""
    try:
        answer = client.get_secret_value(SecretId=settings.app_secret_id)
    except client.exceptions.ResourceNotFoundException:
        # Also raised for an existing secret without an AWSCURRENT version, as the stack
        # creates it; a secret that does not exist at all fails later, in PutSecretValue.
        return None
    stored = parse_secret(settings.app_secret_id, answer.get("SecretString"))
    return stored if stored.username in app_roles(settings) else None


def _secret_string(settings: BootstrapSettings, username: str, password: str) -> str:
    return json.dumps(
        {
            "username": username,
            "password": password,
            "engine": "postgres",
            "host": settings.host,
            "port": settings.port,
            "dbname": settings.dbname,
        }
    )


def run(settings: BootstrapSettings, rotate: bool, client: Any) -> dict[str, Any]:
    """Do the bootstrap; the summary to log (no secret values)."""
    master_answer = client.get_secret_value(SecretId=settings.master_secret_id)
    master = parse_secret(settings.master_secret_id, master_answer.get("SecretString"))
    stored = current_app_credentials(client, settings)
    if rotate and stored is not None:
        return _rotate(settings, master, stored, client)
    role = stored.username if stored else settings.username
    password = stored.password if stored else secrets.token_urlsafe(PASSWORD_BYTES)
    new_password = stored is None
    conninfo = _master_conninfo(settings, master)
    version_id = None
    with psycopg.connect(conninfo) as conn:  # commits on a clean exit, rolls back on an error
        outcome = ensure_app_role(conn, role, settings.schema, password)
        if new_password:
            answer = client.put_secret_value(
                SecretId=settings.app_secret_id,
                SecretString=_secret_string(settings, role, password),
            )
            version_id = answer.get("VersionId")
    return {
        "role": role,
        "schema": settings.schema,
        "database": settings.dbname,
        "role_created": outcome.created,
        "password_changed": new_password,
        "secret_version": version_id,
    }


def _rotate(
    settings: BootstrapSettings, master: Credentials, stored: Credentials, client: Any
) -> dict[str, Any]:
    """Alternating users: a new password for the role the secret does not name, committed, then
    stored as the secret's new AWSCURRENT version (the module docstring says why this order)."""
    base, twin = app_roles(settings)
    role = twin if stored.username == base else base
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    with psycopg.connect(_master_conninfo(settings, master)) as conn:
        outcome = ensure_app_role(conn, role, settings.schema, password)
    answer = client.put_secret_value(
        SecretId=settings.app_secret_id, SecretString=_secret_string(settings, role, password)
    )
    return {
        "role": role,
        "previous_role": stored.username,
        "schema": settings.schema,
        "database": settings.dbname,
        "role_created": outcome.created,
        "password_changed": True,
        "secret_version": answer.get("VersionId"),
    }


def _master_conninfo(settings: BootstrapSettings, master: Credentials) -> str:
    return psycopg.conninfo.make_conninfo(
        host=settings.host,
        port=settings.port,
        dbname=settings.dbname,
        sslmode=settings.sslmode,
        user=master.username,
        password=master.password,
        connect_timeout=10,
        application_name="steadystate-bootstrap",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m steadystate_app.bootstrap_db",
        description="Create or update the app's least-privilege database role and its secret.",
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="alternating users: a new password for the app role the secret does not name "
        "(<DB_APP_USERNAME>_clone on the first rotation), then store it",
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
