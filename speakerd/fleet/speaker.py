"""A department speaker's side of the fleet: what the hub sends for its departments, kept once and told here.

Each message arrives on a persistent session with QoS 1 and is acknowledged
to the broker only once it is in this device's own SQLite store, so a
speaker that was off, crashed or lost the network gets its backlog when it
returns, exactly once (the store deduplicates by message id). Its buttons
acknowledge back to the hub; an acknowledgement from anywhere comes back as
``acked`` and clears this panel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd.fleet.member import Member
from speakerd.fleet.topics import BadPayload, decode, encode
from speakerd.logs import Sparse
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import IngestResult
    from speakerd.store import Store

logger = logging.getLogger(__name__)


def departments_of(cfg: Config) -> list[str]:
    """The departments a speaker announces: its own list and those of its subsystems."""
    fleet = cfg.fleet
    found = list(fleet.departments)
    for dep_id, (sub_id, _) in cfg.departments().items():
        if sub_id in fleet.subsystems and dep_id not in found:
            found.append(dep_id)
    return found


class Speaker(Member):
    """``receive(raw, department, staff, category, covered)`` stores a message and wakes the outputs (covered: the hub announced it)."""

    role = "speaker"

    def __init__(self, cfg: Config, store: Store, health: Health, receive: Callable[..., IngestResult]) -> None:
        super().__init__(cfg, store, health, departments_of(cfg))
        self._receive = receive
        self._sparse = Sparse(logger)
        for department in self.departments:
            self.link.subscribe(self.topics.announce(department))
        self.link.subscribe(self.topics.acked())
        self.link.subscribe(self.topics.ack_response(self.name))
        self.link.subscribe(self.topics.status(self.name))  # its own, to hear it back (fleet.hearing)
        self.go_online()
        logger.info("fleet: speaker %s of site %s for %s, via %s", self.name, self.site, ", ".join(self.departments), self.link.address)

    def request_ack(self, message_id: str) -> None:
        """The button acknowledged ``message_id`` here: ask the hub to record it (queued while the broker is away)."""
        self.link.publish(self.topics.ack_request(self.name), encode("ack", id=message_id, tx=uuid.uuid4().hex, via="button"))

    def _handle(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        try:
            if topic == self.topics.acked():
                self._acked(decode(payload, "acked"))
            elif topic.startswith(self.topics.announce("")):
                self._announced(decode(payload, "announce"))
            elif topic == self.topics.ack_response(self.name):
                response = decode(payload, "ack-response")
                logger.info("fleet: the hub recorded the acknowledgement of %s (%s)", response.get("id"), response.get("outcome"))
        except BadPayload as exc:
            self._sparse.warning(f"bad:{topic.rsplit('/', 1)[0]}", "fleet: message on %s ignored: %s", topic, exc)
        except StoreError as exc:
            logger.error("fleet: message on %s not kept now, the broker sends it again: %s", topic, exc)
            self._health.failing("database", "database", f"cannot keep a message from the hub: {exc}")
            return  # not acknowledged to the broker: it comes again
        ack()

    def _announced(self, data: dict) -> None:
        notice = data.get("notice")
        if not isinstance(notice, dict) or not isinstance(notice.get("message_id"), str):
            raise BadPayload("an announcement without a notice")
        if notice.get("department") not in self.departments:
            raise BadPayload(f"department {notice.get('department')!r} is not one this speaker announces")
        raw = {"id": notice["message_id"], "type": notice.get("type") or "", "app": notice.get("app") or "",
               "content": notice.get("content") or "", "created_at": notice.get("created_at") or "",
               "user": {"name": notice.get("user_name") or ""}, "data": notice.get("data") or {}}
        result = self._receive({k: v for k, v in raw.items() if v not in ("", None)}, notice.get("department"),
                               notice.get("staff_id"), notice.get("category"), data.get("covered") is True)
        if result.new:
            logger.info("fleet: %s for %s from the hub", notice["message_id"], notice.get("department"))

    def _acked(self, data: dict) -> None:
        self.store.acks.acknowledge(str(data.get("id", "")), "hub")  # the panel clears at the next tick (AckFeed)
