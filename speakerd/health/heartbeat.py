"""A call to an outside monitor while the device is well, so that a dead or cut-off device raises an alarm elsewhere.

A device that has lost its power, its network or its process cannot say so
itself. The "push monitor" convention of healthchecks.io and Uptime Kuma
answers that: the device calls a URL every N seconds while healthy, and the
monitor alarms when the calls stop. While an outage lasts (the platform, the
disk, the database) the device calls ``heartbeat_down_url`` instead if one is
set (``…/fail``, ``?status=down&msg={reason}``), or nothing, which the
monitor also takes as down.

The URLs carry the monitor's token: they are never logged, only their host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import requests

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health

logger = logging.getLogger(__name__)


class Heartbeat:
    """``beat()`` once per ``health.heartbeat_every``; returns ``"up"``, ``"down"`` or None (nothing called)."""

    def __init__(self, health: Health, config: Callable[[], Config], session: requests.Session | None = None) -> None:
        self._health = health
        self._config = config
        self._session = session or requests.Session()
        self._failing = False

    def beat(self) -> str | None:
        settings = self._config().health
        down = sorted(t["subject"] for t in self._health.snapshot()["troubles"] if t["outage"])
        written = settings.heartbeat_down_url if down else settings.heartbeat_url
        if not written:
            return None
        url = str(written).replace("{reason}", quote(",".join(down), safe=""))
        try:
            answer = self._session.get(url, timeout=min(10.0, settings.heartbeat_every))
            answer.raise_for_status()
        except requests.RequestException as exc:
            self._failed(url, exc)
            return None
        if self._failing:
            logger.info("heartbeat to %s goes through again", urlsplit(url).hostname)
            self._failing = False
        return "down" if down else "up"

    def _failed(self, url: str, exc: requests.RequestException) -> None:
        """Said once until it works again: the monitor will alarm by itself if this lasts."""
        if not self._failing:
            status = exc.response.status_code if exc.response is not None else type(exc).__name__
            logger.warning("heartbeat to %s failed (%s); the monitor there will report this device as down if it lasts",
                           urlsplit(url).hostname, status)
        self._failing = True
