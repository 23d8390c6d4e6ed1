"""The app's least-privilege Postgres role: created or updated by the master user, then checked.

What the role may do: log in, CONNECT to the app's database, USAGE on its own schema, and read and
write rows (SELECT, INSERT, UPDATE, DELETE; sequences USAGE, SELECT) of the tables in that schema.
It owns nothing and creates nothing: no tables, schemas, roles, databases or temporary tables.
Tables are created by the master user (migrations); default privileges give the role DML on them.

The password reaches the server only as a SCRAM-SHA-256 verifier computed here by libpq, so the
plain text is never in a statement the server could log.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

# Attributes the role must not have; a role found with any of them is refused, not repaired
# (only a superuser could have granted them, and only a superuser could take them back).
_FORBIDDEN_ATTRIBUTES = (
    "rolsuper",
    "rolcreaterole",
    "rolcreatedb",
    "rolreplication",
    "rolbypassrls",
)


class RoleError(RuntimeError):
    """The role exists with more power than the app may have, or cannot be set up."""


@dataclass(frozen=True)
class RoleOutcome:
    """What :func:`ensure_app_role` did."""

    created: bool


def ensure_app_role(conn: psycopg.Connection, role: str, schema: str, password: str) -> RoleOutcome:
    """Create or update ``role`` with ``password`` and exactly the app's grants, in the current
    transaction of ``conn`` (a connection as the master user to the app's database). The caller
    commits, after it has stored the password, so the two never disagree for long."""
    ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
    database = conn.execute("SELECT current_database()").fetchone()
    assert database is not None
    db_ident = sql.Identifier(database[0])
    verifier = conn.pgconn.encrypt_password(
        password.encode(), role.encode(), b"scram-sha-256"
    ).decode()
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    if exists is None:
        # CREATE ROLE's defaults are NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
        # NOBYPASSRLS; a non-superuser master (RDS) may not even name those attributes.
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    conn.execute(
        sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(ident, sql.Literal(verifier))
    )
    statements = [
        # PUBLIC loses CONNECT and TEMPORARY on the app's database; only named roles get in.
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db_ident),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db_ident, ident),
        # Postgres 15+ already denies this; older majors let PUBLIC create in "public".
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema_ident),
        sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema_ident),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema_ident, ident),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_ident, ident),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema_ident, ident
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            schema_ident, ident
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(schema_ident, ident),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(schema_ident, ident),
        sql.SQL("ALTER ROLE {} SET search_path = {}").format(ident, schema_ident),
    ]
    for statement in statements:
        conn.execute(statement)
    _refuse_extra_power(conn, role)
    return RoleOutcome(created=exists is None)


def _refuse_extra_power(conn: psycopg.Connection, role: str) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in _FORBIDDEN_ATTRIBUTES)
    row = conn.execute(
        sql.SQL("SELECT {} FROM pg_roles WHERE rolname = %s").format(columns), [role]
    ).fetchone()
    assert row is not None
    granted = [name for name, value in zip(_FORBIDDEN_ATTRIBUTES, row, strict=True) if value]
    memberships = conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s ORDER BY 1",
        [role],
    ).fetchall()
    if granted or memberships:
        found = granted + [f"member of {name}" for (name,) in memberships]
        raise RoleError(
            f"role {role!r} already exists with more than the app may have ({', '.join(found)}); "
            "a superuser must remove that, or choose another DB_APP_USERNAME"
        )
