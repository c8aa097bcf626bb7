"""The ``meta`` table: the platform cursor, the heartbeat, the snooze, the device's secrets, the last clock step."""

from __future__ import annotations

import json
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

    def clock_anchor(self) -> tuple[int, float] | None:
        """``(last rowid of messages before the step, seconds the wall clock stepped)`` of the last step, or None."""
        found = json.loads(self.get("clock_step") or "null")
        return (int(found["rowid"]), float(found["by"])) if found else None

    def note_clock_step(self, seconds: float) -> None:
        """The wall clock just stepped by ``seconds``: messages stored so far carry times of the old clock.

        Only the last step is kept; two with no message between them add up. (Messages between two steps are
        then counted with the second only: rare, and a minute's error, not a year's.)
        """
        with self._conn.atomic():
            last = self._conn.execute("select max(rowid) from messages").fetchone()[0] or 0
            earlier = self.clock_anchor()
            total = seconds + (earlier[1] if earlier and earlier[0] == last else 0.0)
            self.set("clock_step", json.dumps({"rowid": last, "by": total}))
