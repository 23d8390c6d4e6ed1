"""Database credentials from Secrets Manager against a real Postgres and a real moto_server.

An RDS-like world: a master user that is not a superuser (CREATEROLE, CREATEDB, owner of the app's
database), its secret, and an empty app secret as the stack creates it. The bootstrap module then
creates the app's role, and the server reads the role's credentials at connect time.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from app_support import (
    AWS_TEST_ENV,
    ROOT,
    Postgres,
    Process,
    clean_env,
    secretsmanager,
    wait_for,
)
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo
from steadystate_app.db_credentials import MIN_FORCED_REFRESH_SECONDS

SCHEMA = "steadystate"


@dataclass
class World:
    postgres: Postgres
    moto_port: int
    sm: Any
    dbname: str
    master_user: str
    master_password: str
    master_secret: str
    app_secret: str
    app_user: str

    def master_conn(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn(self.master_user, self.master_password), autocommit=True)

    def dsn(self, user: str, password: str) -> str:
        return make_conninfo(
            host="127.0.0.1",
            port=self.postgres.port,
            dbname=self.dbname,
            user=user,
            password=password,
        )

    def env(self) -> dict[str, str]:
        """What the task definitions set: where the database and the secrets are."""
        return {
            **AWS_TEST_ENV,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto_port}",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.postgres.port),
            "DB_NAME": self.dbname,
            "DB_SECRET_ARN": self.app_secret,
        }

    def bootstrap(self, *args: str) -> dict[str, Any]:
        """Run ``python -m steadystate_app.bootstrap_db`` as the one-off task does; its summary."""
        env = clean_env(
            **self.env(), DB_MASTER_SECRET_ARN=self.master_secret, DB_APP_USERNAME=self.app_user
        )
        done = subprocess.run(
            [sys.executable, "-m", "steadystate_app.bootstrap_db", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        (summary,) = [r for r in records if r["message"] == "database role ready"]
        return summary

    def app_credentials(self) -> dict[str, Any]:
        return json.loads(self.sm.get_secret_value(SecretId=self.app_secret)["SecretString"])

    def app_conn(self) -> psycopg.Connection:
        creds = self.app_credentials()
        return psycopg.connect(self.dsn(creds["username"], creds["password"]), autocommit=True)


@pytest.fixture
def world(postgres: Postgres, moto: Process) -> Iterator[World]:
    tag = uuid.uuid4().hex[:10]
    master, password = f"master_{tag}", secrets.token_urlsafe(16)
    dbname, app_user = f"app_{tag}", f"steadystate_app_{tag}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                sql.Identifier(master), sql.Literal(password)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(dbname), sql.Identifier(master)
            )
        )
    sm = secretsmanager(moto.port)
    master_secret = sm.create_secret(
        Name=f"rds!db-{tag}", SecretString=json.dumps({"username": master, "password": password})
    )["ARN"]
    app_secret = sm.create_secret(Name=f"db-app-credentials-{tag}")["ARN"]  # no value yet
    yield World(
        postgres, moto.port, sm, dbname, master, password, master_secret, app_secret, app_user
    )
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
        for role in (app_user, master):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def ready_status(server: Process) -> int:
    return server.get("/ready").status


def test_bootstrap_creates_the_role_and_fills_the_secret(world: World) -> None:
    summary = world.bootstrap()
    assert summary["role_created"] is True and summary["password_changed"] is True
    stored = world.app_credentials()
    assert stored["username"] == world.app_user
    assert len(stored["password"]) >= 40
    assert (stored["host"], stored["port"], stored["dbname"]) == (
        "127.0.0.1",
        world.postgres.port,
        world.dbname,
    )
    with world.app_conn() as conn:
        assert conn.execute("SELECT current_user").fetchone() == (world.app_user,)


def test_bootstrap_role_has_least_privilege(world: World) -> None:
    world.bootstrap()
    with world.master_conn() as master:
        master.execute(f"CREATE TABLE {SCHEMA}.items (id serial PRIMARY KEY, name text)")
        master.execute("CREATE TABLE public.master_only (secret text)")
        attributes = master.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            [world.app_user],
        ).fetchone()
    assert attributes == (False, False, False, False, False)
    with world.app_conn() as conn:
        # Rows of its schema's tables: yes (default privileges cover tables made after the run).
        conn.execute("INSERT INTO items (name) VALUES ('a')")  # search_path is its schema
        assert conn.execute(f"SELECT name FROM {SCHEMA}.items").fetchall() == [("a",)]
        refused = [
            f"CREATE TABLE {SCHEMA}.mine (x int)",
            "CREATE TABLE public.mine (x int)",
            "CREATE TEMP TABLE scratch (x int)",
            "CREATE SCHEMA other",
            "CREATE ROLE intruder",
            f"CREATE DATABASE intruder_{uuid.uuid4().hex[:6]}",
            f"DROP TABLE {SCHEMA}.items",
            "SELECT * FROM public.master_only",
        ]
        for statement in refused:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)


def test_bootstrap_twice_keeps_the_password_and_rotate_changes_it(world: World) -> None:
    world.bootstrap()
    first = world.app_credentials()
    again = world.bootstrap()
    assert again["role_created"] is False and again["password_changed"] is False
    assert world.app_credentials() == first
    rotated = world.bootstrap("--rotate")
    assert rotated["password_changed"] is True
    second = world.app_credentials()
    assert second["password"] != first["password"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(world.dsn(world.app_user, first["password"])).close()
    with world.app_conn():
        pass


def test_bootstrap_refuses_a_role_with_more_power(world: World) -> None:
    with psycopg.connect(world.postgres.dsn(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(world.app_user))
        )
    env = clean_env(
        **world.env(), DB_MASTER_SECRET_ARN=world.master_secret, DB_APP_USERNAME=world.app_user
    )
    done = subprocess.run(
        [sys.executable, "-m", "steadystate_app.bootstrap_db"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "rolcreatedb" in done.stdout and "Traceback" not in done.stdout + done.stderr
    with pytest.raises(Exception, match="AWSCURRENT"):
        world.app_credentials()  # nothing was stored


@pytest.fixture
def serving(world: World, start_server: Callable[..., Process]) -> Callable[..., Process]:
    world.bootstrap()

    def start(**env: str) -> Process:
        server = start_server(**world.env(), **env)
        assert ready_status(server) == 200
        return server

    return start


def test_ready_recovers_after_the_password_changes_in_postgres_then_in_the_secret(
    world: World, serving: Callable[..., Process]
) -> None:
    # A refresh interval far longer than the test: only the refused login can trigger the re-read.
    server = serving(DB_SECRET_REFRESH_SECONDS="3600")
    new_password = secrets.token_urlsafe(24)
    with world.master_conn() as master:
        master.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(world.app_user), sql.Literal(new_password)
            )
        )
    assert ready_status(server) == 503  # Postgres changed first: the secret still has the old one
    stored = world.app_credentials()
    world.sm.put_secret_value(
        SecretId=world.app_secret, SecretString=json.dumps({**stored, "password": new_password})
    )
    changed = time.monotonic()
    wait_for(
        lambda: ready_status(server) == 200,
        MIN_FORCED_REFRESH_SECONDS + 3,
        "/ready to recover within one forced-refresh gap of the secret changing",
        every=0.25,
    )
    assert time.monotonic() - changed <= MIN_FORCED_REFRESH_SECONDS + 3
    assert server.popen.poll() is None  # the same process: no restart
    assert new_password not in server.log_text()


def test_ready_stays_up_through_a_bootstrap_rotation(
    world: World, serving: Callable[..., Process]
) -> None:
    server = serving(DB_SECRET_REFRESH_SECONDS="3600")
    world.bootstrap("--rotate")
    # Secret written just before the role's commit: at most one gap of 503s, then 200 for good.
    wait_for(lambda: ready_status(server) == 200, MIN_FORCED_REFRESH_SECONDS + 3, "/ready")
    assert [ready_status(server) for _ in range(3)] == [200, 200, 200]
