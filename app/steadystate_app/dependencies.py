"""The services this app depends on, and one bounded check of each.

A dependency has a name (the key in ``/ready`` and the prober's metric ``<name>-connectivity``)
and a ``probe`` that succeeds or raises: a TCP connect, an HTTP GET answered with a status below
400, or a Postgres ``SELECT 1``. :func:`check` runs one probe under a timeout and turns every
outcome into a :class:`CheckResult`, so callers never see an exception.
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import psycopg
import psycopg.conninfo

from .db_credentials import Credentials, SecretCredentials, is_auth_failure

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_USER_AGENT = "steadystate-probe/1"


class SpecError(ValueError):
    """A dependency specification that cannot be parsed."""


class Dependency(Protocol):
    """Anything with a name and a probe that raises when the dependency is unusable."""

    name: str

    async def probe(self) -> None: ...


@dataclass(frozen=True)
class TcpDependency:
    """Reachable when a TCP connection to ``host:port`` opens."""

    name: str
    host: str
    port: int

    async def probe(self) -> None:
        _, writer = await asyncio.open_connection(self.host, self.port)
        writer.close()
        await writer.wait_closed()


@dataclass(frozen=True)
class HttpDependency:
    """Reachable when ``GET url`` is answered with a status below 400 (redirects not followed)."""

    name: str
    url: str

    async def probe(self) -> None:
        parts = urlsplit(self.url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rpartition("@")[2]  # as written, without any user:password
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {_USER_AGENT}\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(
            host,
            port,
            ssl=ssl.create_default_context() if secure else None,
            server_hostname=host if secure else None,
        )
        try:
            writer.write(request.encode("ascii"))
            await writer.drain()
            status = _parse_status_line(await reader.readline())
        finally:
            writer.close()
        if status >= 400:
            raise ConnectionError(f"HTTP {status}")


@dataclass(frozen=True)
class PostgresDependency:
    """Ready when a new connection runs ``SELECT 1``.

    ``conninfo`` may hold the password, so it is left out of the repr. With ``credentials`` the
    user name and password come from Secrets Manager at each connection instead (the conninfo
    holds only host, port, database and TLS mode); a login refused for its credentials re-reads
    the secret and tries once more with a newer version, so a rotation heals without a restart.
    """

    name: str
    conninfo: str = field(repr=False)
    connect_timeout: float = 2.0
    credentials: SecretCredentials | None = None

    async def probe(self) -> None:
        if self.credentials is None:
            await self._select_one(self.conninfo)
            return
        current = await self.credentials.current()
        try:
            await self._select_one(self._with(current))
        except psycopg.OperationalError as exc:
            if not is_auth_failure(exc):
                raise
            newer = await self.credentials.refresh_after_auth_failure(current)
            if newer is None:
                raise
            await self._select_one(self._with(newer))

    def _with(self, credentials: Credentials) -> str:
        return psycopg.conninfo.make_conninfo(
            self.conninfo, user=credentials.username, password=credentials.password
        )

    async def _select_one(self, conninfo: str) -> None:
        conn = await psycopg.AsyncConnection.connect(
            conninfo,
            # libpq's own bound (whole seconds, at least 2); check() enforces the exact one.
            connect_timeout=max(2, math.ceil(self.connect_timeout)),
            application_name="steadystate-ready",
        )
        async with conn:
            await conn.execute("SELECT 1")


@dataclass(frozen=True)
class CheckResult:
    """One probe's outcome. ``error`` is short and safe to show; ``detail`` is for logs."""

    name: str
    ok: bool
    latency_ms: float
    error: str | None = None
    detail: str | None = None


async def check(dependency: Dependency, timeout: float) -> CheckResult:
    """Probe ``dependency`` once, giving up after ``timeout`` seconds; never raises."""
    started = time.perf_counter()
    error = detail = None
    try:
        async with asyncio.timeout(timeout):
            await dependency.probe()
    except TimeoutError:
        error, detail = "timeout", f"no answer within {timeout:g} s"
    except Exception as exc:  # any failure means "down"; the class name is safe to show
        error, detail = type(exc).__name__, str(exc)
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(dependency.name, error is None, latency_ms, error, detail)


def parse_targets(spec: str) -> tuple[TcpDependency | HttpDependency, ...]:
    """Parse ``name=target,...`` where a target is ``host:port``, ``tcp://host:port``,
    ``http://...`` or ``https://...``.

    >>> parse_targets("db=tcp://db.internal:5432,cdn=https://cdn.example.com/ping")[0]
    TcpDependency(name='db', host='db.internal', port=5432)
    """
    targets: dict[str, TcpDependency | HttpDependency] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, sep, target = (piece.strip() for piece in item.partition("="))
        if not sep or not target:
            raise SpecError(f"{item!r}: expected name=target")
        if not _NAME_RE.match(name):
            raise SpecError(f"{name!r}: names are letters, digits, '_', '.', '-' (max 63)")
        if name in targets:
            raise SpecError(f"{name!r} is listed twice")
        targets[name] = _parse_target(name, target)
    return tuple(targets.values())


def _parse_target(name: str, target: str) -> TcpDependency | HttpDependency:
    parts = urlsplit(target if "://" in target else f"tcp://{target}")
    try:
        port = parts.port
    except ValueError as exc:
        raise SpecError(f"{name}: bad port in {target!r}") from exc
    if not parts.hostname:
        raise SpecError(f"{name}: no host in {target!r}")
    if parts.scheme in ("http", "https"):
        return HttpDependency(name, target)
    if parts.scheme != "tcp":
        raise SpecError(f"{name}: scheme must be tcp, http or https, not {parts.scheme!r}")
    if port is None:
        raise SpecError(f"{name}: {target!r} needs a port")
    return TcpDependency(name, parts.hostname, port)


def _parse_status_line(line: bytes) -> int:
    fields = line.split(maxsplit=2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        raise ConnectionError(f"not an HTTP response: {line[:60]!r}")
    return int(fields[1])
