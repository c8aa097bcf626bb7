"""The ``handovers`` table: a message taken over or handed on, which moves its assignment to another person."""

from __future__ import annotations

from typing import Any

from speakerd.store.connection import Connection

KINDS = ("take", "give")  # "我来处理": the new person took it; "转给…": it was given to them
COUNTS = ("took", "handed_on", "received")  # what the per-person report shows of them


def no_moves() -> dict[str, int]:
    """A person's counts when nothing was moved to or from them."""
    return dict.fromkeys(COUNTS, 0)


class Handovers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def assignment(self, message_id: str) -> dict[str, Any] | None:
        """The message's first assignment with its state: whom it is with now, and whether it is handled."""
        rows = self._conn.query("select m.id, m.content, m.category, m.acked_at, a.department, a.staff_id from messages m"
                                " join assignments a on a.message_id = m.id where m.id = ? order by a.rowid limit 1", [message_id])
        return rows[0] if rows else None

    def move(self, message_id: str, department: str, to_staff: str, kind: str, via: str) -> str | None:
        """Give the message's assignment in ``department`` to ``to_staff`` and record it; returns whom it was with."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        local = self._conn.clock.now().astimezone()
        with self._conn.atomic():
            row = self._conn.execute("select staff_id from assignments where message_id = ? and department = ?",
                                     [message_id, department]).fetchone()
            before = row[0] if row else None
            self._conn.execute("update assignments set staff_id = ? where message_id = ? and department = ?",
                               [to_staff, message_id, department])
            self._conn.execute("insert into handovers (message_id, department, from_staff, to_staff, kind, via, at, day)"
                               " values (?, ?, ?, ?, ?, ?, ?, ?)",
                               [message_id, department, before, to_staff, kind, via, self._conn.now_iso(), local.strftime("%Y-%m-%d")])
        return before

    def count(self, message_id: str) -> int:
        rows = self._conn.query("select count(*) as n from handovers where message_id = ?", [message_id])
        return int(rows[0]["n"])

    def per_person(self, first_day: str, last_day: str) -> dict[str, dict[str, int]]:
        """``{staff id: {took, handed_on, received}}`` over the local days, for the per-person report."""
        counts: dict[str, dict[str, int]] = {}
        rows = self._conn.query("select kind, from_staff, to_staff from handovers where day between ? and ?", [first_day, last_day])
        for row in rows:
            to = counts.setdefault(row["to_staff"], no_moves())
            if row["kind"] == "take":
                to["took"] += 1
            else:
                to["received"] += 1
                if row["from_staff"]:
                    counts.setdefault(row["from_staff"], no_moves())["handed_on"] += 1
        return counts
