"""Forgetting: expired messages (with everything that points at them), old quarantine, masked numbers.

Each call is one short transaction over at most ``batch`` rows; the caller
(:mod:`speakerd.store.expiry`) decides what is old and paces the batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from speakerd.store.connection import Connection, received_before

REFERRING = ("outbox", "push_log", "assignments", "promises")  # tables whose rows name a message


class Housekeeping:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def delete_received_before(self, cutoff: datetime, categories: Sequence[str], include_unknown: bool, batch: int,
                               anchor: tuple[int, float] | None = None) -> int:
        """Delete up to ``batch`` messages of ``categories`` (and, if ``include_unknown``, of any other) older than ``cutoff``
        (after a clock step, ``anchor``: see :func:`~speakerd.store.connection.received_before`)."""
        marks = ",".join("?" * len(categories))
        arrived, times = received_before(cutoff, anchor)
        where = f"{arrived} and (category in ({marks})" + (f" or category not in ({marks}))" if include_unknown else ")")
        params = [*times, *categories] + (list(categories) if include_unknown else [])
        with self._conn.atomic():
            ids = [r[0] for r in self._conn.execute(f"select id from messages where {where} limit ?", params + [batch]).fetchall()]
            if ids:
                holes = ",".join("?" * len(ids))
                for table in REFERRING:
                    self._conn.execute(f"delete from {table} where message_id in ({holes})", ids)
                self._conn.execute(f"delete from messages where id in ({holes})", ids)
        return len(ids)

    def delete_quarantined_before(self, cutoff: str) -> int:
        with self._conn.atomic():
            return self._conn.execute("delete from quarantine where received_at < ?", [cutoff]).rowcount

    def mask_received_before(self, cutoff: str, batch: int, mask: Callable[[str, str], tuple[str, str]]) -> int:
        """Rewrite up to ``batch`` unmasked messages older than ``cutoff`` with ``mask(content, data) → (content, data)``."""
        with self._conn.atomic():
            rows = self._conn.execute(
                "select id, content, data from messages where masked_at is null and received_at < ? limit ?", [cutoff, batch]
            ).fetchall()
            at = self._conn.now_iso()
            for message_id, content, data in rows:
                new_content, new_data = mask(content, data or "{}")
                self._conn.execute("update messages set content = ?, data = ?, masked_at = ? where id = ?",
                                   [new_content, new_data, at, message_id])
        return len(rows)
