"""Asks the platform for news: one poll, the pause before the next, and whether a poll hangs.

One poller per polled source (:mod:`speakerd.intake.source`). Each answer is
stored through :class:`~speakerd.intake.ingest.Ingest` before anything acts on
it; each failure is reported to health under the source's subject (``platform``,
``source:NAME``) or ``database``, so a lasting one becomes one technical alert.
The daemon schedules :meth:`Poller.poll_once` and waits the seconds it returns.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd.errors import PlatformError
from speakerd.intake.client import client_for
from speakerd.intake.source import Source
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import Ingest
    from speakerd.store import Store

logger = logging.getLogger(__name__)

HANG_MARGIN = 30.0  # seconds past the poll's own timeouts before it counts as hung
FLIP_WINDOW = 600.0  # seconds: an epoch coming back within them is a flip between replicas, not a restart
GARBAGE_MIN_BATCH = 10  # a poll this large, mostly quarantined, means the platform sends garbage


PLATFORM_SOURCE = Source()


class _Flapping(Exception):
    """The platform's epoch went back to one it had left: two replicas that disagree."""


class Poller:
    """``poll_once()`` → seconds to wait; ``alive()`` is False while a poll hangs past every timeout it was given."""

    def __init__(self, cfg: Config, store: Store, health: Health, ingest: Callable[[], Ingest],
                 outputs: Callable[[], list[str]], on_news: Callable[[], None], source: Source = PLATFORM_SOURCE) -> None:
        self.source = source
        self.cfg = cfg
        self.settings = source.settings(cfg)
        self.store = store
        self.health = health
        self._ingest = ingest  # the one built for the config in force
        self._outputs = outputs  # names of the outputs that get an outbox row
        self._on_news = on_news
        self._clock = store.clock
        self._failures = 0
        self._started: float | None = None  # monotonic time of the poll under way
        self._epochs: dict[str, float] = {}  # each epoch answered, and when last (monotonic)
        self._last_flip = -FLIP_WINDOW
        self.running = True
        self.client = client_for(self.settings, source.app(cfg))

    def reconfigure(self, cfg: Config) -> None:
        """Use new settings from the next poll on (a poll under way finishes with its client)."""
        old, self.cfg, self.settings = self.client, cfg, self.source.settings(cfg)
        self.client = client_for(self.settings, self.source.app(cfg))
        old.close()

    def close(self) -> None:
        self.running = False
        self.client.close()

    def poll_once(self) -> float:
        """Fetch and store one batch; return the seconds to wait before the next poll."""
        platform, subject = self.settings, self.source.subject
        started = self._started = self._clock.monotonic()
        try:
            cursor = self.store.meta.get(self.source.cursor_key)
            batch = self.client.fetch(cursor, platform.batch_size, platform.long_poll)
        except PlatformError as exc:
            self._keep_garbage(exc)
            self.health.failing(subject, exc.kind, exc.reason)
            return max(self._backoff(), exc.retry_after or 0.0)
        except StoreError as exc:
            self.health.failing("database", "database", f"cannot read the cursor: {exc}")
            return self._backoff()
        finally:
            self._started = None
        self.health.ok(subject)
        if not self.running:
            return 0
        try:
            if self._log_restarted(batch.epoch):
                return 0
        except _Flapping as exc:
            self.health.failing(f"{subject} log", "epoch_flapping", str(exc))
            return self._backoff()
        try:
            result = self._ingest()(batch, self._outputs(), self.source)
        except StoreError as exc:
            self.health.failing("database", "database", f"batch not stored, it will be fetched again: {exc}")
            return self._backoff()
        self._failures = 0
        self.health.ok("database")
        self._judge_data(len(batch.messages), len(result.quarantined))
        if result.new:
            self._on_news()
            logger.debug("stored %d new message(s), %d repeat(s) ignored, %d quarantined",
                         len(result.new), result.duplicates, len(result.quarantined))
        if batch.messages and batch.next == cursor:
            # Messages, and the same cursor again: asked at once, it would answer the same, forever.
            self.health.failing(f"{subject} log", "stuck", f"the platform answered {len(batch.messages)} message(s) and the same "
                                                      f"cursor {cursor!r} again: its 'next' does not move on")
            return platform.poll_interval
        if self._clock.monotonic() - self._last_flip > FLIP_WINDOW:
            self.health.ok(f"{subject} log")
        return self._next_delay(len(batch.messages), self._clock.monotonic() - started)

    def alive(self) -> bool:
        """False when a poll hangs past every timeout it was given: then systemd should restart us."""
        started, platform = self._started, self.settings
        return started is None or self._clock.monotonic() - started < platform.long_poll + platform.timeout * 2 + HANG_MARGIN

    def _next_delay(self, count: int, elapsed: float) -> float:
        platform = self.settings
        if count >= platform.batch_size:
            return 0  # more is waiting: drain it
        if platform.long_poll and (count or elapsed >= platform.long_poll / 2):
            return 0  # the platform held the poll open as asked: ask again at once
        return platform.poll_interval

    def _backoff(self) -> float:
        """Doubling pauses up to retry_max, each shortened by up to half at random (full jitter would allow 0)."""
        self._failures += 1
        platform = self.settings
        return min(platform.retry_max, platform.poll_interval * 2 ** min(self._failures - 1, 32)) * random.uniform(0.5, 1.0)

    def _log_restarted(self, epoch: str | None) -> bool:
        """True when the platform's log is a new one (its epoch changed): then start again from its beginning.

        The saved cursor points into the old log: kept, the device would ask past the new log's end and
        never hear of a message again. Read from the start, what is stored already is ignored as a repeat.
        An epoch seen within :data:`FLIP_WINDOW` coming back is not a restart but two replicas that disagree:
        raises :class:`_Flapping`, and neither is followed back and forth.
        """
        if epoch is None:
            return False
        known, now = self.store.meta.get(self.source.epoch_key), self._clock.monotonic()
        if known == epoch:
            self._epochs[epoch] = now
            return False
        if known is not None and now - self._epochs.get(epoch, -FLIP_WINDOW) < FLIP_WINDOW:
            self._last_flip = now
            raise _Flapping(f"the platform's log changes back and forth between epochs {epoch} and {known} (replicas that "
                            "disagree?): staying with the one in use and asking less often")
        self.store.meta.set(self.source.epoch_key, epoch)
        self._epochs[epoch] = now
        if known is None:
            return False
        self._epochs[known] = now
        self.store.meta.delete(self.source.cursor_key)
        logger.warning("the platform's message log restarted (epoch %s, was %s): reading it again from its start", epoch, known)
        self.health.notice(self.source.subject, "log_reset", f"the platform's log restarted (epoch {known} → {epoch}); reading it again from its start")
        return True

    def _judge_data(self, received: int, quarantined: int) -> None:
        """A platform that answers, but mostly with messages that cannot be used, is an outage of its own."""
        if received >= GARBAGE_MIN_BATCH and quarantined * 2 > received:
            self.health.failing(f"{self.source.subject} data", "garbage", f"{quarantined} of the {received} messages of the last poll "
                                                             "could not be used and were quarantined (speakerd messages --quarantined)")
        elif received and quarantined * 2 <= received:
            self.health.ok(f"{self.source.subject} data")

    def _keep_garbage(self, exc: PlatformError) -> None:
        body = getattr(exc, "body", None)
        if body is None:
            return
        try:
            with self.store.atomic():
                self.store.inbox.quarantine(body.decode("utf-8", "replace"), exc.reason)
        except StoreError as store_exc:
            logger.error("cannot keep the unreadable answer: %s", store_exc)
