"""Day-by-day changes to who is on duty, and mutes that end by themselves; both written from the page or the CLI."""

from __future__ import annotations

from typing import Any

from speakerd.rules.duty import Change, Changes
from speakerd.store.connection import Connection

MUTE_SCOPES = ("category", "department")


class DutyChanges:
    """``duty_changes``: one row per person and day; a new change for the same day replaces the old."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def set(self, day: str, staff_id: str, state: str, covers: str | None = None, by: str = "") -> None:
        with self._conn.atomic():
            self._conn.execute("insert or replace into duty_changes (day, staff_id, state, covers, made_at, made_by)"
                               " values (?, ?, ?, ?, ?, ?)", [day, staff_id, state, covers, self._conn.now_iso(), by])

    def clear(self, day: str, staff_id: str) -> bool:
        with self._conn.atomic():
            return self._conn.execute("delete from duty_changes where day = ? and staff_id = ?", [day, staff_id]).rowcount > 0

    def of_day(self, day: str) -> Changes:
        rows = self._conn.query("select staff_id, state, covers from duty_changes where day = ?", [day])
        return Changes({r["staff_id"]: Change(r["staff_id"], r["state"], r["covers"]) for r in rows})


class Mutes:
    """``mutes``: a category or a department kept silent until a moment (epoch seconds); past ones are ignored."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def mute(self, scope: str, target: str, until: float, by: str = "") -> None:
        if scope not in MUTE_SCOPES:
            raise ValueError(f"scope must be one of {MUTE_SCOPES}")
        with self._conn.atomic():
            self._conn.execute("insert or replace into mutes (scope, target, until, made_at, made_by) values (?, ?, ?, ?, ?)",
                               [scope, target, float(until), self._conn.now_iso(), by])

    def unmute(self, scope: str, target: str) -> bool:
        with self._conn.atomic():
            return self._conn.execute("delete from mutes where scope = ? and target = ?", [scope, target]).rowcount > 0

    def active(self, now: float) -> list[dict[str, Any]]:
        """The mutes still running at ``now``, soonest end first."""
        return self._conn.query("select scope, target, until, made_by from mutes where until > ? order by until", [now])

    def until(self, category: str, department: str, now: float) -> float:
        """When the later of the category's and the department's mutes ends; 0 when neither is muted."""
        rows = self._conn.query("select max(until) as until from mutes where until > ? and"
                                " ((scope = 'category' and target = ?) or (scope = 'department' and target = ?))",
                                [now, category, department])
        return float(rows[0]["until"] or 0)

    def shift(self, seconds: float) -> None:
        """The wall clock stepped by ``seconds``: every mute keeps the time it had left."""
        with self._conn.atomic():
            self._conn.execute("update mutes set until = until + ?", [seconds])
