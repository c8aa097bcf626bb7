"""Who is on duty at a given moment: the department's weekly rota, the Chinese calendar, today's changes.

Precedence, most specific first: a change for today ("off today", "covers for
003", made on the page or with ``speakerd duty``), then the person's own
switch (``on_duty: false`` keeps them off), then the rota; a department
without a rota has everyone switched on at all hours, as before shifts existed.

Working days come from the ``chinese-calendar`` package (public holidays and
the make-up days the State Council publishes each autumn), corrected by the
``calendar`` section. For a year the installed package does not know yet,
Monday to Friday are taken as working days and that is logged once, so a
device left un-updated over New Year still assigns, with a clear reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import chinese_calendar

from speakerd.config.people import parse_days

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.config.people import CalendarConfig, Department, Shift

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One person's change for one day: off, on, or covering a colleague's shifts (who is then off)."""

    staff_id: str
    state: str  # "off", "on" or "covers"
    covers: str | None = None


@dataclass(frozen=True)
class Changes:
    """Today's changes, by staff id."""

    by_staff: dict[str, Change] = field(default_factory=dict)

    def covered_by(self, staff_id: str) -> str | None:
        return next((c.staff_id for c in self.by_staff.values() if c.state == "covers" and c.covers == staff_id), None)


NO_CHANGES = Changes()
CHANGE_STATES = ("off", "on", "covers")


class WorkCalendar:
    """Whether a day is a working day in mainland China, with the config's own corrections."""

    def __init__(self, cfg: CalendarConfig) -> None:
        self._holidays = {date.fromisoformat(d) for d in cfg.holidays}
        self._workdays = {date.fromisoformat(d) for d in cfg.workdays}
        self._unknown_years: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self._workdays or day in self._holidays:
            return day in self._workdays
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._unknown_years:
                self._unknown_years.add(day.year)
                logger.warning("the holiday calendar has no data for %d: Monday to Friday count as working days until"
                               " speakerd is updated or the year's days are listed under calendar.holidays / calendar.workdays",
                               day.year)
            return day.weekday() < 5


def _runs_on(shift: Shift, day: date, calendar: WorkCalendar) -> bool:
    weekdays, words = parse_days(shift.days)
    if day.weekday() in weekdays or "daily" in words:
        return True
    if words & {"workdays", "restdays"}:
        working = calendar.is_workday(day)
        return ("workdays" in words and working) or ("restdays" in words and not working)
    return False


def _span(hours: str) -> tuple[time, time]:
    start, end = hours.replace(" ", "").split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def shift_covers(shift: Shift, now: datetime, calendar: WorkCalendar) -> bool:
    """Whether ``shift`` runs at local time ``now``; one past midnight counts for the day it started."""
    start, end = _span(shift.hours)
    clock, today = now.time(), now.date()
    if start == end:
        return _runs_on(shift, today, calendar)  # the whole day
    if start < end:
        return start <= clock < end and _runs_on(shift, today, calendar)
    return (clock >= start and _runs_on(shift, today, calendar)) or (clock < end and _runs_on(shift, today - timedelta(days=1), calendar))


class Duty:
    """Built per config; asked per assignment with the moment and today's changes."""

    def __init__(self, cfg: Config) -> None:
        self._departments = {dep_id: dep for dep_id, (_, dep) in cfg.departments().items()}
        self.calendar = WorkCalendar(cfg.calendar)

    def on_duty(self, department: str, now: datetime, changes: Changes = NO_CHANGES) -> list[str]:
        """Ids of the department's people on duty at local time ``now``, in the department's order."""
        dep = self._departments[department]
        running = [s for s in dep.rota if shift_covers(s, now, self.calendar)]
        return [p.id for p in dep.staff if self._is_on(dep, p.id, p.on_duty, running, changes)]

    def board(self, now: datetime, changes: Changes = NO_CHANGES) -> dict[str, list[str]]:
        """Every department's people on duty at ``now``: the dashboard's and ``speakerd duty``'s view."""
        return {dep_id: self.on_duty(dep_id, now, changes) for dep_id in self._departments}

    def check_change(self, staff_id: str, state: str, covers: str | None = None) -> str | None:
        """Why a day's change cannot be made (unknown person, a colleague of another department), or None."""
        home = {p.id: dep_id for dep_id, dep in self._departments.items() for p in dep.staff}
        if staff_id not in home:
            return f"no staff member {staff_id!r}; known: {', '.join(home) or 'none'}"
        if state not in CHANGE_STATES:
            return f"a change is one of {', '.join(CHANGE_STATES)}"
        if state == "covers" and (covers not in home or home[covers] != home[staff_id] or covers == staff_id):
            return f"{staff_id} can cover only for another member of department {home[staff_id]!r}"
        return None

    def _is_on(self, dep: Department, staff_id: str, switched_on: bool, running: list[Shift], changes: Changes) -> bool:
        change = changes.by_staff.get(staff_id)
        if change is not None and change.state in ("on", "off"):
            return change.state == "on"
        if changes.covered_by(staff_id):
            return False
        covering = change.covers if change is not None and change.state == "covers" else None
        if not (switched_on or covering):
            return False
        return not dep.rota or any(self._in_shift(s, staff_id) or (covering is not None and self._in_shift(s, covering)) for s in running)

    @staticmethod
    def _in_shift(shift: Shift, staff_id: str | None) -> bool:
        return not shift.staff or staff_id in shift.staff
