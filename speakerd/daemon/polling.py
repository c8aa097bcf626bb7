"""The poll as an APScheduler job that plans its own next run: at once, after the poll interval, or after a backoff.

The poller says how long to wait (:meth:`~speakerd.intake.poller.Poller.poll_once`);
this job only keeps asking, whatever a poll raised, until the daemon stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from speakerd.intake.poller import Poller

logger = logging.getLogger(__name__)

JOB_ID = "poll"


class PollJob:
    """``poller()`` is None on a speaker (the hub polls); ``running()`` is false once the daemon stops."""

    def __init__(self, scheduler: BaseScheduler, poller: Callable[[], Poller | None], running: Callable[[], bool],
                 interval: Callable[[], float]) -> None:
        self._scheduler = scheduler
        self._poller = poller
        self._running = running
        self._interval = interval

    def schedule(self, delay: float) -> None:
        """Poll once after ``delay`` seconds."""
        if not self._running():
            return
        # max_instances=2: the job plans its successor just before it returns, while
        # APScheduler still counts it as running; with 1 an immediate re-poll is skipped.
        self._scheduler.add_job(self._run, "date", run_date=datetime.now() + timedelta(seconds=delay),
                                id=JOB_ID, replace_existing=True, max_instances=2)

    def now(self) -> None:
        """Bring the planned poll forward to now (after a reload)."""
        job = self._scheduler.get_job(JOB_ID)
        if job is not None:
            job.modify(next_run_time=datetime.now(job.next_run_time.tzinfo) if job.next_run_time else None)

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
