"""Every environment variable the app, the server and the prober read, parsed once at start-up.

A missing or malformed value raises :class:`SettingsError` naming the variable, so a bad task
definition stops the container at once instead of serving with a surprise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg.conninfo

from .db_credentials import SecretCredentials
from .dependencies import (
    Dependency,
    HttpDependency,
    PostgresDependency,
    SpecError,
    TcpDependency,
    parse_targets,
)
from .faults import Faults

STAGES = ("dev", "prod")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
POSTGRES = "postgres"  # the database's name in /ready
AGGREGATE = "all"  # reserved in PROBE_TARGETS: the prober publishes all-connectivity, the minimum

_T = TypeVar("_T", int, float)


class SettingsError(ValueError):
    """An environment variable is missing, malformed or not allowed here."""


@dataclass(frozen=True)
class AppSettings:
    """What the request handlers need."""

    environment: str
    version: str
    stage: str
    faults: Faults
    dependencies: tuple[Dependency, ...]
    optional: frozenset[str]
    ready_timeout: float
    access_log: bool


@dataclass(frozen=True)
class ServerSettings:
    """How the production server listens and stops."""

    host: str
    port: int
    workers: int
    shutdown_timeout: int
    idle_timeout: int
    log_level: str


@dataclass(frozen=True)
class ProberSettings:
    """What the connectivity prober checks, how often, and where it publishes."""

    targets: tuple[TcpDependency | HttpDependency, ...]
    interval: float
    timeout: float
    namespace: str
    host_dimension: str
    region: str | None
    publish_attempts: int
    log_level: str
    scaling_dimension: str | None = None
    """`Service` dimension of the task-CPU metric fast scale-out follows; None: not published."""
    task_cpu_units: int = 0
    """CPU units the task reserves (the 100 % of that metric)."""
    metadata_uri: str | None = None
    """ECS task metadata endpoint (v4), set by the ECS agent."""


def app_settings(env: Mapping[str, str] = os.environ) -> AppSettings:
    """Read the app's settings; refuses fault switches in prod unless APP_ALLOW_FAULTS=true."""
    stage = _choice(env, "APP_STAGE", STAGES, "dev")
    faults = Faults(
        latency_ms=_number(env, "FAULT_LATENCY_MS", int, 0, 0, 60_000),
        error_rate=_number(env, "FAULT_ERROR_RATE", float, 0.0, 0.0, 1.0),
        paths=frozenset(_paths(env, "FAULT_PATHS", "/api")),
    )
    allow_faults = _flag(env, "APP_ALLOW_FAULTS")
    if faults.enabled and stage == "prod" and not allow_faults:
        raise SettingsError(
            "fault switches are set (FAULT_LATENCY_MS / FAULT_ERROR_RATE) in APP_STAGE=prod; "
            "set APP_ALLOW_FAULTS=true to allow them"
        )
    ready_timeout = _number(env, "READY_TIMEOUT_SECONDS", float, 2.0, 0.1, 30.0)
    dependencies: list[Dependency] = []
    database = _postgres(env, ready_timeout)
    if database is not None:
        dependencies.append(database)
    try:
        dependencies.extend(parse_targets(env.get("READY_DEPENDENCIES", "")))
    except SpecError as exc:
        raise SettingsError(f"READY_DEPENDENCIES: {exc}") from exc
    names = [dep.name for dep in dependencies]
    if len(set(names)) != len(names):
        raise SettingsError(f"READY_DEPENDENCIES: {POSTGRES!r} is the database's name")
    optional = frozenset(_names(env.get("READY_OPTIONAL", "")))
    if unknown := optional - set(names):
        raise SettingsError(f"READY_OPTIONAL names unknown dependencies: {sorted(unknown)}")
    return AppSettings(
        environment=env.get("APP_ENVIRONMENT", "local"),
        version=env.get("APP_VERSION", "unknown"),
        stage=stage,
        faults=faults,
        dependencies=tuple(dependencies),
        optional=optional,
        ready_timeout=ready_timeout,
        access_log=_flag(env, "ACCESS_LOG"),
    )


def server_settings(env: Mapping[str, str] = os.environ) -> ServerSettings:
    """Read the server's bind address, worker count and shutdown bound."""
    return ServerSettings(
        host=env.get("HOST", "0.0.0.0"),  # a container listens on all its interfaces
        port=_number(env, "PORT", int, 8080, 1, 65_535),
        workers=_number(env, "WORKERS", int, 2, 1, 64),
        shutdown_timeout=_number(env, "SHUTDOWN_TIMEOUT_SECONDS", int, 25, 1, 1800),
        # Longer than the load balancer's idle timeout (60 s by default), or the server may close
        # a kept-alive connection just as the load balancer reuses it: a 502 for that request.
        idle_timeout=_number(env, "HTTP_IDLE_TIMEOUT_SECONDS", int, 65, 1, 3600),
        log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, "INFO"),
    )


def prober_settings(env: Mapping[str, str] = os.environ) -> ProberSettings:
    """Read the prober's targets, cadence and CloudWatch destination."""
    try:
        targets = parse_targets(env.get("PROBE_TARGETS", ""))
    except SpecError as exc:
        raise SettingsError(f"PROBE_TARGETS: {exc}") from exc
    if not targets:
        raise SettingsError("PROBE_TARGETS is empty: e.g. db=tcp://db.internal:5432")
    if any(target.name == AGGREGATE for target in targets):
        raise SettingsError(f"PROBE_TARGETS: {AGGREGATE!r} is reserved for the aggregate metric")
    interval = _number(env, "PROBE_INTERVAL_SECONDS", float, 10.0, 1.0, 3600.0)
    timeout = _number(env, "PROBE_TIMEOUT_SECONDS", float, min(3.0, interval / 2), 0.1, 60.0)
    if timeout >= interval:
        raise SettingsError("PROBE_TIMEOUT_SECONDS must be shorter than PROBE_INTERVAL_SECONDS")
    host = env.get("PROBE_HOST_DIMENSION") or env.get("APP_ENVIRONMENT")
    if not host:
        raise SettingsError("set PROBE_HOST_DIMENSION (or APP_ENVIRONMENT): the Host dimension")
    return ProberSettings(
        targets=targets,
        interval=interval,
        timeout=timeout,
        namespace=env.get("PROBE_NAMESPACE", "steadystate"),
        host_dimension=host,
        # botocore reads only AWS_DEFAULT_REGION; ECS task definitions commonly set AWS_REGION.
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        publish_attempts=_number(env, "PROBE_PUBLISH_ATTEMPTS", int, 3, 1, 10),
        log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, "INFO"),
        **_scaling_metric(env),
    )


def _scaling_metric(env: Mapping[str, str]) -> dict[str, Any]:
    """SCALING_METRIC_DIMENSION turns on the task-CPU metric; it needs TASK_CPU_UNITS."""
    dimension = env.get("SCALING_METRIC_DIMENSION", "").strip()
    if not dimension:
        return {}
    if not env.get("TASK_CPU_UNITS", "").strip():
        raise SettingsError("SCALING_METRIC_DIMENSION is set: set TASK_CPU_UNITS (the task's CPU)")
    return {
        "scaling_dimension": dimension,
        "task_cpu_units": _number(env, "TASK_CPU_UNITS", int, 0, 128, 196_608),
        "metadata_uri": env.get("ECS_CONTAINER_METADATA_URI_V4") or None,
    }


def _postgres(env: Mapping[str, str], timeout: float) -> PostgresDependency | None:
    """The database: DATABASE_URL; or DB_SECRET_ARN (credentials read from Secrets Manager at
    connect time, what the stack sets); or static credentials (see :func:`_credentials`). The
    last two take DB_HOST/DB_PORT/DB_NAME/DB_SSLMODE from the environment."""
    url, secret_id, secret = env.get("DATABASE_URL"), env.get("DB_SECRET_ARN"), _credentials(env)
    if sum(bool(choice) for choice in (url, secret_id, secret is not None)) > 1:
        raise SettingsError(
            "set only one of DATABASE_URL, DB_SECRET_ARN or the DB_* credentials "
            "(DB_SECRET_JSON or DB_USERNAME/DB_PASSWORD)"
        )
    if url:
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise SettingsError("DATABASE_URL is not a valid libpq URL or DSN") from None
        return PostgresDependency(POSTGRES, url, timeout)
    if secret_id:
        if not env.get("DB_HOST"):
            raise SettingsError("DB_SECRET_ARN is set but DB_HOST is not")
        refresh = _number(env, "DB_SECRET_REFRESH_SECONDS", float, 300.0, 1.0, 86_400.0)
        credentials = SecretCredentials(secret_id, refresh, _secret_region(env, secret_id))
        return PostgresDependency(POSTGRES, _conninfo(env, dict(env)), timeout, credentials)
    if secret is None:
        return None
    # An RDS-managed secret also carries host, port and dbname; the environment wins over it.
    from_secret = {"DB_HOST": "host", "DB_PORT": "port", "DB_NAME": "dbname"}
    db_env = {var: str(secret[key]) for var, key in from_secret.items() if secret.get(key)}
    db_env.update((var, env[var]) for var in from_secret if env.get(var))
    if "DB_HOST" not in db_env:
        raise SettingsError("database credentials are set but DB_HOST is not")
    conninfo = _conninfo(env, db_env, user=secret["username"], password=secret["password"])
    return PostgresDependency(POSTGRES, conninfo, timeout)


def _conninfo(env: Mapping[str, str], db_env: Mapping[str, str], **login: str) -> str:
    return psycopg.conninfo.make_conninfo(
        host=db_env["DB_HOST"],
        port=_number(db_env, "DB_PORT", int, 5432, 1, 65_535),
        dbname=db_env.get("DB_NAME") or "postgres",
        sslmode=env.get("DB_SSLMODE", "prefer"),
        **login,
    )


def _secret_region(env: Mapping[str, str], secret_id: str) -> str | None:
    """The secret ARN's own region, else AWS_REGION / AWS_DEFAULT_REGION (botocore by itself
    reads only the latter)."""
    parts = secret_id.split(":")
    if secret_id.startswith("arn:") and len(parts) > 3 and parts[3]:
        return parts[3]
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


def _credentials(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The database secret: DB_SECRET_JSON (the whole Secrets Manager JSON), or DB_USERNAME and
    DB_PASSWORD (ECS can inject each JSON key of the secret as its own variable). Error messages
    never echo a value: they may hold the password."""
    raw, user, password = (
        env.get(name) for name in ("DB_SECRET_JSON", "DB_USERNAME", "DB_PASSWORD")
    )
    if raw and (user or password):
        raise SettingsError("set DB_SECRET_JSON or DB_USERNAME/DB_PASSWORD, not both")
    if raw:
        try:
            secret = json.loads(raw)
            valid = all(isinstance(secret[key], str) for key in ("username", "password"))
        except (ValueError, TypeError, KeyError):
            valid = False
        if not valid:
            raise SettingsError(
                'DB_SECRET_JSON must be a JSON object with "username" and "password"'
            )
        return secret
    if user or password:
        if not (user and password):
            raise SettingsError("DB_USERNAME and DB_PASSWORD must be set together")
        return {"username": user, "password": password}
    return None


def _number(
    env: Mapping[str, str], name: str, kind: Callable[[str], _T], default: _T, low: _T, high: _T
) -> _T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw} is outside {low}..{high}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    raise SettingsError(f"{name}={value!r}: expected one of {', '.join(choices)}")


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={value!r}: expected true or false")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _paths(env: Mapping[str, str], name: str, default: str) -> list[str]:
    paths = _names(env.get(name, default))
    if bad := [path for path in paths if not path.startswith("/")]:
        raise SettingsError(f"{name}: paths start with '/': {bad}")
    return [path.rstrip("/") or "/" for path in paths]
