"""Free ports on loopback, for the demo, a local broker and the tests."""

from __future__ import annotations

import socket


def free_or_zero(port: int) -> int:
    """``port`` when nothing listens on it on loopback, else 0."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def free_port() -> int:
    """A port nothing listens on, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
