"""The people: business units, departments, staff, their weekly shifts, and the calendar the shifts follow.

A shift names its days the way an office plans them: ``workdays`` are the
days the Chinese State Council's calendar makes working days (Monday to Friday
except public holidays, plus the make-up Saturdays and Sundays), ``restdays``
the others; weekday names (``mon-fri``, ``sat,sun``) are plain weekdays that
no holiday moves.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass
from functools import lru_cache

from speakerd.config import zone
from speakerd.config.schema import Secret, setting
from speakerd.config.validators import CLOCK, WEEKDAYS, not_blank, push_urls

DAY_WORDS = ("workdays", "restdays", "daily")
MOBILE = re.compile(r"^\+?\d{6,15}$")


@lru_cache(maxsize=256)
def parse_days(text: str) -> tuple[frozenset[int], frozenset[str]]:
    """``(weekdays 0–6, calendar words)`` named by a shift's ``days``; raises ValueError with what it accepts."""
    weekdays: set[int] = set()
    words: set[str] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        first, _, last = item.partition("-")
        if item in DAY_WORDS:
            words.add(item)
        elif first in WEEKDAYS and (not last or last in WEEKDAYS):
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            weekdays.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        else:
            raise ValueError(f"{item or text!r} is not a day: use workdays (Chinese working days, holidays and make-up days"
                             " counted), restdays, daily, or weekdays such as mon-fri or sat,sun")
    return frozenset(weekdays), frozenset(words)


def _days(value: str) -> None:
    parse_days(value)


def _shift_hours(value: str) -> None:
    if not re.fullmatch(f"{CLOCK}-{CLOCK}", value.replace(" ", "")):
        raise ValueError(f"must be HH:MM-HH:MM, e.g. 09:00-18:00 (22:00-06:00 runs past midnight) (got {value!r})")


def _dates(values: tuple[str, ...]) -> None:
    for value in values:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"{value!r} is not a date as YYYY-MM-DD")


def dialable(mobile: str) -> str:
    """A mobile number as the chat robots take it for an @: its digits (and a leading +), without spaces or dashes."""
    return str(mobile).replace(" ", "").replace("-", "")


def _mobile(value: str) -> None:
    if value and not MOBILE.match(dialable(value)):
        raise ValueError("must be a mobile number of 6 to 15 digits, e.g. 13800138000 or +8613800138000")


@dataclass(frozen=True, kw_only=True)
class Shift:
    days: str = setting("workdays", "Days of this shift: workdays (Chinese working days: holidays off, make-up days on), restdays, daily, or weekdays such as mon-fri or sat,sun.", check=_days)
    hours: str = setting("09:00-18:00", "Time of day, HH:MM-HH:MM; a shift past midnight (22:00-06:00) belongs to the day it starts; the same start and end (00:00-00:00) is the whole day.", check=_shift_hours)
    staff: tuple[str, ...] = setting((), "Staff ids on duty in this shift; empty: the whole department.")


@dataclass(frozen=True, kw_only=True)
class Staff:
    id: str = setting(MISSING, "Staff number, e.g. \"003\"; spoken digit by digit.", check=not_blank)
    name: str = setting(MISSING, "Full name.", check=not_blank)
    on_duty: bool = setting(True, "Off (false) takes this person off duty whatever the rota says, until switched on again; on follows the department's rota.")
    lead: bool = setting(False, "Marks the department's lead.")
    mobile: Secret = setting(Secret(""), "Mobile number, for chat robots to @-mention this person in the group (DingTalk, WeCom); shown masked (138****8000).", check=_mobile)
    push: tuple[Secret, ...] = setting((), "Where this person's phone and PC are reached: apprise URLs, each told every message. A target may name its fallback: 'URL_A || URL_B' (B once A keeps failing). Kept secret.", check=push_urls)


@dataclass(frozen=True, kw_only=True)
class Department:
    name: str = setting(MISSING, "Name spoken and shown, e.g. 财务部.", check=not_blank)
    staff: tuple[Staff, ...] = setting((), "Members; messages rotate among those on duty.")
    rota: tuple[Shift, ...] = setting((), "Weekly shifts (docs/routing.md); a person is on duty while a shift naming them runs. Empty: everyone switched on is on duty at all hours.")
    push: tuple[Secret, ...] = setting((), "Group targets (a DingTalk or WeCom group robot, say) told of every message of this department, as apprise URLs. Kept secret.", check=push_urls)


@dataclass(frozen=True, kw_only=True)
class Subsystem:
    name: str = setting(MISSING, "Name of this business unit, e.g. 线上商城.", check=not_blank)
    departments: dict[str, Department] = setting(MISSING, "Departments of this unit, by id (ids are unique across units).")
    push: tuple[Secret, ...] = setting((), "Group targets told of every message of this unit's departments, as apprise URLs. Kept secret.", check=push_urls)


@dataclass(frozen=True, kw_only=True)
class CalendarConfig:
    holidays: tuple[str, ...] = setting((), "Extra days off (YYYY-MM-DD) that shifts on workdays skip, e.g. a company holiday, or the public holidays of a year the built-in calendar does not know yet.", check=_dates)
    workdays: tuple[str, ...] = setting((), "Extra working days (YYYY-MM-DD), e.g. make-up days of a year the built-in calendar does not know yet.", check=_dates)
    time_zone: str = setting("", "The shop's time zone as an IANA name (Asia/Shanghai): every page, report, sentence, push and shift uses it. Empty: the system's.", check=zone.check)
