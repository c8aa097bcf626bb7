"""Follow-up state: reminders and escalation steps taken per message, quiet-hours holds, and the snooze."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from speakerd.store.acks import RESTATES
from speakerd.store.connection import Connection, received_before
from speakerd.store.meta import Meta


class FollowUpState:
    def __init__(self, conn: Connection, meta: Meta) -> None:
        self._conn = conn
        self._meta = meta

    def due_reminders(self, category: str, before: str, most: int) -> list[str]:
        """Waiting messages of ``category`` last told before ``before`` (ISO) and reminded fewer than ``most`` times."""
        return [r["id"] for r in self._conn.query(
            f"select id from messages m where acked_at is null and category = ? and repeats < ? and not {RESTATES}"
            " and coalesce(repeated_at, received_at) <= ?", [category, most, before])]

    def mark_reminded(self, ids: Iterable[str]) -> None:
        with self._conn.atomic():
            at = self._conn.now_iso()
            self._conn.executemany("update messages set repeats = repeats + 1, repeated_at = ? where id = ?", [(at, i) for i in ids])

    def due_escalations(self, category: str, step: int, before: datetime) -> list[dict[str, Any]]:
        """Waiting messages of ``category`` that arrived before ``before`` (in the clock of now) and have taken ``step`` steps."""
        arrived, params = received_before(before, self._meta.clock_anchor(), "m", "<=")
        return self._conn.query(
            "select m.id, m.content, a.department, a.staff_id from messages m join assignments a on a.message_id = m.id"
            f" where m.acked_at is null and m.category = ? and m.escalated = ? and {arrived} and not {RESTATES}"
            " group by m.id", [category, step, *params])

    def mark_escalated(self, message_id: str, step: int) -> None:
        with self._conn.atomic():
            self._conn.execute("update messages set escalated = ? where id = ?", [step, message_id])

    def hold(self, message_id: str, category: str) -> None:
        """Remember an announcement kept back in quiet hours, for the summary when the office opens."""
        with self._conn.atomic():
            self._conn.execute("insert or ignore into held (message_id, category, held_at) values (?, ?, ?)",
                               [message_id, category, self._conn.now_iso()])

    def held(self) -> dict[str, int]:
        """``{category: count}`` of what quiet hours held back."""
        return {r["category"]: r["n"] for r in self._conn.query("select category, count(*) as n from held group by category")}

    def release_held(self, categories: Iterable[str]) -> None:
        with self._conn.atomic():
            for category in categories:
                self._conn.execute("delete from held where category = ?", [category])

    def snoozed_until(self) -> float:
        """Epoch seconds until which speech is snoozed; 0 when it is not."""
        return float(self._meta.get("snoozed_until", "0") or 0)

    def snooze(self, until: float) -> None:
        self._meta.set("snoozed_until", repr(float(until)))

    def shift_snooze(self, seconds: float) -> None:
        """The wall clock stepped by ``seconds``: a running snooze keeps the time it had left."""
        until = self.snoozed_until()
        if until:
            self.snooze(until + seconds)
