"""Quiet hours: when the office is closed, only what cannot wait is spoken.

A span is ``HH:MM-HH:MM`` in local time and may run past midnight
(``20:00-08:30``). A category's own span wins over ``speech.quiet_hours``;
an empty one means the category is never held back.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.config import Category, SpeechConfig


def span_of(category: Category | None, speech: SpeechConfig) -> str:
    """The quiet span in force for ``category``: its own, else the speech section's ('' when none)."""
    own = category.quiet_hours if category is not None else None
    return (speech.quiet_hours if own is None else own).replace(" ", "")


def _minutes(clock):
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def is_quiet(span: str, when: datetime | None = None) -> bool:
    """Whether local time ``when`` (a datetime; now by default) falls within ``span``."""
    if not span:
        return False
    start, end = (_minutes(part) for part in span.split("-"))
    when = (when or datetime.now().astimezone()).astimezone()
    minute = when.hour * 60 + when.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def holds(category: Category | None, speech: SpeechConfig, when: datetime | None = None) -> bool:
    """Whether an announcement of ``category`` is held back now: quiet, and not critical."""
    if category is not None and category.priority == "critical":
        return False
    return is_quiet(span_of(category, speech), when)
