"""Whether the device's own page still answers, asked the way a browser would, so that a hung page is noticed.

The page runs in the daemon's process, on its own threads: it can stop
answering (every worker held, a deadlock) while polling and announcing go on,
and nothing else would notice. Every :data:`EVERY` seconds the daemon fetches
a small file from itself; a page that does not answer is a trouble (an alert
once it lasts ``health.fail_after``), and after :data:`STALL` seconds without
an answer the systemd watchdog is no longer fed, so systemd restarts the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from speakerd.health.alerts import Health

logger = logging.getLogger(__name__)

EVERY = 30.0
TIMEOUT = 5.0
STALL = 120.0
PATH = "/static/favicon.svg"


def local_url(listen: str) -> str:
    """Where the daemon reaches its own page: the listening port on loopback."""
    host, _, port = listen.rpartition(":")
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host.strip("[]"), host.strip("[]"))
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class WebProbe:
    """``check()`` every EVERY seconds while the page is on; ``alive()`` for the watchdog."""

    def __init__(self, health: Health, url: Callable[[], str | None], monotonic: Callable[[], float]) -> None:
        self._health = health
        self._url = url  # None while the page is off
        self._monotonic = monotonic
        self._answered = monotonic()

    def check(self) -> bool:
        url = self._url()
        if url is None:
            self._answered = self._monotonic()
            return True
        try:
            requests.get(url + PATH, timeout=TIMEOUT).raise_for_status()
        except requests.RequestException as exc:
            self._health.failing("web", "web", f"the settings page does not answer ({type(exc).__name__})")
            return False
        self._answered = self._monotonic()
        self._health.ok("web")
        return True

    def alive(self) -> bool:
        """False once the page has not answered for STALL seconds: the watchdog then lets systemd restart the daemon."""
        return self._monotonic() - self._answered < STALL
