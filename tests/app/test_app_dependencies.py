"""The probes behind /ready and the prober, in-process against real local servers: HTTPS with
certificate verification, HTTP status handling, and refused connections."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import free_port
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from steadystate_app.dependencies import HttpDependency, TcpDependency, check


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1: /ok answers 200, anything else 503. Yields (port, cert)."""
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_https_probe_verifies_the_certificate(
    https_server: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert = https_server
    probe = HttpDependency("cdn", f"https://127.0.0.1:{port}/ok")

    untrusted = asyncio.run(check(probe, 3))
    assert not untrusted.ok
    assert untrusted.error == "SSLCertVerificationError"

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the certificate is trusted
    trusted = asyncio.run(check(probe, 3))
    assert trusted.ok, trusted.detail

    failing = asyncio.run(check(HttpDependency("cdn", f"https://127.0.0.1:{port}/down"), 3))
    assert (failing.ok, failing.detail) == (False, "HTTP 503")


def test_refused_tcp_connection_is_down_and_timed() -> None:
    result = asyncio.run(check(TcpDependency("db", "127.0.0.1", free_port()), 2))
    assert not result.ok
    assert result.error == "ConnectionRefusedError"
    assert result.latency_ms >= 0


def test_unresolvable_host_is_down() -> None:
    result = asyncio.run(check(TcpDependency("db", "no-such-host.invalid", 5432), 2))
    assert not result.ok
    assert result.error in ("gaierror", "timeout")
