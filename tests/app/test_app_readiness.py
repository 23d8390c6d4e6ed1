"""/ready against a real Postgres (up, down, back up, wrong password) and TCP/HTTP dependencies."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
from app_support import Postgres, Process, TcpListener, free_port, wait_for


def ready(server: Process) -> tuple[int, dict]:
    response = server.get("/ready")
    assert response.headers["content-type"] == "application/json"
    return response.status, response.json()


def test_postgres_from_database_url_up(
    start_server: Callable[..., Process], postgres: Postgres
) -> None:
    server = start_server(DATABASE_URL=postgres.dsn())
    status, body = ready(server)
    assert status == 200
    assert body["status"] == "ready"
    assert body["dependencies"]["postgres"]["status"] == "up"
    assert body["dependencies"]["postgres"]["required"] is True


@pytest.mark.parametrize("form", ["secret-json", "one-variable-per-key"])
def test_postgres_from_secret_and_db_env(
    start_server: Callable[..., Process], postgres: Postgres, form: str
) -> None:
    if form == "secret-json":
        secret = json.dumps({"username": postgres.user, "password": postgres.password})
        credentials = {"DB_SECRET_JSON": secret}
    else:
        credentials = {"DB_USERNAME": postgres.user, "DB_PASSWORD": postgres.password}
    server = start_server(
        **credentials, DB_HOST="127.0.0.1", DB_PORT=str(postgres.port), DB_NAME="postgres"
    )
    status, body = ready(server)
    assert status == 200
    assert body["dependencies"]["postgres"]["status"] == "up"


def test_wrong_password_is_not_ready_and_leaks_nothing(
    start_server: Callable[..., Process], postgres: Postgres
) -> None:
    wrong = "not-the-password"
    secret = json.dumps({"username": postgres.user, "password": wrong})
    server = start_server(DB_SECRET_JSON=secret, DB_HOST="127.0.0.1", DB_PORT=str(postgres.port))
    response = server.get("/ready")
    assert response.status == 503
    entry = response.json()["dependencies"]["postgres"]
    assert entry["status"] == "down"
    assert entry["error"] == "OperationalError"
    assert wrong.encode() not in response.body
    assert wrong not in server.log_text()


def test_postgres_going_down_and_coming_back(
    start_server: Callable[..., Process], postgres: Postgres
) -> None:
    server = start_server(DATABASE_URL=postgres.dsn(), READY_TIMEOUT_SECONDS="1")
    assert ready(server)[0] == 200
    postgres.stop()
    try:
        status, body = ready(server)
        assert status == 503
        assert body["status"] == "not ready"
        assert body["dependencies"]["postgres"]["status"] == "down"
    finally:
        postgres.start()
    assert ready(server)[0] == 200


def test_required_tcp_dependency_down_is_503(
    start_server: Callable[..., Process], tcp_listener: TcpListener
) -> None:
    closed = free_port()
    server = start_server(
        READY_DEPENDENCIES=f"cache=127.0.0.1:{tcp_listener.port},queue=tcp://127.0.0.1:{closed}"
    )
    status, body = ready(server)
    assert status == 503
    assert body["dependencies"]["cache"]["status"] == "up"
    assert body["dependencies"]["queue"] == {
        "status": "down",
        "required": True,
        "latency_ms": body["dependencies"]["queue"]["latency_ms"],
        "error": "ConnectionRefusedError",
    }


def test_optional_dependency_down_stays_ready(start_server: Callable[..., Process]) -> None:
    server = start_server(
        READY_DEPENDENCIES=f"search=127.0.0.1:{free_port()}", READY_OPTIONAL="search"
    )
    status, body = ready(server)
    assert status == 200
    assert body["dependencies"]["search"]["status"] == "down"
    assert body["dependencies"]["search"]["required"] is False


def test_http_dependency_by_status(start_server: Callable[..., Process]) -> None:
    upstream = start_server()
    server = start_server(
        READY_DEPENDENCIES=(
            f"good=http://127.0.0.1:{upstream.port}/health,"
            f"bad=http://127.0.0.1:{upstream.port}/missing"
        ),
        READY_OPTIONAL="bad",
    )
    status, body = ready(server)
    assert status == 200
    assert body["dependencies"]["good"]["status"] == "up"
    assert body["dependencies"]["bad"] == {
        "status": "down",
        "required": False,
        "latency_ms": body["dependencies"]["bad"]["latency_ms"],
        "error": "ConnectionError",
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes TCP handshakes but whose owner never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_dependency_that_never_answers_times_out(
    start_server: Callable[..., Process], silent_port: int
) -> None:
    server = start_server(
        READY_DEPENDENCIES=f"slow=http://127.0.0.1:{silent_port}/", READY_TIMEOUT_SECONDS="0.3"
    )
    status, body = ready(server)
    assert status == 503
    assert body["dependencies"]["slow"]["error"] == "timeout"
    wait_for(lambda: "dependency down" in server.log_text(), 5, "the failure in the log")
