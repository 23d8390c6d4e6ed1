"""The response value handlers return, and the JSON helper every endpoint uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Response:
    """Status, body and extra headers; the ASGI app adds content-length and sends it."""

    status: int
    body: bytes
    headers: Headers = ()


# Every answer is JSON and specific to its moment: no proxy may cache it.
JSON_HEADERS: Headers = ((b"content-type", b"application/json"), (b"cache-control", b"no-store"))


def json_response(status: int, payload: Any, headers: Headers = ()) -> Response:
    """``payload`` as compact JSON."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, (*JSON_HEADERS, *headers))
