"""The poll as a job that plans its own next run: at once, after the poll interval, or after a backoff.

The poller says how long to wait (:meth:`~speakerd.intake.poller.Poller.poll_once`);
this job only keeps asking, whatever a poll raised, until the daemon stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.daemon.every import Every
    from speakerd.intake.poller import Poller

logger = logging.getLogger(__name__)

JOB_ID = "poll"


class PollJob:
    """``poller()`` is None on a speaker (the hub polls); ``running()`` is false once the daemon stops."""

    def __init__(self, every: Every, poller: Callable[[], Poller | None], running: Callable[[], bool],
                 interval: Callable[[], float]) -> None:
        self._every = every
        self._poller = poller
        self._running = running
        self._interval = interval

    def schedule(self, delay: float) -> None:
        """Poll once after ``delay`` seconds."""
        if not self._running():
            return
        self._every.once(JOB_ID, delay, self._run)

    def now(self) -> None:
        """Bring the planned poll forward to now (after a reload)."""
        self._every.now(JOB_ID)

    def _run(self) -> None:
        poller = self._poller()
        if poller is None:
            return  # a speaker: the hub polls
        delay = self._interval()
        try:
            delay = poller.poll_once() if self._running() else 0
        except Exception:  # noqa: BLE001 - the poll must go on whatever happened
            logger.exception("unexpected error while polling")
        finally:
            self.schedule(delay)
