"""What the device is doing now, read one way by the panel, the LED, the heartbeat, ``status`` and the web page.

In the daemon the troubles come live from :class:`~speakerd.health.alerts.Health`;
in a command run beside it (``panel --snapshot``, ``status``) they come from
the heartbeat the daemon stores every few seconds. Either way the same
questions get the same answers.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.device import netinfo
from speakerd.intake.platform import safe_url
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.device.claim import Claim
    from speakerd.health.alerts import Health
    from speakerd.store import Store

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0


class DeviceState:
    """``health`` None: read the stored heartbeat (a command beside the daemon) instead of the live state."""

    def __init__(self, store: Store, config: Callable[[], Config], health: Health | None = None,
                 devices: Callable[[], list[dict[str, Any]]] | None = None, claim: Claim | None = None,
                 site_counts: Callable[[], list[dict[str, Any]]] | None = None) -> None:
        self.store = store
        self._config = config
        self._health = health
        self._devices = devices  # a hub's view of its fleet, live
        self._site_counts = site_counts
        self._claim = claim
        self._address = netinfo.Address()

    def troubles(self) -> list[dict[str, Any]]:
        """``{subject, kind, reason, since, outage, reminders}`` for each current trouble."""
        if self._health is not None:
            return self._health.snapshot()["troubles"]
        return self.heartbeat().get("troubles", [])

    def last_ok(self) -> dict[str, float]:
        """When each subject (the platform, …) last worked, as epoch seconds."""
        if self._health is not None:
            return dict(self._health.snapshot()["last_ok"])
        return dict(self.heartbeat().get("last_ok", {}))

    def link_down(self) -> dict[str, Any] | None:
        """While the device's link is in an outage (not a passing blip), its trouble, else None.

        The link is the platform, and for a speaker its hub's broker.
        """
        return next((t for t in self.troubles() if t["subject"] == self._link() and t["outage"]), None)

    def _link(self) -> str:
        return "broker" if self._config().fleet.role == "speaker" else "platform"

    def today(self) -> dict[str, Any]:
        """Today's messages, acknowledged and waiting (local day), for the dashboard and a hub's site counts."""
        from speakerd.reports import stats

        day = self.store.clock.now().astimezone().strftime("%Y-%m-%d")
        total = stats.report(self.store, "total", day, day)
        row = total[0] if total else {"messages": 0, "acked": 0, "unacked": 0}
        return {"day": day, "messages": row["messages"], "acked": row["acked"], "unacked": row["unacked"]}

    def devices(self) -> list[dict[str, Any]]:
        """The fleet's devices as a hub sees them (``[]`` on other devices): live, or from the stored heartbeat."""
        if self._health is not None:
            return self._devices() if self._devices else []
        return self.heartbeat().get("devices", [])

    def waiting(self) -> dict[str, int]:
        """Unacknowledged messages per department *name*."""
        names = {dep_id: dep.name for dep_id, (_, dep) in self._config().departments().items()}
        return {names.get(d, d): n for d, n in self.store.acks.waiting_by_department().items()}

    def panel(self) -> dict[str, Any]:
        """The fields of the panel's idle screen (:class:`~speakerd.outputs.panel.screens.PanelState`)."""
        down = self.link_down()
        return {
            "link_name": "主机" if self._link() == "broker" else "平台",
            "waiting": self.waiting(),
            "platform_ok": down is None,
            "down_since": down["since"] if down else None,
            "address": self._address.get(),
            "name": netinfo.lan_name(),
            "port": self._config().web.listen.rpartition(":")[2] if self._config().web.enabled else "",
            "hotspot": netinfo.hotspot(),
            "setup_code": self._claim.code() if self._claim and self._config().web.enabled else "",
            "muted_until": self.store.followup.snoozed_until() if self._config().speech.enabled else 0.0,
            "mutes": {f"{m['scope']}:{m['target']}": m["until"] for m in self.store.mutes.active(self.store.clock.time())},
        }

    def led_mode(self) -> str:
        """``fast`` while the platform is down, ``blink`` while messages wait, else ``steady``."""
        if self.link_down():
            return "fast"
        return "blink" if self.store.acks.has_waiting() else "steady"

    def heartbeat(self) -> dict[str, Any]:
        """The daemon's last stored view of itself (``{}`` when it never ran)."""
        return json.loads(self.store.meta.get("heartbeat") or "{}")

    def sources(self) -> dict[str, str]:
        """Each source under ``sources:`` with where it is read (``inbound`` for one that pushes), for status."""
        return {name: "inbound" if settings.kind == "inbound" else f"{settings.kind} {safe_url(settings.url)}"
                for name, settings in self._config().sources.items()}

    def write_heartbeat(self, outputs: list[str], stopped: bool = False) -> None:
        """What ``speakerd status`` reads: the daemon's own view, refreshed every HEARTBEAT_SECONDS."""
        snapshot = self._health.snapshot() if self._health else {}
        beat = {"pid": os.getpid(), "at": self.store.clock.time(), "stopped": stopped,
                "platform": safe_url(self._config().platform.url), "sources": self.sources(), "outputs": outputs, "devices": self.devices(),
                "site_counts": self._site_counts() if self._site_counts else [], **snapshot}
        try:
            self.store.meta.set("heartbeat", json.dumps(beat))
        except StoreError as exc:
            logger.debug("heartbeat not written: %s", exc)
