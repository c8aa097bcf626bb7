"""One clock for the whole device, passed in, so that tests move every decision at once.

Reminders, escalation, quiet hours, snooze, bursts, health and the stored
times all read the same :class:`Clock`; a test hands them a
:class:`FakeClock` and moves it through minutes and nights. Times are stored
as :func:`iso` text, UTC to the millisecond, so stored times compare as text.
"""

from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timedelta, timezone


def iso(moment: datetime) -> str:
    """How times are stored: UTC to the millisecond, so that stored times compare as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def iso_epoch(epoch: float) -> str:
    """:func:`iso` of epoch seconds."""
    return iso(datetime.fromtimestamp(epoch, timezone.utc))


class Clock:
    """Wall time (``now``, ``time``) and elapsed time (``monotonic``) from one object."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(timezone.utc)

    def time(self) -> float:
        """Epoch seconds."""
        return _time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps: for timeouts and idle times."""
        return _time.monotonic()

    def iso(self) -> str:
        """The current time as stored."""
        return iso(self.now())

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a real-time sound sink's pace); a FakeClock moves on instead."""
        _time.sleep(seconds)


class FakeClock(Clock):
    """A clock that moves only when told; ``monotonic`` moves with it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._at = (start or datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)).astimezone(timezone.utc)
        self._lock = threading.Lock()
        self._origin = self._at

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        return (self.now() - self._origin).total_seconds()

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware)."""
        with self._lock:
            self._at = moment.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        """Move on by ``timedelta(**delta)``."""
        with self._lock:
            self._at += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)

    def step(self, **delta: float) -> None:
        """The wall clock jumps by ``timedelta(**delta)`` (NTP, or set by hand); ``monotonic`` does not."""
        with self._lock:
            self._at += timedelta(**delta)
            self._origin += timedelta(**delta)


SYSTEM = Clock()
