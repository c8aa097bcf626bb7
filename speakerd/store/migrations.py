"""The schema, as versioned migrations: each runs once, in the transaction that records it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from sqlite_utils import Database

migrations = Migrations("speakerd")
TALLY_KEY = ("day", "hour", "app", "category", "type", "subsystem", "department", "staff_id")
# A business fact (speakerd.message.business) added to its day's sums: at ingest, and when filling the table from old messages.
ADD_FACT = ("insert into facts (day, family, metric, key, n, total) values (?, ?, ?, ?, ?, ?)"
            " on conflict do update set n = n + excluded.n, total = total + excluded.total")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("messages").create(
        {
            "id": str, "received_at": str, "created_at": str, "type": str, "app": str,
            "user_id": str, "user_name": str, "user_tier": str, "content": str, "data": str,
            "category": str, "classified_by": str, "priority": int, "acked_at": str,
        },
        pk="id",
    )
    db.table("messages").create_index(["received_at"])
    db.table("assignments").create(
        {"message_id": str, "department": str, "subsystem": str, "staff_id": str, "assigned_at": str},
        pk=("message_id", "department"),
        foreign_keys=[("message_id", "messages", "id")],
    )
    db.table("assignments").create_index(["department"])
    db.table("outbox").create(
        {
            "message_id": str, "department": str, "output": str, "priority": int, "state": str,
            "attempts": int, "next_attempt": float, "last_error": str, "updated_at": str,
        },
        pk=("message_id", "department", "output"),
        foreign_keys=[("message_id", "messages", "id")],
    )
    db.table("outbox").create_index(["output", "state", "next_attempt"])
    db.table("quarantine").create(
        {"id": int, "fingerprint": str, "platform_id": str, "reason": str, "raw": str, "received_at": str},
        pk="id",
    )
    db.table("quarantine").create_index(["fingerprint"], unique=True)
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_outages(db: Database) -> None:
    db.table("outages").create(
        {"id": int, "subject": str, "kind": str, "reason": str, "started_at": str, "ended_at": str},
        pk="id",
    )
    db.table("outages").create_index(["started_at"])


@migrations()
def m003_push_log(db: Database) -> None:
    db.table("push_log").create(
        {
            "message_id": str, "department": str, "recipient": str, "target_index": int, "target": str,
            "state": str, "attempts": int, "fallbacks": int, "last_error": str, "updated_at": str, "sent_at": str,
        },
        pk=("message_id", "department", "recipient"),
    )


@migrations()
def m004_acknowledged_via(db: Database) -> None:
    db.table("messages").add_column("acked_via", str)


@migrations()
def m005_tallies(db: Database) -> None:
    """Counts per local day and hour, kept at ingest and acknowledgement: reports read these, and they outlive expiry."""
    db.table("tallies").create(
        {**{k: str for k in TALLY_KEY}, "hour": int, "messages": int, "assigned": int, "acked_messages": int, "acked_assigned": int},
        pk=TALLY_KEY,
    )
    db.table("tallies").create_index(["department", "day"])
    db.table("tallies").create_index(["staff_id", "day"])
    db.table("messages").add_column("masked_at", str)
    db.table("messages").create_index(["acked_at"])


@migrations()
def m006_ack_seconds(db: Database) -> None:
    """Seconds to acknowledge per assignment, indexed, so percentiles are read by rank, not computed in Python."""
    db.table("assignments").add_column("ack_seconds", float)
    db.execute(
        "update assignments set ack_seconds = (julianday(m.acked_at) - julianday(m.received_at)) * 86400"
        " from messages m where m.id = assignments.message_id and m.acked_at is not null"
    )
    # Covering: counting and walking by rank within a date range never leaves the index.
    db.table("assignments").create_index(["department", "ack_seconds", "assigned_at"])
    db.table("assignments").create_index(["staff_id", "ack_seconds", "assigned_at"])


@migrations()
def m007_followup(db: Database) -> None:
    """Reminders and escalation steps taken per message, and announcements held back in quiet hours."""
    db.table("messages").add_column("repeats", int, not_null_default=0)
    db.table("messages").add_column("repeated_at", str)
    db.table("messages").add_column("escalated", int, not_null_default=0)
    db.table("held").create({"message_id": str, "category": str, "held_at": str}, pk="message_id")


@migrations()
def m008_quarantine_by_day(db: Database) -> None:
    """The quarantine's daily cap counts today's rows: by index, not by scanning every bad message kept."""
    db.table("quarantine").create_index(["received_at"])


@migrations()
def m009_facts(db: Database) -> None:
    """Business figures per local day (speakerd.message.business): the operations reports' sums, kept like the tallies.

    Filled from the messages already stored, so a device updated mid-year reports on what it has.
    """
    from speakerd.message import Message, parse
    from speakerd.message.business import EXTRACTORS, facts

    db.table("facts").create({"day": str, "family": str, "metric": str, "key": str, "n": int, "total": float},
                             pk=("day", "family", "metric", "key"))
    db.table("facts").create_index(["family", "day"])
    rows = db.execute("select id, type, app, content, data, user_id, user_name, user_tier, received_at from messages"
                      f" where type in ({', '.join('?' * len(EXTRACTORS))})", list(EXTRACTORS))
    for id_, type_, app, content, data, user_id, user_name, user_tier, received_at in rows.fetchall():
        message = parse({"id": id_, "type": type_, "app": app, "content": content, "data": json.loads(data or "{}"),
                         "user": {"id": user_id, "name": user_name, "tier": user_tier}}, max_content=10**7, own=True)
        if isinstance(message, Message):
            day = datetime.fromisoformat(received_at).astimezone().strftime("%Y-%m-%d")
            for fact in facts(message):
                db.execute(ADD_FACT, [day, *fact])


@migrations()
def m010_customer_days(db: Database) -> None:
    """Who paid on each local day, and whether as VIP: distinct paying customers over any range, from a small table.

    Counting them from the messages took a quarter of a second on a year of a busy shop, and stopped at
    expiry. Filled from the paid orders already stored; the messages index that served the old way goes.
    """
    db.table("customer_days").create({"day": str, "user_id": str, "vip": int}, pk=("day", "user_id"))
    db.execute("insert or ignore into customer_days (day, user_id, vip)"
               " select date(received_at, 'localtime'), user_id, max(lower(user_tier) = 'vip') from messages"
               " where type = 'order.paid' and user_id != '' group by 1, 2")
    db.execute("drop index if exists idx_messages_type_received_at_user_id_user_tier")


@migrations()
def m011_content_keys(db: Database) -> None:
    """What a message is about (speakerd.rules.identity), to find one resent under a new id, and which it repeats.

    Messages stored before have no key: a resend of one of them is told once more, as before.
    """
    db.execute("alter table messages add column content_key text")
    db.execute("alter table messages add column duplicate_of text")
    db.execute("create index idx_messages_content_key on messages (content_key, received_at) where content_key is not null")


@migrations()
def m012_duty_and_mutes(db: Database) -> None:
    """Today's changes to who is on duty (off, on, covers for), and mutes of a category or department with their end."""
    db.table("duty_changes").create({"day": str, "staff_id": str, "state": str, "covers": str, "made_at": str, "made_by": str},
                                    pk=("day", "staff_id"))
    db.table("mutes").create({"scope": str, "target": str, "until": float, "made_at": str, "made_by": str}, pk=("scope", "target"))


@migrations()
def m013_push_held_for_robot(db: Database) -> None:
    """Pushes held back while a chat robot is at its rate limit, by robot: they go together in its next message."""
    db.execute("alter table push_log add column robot text")
    db.execute("create index idx_push_log_held on push_log (robot) where state = 'held'")


@migrations()
def m014_handovers(db: Database) -> None:
    """Messages taken over ("我来处理") or handed on ("转给…"), for the record and the per-person reports."""
    db.table("handovers").create({"message_id": str, "department": str, "from_staff": str, "to_staff": str, "kind": str,
                                  "via": str, "at": str, "day": str})
    db.table("handovers").create_index(["day"])


@migrations()
def m015_promises(db: Database) -> None:
    """Messages a hub sent as covered and must say itself (:mod:`speakerd.store.promises`): they outlive a restart."""
    db.table("promises").create({"message_id": str, "made_at": str}, pk="message_id")
