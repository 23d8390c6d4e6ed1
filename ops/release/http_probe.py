"""One HTTP GET with a timeout, as a status code and body: what the smoke test and the load share.

An environment's own URL is its load balancer's DNS name, while its certificate names the service's
domain (``api.example.com``). :func:`fetch_for` connects to the load balancer but sends that domain
as TLS server name (SNI), checks the certificate against it and sends it as ``Host``, like a client
of the public name that reached this environment.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

Fetch = Callable[[str, float], tuple[int, bytes]]
"""``fetch(url, timeout) -> (status, body)``; raises ``OSError`` when nothing answered."""

USER_AGENT = "steadystate-release/1"
MAX_BODY = 65536


def http_get(url: str, timeout: float) -> tuple[int, bytes]:
    """GET ``url``: any HTTP answer (2xx to 5xx) is a status; no answer raises ``OSError``."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), answer.read(MAX_BODY)
    except urllib.error.HTTPError as err:
        return int(err.code), err.read(MAX_BODY) if err.fp else b""


class _NamedTLSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` whose certificate must name ``tls_name`` (sent as SNI)."""

    def __init__(self, host: str, tls_name: str, context: ssl.SSLContext, **kwargs: object) -> None:
        super().__init__(host, context=context, **kwargs)  # type: ignore[arg-type]
        self.tls_name = tls_name
        self.tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.tls_name)


def fetch_for(tls_name: str, context: ssl.SSLContext | None = None) -> Fetch:
    """A :data:`Fetch` for https URLs of a host whose certificate names ``tls_name``."""
    tls = context or ssl.create_default_context()

    def fetch(url: str, timeout: float) -> tuple[int, bytes]:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return http_get(url, timeout)
        connection = _NamedTLSConnection(
            parts.hostname, tls_name, tls, port=parts.port or 443, timeout=timeout
        )
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"Host": tls_name, "User-Agent": USER_AGENT})
            answer = connection.getresponse()
            return int(answer.status), answer.read(MAX_BODY)
        except (http.client.HTTPException, ssl.SSLError) as err:
            raise OSError(f"{url} as {tls_name}: {err}") from err
        finally:
            connection.close()

    return fetch


def public_name(service_url: str | None, environment_url: str) -> str | None:
    """The name to present to an environment's https URL: the service URL's host when it differs."""
    env = urllib.parse.urlsplit(environment_url)
    public = urllib.parse.urlsplit(service_url or "")
    if env.scheme == "https" and public.hostname and public.hostname != env.hostname:
        return public.hostname
    return None


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")
