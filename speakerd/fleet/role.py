"""What a device's fleet role changes in the daemon: nothing alone, a :class:`Hub`, or a :class:`Speaker`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.fleet.hub import Hub
from speakerd.fleet.speaker import Speaker
from speakerd.intake.platform import safe_url

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import IngestResult
    from speakerd.outputs.interface import Output
    from speakerd.store import Store


class FleetRole:
    """Asked by the daemon the same way whatever the role; ``hub`` and ``speaker`` are None unless it is one."""

    def __init__(self) -> None:
        self.hub: Hub | None = None
        self.speaker: Speaker | None = None

    def start(self, cfg: Config, store: Store, health: Health, receive: Callable[..., IngestResult]) -> None:
        if cfg.fleet.role == "hub":
            self.hub = Hub(cfg, store, health)
        elif cfg.fleet.role == "speaker":
            self.speaker = Speaker(cfg, store, health, receive)

    def connect(self) -> None:
        """Go on the broker: only once the outputs run, so that a backlog arriving at once has outputs to be owed to."""
        for part in (self.hub, self.speaker):
            if part:
                part.link.start()

    def close(self) -> None:
        for part in (self.hub, self.speaker):
            if part:
                part.close()
        self.hub = self.speaker = None

    def polls(self) -> bool:
        """Whether this device polls the platform: all but a speaker."""
        return self.speaker is None

    def source(self, cfg: Config) -> str:
        """Where messages come from, for the log."""
        if self.speaker:
            return f"the hub via the broker {self.speaker.link.address}"
        return f"the platform {safe_url(cfg.platform.url)}"

    def outputs(self, built: list[Output]) -> list[Output]:
        """A hub adds the speakers to its outputs; a speaker leaves pushing to the hub, which would otherwise push each twice."""
        if self.hub:
            return [*built, self.hub.output]
        if self.speaker:
            return [o for o in built if o.name != "push"]
        return built

    def heard_by(self, department: str) -> tuple[list[str], list[str]] | None:
        """``(online, offline)`` speakers of ``department``, as a hub knows them; ``([], [])`` elsewhere; None while a
        hub that just started has not heard the broker's list yet."""
        if self.hub is None:
            return [], []
        return self.hub.speakers_of(department) if self.hub.presence.settled() else None

    def promised(self, message_id: str) -> bool:
        """Whether a hub promised to say ``message_id`` itself (it sent it as covered to the department's speakers)."""
        return self.hub is not None and self.hub.promised(message_id)

    def acknowledged_here(self, message_id: str) -> None:
        """The button acknowledged ``message_id``: a speaker asks its hub to record it too."""
        if self.speaker:
            self.speaker.request_ack(message_id)

    def tell_acknowledged(self, message_id: str, acked_at: str) -> bool:
        """A hub tells its speakers; False when the broker is away (told when it is back)."""
        return self.hub.broadcast_ack(message_id, acked_at) if self.hub else True

    def publish_counts(self, counts: dict[str, Any]) -> None:
        if self.hub:
            self.hub.publish_counts(counts)

    def check_hearing(self) -> None:
        """From the daemon's loop: whether the broker's messages still reach this device (fleet.hearing)."""
        for part in (self.hub, self.speaker):
            if part:
                part.hearing.tick()

    def site_counts(self) -> list[dict[str, Any]]:
        """Each site's counts of today as a hub heard them, for ``fleet --sites`` beside the running daemon."""
        return sorted(self.hub.site_counts.values(), key=lambda c: c["site"]) if self.hub else []

    def devices(self) -> list[dict[str, Any]]:
        """The devices a hub knows, for the dashboard and ``status``; its own hearing as it knows it (a deaf hub
        cannot hear its own status say so)."""
        if self.hub is None:
            return []
        found = self.hub.presence.snapshot()
        for d in found:
            if d["device"] == self.hub.name and d["site"] == self.hub.site:
                d.update(self.hub.hearing.state(), deaf_since=self.hub.hearing.deaf_since)
        return found
