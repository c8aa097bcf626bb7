"""Messages the device makes itself (technical alerts, escalations, the daily digest, spoken reminders) into the same flow as the platform's.

Each is stored through :meth:`~speakerd.intake.ingest.Ingest.local`, so it is routed,
delivered by every output and recorded like any other message; when the
store itself fails, an alert still goes straight to the outputs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.errors import OutputError
from speakerd.outputs.interface import notice_from_row
from speakerd.reports import digest
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Category, Config
    from speakerd.delivery.dispatch import OutputWorker
    from speakerd.intake.ingest import Ingest
    from speakerd.outputs.interface import Speaking
    from speakerd.store import Store

logger = logging.getLogger(__name__)


STORE_SUBJECTS = ("database", "disk")  # health subjects about the store: their alerts never wait on it


class Announcer:
    """Takes the parts in force as callables: ingest, config and workers change on reload."""

    def __init__(self, store: Store, config: Callable[[], Config], ingest: Callable[[], Ingest],
                 workers: Callable[[], list[OutputWorker]], speech: Callable[[], Speaking | None]) -> None:
        self.store = store
        self._speech = speech
        self._config = config
        self._ingest = ingest
        self._workers = workers

    def _outputs(self) -> list[str]:
        return [w.output.name for w in self._workers()]

    def wake(self) -> None:
        """New work is in the outbox: every output looks now."""
        for worker in self._workers():
            worker.wake()

    def alert(self, raw: dict[str, Any]) -> None:
        """A technical alert to every output: through the store, or straight on if the store fails.

        An alert about the store itself (its disk, the database) goes straight on in any case: a full disk may
        still take the alert's row and then refuse every write the outputs need to tell it.
        """
        cfg = self._config()
        if not cfg.health.enabled:
            return
        if (raw.get("data") or {}).get("subject") in STORE_SUBJECTS:
            self._straight_on(raw, cfg)
            return
        try:
            self._ingest().local(raw, self._outputs())
        except StoreError:
            self._straight_on(raw, cfg)
            return
        self.wake()

    def _straight_on(self, raw: dict[str, Any], cfg: Config) -> None:
        for row in self._ingest().preview(raw):
            notice = notice_from_row(row, cfg)
            for worker in self._workers():
                threading.Thread(target=worker.deliver_now, args=(notice,), daemon=True).start()

    def say(self, sentence: str, category: Category | None, priority: str, name: str) -> None:
        """A sentence of the device's own (reminder, summary, snooze) through the speech output, if any."""
        speech = self._speech()
        if speech is None:
            logger.info("(no speech output) would say: %s", sentence)
            return
        try:
            speech.play(sentence, category, priority, name)
        except OutputError as exc:
            logger.warning("could not say %r: %s", sentence, exc)

    def escalate(self, raw: dict[str, Any], to: tuple[str, str | None], category: str) -> None:
        """An escalation step: a new message to ``to`` (department, person), filed under the original's category."""
        self._ingest().local(raw, self._outputs(), to=to, category=category)
        self.wake()

    def analysis(self, until: str | None = None) -> int:
        """The operations analysis of the seven days up to ``until`` (yesterday) to each department's lead; return how many."""
        from speakerd.reports.analysis import weekly_messages

        sent = 0
        for message, department, lead in weekly_messages(self.store, self._config(), until or digest.yesterday(self.store.clock.now())):
            sent += len(self._ingest().local(message, self._outputs(), to=(department, lead)).new)
        self.wake()
        logger.info("weekly analysis: %d department lead(s) told", sent)
        return sent

    def digest(self, day: str | None = None) -> int:
        """Yesterday's digest to each department's lead, through every output; return how many."""
        sent = 0
        day = day or digest.yesterday(self.store.clock.now())
        for message, department, lead in digest.digests(self.store, self._config(), day):
            sent += len(self._ingest().local(message, self._outputs(), to=(department, lead)).new)
        self.wake()
        logger.info("daily digest: %d department(s) told", sent)
        return sent
