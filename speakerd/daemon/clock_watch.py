"""Noticing that the wall clock stepped, and keeping the calendar's work from acting on a step alone.

A Pi has no real-time clock: it boots with the time it last saved and NTP
steps it when the network comes, by hours or, after a long storage, by
months; someone may also set it by hand. The tick compares the wall clock
with the monotonic one; a jump of more than :data:`STEP` seconds is a step.
Then, once:

- it is logged, with its size;
- the snooze and the mutes keep the time they had left (their ends move with
  the clock), so a 30-minute mute never lasts a day;
- the messages stored so far are anchored to the old clock
  (``store.meta.note_clock_step``), so escalation and expiry count their age
  as it really is;
- the calendar's jobs (digest, analysis) are planned again from the new time;
- time-based chores (expiry, reminders, escalation, digest, analysis) wait
  :data:`HOLD` seconds, in case the clock steps again (a wrong time set by
  hand, then corrected).

At boot the same chores wait until the clock is synchronised, where the system
says so (systemd-timesyncd's ``/run/systemd/timesync/synchronized``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speakerd.store import Store

logger = logging.getLogger(__name__)

STEP = 30.0  # seconds of jump that make a step (NTP slews smaller differences without a jump)
HOLD = 600.0  # seconds the time-based chores wait after a step
TIMESYNC = Path("/run/systemd/timesync")


def synchronised(timesync: Path = TIMESYNC) -> bool:
    """Whether the system says its clock is synchronised; True where it has no way to say (no timesyncd)."""
    return not timesync.is_dir() or (timesync / "synchronized").exists()


class ClockWatch:
    """``check()`` at every tick; ``trusted()`` before any work that the calendar starts."""

    def __init__(self, store: Store, scheduler: Any, is_synchronised: Callable[[], bool] = synchronised) -> None:
        self._store = store
        self._scheduler = scheduler
        self._is_synchronised = is_synchronised
        self._offset = self._now_offset()
        self._hold_until = float("-inf")
        self._synchronised = False
        self._said_waiting = False

    def _now_offset(self) -> float:
        return self._store.clock.time() - self._store.clock.monotonic()

    def check(self) -> float | None:
        """The size of a step since the last check (re-anchored to it), or None."""
        offset = self._now_offset()
        step, self._offset = offset - self._offset, offset
        if abs(step) < STEP:
            return None
        logger.warning("the system clock stepped %s by %s (NTP at boot, or set by hand): durations, mutes and the snooze keep"
                       " their time; expiry, reminders, escalation and reports wait %d minutes", "forward" if step > 0 else "back",
                       _span(abs(step)), HOLD // 60)
        self._hold_until = self._store.clock.monotonic() + HOLD
        self._store.meta.note_clock_step(step)
        self._store.followup.shift_snooze(step)
        self._store.mutes.shift(step)
        for job in self._scheduler.get_jobs():
            job.reschedule(job.trigger)
        return step

    def trusted(self) -> bool:
        """Whether time-based chores may act now: the clock synchronised, and no step in the last HOLD seconds."""
        if not self._synchronised:
            self._synchronised = self._is_synchronised()
            if not self._synchronised:
                if not self._said_waiting:
                    logger.warning("the system clock is not synchronised yet: expiry, reminders, escalation and reports wait for it")
                    self._said_waiting = True
                return False
            if self._said_waiting:
                logger.info("the system clock is synchronised: time-based chores go on")
        return self._store.clock.monotonic() >= self._hold_until


def _span(seconds: float) -> str:
    seconds = round(seconds)  # wall and monotonic clocks are read a moment apart: a day's step measures 86,399.9 s
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds:.0f} seconds"

