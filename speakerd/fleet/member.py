"""What a hub and a speaker share: a name on a site, a link to the broker with presence, health told of the link."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd import __version__
from speakerd.fleet.link import Link
from speakerd.fleet.topics import Topics, encode

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.store import Store


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

    def _status(self, state: str) -> bytes:
        return encode("status", state=state, role=self.role, site=self.site, device=self.name, version=__version__,
                      departments=self.departments)

    def go_online(self) -> None:
        """Retained ``online`` at every connection; the last will says ``offline``."""
        self.link.announce_online(self.topics.status(self.name), self._status("online"))

    def close(self) -> None:
        self.link.close((self.topics.status(self.name), self._status("offline")))

    def _state(self, up: bool, reason: str) -> None:
        if up:
            self._health.ok("broker")
        else:
            self._health.failing("broker", "broker", reason, logged=True)

    def _message(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        raise NotImplementedError
