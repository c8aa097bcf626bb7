"""The ``promises`` table: messages a hub sent to their speakers as covered, which the hub must then say itself.

Kept on disk, not in memory: the speaker counts a covered message as heard and says nothing, so a hub restarted
between promising and saying would otherwise leave the message to a speaker that was back by then, and it would
be said in no room.
"""

from __future__ import annotations

from speakerd.store.connection import Connection


class Promises:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def make(self, message_id: str) -> None:
        with self._conn.atomic():
            self._conn.execute("insert or ignore into promises (message_id, made_at) values (?, ?)", [message_id, self._conn.now_iso()])

    def made(self, message_id: str) -> bool:
        return bool(self._conn.query("select 1 as x from promises where message_id = ?", [message_id]))
