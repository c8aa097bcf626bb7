"""The hub's side of the fleet: each routed message to its department's speakers, presence, acknowledgements.

The hub is the only device that polls the platform and assigns people, so a
rotation is decided once however many speakers there are. Sending to the
speakers is an output like the others (:class:`FleetOutput`): its outbox row
counts as delivered only once the broker acknowledged the message (QoS 1),
and the broker keeps it in each speaker's persistent session until that
speaker has it, across restarts of either.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.clock import iso_epoch
from speakerd.delivery.dispatch import NOT_TOLD
from speakerd.errors import OutputError
from speakerd.fleet import roster_check
from speakerd.fleet.member import Member
from speakerd.fleet.presence import Presence
from speakerd.fleet.roster_check import Enrolment
from speakerd.fleet.topics import BadPayload, Topics, decode, encode, text_field
from speakerd.logs import Sparse
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.outputs.interface import Notice
    from speakerd.store import Store

logger = logging.getLogger(__name__)

CONFIRM_SECONDS = 10.0  # how long a send may wait for the broker's acknowledgement before it is retried
MOST_SITES = 500  # site counts kept from the broker: what a hostile publisher of counts can make this hub hold


class Hub(Member):
    """Owns the link; ``output`` is what dispatch delivers through; ``broadcast_ack`` tells the speakers."""

    role = "hub"

    def __init__(self, cfg: Config, store: Store, health: Health) -> None:
        super().__init__(cfg, store, health, [])
        self.every_site = Topics(cfg.fleet.base_topic, "+")
        self.presence = Presence(self.name, store.clock.time, health)
        self.enrolment = Enrolment(roster_check.load(cfg.fleet.roster))
        self._sparse = Sparse(logger)
        self.output = FleetOutput(self)
        self.announces_unheard = cfg.fleet.hub_announces_unheard
        self.link.subscribe(self.every_site.status("+"))
        self.link.subscribe(self.topics.ack_request("+"))
        self.link.subscribe(self.every_site.counts())
        self.site_counts: dict[str, dict[str, Any]] = {}  # each site's counts of today, as its hub published them
        self.go_online()

    def _handle(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        try:
            if topic.endswith("/status"):
                site, device = self.topics.parse_device(topic)
                self.presence.update(site, device, payload)
                self._check_claims(site, device)
            elif "/request/ack/" in topic:
                self._ack_request(topic.rsplit("/", 1)[1], payload)
            elif topic.endswith("/hub/counts"):
                self._counts(topic.split("/")[-3], payload)
        except StoreError as exc:
            logger.error("fleet: %s not handled now (it comes again): %s", topic, exc)
            return  # not acknowledged: the broker delivers it again
        ack()

    def _check_claims(self, site: str, device: str) -> None:
        found = next((d for d in self.presence.snapshot() if (d["site"], d["device"]) == (site, device)), None)
        if found and found["role"] == "speaker":
            self.enrolment.check_claims(site, device, tuple(found["departments"]))

    def _ack_request(self, device: str, payload: bytes) -> None:
        try:
            request = decode(payload, "ack")
            message_id, tx = text_field(request, "id", 200), text_field(request, "tx", 64)
        except BadPayload as exc:
            self._sparse.warning(f"ack:{device}", "fleet: acknowledgement from %s ignored: %s", device, exc)
            return
        if self.enrolment.may_acknowledge(self.site, device, self.store.acks.departments_of(message_id)):
            outcome = self.store.acks.acknowledge(message_id, f"speaker {device}")
        else:
            outcome = "refused"
        logger.info("fleet: %s acknowledged %s (%s)", device, message_id, outcome)
        self.link.publish(self.topics.ack_response(device), encode("ack-response", tx=tx, id=message_id,
                                                                   status="ok" if outcome in ("done", "already") else "error",
                                                                   outcome=outcome))

    def _counts(self, site: str, payload: bytes) -> None:
        """Kept for ``speakerd fleet --sites`` beside this running hub (which may not log in twice: client ids are users)."""
        if not payload:
            self.site_counts.pop(site, None)
            return
        try:
            data = decode(payload, "counts")
            kept = {"site": site, "hub": text_field(data, "hub", 63), "day": text_field(data, "day", 10),
                    "at": text_field(data, "at", 40), **{k: _count(data, k) for k in ("messages", "acked", "unacked")}}
        except BadPayload as exc:
            self._sparse.warning(f"counts:{site}", "fleet: counts of site %s ignored: %s", site, exc)
            return
        if site in self.site_counts or len(self.site_counts) < MOST_SITES:
            self.site_counts[site] = kept

    def broadcast_ack(self, message_id: str, acked_at: str) -> bool:
        """Tell every speaker that ``message_id`` was acknowledged; False when the broker did not confirm it."""
        if not self.link.connected.is_set():
            return False
        return self.link.publish(self.topics.acked(), encode("acked", id=message_id, at=acked_at), wait=CONFIRM_SECONDS)

    def publish_counts(self, counts: dict[str, Any]) -> None:
        """The site's counts of today, retained, for the head office and ``fleet --sites``."""
        self.link.publish(self.topics.counts(), encode("counts", site=self.site, hub=self.name, at=iso_epoch(self.store.clock.time()),
                                                        **counts), retain=True)

    def will_say(self, notice: Notice) -> bool:
        """Whether the hub said ``notice`` itself or can promise to (its speech has not decided on it yet; promised then).

        A promised message is said here even if the department's speaker comes back before the hub's turn to speak:
        that speaker counts it as heard, so nobody else would say it. One the hub's speech left untold (snoozed, or
        to a speaker then online), or cannot tell (failing), is promised to nobody: the speaker says it.
        """
        found = self.store.outbox.state_of(notice.message_id, notice.department, "speech") if self.announces_unheard else None
        if found is None or found[0] == "failed":
            return False
        if found[0] == "done":
            return not (found[1] or "").startswith(NOT_TOLD)  # said alone, or in a summary
        self.store.promises.make(notice.message_id)
        return True

    def promised(self, message_id: str) -> bool:
        return self.store.promises.made(message_id)

    def speakers_of(self, department: str) -> tuple[list[str], list[str]]:
        """``(online, offline)`` speakers of this site that announce ``department`` and are enrolled for it."""
        online, offline = self.presence.speakers_of(department, self.site)
        def enrolled(names: list[str]) -> list[str]:
            return [n for n in names if self.enrolment.covers(self.site, n, department)]
        return enrolled(online), enrolled(offline)


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**9:
        raise BadPayload(f"{key} must be a count")
    return value


class FleetOutput:
    """Sends each routed message to its department's topic; done once the broker has it."""

    name = "fleet"

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def deliver(self, notice: Notice) -> None:
        """To the department's topic; ``covered`` when no speaker of it is online, so the hub announces it itself and a
        speaker that comes back counts it in one sentence instead of saying it again (:mod:`speakerd.delivery.away`)."""
        online = self._hub.speakers_of(notice.department)[0]
        covered = not online and self._hub.will_say(notice)
        payload = encode("announce", notice=dataclasses.asdict(notice), covered=covered)
        if not self._hub.link.publish(self._hub.topics.announce(notice.department), payload, wait=CONFIRM_SECONDS):
            raise OutputError(f"the broker {self._hub.link.address} did not confirm the message (it is sent again)")
        self._hub.presence.sent(self._hub.site, online, notice.message_id)

    def close(self) -> None:
        pass
