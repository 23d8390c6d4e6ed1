"""Parsing the environment: dependency specs, the database secret, limits, and refusals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from psycopg.conninfo import conninfo_to_dict
from steadystate_app.cloudwatch import metric_data
from steadystate_app.dependencies import (
    CheckResult,
    HttpDependency,
    SpecError,
    TcpDependency,
    parse_targets,
)
from steadystate_app.settings import (
    SettingsError,
    app_settings,
    prober_settings,
    server_settings,
)


def test_parse_targets_accepts_tcp_http_and_bare_host_port() -> None:
    assert parse_targets(
        " db=tcp://db.internal:5432, cache=cache:6379,cdn=https://cdn.example.com/ping?x=1,"
        "v6=tcp://[::1]:80,"
    ) == (
        TcpDependency("db", "db.internal", 5432),
        TcpDependency("cache", "cache", 6379),
        HttpDependency("cdn", "https://cdn.example.com/ping?x=1"),
        TcpDependency("v6", "::1", 80),
    )
    assert parse_targets("") == ()


@pytest.mark.parametrize(
    "spec",
    [
        "db",
        "db=",
        "=host:1",
        "db=host",
        "db=host:port",
        "db=ftp://host:21",
        "db=host:1,db=host:2",
        "bad name=host:1",
        "db=tcp://:5432",
    ],
)
def test_parse_targets_rejects(spec: str) -> None:
    with pytest.raises(SpecError):
        parse_targets(spec)


def test_defaults_are_safe() -> None:
    settings = app_settings({})
    assert (settings.environment, settings.version, settings.stage) == ("local", "unknown", "dev")
    assert not settings.faults.enabled
    assert settings.dependencies == ()
    server = server_settings({})
    assert (server.host, server.port, server.workers) == ("0.0.0.0", 8080, 2)
    assert server.shutdown_timeout < 30, "must finish inside ECS's 30 s stopTimeout"
    assert server.idle_timeout > 60, "must outlive the load balancer's 60 s idle timeout"


def test_secret_json_with_db_env_builds_the_connection() -> None:
    settings = app_settings(
        {
            "DB_SECRET_JSON": json.dumps({"username": "app", "password": "p@ss word'"}),
            "DB_HOST": "db.internal",
            "DB_PORT": "6543",
            "DB_NAME": "orders",
        }
    )
    (database,) = settings.dependencies
    assert database.name == "postgres"
    assert conninfo_to_dict(database.conninfo) == {
        "host": "db.internal",
        "port": "6543",
        "dbname": "orders",
        "user": "app",
        "password": "p@ss word'",
        "sslmode": "prefer",
    }
    assert "p@ss" not in repr(database)


def test_separate_username_and_password_variables_build_the_connection() -> None:
    """What the task definition injects: one variable per JSON key of the RDS secret."""
    env = {"DB_USERNAME": "app", "DB_PASSWORD": "pw", "DB_HOST": "db", "DB_NAME": "orders"}
    (database,) = app_settings(env).dependencies
    assert conninfo_to_dict(database.conninfo) == {
        "host": "db",
        "port": "5432",
        "dbname": "orders",
        "user": "app",
        "password": "pw",
        "sslmode": "prefer",
    }


def test_rds_secret_supplies_host_port_and_dbname_unless_env_overrides() -> None:
    secret = {"username": "u", "password": "p", "host": "rds", "port": 5433, "dbname": "d"}
    (database,) = app_settings({"DB_SECRET_JSON": json.dumps(secret)}).dependencies
    assert conninfo_to_dict(database.conninfo)["host"] == "rds"
    assert conninfo_to_dict(database.conninfo)["port"] == "5433"
    overridden = app_settings({"DB_SECRET_JSON": json.dumps(secret), "DB_HOST": "proxy"})
    assert conninfo_to_dict(overridden.dependencies[0].conninfo)["host"] == "proxy"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_SECRET_JSON": "{not json"}, "DB_SECRET_JSON must be a JSON object"),
        ({"DB_SECRET_JSON": '{"username": "u"}'}, "DB_SECRET_JSON must be a JSON object"),
        ({"DB_SECRET_JSON": '{"username": "u", "password": "p"}'}, "DB_HOST is not"),
        ({"DATABASE_URL": "postgresql://x", "DB_USERNAME": "u", "DB_PASSWORD": "p"}, "only one of"),
        ({"DB_SECRET_JSON": '{"username": "u", "password": "p"}', "DB_PASSWORD": "p"}, "not both"),
        ({"DB_SECRET_JSON": '{"username": "u", "password": 7}'}, "DB_SECRET_JSON must be"),
        ({"DB_SECRET_JSON": '["u", "p"]'}, "DB_SECRET_JSON must be"),
        ({"DB_PASSWORD": "p@ss", "DB_HOST": "db"}, "DB_USERNAME and DB_PASSWORD"),
        ({"DATABASE_URL": "host=db port"}, "DATABASE_URL is not a valid"),
        ({"READY_DEPENDENCIES": "postgres=db:5432", "DATABASE_URL": "host=db"}, "postgres"),
        ({"READY_OPTIONAL": "ghost"}, "READY_OPTIONAL"),
        ({"READY_TIMEOUT_SECONDS": "0"}, "READY_TIMEOUT_SECONDS"),
        ({"FAULT_PATHS": "api"}, "FAULT_PATHS"),
    ],
)
def test_bad_app_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        app_settings(env)
    assert "p@ss" not in str(raised.value)


def test_fault_paths_are_normalised() -> None:
    faults = app_settings({"FAULT_LATENCY_MS": "10", "FAULT_PATHS": "/api/, /ready"}).faults
    assert faults.paths == {"/api", "/ready"}
    assert faults.enabled


def test_prober_defaults_and_host_dimension() -> None:
    settings = prober_settings({"PROBE_TARGETS": "db=db:5432", "APP_ENVIRONMENT": "green-fleet"})
    assert settings.interval == 10
    assert settings.timeout == 3
    assert settings.namespace == "steadystate"
    assert settings.host_dimension == "green-fleet"
    explicit = prober_settings({"PROBE_TARGETS": "db=db:5432", "PROBE_HOST_DIMENSION": "blue"})
    assert explicit.host_dimension == "blue"
    assert explicit.region is None


def test_prober_region_prefers_aws_region() -> None:
    base = {"PROBE_TARGETS": "db=db:5432", "APP_ENVIRONMENT": "blue"}
    both = {**base, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}
    assert prober_settings(both).region == "eu-west-1"
    assert prober_settings({**base, "AWS_DEFAULT_REGION": "us-east-1"}).region == "us-east-1"


def test_metric_data_is_standard_resolution_count_with_host() -> None:
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = metric_data(
        [CheckResult("db", True, 1.0), CheckResult("cdn", False, 2.0, "timeout")], "blue", stamp
    )
    assert data == [
        {
            "MetricName": "db-connectivity",
            "Dimensions": [{"Name": "Host", "Value": "blue"}],
            "Timestamp": stamp,
            "Value": 1.0,
            "Unit": "Count",
            "StorageResolution": 60,
        },
        {
            "MetricName": "cdn-connectivity",
            "Dimensions": [{"Name": "Host", "Value": "blue"}],
            "Timestamp": stamp,
            "Value": 0.0,
            "Unit": "Count",
            "StorageResolution": 60,
        },
        {
            "MetricName": "all-connectivity",
            "Dimensions": [{"Name": "Host", "Value": "blue"}],
            "Timestamp": stamp,
            "Value": 0.0,
            "Unit": "Count",
            "StorageResolution": 60,
        },
    ]


def test_aggregate_is_one_only_when_every_dependency_is_up() -> None:
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = metric_data([CheckResult("db", True, 1.0), CheckResult("cdn", True, 1.0)], "g", stamp)
    assert [(d["MetricName"], d["Value"]) for d in data][-1] == ("all-connectivity", 1.0)
