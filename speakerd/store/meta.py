"""The ``meta`` table: the platform cursor, the heartbeat, the snooze and the device's secrets."""

from __future__ import annotations

from collections.abc import Callable

from speakerd.store.connection import Connection


class Meta:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, key: str, default: str | None = None) -> str | None:
        rows = self._conn.query("select value from meta where key = ?", [key])
        return rows[0]["value"] if rows else default

    def set(self, key: str, value: str) -> None:
        with self._conn.atomic():
            self._conn.execute("insert into meta (key, value) values (?, ?) on conflict do update set value = excluded.value", [key, value])

    def delete(self, key: str) -> None:
        with self._conn.atomic():
            self._conn.execute("delete from meta where key = ?", [key])

    def secret(self, key: str, make: Callable[[], str]) -> str:
        """A device secret kept in the database, made on first use."""
        with self._conn.atomic():
            value = self.get(key)
            if value is None:
                value = make()
                self.set(key, value)
            return value

    @property
    def cursor(self) -> str | None:
        """Where the next poll starts: the platform's ``next`` of the last stored batch."""
        return self.get("cursor")
