"""The shop's time zone, for the whole process: every page, report, sentence and push reads local time through it.

Python's datetime (``astimezone``, ``fromtimestamp``) and SQLite's ``localtime``
both ask the C library, which follows ``TZ``. Setting ``TZ`` once, when the
config is read, gives one clock everywhere: a device left on UTC (as Raspberry
Pi OS Lite images come) listed a flash sale the platform stamped 16:33+08:00 at
00:33 the next day, while its dashboard said 16:25.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT = "Asia/Shanghai"  # where the system says UTC: the shops this device is made for


def check(name: str) -> None:
    """A config check: empty (the system's zone) or a zone the system knows, as an IANA name such as Asia/Shanghai."""
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone this system knows; use an IANA name such as {DEFAULT}") from None


def apply(name: str) -> None:
    """Make ``name`` the process's local time zone; empty leaves the system's."""
    if name and os.environ.get("TZ") != name:
        os.environ["TZ"] = name
        time.tzset()


def system() -> str:
    """The system's zone as an IANA name ('' when it cannot be told)."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return str(Path("/etc/localtime").resolve()).split("/zoneinfo/", 1)[1]
    except (OSError, IndexError):
        return ""


def suggested(current: str = "") -> str:
    """The zone a set-up page offers first: the configured one, else the system's, unless that is UTC."""
    found = current or system()
    return found if found and found not in ("UTC", "Etc/UTC", "Universal", "Etc/Universal") else DEFAULT
