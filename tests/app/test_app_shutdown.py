"""Graceful shutdown on SIGTERM: in-flight requests finish, new connections are refused, and a
stuck request cannot hold the process past SHUTDOWN_TIMEOUT_SECONDS."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable

from app_support import HttpResult, Process, wait_for


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


def test_sigterm_finishes_in_flight_requests(start_server: Callable[..., Process]) -> None:
    server = start_server(FAULT_LATENCY_MS="1500", WORKERS="2")
    answers: list[HttpResult] = []
    in_flight = threading.Thread(target=lambda: answers.append(server.get("/api")))
    in_flight.start()
    time.sleep(0.4)  # the request is now sleeping inside the app

    server.popen.send_signal(signal.SIGTERM)
    wait_for(lambda: refuses_connections(server.port), 5, "the listener to close")
    in_flight.join(10)

    assert [answer.status for answer in answers] == [200]
    assert server.popen.wait(10) == 0
    messages = [r["message"] for r in server.log_records()]
    assert "Granian shutdown completed, see ya!" in messages


def test_shutdown_timeout_bounds_a_stuck_request(start_server: Callable[..., Process]) -> None:
    server = start_server(FAULT_LATENCY_MS="20000", SHUTDOWN_TIMEOUT_SECONDS="1")
    cut_off: list[OSError] = []

    def stuck_request() -> None:
        try:
            server.get("/api", timeout=30)
        except OSError as exc:  # the killed worker drops the connection
            cut_off.append(exc)

    client = threading.Thread(target=stuck_request)
    client.start()
    time.sleep(0.4)

    stopping = time.monotonic()
    server.popen.send_signal(signal.SIGTERM)
    server.popen.wait(10)  # far less than the request's 20 s

    assert time.monotonic() - stopping < 10
    client.join(10)
    assert cut_off, "the stuck request was cut off, not answered"
    assert any("refused to gracefully stop" in r["message"] for r in server.log_records())
