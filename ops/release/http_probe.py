"""One HTTP GET with a timeout, as a status code and body: what the smoke test and the load share."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

Fetch = Callable[[str, float], tuple[int, bytes]]
"""``fetch(url, timeout) -> (status, body)``; raises ``OSError`` when nothing answered."""

USER_AGENT = "steadystate-release/1"


def http_get(url: str, timeout: float) -> tuple[int, bytes]:
    """GET ``url``: any HTTP answer (2xx to 5xx) is a status; no answer raises ``OSError``."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), answer.read(65536)
    except urllib.error.HTTPError as err:
        return int(err.code), err.read(65536) if err.fp else b""


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")
