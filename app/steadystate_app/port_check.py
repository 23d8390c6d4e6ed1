"""Is the server's port free? Checked before Granian starts, so a second server fails fast.

Granian binds with SO_REUSEPORT, so on Linux a second server on a busy port starts without a
word and the kernel splits connections between the two. A plain bind (no SO_REUSEPORT) fails
while any socket listens on the port, which is the answer wanted here. SO_REUSEADDR keeps
connections of a server that just stopped (TIME_WAIT) from counting as "in use".
"""

from __future__ import annotations

import errno
import socket


def port_in_use_problem(host: str, port: int) -> str | None:
    """A message naming the port when something listens on `host`:`port`; None when it is free."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return f"HOST={host!r} does not resolve: {exc.strerror}"
    family, type_, proto, _, address = infos[0]
    with socket.socket(family, type_, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another server, say a second "
                    "`make serve`, is listening); stop it or choose another PORT"
                )
            return f"cannot listen on {host} port {port}: {exc.strerror}"
    return None
