"""How long a mute lasts, as staff say it: 15m, 1h, 2h30m is not needed; "tomorrow" ends it at midnight.

A mute silences the speaker for one category or one department; the panel
and the pushes still carry every message, and critical ones are still said
(:func:`speakerd.delivery.attention.muted`). It ends by itself: the store
keeps its end, and the attention policy ignores a mute whose end has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from speakerd.config.schema import Seconds

LONGEST = 7 * 86400.0  # a week: a longer silence is a change of config, not a mute
CHOICES = ("15m", "30m", "1h", "2h", "4h", "tomorrow")  # what the page offers


def mute_end(text: str, now: datetime) -> float:
    """Epoch seconds at which a mute of ``text`` (30m, 1h, 90, tomorrow) begun at ``now`` ends; ValueError if unreadable."""
    if text.strip().lower() in ("tomorrow", "明天"):
        local = now.astimezone()
        return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).timestamp()
    seconds = Seconds.parse(text)
    if not 0 < seconds <= LONGEST:
        raise ValueError(f"a mute lasts from a minute to a week, e.g. 15m, 1h or tomorrow (got {text!r})")
    return now.timestamp() + seconds
