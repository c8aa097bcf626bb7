"""Times as people type and read them: '30m', 'today', '7d', and local clock faces."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from speakerd.clock import iso


def parse_since(text: str | None, now: datetime | None = None) -> str | None:
    """'30m', '2h', '7d', 'today', or an ISO date/time → a stored-format time (None for None)."""
    if text is None:
        return None
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"(\d+)\s*([mhd])", text.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return iso(now - timedelta(**{unit: int(match.group(1))}))
    if text.strip() == "today":
        return iso(now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0))
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use 30m, 2h, 7d, today or 2026-11-21T09:00") from None
    return iso(when if when.tzinfo else when.astimezone())


def parse_day(text: str | None, now: datetime | None = None) -> str | None:
    """'2026-11-01', 'today', '7d' (seven days ago) → a local day 'YYYY-MM-DD', or None."""
    if text is None:
        return None
    text = text.strip()
    today = (now or datetime.now(timezone.utc)).astimezone()
    match = re.fullmatch(r"(\d+)d", text)
    if match:
        return (today - timedelta(days=int(match.group(1)))).strftime("%Y-%m-%d")
    if text == "today":
        return today.strftime("%Y-%m-%d")
    try:
        return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{text!r} is not a day: use 2026-11-01, today or 7d") from None


def local_time(stored: str) -> str:
    """'2026-11-23T12:56:16.228+00:00' → '11-23 20:56:16' in the device's time zone."""
    return datetime.fromisoformat(stored).astimezone().strftime("%m-%d %H:%M:%S")


def local_time_epoch(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%m-%d %H:%M:%S")
