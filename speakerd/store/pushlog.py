"""The ``push_log`` table: each recipient's push, written before the send and after it."""

from __future__ import annotations

from typing import Any

from speakerd.store.connection import Connection


class PushLog:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def state(self, message_id: str, department: str, recipient: str) -> dict[str, Any] | None:
        rows = self._conn.query(
            "select * from push_log where message_id = ? and department = ? and recipient = ?",
            [message_id, department, recipient],
        )
        return rows[0] if rows else None

    def save(self, message_id: str, department: str, recipient: str, **values: Any) -> None:
        """Record one recipient's push: written before the send ('sending') and after it."""
        values.update(message_id=message_id, department=department, recipient=recipient, updated_at=self._conn.now_iso())
        with self._conn.atomic():
            self._conn.db.table("push_log").upsert(values, pk=("message_id", "department", "recipient"))

    def held_for(self, robot: str) -> list[dict[str, Any]]:
        """Pushes held back for ``robot`` (over its rate limit), oldest first."""
        return self._conn.query("select message_id, department, recipient, target_index, target, fallbacks from push_log"
                                " where robot = ? and state = 'held' order by updated_at", [robot])
