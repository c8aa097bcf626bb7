"""The ``outages`` table: each lasting trouble, from its start to its recovery."""

from __future__ import annotations

from typing import Any

from speakerd.store.connection import Connection


class Outages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open(self, subject: str, kind: str, reason: str, started_at: str) -> int:
        with self._conn.atomic():
            cur = self._conn.execute(
                "insert into outages (subject, kind, reason, started_at, ended_at) values (?, ?, ?, ?, null)",
                [subject, kind, reason, started_at])
            return int(cur.lastrowid or 0)

    def close(self, outage_id: int, ended_at: str) -> None:
        with self._conn.atomic():
            self._conn.execute("update outages set ended_at = ? where id = ?", [ended_at, outage_id])

    def find(self, since: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
        """Outages still open or touching the time since ``since`` (ISO), oldest first."""
        return self._conn.query(
            "select * from outages where (? is null or started_at >= ? or ended_at is null or ended_at >= ?)"
            " and (not ? or ended_at is null) order by id",
            [since, since, since, open_only],
        )

    def overlapping(self, start: str, end: str) -> list[dict[str, Any]]:
        """Outages that overlap ``start``…``end`` (ISO), for reports."""
        return self._conn.query(
            "select subject, kind, started_at, ended_at from outages where started_at < ? and (ended_at is null or ended_at >= ?)",
            [end, start])
