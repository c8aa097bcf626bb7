"""Tells systemd we are ready and still alive (sd_notify), so a hung daemon gets restarted.

The protocol is one datagram to the socket named by $NOTIFY_SOCKET; without
that variable (not started by systemd with Type=notify) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send ``state`` (e.g. ``READY=1``); return whether systemd was told."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
        return True
    except OSError as exc:
        logger.warning("cannot notify systemd (%s): %s", state, exc)
        return False


def interval() -> float | None:
    """Seconds within which systemd expects a ping, or None when it watches nothing."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000
