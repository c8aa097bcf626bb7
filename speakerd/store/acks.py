"""Acknowledgements and what still waits: ``messages.acked_*``, ``assignments.ack_seconds`` and the tallies' ack counts.

A message and its escalations are one matter: acknowledging either
acknowledges both, whoever was told last.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from speakerd.store.connection import Connection, like_prefix

ESCALATION_MARK = "~esc"  # an escalation's id is the original's id, this mark and the step
# A message the device made that restates others (an escalation, a digest): not waiting work of its own.
# The device's own messages carry app 'speakerd' (message.made_here); of those, only technical alerts are work.
RESTATES = "(m.app = 'speakerd' and m.type not like 'tech.%')"


class Acks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def acknowledge(self, message_id: str, via: str) -> str:
        """Mark a message handled; return 'done', 'already' or 'unknown'."""
        with self._conn.atomic():
            row = self._conn.execute("select acked_at from messages where id = ?", [message_id]).fetchone()
            if row is None:
                return "unknown"
            if row[0]:
                return "already"
            self._ack_one(message_id, via)
            original = message_id.split(ESCALATION_MARK)[0]
            related = self._conn.execute(
                "select id from messages where acked_at is null and (id = ? or id like ? escape '\\')",
                [original, like_prefix(original + ESCALATION_MARK)]).fetchall()
            for (other,) in related:
                self._ack_one(other, via)
            return "done"

    def acknowledge_matching(self, field: str, value: str | int | float, via: str, among: Callable[[str], bool] = lambda _: True) -> list[str]:
        """Acknowledge the waiting messages whose data ``field`` equals ``value`` (of those whose id is ``among``); return their ids."""
        with self._conn.atomic():
            ids = [r[0] for r in self._conn.execute(
                # json_valid first: one row stored before non-finite numbers were refused must not stop every ack.
                "select id from messages where acked_at is null"
                " and case when json_valid(data) then json_extract(data, '$.' || ?) end = ?", [field, value])]
            return [i for i in ids if among(i) and self.acknowledge(i, via) == "done"]

    def acknowledge_all(self, via: str) -> list[str]:
        """Mark every waiting message handled; return their ids."""
        waiting = [r["id"] for r in self._conn.query("select id from messages where acked_at is null")]
        return [message_id for message_id in waiting if self.acknowledge(message_id, via) == "done"]

    def _ack_one(self, message_id: str, via: str) -> None:
        acked = self._conn.now_iso()
        self._conn.execute("update messages set acked_at = ?, acked_via = ? where id = ?", [acked, via, message_id])
        self._conn.execute(
            "update assignments set ack_seconds = (julianday(?) - julianday(m.received_at)) * 86400"
            " from messages m where m.id = assignments.message_id and assignments.message_id = ?", [acked, message_id])
        self._tally_ack(message_id)

    def _tally_ack(self, message_id: str) -> None:
        """Count an acknowledgement in the tallies of the day and hour the message was received."""
        message = self._conn.execute("select received_at, app, category, type from messages where id = ?", [message_id]).fetchone()
        local = datetime.fromisoformat(message[0]).astimezone()
        rows = self._conn.execute(
            "select subsystem, department, staff_id from assignments where message_id = ? order by rowid", [message_id]).fetchall()
        for i, (subsystem, department, staff_id) in enumerate(rows):
            self._conn.execute(
                "update tallies set acked_messages = acked_messages + ?, acked_assigned = acked_assigned + 1"
                " where day = ? and hour = ? and app = ? and category = ? and type = ? and subsystem = ? and department = ? and staff_id = ?",
                [1 if i == 0 else 0, local.strftime("%Y-%m-%d"), local.hour, message[1], message[2], message[3],
                 subsystem, department, staff_id or ""],
            )

    def acknowledged_since(self, after: str) -> list[tuple[str, str]]:
        """``(id, acked_at)`` of the messages acknowledged after ``after`` (stored time), oldest first."""
        return [(r["id"], r["acked_at"]) for r in self._conn.query(
            "select id, acked_at from messages where acked_at > ? order by acked_at, rowid", [after])]

    def departments_of(self, message_id: str) -> list[str]:
        """The departments a message was assigned to (none for an unknown id)."""
        return [r["department"] for r in self._conn.query("select department from assignments where message_id = ?", [message_id])]

    def message(self, message_id: str) -> dict[str, Any] | None:
        """``{id, content, acked_at}`` of one message (what an acknowledge link shows), or None."""
        rows = self._conn.query("select id, content, acked_at from messages where id = ?", [message_id])
        return rows[0] if rows else None

    def waiting_count(self, category: str | None = None, departments: Collection[str] | None = None) -> int:
        """How many messages (of ``category``, of ``departments``) wait to be acknowledged, escalations not counted twice."""
        among = (" and exists (select 1 from assignments a where a.message_id = m.id and a.department in"
                 f" ({','.join('?' * len(departments))}))") if departments is not None else ""
        return self._conn.query(
            f"select count(*) as n from messages m where acked_at is null and (? is null or category = ?) and not {RESTATES}{among}",
            [category, category, *(departments or [])])[0]["n"]

    def has_waiting(self) -> bool:
        """Whether any message waits to be acknowledged: one index lookup, cheap enough for every second."""
        return bool(self._conn.query("select 1 as x from messages where acked_at is null limit 1"))

    def waiting_by_department(self, restated: bool = True) -> dict[str, int]:
        """Unacknowledged messages per department id; ``restated=False`` leaves out escalations and digests."""
        return {r["department"]: r["n"] for r in self._conn.query(
            "select a.department, count(*) as n from messages m join assignments a on a.message_id = m.id"
            f" where m.acked_at is null and (? or not {RESTATES}) group by a.department", [restated])}
