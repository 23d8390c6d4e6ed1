"""Smoke test and load over HTTPS to a load balancer whose certificate names the service domain:
a real TLS server on 127.0.0.1 with a throwaway certificate for ``api.example.test``."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ops.release.http_probe import fetch_for, http_get, public_name

NAME = "api.example.test"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext, list[str]]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            body = b'{"version": "v2"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(cert))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", client, hosts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_load_balancer_is_reached_under_the_certificate_s_name(tls_server):
    url, client, hosts = tls_server
    status, body = fetch_for(NAME, client)(f"{url}/version", 5)
    assert (status, body) == (200, b'{"version": "v2"}')
    assert hosts == [NAME]


def test_a_certificate_for_another_name_is_refused_as_no_answer(tls_server):
    url, client, _ = tls_server
    with pytest.raises(OSError, match=r"as other\.example\.test"):
        fetch_for("other.example.test", client)(f"{url}/health", 5)
    with pytest.raises(OSError):  # the plain fetch checks the name too: 127.0.0.1 is not it
        http_get(f"{url}/health", 5)


def test_public_name_is_the_service_host_for_an_https_environment_url():
    alb = "https://steadystate-blue-123.us-east-2.elb.amazonaws.com"
    assert public_name("https://api.example.com", alb) == "api.example.com"
    assert public_name("https://api.example.com", "http://alb.example") is None
    assert public_name(None, alb) is None
