"""Who is on the broker: each device's retained status, and whether a department has a speaker listening.

The broker writes a device's last will (``offline``) when it vanishes, so the
retained status is the truth. A speaker offline longer than
``health.fail_after`` becomes a technical alert through health, like the
platform, and its return a recovery notice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from speakerd.fleet.topics import BadPayload, decode, status_of
from speakerd.logs import Sparse

if TYPE_CHECKING:
    from speakerd.health.alerts import Health

logger = logging.getLogger(__name__)

SETTLE = 5.0  # seconds after start at most before speakers not heard of count as absent (a broker that is down)


@dataclass
class Device:
    name: str
    site: str
    state: str = "offline"  # online or offline
    since: float = 0.0
    role: str = ""
    departments: tuple[str, ...] = ()
    version: str = ""
    last_message: str = ""  # the last message id sent to it (hub's view)
    hearing: str = "ok"  # "deaf": online, but the broker's messages no longer reach it (fleet.hearing)
    deaf_since: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Presence:
    """Fed the status topics' messages; ``me`` is this device (never alerted about itself)."""

    def __init__(self, me: str, clock: Callable[[], float], health: Health | None = None) -> None:
        self.me = me
        self._clock = clock
        self._health = health
        self._lock = threading.Lock()
        self.devices: dict[tuple[str, str], Device] = {}
        self._sparse = Sparse(logger)
        # The broker sends the retained statuses before the echo of this device's own: once that is back, every
        # speaker online is known. Until then (at most SETTLE seconds) nobody can be said to be offline.
        self._settled = threading.Event()
        self._started = time.monotonic()

    def update(self, site: str, name: str, payload: bytes) -> None:
        """A status message arrived (empty: the retained status was cleared)."""
        if not payload:  # the retained status was cleared
            with self._lock:
                self.devices.pop((site, name), None)
            return
        try:
            data = status_of(decode(payload, "status"))
        except BadPayload as exc:
            self._sparse.warning(f"status:{exc}", "fleet: status of %s/%s ignored: %s", site, name, exc)
            return
        with self._lock:
            device = self.devices.setdefault((site, name), Device(name, site))
            changed = device.state != data["state"]
            device.state, device.role, device.version, device.departments = data["state"], data["role"], data["version"], data["departments"]
            device.hearing, device.deaf_since = data["hearing"], data["deaf_since"]
            device.since = self._clock() if changed else device.since
        if name == self.me and data["state"] == "online":
            self._settled.set()
        if changed and name != self.me:
            logger.info("fleet: %s/%s is %s", site, name, device.state)
        self._report(device)

    def _report(self, device: Device) -> None:
        if self._health is None or device.name == self.me or device.role != "speaker":
            return
        subject = f"device:{device.name}"
        if device.state != "online":
            self._health.failing(subject, "device_offline", f"speaker {device.name} is offline")
        elif device.hearing == "deaf":
            self._health.failing(subject, "device_deaf", f"speaker {device.name} is online but hears nothing from the broker")
        else:
            self._health.ok(subject)

    def settled(self) -> bool:
        """Whether the speakers online are known: this device's own status came back, or SETTLE seconds passed."""
        return self._settled.is_set() or time.monotonic() - self._started > SETTLE

    def speakers_of(self, department: str, site: str) -> tuple[list[str], list[str]]:
        """``(online, offline)``: the speakers of ``site`` that announce ``department``."""
        with self._lock:
            found = [d for d in self.devices.values() if d.site == site and d.role == "speaker" and department in d.departments]
        return [d.name for d in found if d.state == "online"], [d.name for d in found if d.state != "online"]

    def sent(self, site: str, speakers: list[str], message_id: str) -> None:
        with self._lock:
            for name in speakers:
                if (site, name) in self.devices:
                    self.devices[(site, name)].last_message = message_id

    def snapshot(self) -> list[dict[str, Any]]:
        """Every known device, for the dashboard, ``status`` and ``fleet``."""
        with self._lock:
            return [{"site": d.site, "device": d.name, "role": d.role, "state": d.state, "since": d.since,
                     "departments": list(d.departments), "version": d.version, "last_message": d.last_message,
                     "hearing": d.hearing, "deaf_since": d.deaf_since}
                    for d in sorted(self.devices.values(), key=lambda d: (d.site, d.name))]
