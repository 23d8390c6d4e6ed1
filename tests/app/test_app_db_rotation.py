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
import threading
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
    request,
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
        for role in (app_user, f"{app_user}_clone", master):
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


def logs_in(world: World, user: str, password: str) -> bool:
    try:
        psycopg.connect(world.dsn(user, password)).close()
    except psycopg.OperationalError as exc:
        assert "password authentication failed" in str(exc)
        return False
    return True


def test_bootstrap_twice_keeps_the_password_and_rotate_alternates_users(world: World) -> None:
    """Secrets Manager's alternating-users strategy: "After rotation, both user and user_clone
    credentials are valid" (docs.aws.amazon.com/secretsmanager/latest/userguide/
    rotation-strategy.html); the next rotation replaces the older password."""
    world.bootstrap()
    first = world.app_credentials()
    again = world.bootstrap()
    assert again["role_created"] is False and again["password_changed"] is False
    assert world.app_credentials() == first
    twin = f"{world.app_user}_clone"

    rotated = world.bootstrap("--rotate")
    assert (rotated["role"], rotated["previous_role"]) == (twin, world.app_user)
    assert rotated["role_created"] is True and rotated["password_changed"] is True
    second = world.app_credentials()
    assert second["username"] == twin and second["password"] != first["password"]
    assert logs_in(world, twin, second["password"])
    assert logs_in(world, world.app_user, first["password"])  # the previous one still works

    back = world.bootstrap("--rotate")
    assert (back["role"], back["previous_role"], back["role_created"]) == (
        world.app_user,
        twin,
        False,
    )
    third = world.app_credentials()
    assert third["username"] == world.app_user
    assert len({first["password"], second["password"], third["password"]}) == 3
    assert not logs_in(world, world.app_user, first["password"])  # two rotations old: gone
    assert logs_in(world, twin, second["password"])
    assert logs_in(world, world.app_user, third["password"])
    with world.app_conn():
        pass
    # A plain run repairs the role the secret names and changes nothing else.
    repaired = world.bootstrap()
    assert (repaired["role"], repaired["password_changed"]) == (world.app_user, False)
    assert world.app_credentials() == third


def test_the_twin_has_exactly_the_app_role_s_privileges(world: World) -> None:
    world.bootstrap()
    world.bootstrap("--rotate")
    with world.master_conn() as master:
        master.execute(f"CREATE TABLE {SCHEMA}.items (id serial PRIMARY KEY, name text)")
        rows = master.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname LIKE %s ORDER BY 1",
            [world.app_user + "%"],
        ).fetchall()
        grants = master.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = %s AND table_name = 'items' ORDER BY 1, 2",
            [SCHEMA],
        ).fetchall()
    assert [row[1:] for row in rows] == [(False,) * 5, (False,) * 5]
    by_role = {role: sorted(p for g, p in grants if g == role) for role, *_ in rows}
    assert by_role[world.app_user] == by_role[f"{world.app_user}_clone"]
    assert by_role[world.app_user] == ["DELETE", "INSERT", "SELECT", "UPDATE"]
    with world.app_conn() as conn:  # the secret names the twin now
        assert conn.execute("SELECT current_user").fetchone() == (f"{world.app_user}_clone",)
        conn.execute("INSERT INTO items (name) VALUES ('a')")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"CREATE TABLE {SCHEMA}.mine (x int)")


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
    # Alternating users: the role the app's cached secret names keeps its password, so not one
    # /ready is refused, although the cache outlives the test.
    assert [ready_status(server) for _ in range(3)] == [200, 200, 200]


class Load:
    """Continuous ``GET /ready`` (a new Postgres login per request) from loopback clients, until
    stopped or ``limit`` requests; every answer but 200, and every client error, is a failure."""

    def __init__(self, port: int, clients: int = 4, limit: int = 20_000) -> None:
        self.port, self.clients, self.limit = port, clients, limit
        self.ok = 0
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def total(self) -> int:
        with self._lock:
            return self.ok + len(self.failures)

    def _client(self) -> None:
        while not self._stop.is_set() and self.total < self.limit:
            try:
                answer = request(self.port, "/ready", timeout=10)
                failure = None if answer.status == 200 else f"{answer.status} {answer.body[:200]!r}"
            except OSError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if failure is None:
                    self.ok += 1
                else:
                    self.failures.append(failure)

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def run_past(self, more: int) -> None:
        """Let ``more`` further requests complete (bounded by the limit and a timeout)."""
        target = min(self.total + more, self.limit)
        wait_for(lambda: self.total >= target, 60, f"{more} more requests under load", every=0.02)


def roles_logging_in(world: World) -> set[str]:
    """The roles of the app's connections open right now (each /ready logs in once)."""
    with psycopg.connect(world.postgres.dsn(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity "
            "WHERE application_name = 'steadystate-ready' AND datname = %s",
            [world.dbname],
        ).fetchall()
    return {name for (name,) in rows if name}


def test_no_request_fails_across_rotations_under_load(
    world: World, serving: Callable[..., Process]
) -> None:
    """The real server against real Postgres and moto, four loopback clients on /ready (each
    request a new login with the cached secret), two scheduled-task rotations mid-load.

    The refresh interval (2 s) is shorter than the app's forced re-read gap (5 s) on purpose: a
    single-user rotation (the role's own password changed) then refuses every login until the
    cache expires, which is how this test fails without alternating users. With them, the role
    the cached secret names keeps its password: zero failures; the app moves to the new role
    when its cache expires; the password from two rotations back stops working."""
    server = serving(DB_SECRET_REFRESH_SECONDS="2")
    base, twin = world.app_user, f"{world.app_user}_clone"
    first = world.app_credentials()
    with Load(server.port) as load:
        load.run_past(200)
        world.bootstrap("--rotate")
        load.run_past(400)
        assert load.failures == [], load.failures[:5]
        second = world.app_credentials()
        assert second["username"] == twin
        wait_for(lambda: twin in roles_logging_in(world), 30, "the app to log in as the twin")
        assert logs_in(world, base, first["password"])  # still valid until the next rotation

        world.bootstrap("--rotate")
        load.run_past(400)
        assert load.failures == [], load.failures[:5]
        third = world.app_credentials()
        assert third["username"] == base and third["password"] != first["password"]
        wait_for(lambda: base in roles_logging_in(world), 30, "the app to log in as itself again")
        load.run_past(200)
    assert load.failures == [], load.failures[:5]
    assert load.ok >= 1200
    assert not logs_in(world, base, first["password"])  # two rotations old: refused
    assert logs_in(world, base, third["password"]) and logs_in(world, twin, second["password"])
    assert (
        second["password"] not in server.log_text() and third["password"] not in server.log_text()
    )
