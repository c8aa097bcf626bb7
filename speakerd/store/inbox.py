"""What arrives: messages, their assignments and tallies, quarantined bad input, and the cursor.

Written by ingest inside one transaction per poll batch (the caller holds
:meth:`~speakerd.store.Store.atomic`), so a batch is stored with its cursor
or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from speakerd.message.business import facts, is_vip
from speakerd.store.connection import Connection, storable
from speakerd.store.migrations import ADD_FACT

if TYPE_CHECKING:
    from speakerd.message import Message
    from speakerd.rules.route import Assignment

MAX_RAW = 8_000  # characters of a quarantined body kept for inspection
QUARANTINE_PER_DAY = 1_000  # bad messages kept per (UTC) day; beyond it they are only counted


class Inbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def stored_content(self, message_id: str) -> str | None:
        """The content kept for ``message_id``, or None when it is not stored (one lookup serves dedupe and the change check)."""
        row = self._conn.execute("select content from messages where id = ?", [message_id]).fetchone()
        return None if row is None else row[0]

    def first_with_key(self, content_key: str, received_since: str) -> str | None:
        """The first message stored since ``received_since`` (ISO) about the same thing (its content key), or None."""
        row = self._conn.execute(
            "select id from messages where content_key = ? and received_at >= ? and duplicate_of is null order by received_at limit 1",
            [content_key, received_since]).fetchone()
        return None if row is None else row[0]

    def add_message(self, message: Message, category: str, classified_by: str, priority: int,
                    content_key: str | None = None, duplicate_of: str | None = None) -> None:
        """Keep the message; ``duplicate_of`` names the earlier one it repeats (it then has no assignment and no outbox)."""
        # Plain SQL on the ingest path: sqlite-utils' insert() (a savepoint and query building per
        # row) took two thirds of ingest time.
        self._conn.execute(
            "insert into messages (id, received_at, created_at, type, app, user_id, user_name, user_tier, content, data,"
            " category, classified_by, priority, content_key, duplicate_of) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [message.id, self._conn.now_iso(), message.created_at, message.type, message.app, message.user.id, message.user.name,
             message.user.tier, message.content, json.dumps(message.data, ensure_ascii=False), category, classified_by, priority,
             content_key, duplicate_of],
        )

    def count_facts(self, message: Message) -> None:
        """Add the message's business figures (:mod:`speakerd.message.business`) to its local day's sums, and a paying
        customer to the day's customers."""
        found = facts(message)
        if not found:
            return
        day = self._conn.clock.now().astimezone().strftime("%Y-%m-%d")
        self._conn.executemany(ADD_FACT, [(day, *fact) for fact in found])
        if message.type == "order.paid" and message.user.id:
            self._conn.execute("insert into customer_days (day, user_id, vip) values (?, ?, ?)"
                               " on conflict do update set vip = max(vip, excluded.vip)",
                               [day, message.user.id, int(is_vip(message.user.tier))])

    def last_staff(self, department: str) -> str | None:
        """Who was given the department's last message: the rotation goes on from there."""
        row = self._conn.execute(
            "select staff_id from assignments where department = ? and staff_id is not null order by rowid desc limit 1",
            [department],
        ).fetchone()
        return row[0] if row else None

    def tally(self, message: Message, category: str, assignment: Assignment, first: bool) -> None:
        """Count one assignment (and, for the message's first, the message) in its local day and hour."""
        local = self._conn.clock.now().astimezone()
        key = [local.strftime("%Y-%m-%d"), local.hour, message.app, category, message.type,
               assignment.subsystem, assignment.department, assignment.staff_id or ""]
        self._conn.execute(
            "insert into tallies (day, hour, app, category, type, subsystem, department, staff_id,"
            " messages, assigned, acked_messages, acked_assigned) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0)"
            " on conflict do update set messages = messages + excluded.messages, assigned = assigned + 1",
            key + [1 if first else 0],
        )

    def add_assignment(self, message_id: str, assignment: Assignment, outputs: Iterable[str], priority: int) -> None:
        """Who must act, and one outbox row per output that must tell them."""
        at = self._conn.now_iso()
        self._conn.execute(
            "insert into assignments (message_id, department, subsystem, staff_id, assigned_at) values (?, ?, ?, ?, ?)",
            [message_id, assignment.department, assignment.subsystem, assignment.staff_id, at],
        )
        self._conn.executemany(
            "insert into outbox (message_id, department, output, priority, state, attempts, next_attempt, last_error, updated_at)"
            " values (?, ?, ?, ?, 'pending', 0, 0.0, null, ?)",
            [(message_id, assignment.department, output, priority, at) for output in outputs],
        )

    def quarantine(self, raw: Any, reason: str, platform_id: str | None = None) -> bool:
        """Keep a bad message aside once (a platform that resends it is not stored twice); True when new.

        At most QUARANTINE_PER_DAY are kept a day, each cut to MAX_RAW characters: a platform sending
        garbage must not fill the disk. What is not kept is counted (:meth:`quarantine_dropped`).
        """
        text = raw if isinstance(raw, str) else _as_text(raw)
        fingerprint = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        kept = text if len(text) <= MAX_RAW else text[:MAX_RAW] + f"… [{len(text) - MAX_RAW} more characters not kept]"
        day = self._conn.now_iso()[:10]
        if self._conn.execute("select count(*) from quarantine where received_at >= ?", [day]).fetchone()[0] >= QUARANTINE_PER_DAY:
            if self._conn.execute("select 1 from quarantine where fingerprint = ?", [fingerprint]).fetchone() is None:
                self._conn.execute("insert into meta (key, value) values ('quarantine_dropped', '1') on conflict do update"
                                   " set value = cast(value as integer) + 1")
            return False
        cur = self._conn.execute(
            "insert or ignore into quarantine (fingerprint, platform_id, reason, raw, received_at) values (?, ?, ?, ?, ?)",
            [fingerprint, storable(platform_id), storable(reason), storable(kept), self._conn.now_iso()],
        )
        return cur.rowcount == 1

    def quarantine_dropped(self) -> int:
        """Bad messages not kept because the day's quarantine was full, since the database began."""
        row = self._conn.execute("select value from meta where key = 'quarantine_dropped'").fetchone()
        return int(row[0]) if row else 0

    def set_cursor(self, cursor: str, key: str = "cursor") -> None:
        """``key``: the meta key of the source's cursor (``cursor`` for the platform's)."""
        self._conn.execute("insert into meta (key, value) values (?, ?) on conflict do update set value = excluded.value", [key, cursor])


def _as_text(raw: Any) -> str:
    """A bad message as JSON to keep; one nested too deeply for JSON is kept as a shortened repr."""
    try:
        return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=repr)
    except (RecursionError, ValueError, TypeError):
        import reprlib

        short = reprlib.Repr()
        short.maxlevel, short.maxstring, short.maxlist, short.maxdict, short.maxother = 12, 2000, 50, 50, 200
        return "(nested too deeply for JSON) " + short.repr(raw)
