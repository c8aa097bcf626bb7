"""The daemon's repeated and planned work, timed on the monotonic clock: a step of the wall clock moves nothing.

APScheduler times its jobs by the wall clock. A Pi has no real-time clock and
NTP steps it at boot: a step back by a day left the tick, the follow-up and
the poll waiting a day while ``status`` said OK; a step forward by a year made
it list every missed run of the one-second tick (31 million) and froze the
daemon while memory grew to 1.8 GB. Here each job has a thread that waits on
an event with a timeout, which CPython times monotonically; a job that
overran is run once, late, never caught up. APScheduler keeps the jobs that
belong to the calendar (the digest at 09:00, the weekly analysis), which
:class:`speakerd.daemon.clock_watch.ClockWatch` re-plans after a step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    func: Callable[[], object]
    every: float | None  # None: once, planned again by whoever planned it
    due: float | None
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Every:
    """``repeat(name, seconds, func)`` and ``once(name, delay, func)``; ``stop()`` ends every thread."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def repeat(self, name: str, seconds: float, func: Callable[[], object], first: float = 0.0) -> None:
        """Run ``func`` every ``seconds`` (measured from the end of one run), the first time after ``first``."""
        self._plan(name, func, seconds, first)

    def once(self, name: str, delay: float, func: Callable[[], object]) -> None:
        """Run ``func`` once after ``delay``; planning ``name`` again replaces what was planned."""
        self._plan(name, func, None, delay)

    def now(self, name: str) -> None:
        """Bring the next run of ``name`` forward to now."""
        with self._lock:
            job = self._jobs.get(name)
            if job is not None and job.due is not None:
                job.due = self._monotonic()
                job.wake.set()

    def remove(self, name: str) -> None:
        with self._lock:
            job = self._jobs.pop(name, None)
        if job is not None:
            job.due = None
            job.wake.set()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.wake.set()

    def _plan(self, name: str, func: Callable[[], object], every: float | None, delay: float) -> None:
        if self._stopping.is_set():
            return
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                job = self._jobs[name] = _Job(func, every, None)
                job.thread = threading.Thread(target=self._run, args=(name, job), name=f"every-{name}", daemon=True)
                job.thread.start()
            job.func, job.every, job.due = func, every, self._monotonic() + max(0.0, delay)
        job.wake.set()

    def _run(self, name: str, job: _Job) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._jobs.get(name) is not job:
                    return
                due = job.due
            wait = None if due is None else due - self._monotonic()
            if wait is None or wait > 0:
                job.wake.wait(wait)
                job.wake.clear()
                continue
            with self._lock:
                func, job.due = job.func, None
            self._call(name, func)
            with self._lock:
                if job.every is not None and job.due is None:
                    job.due = self._monotonic() + job.every

    @staticmethod
    def _call(name: str, func: Callable[[], object]) -> None:
        try:
            func()
        except Exception:  # noqa: BLE001 - a job's bug must not end its thread
            logger.exception("%s failed; it runs again at its next time", name)
