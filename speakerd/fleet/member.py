"""What a hub and a speaker share: a name on a site, a link to the broker with presence, health told of the link."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd import __version__
from speakerd.clock import iso_epoch
from speakerd.fleet.hearing import Hearing
from speakerd.fleet.link import Link
from speakerd.fleet.topics import Topics, encode

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.store import Store

logger = logging.getLogger(__name__)


class Member:
    """Subclasses set ``role``, fill ``departments`` before calling this, and handle ``_message``."""

    role = ""

    def __init__(self, cfg: Config, store: Store, health: Health, departments: list[str]) -> None:
        fleet = cfg.fleet
        self.name, self.site = fleet.device_name(), fleet.site
        self.departments = departments
        self.topics = Topics(fleet.base_topic, fleet.site)
        self.store = store
        self._health = health
        self.link = Link(fleet.broker, f"{fleet.base_topic}-{fleet.site}-{self.name}", (self.topics.status(self.name), self._status("offline")),
                         ca_file=fleet.ca_file, on_message=self._message, on_state=self._state)
        self.hearing = Hearing(self._echo, self.link.connected.is_set, self._hearing_changed, store.clock.monotonic, store.clock.time)

    def _status(self, state: str, echo: str = "") -> bytes:
        hearing = self.hearing.state() if state == "online" else {}
        return encode("status", state=state, role=self.role, site=self.site, device=self.name, version=__version__,
                      departments=self.departments, **hearing, **({"echo": echo} if echo else {}))

    def go_online(self) -> None:
        """Retained ``online`` at every connection; the last will says ``offline``."""
        self.link.announce_online(self.topics.status(self.name), self._status("online"))

    def _echo(self, mark: str) -> None:
        self.link.announce_online(self.topics.status(self.name), self._status("online", mark))

    def _hearing_changed(self, hearing: bool, since: float) -> None:
        """Not hearing: say so, on the broker and to tech, and rejoin the session so the broker sends again what it holds."""
        if hearing:
            logger.warning("fleet: hearing the broker %s again", self.link.address)
            self._health.ok("hearing")
            self.go_online()
            return
        self._health.failing("hearing", "deaf", f"nothing has come from the broker {self.link.address} since "
                             f"{iso_epoch(since)}, though the link is up: rejoining the session")
        self.go_online()
        self.link.reconnect()

    def close(self) -> None:
        self.link.close((self.topics.status(self.name), self._status("offline")))

    def _state(self, up: bool, reason: str) -> None:
        if up:
            self._health.ok("broker")
        else:
            self._health.failing("broker", "broker", reason, logged=True)

    def _message(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        if topic == self.topics.status(self.name):
            self.hearing.heard(payload)
        self._handle(topic, payload, ack)

    def _handle(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        raise NotImplementedError
