"""Container health check: exit 0 when this container's ``GET /health`` answers 200, else 1.

The slim image has no curl; ``python -m steadystate_app.healthcheck`` is the HEALTHCHECK and the
command for an ECS container health check. It talks to 127.0.0.1:$PORT directly, ignoring any
HTTP proxy settings.
"""

from __future__ import annotations

import http.client
import os
import sys


def main() -> int:
    """Return the exit status for one health check."""
    connection = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8080")), 2)
    try:
        connection.request("GET", "/health")
        return 0 if connection.getresponse().status == 200 else 1
    except (OSError, http.client.HTTPException):
        return 1
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
