"""The device's memory: every message once, who got it, what each output did, and the cursor.

Everything the daemon learns is written here before it acts on it, in one
transaction per poll batch, so that a crash or a power cut at any point
resumes where it stopped: a batch is either stored with its cursor or not at
all (and fetched again), and an output's work is either marked done or done
again. SQLite runs in WAL mode with ``synchronous=NORMAL``: a power cut may
undo the last batch, but then it undoes its cursor too, so nothing is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from speakerd.errors import SpeakerdError

logger = logging.getLogger(__name__)

migrations = Migrations("speakerd")
MAX_RAW = 100_000  # characters of a quarantined body kept for inspection
BUSY_TIMEOUT = 3.0  # seconds a write waits for another program's lock before it fails as "locked"


class StoreError(SpeakerdError):
    """The database refused a write or read (disk full, locked, corrupt)."""


@migrations()
def m001_initial(db):
    db["messages"].create(
        {
            "id": str, "received_at": str, "created_at": str, "type": str, "app": str,
            "user_id": str, "user_name": str, "user_tier": str, "content": str, "data": str,
            "category": str, "classified_by": str, "priority": int, "acked_at": str,
        },
        pk="id",
    )
    db["messages"].create_index(["received_at"])
    db["assignments"].create(
        {"message_id": str, "department": str, "subsystem": str, "staff_id": str, "assigned_at": str},
        pk=("message_id", "department"),
        foreign_keys=[("message_id", "messages", "id")],
    )
    db["assignments"].create_index(["department"])
    db["outbox"].create(
        {
            "message_id": str, "department": str, "output": str, "priority": int, "state": str,
            "attempts": int, "next_attempt": float, "last_error": str, "updated_at": str,
        },
        pk=("message_id", "department", "output"),
        foreign_keys=[("message_id", "messages", "id")],
    )
    db["outbox"].create_index(["output", "state", "next_attempt"])
    db["quarantine"].create(
        {"id": int, "fingerprint": str, "platform_id": str, "reason": str, "raw": str, "received_at": str},
        pk="id",
    )
    db["quarantine"].create_index(["fingerprint"], unique=True)
    db["meta"].create({"key": str, "value": str}, pk="key")


@migrations()
def m002_outages(db):
    db["outages"].create(
        {"id": int, "subject": str, "kind": str, "reason": str, "started_at": str, "ended_at": str},
        pk="id",
    )
    db["outages"].create_index(["started_at"])


@migrations()
def m003_push_log(db):
    db["push_log"].create(
        {
            "message_id": str, "department": str, "recipient": str, "target_index": int, "target": str,
            "state": str, "attempts": int, "fallbacks": int, "last_error": str, "updated_at": str, "sent_at": str,
        },
        pk=("message_id", "department", "recipient"),
    )


@migrations()
def m004_acknowledged_via(db):
    db["messages"].add_column("acked_via", str)


TALLY_KEY = ("day", "hour", "app", "category", "type", "subsystem", "department", "staff_id")


@migrations()
def m005_tallies(db):
    """Counts per local day and hour, kept at ingest and acknowledgement: reports read these, and they outlive expiry."""
    db["tallies"].create(
        {**{k: str for k in TALLY_KEY}, "hour": int, "messages": int, "assigned": int, "acked_messages": int, "acked_assigned": int},
        pk=TALLY_KEY,
    )
    db["tallies"].create_index(["department", "day"])
    db["tallies"].create_index(["staff_id", "day"])
    db["messages"].add_column("masked_at", str)
    db["messages"].create_index(["acked_at"])


@migrations()
def m006_ack_seconds(db):
    """Seconds to acknowledge per assignment, indexed, so percentiles are read by rank, not computed in Python."""
    db["assignments"].add_column("ack_seconds", float)
    db.execute(
        "update assignments set ack_seconds = (julianday(m.acked_at) - julianday(m.received_at)) * 86400"
        " from messages m where m.id = assignments.message_id and m.acked_at is not null"
    )
    # Covering: counting and walking by rank within a date range never leaves the index.
    db["assignments"].create_index(["department", "ack_seconds", "assigned_at"])
    db["assignments"].create_index(["staff_id", "ack_seconds", "assigned_at"])


@migrations()
def m007_followup(db):
    """Reminders and escalation steps taken per message, and announcements held back in quiet hours."""
    db["messages"].add_column("repeats", int, not_null_default=0)
    db["messages"].add_column("repeated_at", str)
    db["messages"].add_column("escalated", int, not_null_default=0)
    db["held"].create({"message_id": str, "category": str, "held_at": str}, pk="message_id")


def now():
    """The current time, in UTC; the one place tests replace to move the clock."""
    return datetime.now(timezone.utc)


def now_iso():
    return iso(now())


def iso(moment):
    """How times are stored: UTC to the millisecond, so that stored times compare as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Job:
    """One output's work on one message for one department."""

    message_id: str
    department: str
    output: str
    attempts: int


class Store:
    """One connection, serialised by a lock: the daemon's threads are few and its writes small."""

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; atomic() opens each one explicitly.
            # BUSY_TIMEOUT: long enough for another program's short write, short enough that the
            # daemon's threads (which share this connection) are not held up for long by a stuck one.
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None)
            self.db = Database(conn)
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(_explain(exc, self.path)) from exc
        with self.atomic():
            # Checked first so that a reader opening a current database writes nothing.
            if migrations.pending(self.db):
                migrations.apply(self.db)

    def close(self):
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()

    @contextlib.contextmanager
    def atomic(self, write=True):
        """A transaction; sqlite errors become :class:`StoreError` with a reason a person can act on.

        A write transaction takes the write lock at its start (BEGIN IMMEDIATE):
        one that read first and asked for the lock later would fail at once,
        without waiting, whenever another process had written in between.
        Nested calls become savepoints of the outer transaction.
        """
        with self._lock:
            conn = self.db.conn
            try:
                if conn.in_transaction:
                    with self.db.atomic():
                        yield self
                    return
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield self
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(_explain(exc, self.path)) from exc

    def query(self, sql, params=()):
        with self.atomic(write=False):
            return list(self.db.query(sql, params))

    # --- cursor and metadata -------------------------------------------------

    def get_meta(self, key, default=None):
        rows = self.query("select value from meta where key = ?", [key])
        return rows[0]["value"] if rows else default

    def set_meta(self, key, value):
        with self.atomic():
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    @property
    def cursor(self):
        return self.get_meta("cursor")

    # --- ingest (called inside atomic()) -------------------------------------

    def has_message(self, message_id):
        return self.db.execute("select 1 from messages where id = ?", [message_id]).fetchone() is not None

    def add_message(self, message, category, classified_by, priority):
        # Plain SQL on the ingest path: sqlite-utils' insert() (a savepoint and query building per
        # row) took two thirds of ingest time.
        self.db.execute(
            "insert into messages (id, received_at, created_at, type, app, user_id, user_name, user_tier, content, data,"
            " category, classified_by, priority) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [message.id, now_iso(), message.created_at, message.type, message.app, message.user.id, message.user.name,
             message.user.tier, message.content, json.dumps(message.data, ensure_ascii=False), category, classified_by, priority],
        )

    def last_staff(self, department):
        row = self.db.execute(
            "select staff_id from assignments where department = ? and staff_id is not null order by rowid desc limit 1",
            [department],
        ).fetchone()
        return row[0] if row else None

    def tally(self, message, category, assignment, first):
        """Count one assignment (and, for the message's first, the message) in its local day and hour."""
        local = now().astimezone()
        key = [local.strftime("%Y-%m-%d"), local.hour, message.app, category, message.type,
               assignment.subsystem, assignment.department, assignment.staff_id or ""]
        self.db.execute(
            "insert into tallies (day, hour, app, category, type, subsystem, department, staff_id,"
            " messages, assigned, acked_messages, acked_assigned) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0)"
            " on conflict do update set messages = messages + excluded.messages, assigned = assigned + 1",
            key + [1 if first else 0],
        )

    def add_assignment(self, message_id, assignment, outputs, priority):
        at = now_iso()
        self.db.execute(
            "insert into assignments (message_id, department, subsystem, staff_id, assigned_at) values (?, ?, ?, ?, ?)",
            [message_id, assignment.department, assignment.subsystem, assignment.staff_id, at],
        )
        self.db.conn.executemany(
            "insert into outbox (message_id, department, output, priority, state, attempts, next_attempt, last_error, updated_at)"
            " values (?, ?, ?, ?, 'pending', 0, 0.0, null, ?)",
            [(message_id, assignment.department, output, priority, at) for output in outputs],
        )

    def quarantine(self, raw, reason, platform_id=None):
        """Keep a bad message aside once (a platform that resends it is not stored twice)."""
        text = raw if isinstance(raw, str) else _as_text(raw)
        fingerprint = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        kept = text if len(text) <= MAX_RAW else text[:MAX_RAW] + f"… [{len(text) - MAX_RAW} more characters not kept]"
        cur = self.db.execute(
            "insert or ignore into quarantine (fingerprint, platform_id, reason, raw, received_at) values (?, ?, ?, ?, ?)",
            [fingerprint, _storable(platform_id), _storable(reason), _storable(kept), now_iso()],
        )
        return cur.rowcount == 1

    def set_cursor(self, cursor):
        self.db["meta"].upsert({"key": "cursor", "value": cursor}, pk="key")

    # --- outbox --------------------------------------------------------------

    def recover_interrupted(self):
        """Work that was under way when the process died is owed again; return how much."""
        with self.atomic():
            cur = self.db.execute("update outbox set state = 'pending', updated_at = ? where state = 'sending'", [now_iso()])
            return cur.rowcount

    def claim(self, output, now=None):
        """The most urgent job of ``output`` that is due, marked as under way; None when idle."""
        now = time.time() if now is None else now
        with self.atomic():
            row = self.db.execute(
                "select message_id, department, attempts from outbox where output = ? and state in ('pending', 'failed')"
                " and next_attempt <= ? order by priority desc, rowid limit 1",
                [output, now],
            ).fetchone()
            if row is None:
                return None
            self.db.execute(
                "update outbox set state = 'sending', updated_at = ? where message_id = ? and department = ? and output = ?",
                [now_iso(), row[0], row[1], output],
            )
            return Job(row[0], row[1], output, row[2])

    def finish(self, job):
        self._set_job(job, state="done", attempts=job.attempts + 1, last_error=None)

    def fail(self, job, error, retry_at):
        self._set_job(job, state="failed", attempts=job.attempts + 1, last_error=str(error)[:500], next_attempt=retry_at)

    def _set_job(self, job, **values):
        values["updated_at"] = now_iso()
        with self.atomic():
            self.db["outbox"].update((job.message_id, job.department, job.output), values)

    def next_due(self, output):
        """When ``output`` next has work to retry (epoch seconds), or None."""
        rows = self.query(
            "select min(next_attempt) as due from outbox where output = ? and state in ('pending', 'failed')", [output]
        )
        return rows[0]["due"]

    def notice_row(self, message_id, department):
        rows = self.query(
            "select m.*, a.subsystem, a.department, a.staff_id from messages m join assignments a on a.message_id = m.id"
            " where m.id = ? and a.department = ?",
            [message_id, department],
        )
        return rows[0] if rows else None

    # --- push ----------------------------------------------------------------

    def push_state(self, message_id, department, recipient):
        rows = self.query(
            "select * from push_log where message_id = ? and department = ? and recipient = ?",
            [message_id, department, recipient],
        )
        return rows[0] if rows else None

    def save_push(self, message_id, department, recipient, **values):
        """Record one recipient's push: written before the send ('sending') and after it."""
        values.update(message_id=message_id, department=department, recipient=recipient, updated_at=now_iso())
        with self.atomic():
            self.db["push_log"].upsert(values, pk=("message_id", "department", "recipient"))

    def retry_now(self, output):
        """Make every failed job of ``output`` due now, so a backlog flows in order once it works again."""
        with self.atomic():
            self.db.execute("update outbox set next_attempt = 0 where output = ? and state = 'failed'", [output])

    # --- acknowledgement -----------------------------------------------------

    def acknowledge(self, message_id, via):
        """Mark a message handled; return 'done', 'already' or 'unknown'.

        A message and its escalations are one matter: acknowledging either
        acknowledges both, whoever was told last.
        """
        with self.atomic():
            row = self.db.execute("select acked_at from messages where id = ?", [message_id]).fetchone()
            if row is None:
                return "unknown"
            if row[0]:
                return "already"
            self._ack_one(message_id, via)
            original = message_id.split(ESCALATION_MARK)[0]
            related = self.db.execute(
                "select id from messages where acked_at is null and (id = ? or id like ? escape '\\')",
                [original, _like_prefix(original + ESCALATION_MARK)]).fetchall()
            for (other,) in related:
                self._ack_one(other, via)
            return "done"

    def acknowledge_matching(self, field, value, via):
        """Acknowledge the waiting messages whose data ``field`` equals ``value``; return their ids."""
        with self.atomic():
            ids = [r[0] for r in self.db.execute(
                "select id from messages where acked_at is null and json_extract(data, '$.' || ?) = ?", [field, value])]
            return [i for i in ids if self.acknowledge(i, via) == "done"]

    def _ack_one(self, message_id, via):
        acked = now_iso()
        self.db.execute("update messages set acked_at = ?, acked_via = ? where id = ?", [acked, via, message_id])
        self.db.execute(
            "update assignments set ack_seconds = (julianday(?) - julianday(m.received_at)) * 86400"
            " from messages m where m.id = assignments.message_id and assignments.message_id = ?", [acked, message_id])
        self._tally_ack(message_id)

    def _tally_ack(self, message_id):
        """Count an acknowledgement in the tallies of the day and hour the message was received."""
        message = self.db.execute("select received_at, app, category, type from messages where id = ?", [message_id]).fetchone()
        local = datetime.fromisoformat(message[0]).astimezone()
        rows = self.db.execute("select subsystem, department, staff_id from assignments where message_id = ? order by rowid", [message_id]).fetchall()
        for i, (subsystem, department, staff_id) in enumerate(rows):
            self.db.execute(
                "update tallies set acked_messages = acked_messages + ?, acked_assigned = acked_assigned + 1"
                " where day = ? and hour = ? and app = ? and category = ? and type = ? and subsystem = ? and department = ? and staff_id = ?",
                [1 if i == 0 else 0, local.strftime("%Y-%m-%d"), local.hour, message[1], message[2], message[3], subsystem, department, staff_id or ""],
            )

    def acknowledge_all(self, via):
        """Mark every waiting message handled; return how many."""
        waiting = [r["id"] for r in self.query("select id from messages where acked_at is null")]
        return sum(self.acknowledge(message_id, via) == "done" for message_id in waiting)

    def waiting_count(self, category=None):
        """How many messages (of ``category``) wait to be acknowledged, escalations not counted twice."""
        return self.query(
            "select count(*) as n from messages where acked_at is null and (? is null or category = ?) and type not like 'speakerd.%'",
            [category, category])[0]["n"]

    def has_waiting(self):
        """Whether any message waits to be acknowledged: one index lookup, cheap enough for every second."""
        return bool(self.query("select 1 as x from messages where acked_at is null limit 1"))

    def waiting_by_department(self):
        """Unacknowledged messages per department id."""
        return {r["department"]: r["n"] for r in self.query(
            "select a.department, count(*) as n from messages m join assignments a on a.message_id = m.id"
            " where m.acked_at is null group by a.department")}

    # --- follow-up: reminders, escalation, quiet hours -------------------------

    def due_reminders(self, category, before, most):
        """Waiting messages of ``category`` last told before ``before`` (ISO) and reminded fewer than ``most`` times."""
        return [r["id"] for r in self.query(
            "select id from messages where acked_at is null and category = ? and repeats < ? and type not like 'speakerd.%'"
            " and coalesce(repeated_at, received_at) <= ?", [category, most, before])]

    def mark_reminded(self, ids):
        with self.atomic():
            at = now_iso()
            self.db.conn.executemany("update messages set repeats = repeats + 1, repeated_at = ? where id = ?", [(at, i) for i in ids])

    def due_escalations(self, category, step, before):
        """Waiting messages of ``category`` that arrived before ``before`` and have taken ``step`` escalation steps."""
        return self.query(
            "select m.id, m.content, a.department, a.staff_id from messages m join assignments a on a.message_id = m.id"
            " where m.acked_at is null and m.category = ? and m.escalated = ? and m.received_at <= ? and m.type not like 'speakerd.%'"
            " group by m.id", [category, step, before])

    def mark_escalated(self, message_id, step):
        self.db.execute("update messages set escalated = ? where id = ?", [step, message_id])

    def hold(self, message_id, category):
        """Remember an announcement kept back in quiet hours, for the summary when the office opens."""
        with self.atomic():
            self.db.execute("insert or ignore into held (message_id, category, held_at) values (?, ?, ?)", [message_id, category, now_iso()])

    def held(self):
        """``{category: count}`` of what quiet hours held back."""
        return {r["category"]: r["n"] for r in self.query("select category, count(*) as n from held group by category")}

    def release_held(self, categories):
        with self.atomic():
            for category in categories:
                self.db.execute("delete from held where category = ?", [category])

    # --- grouping (bursts) ---------------------------------------------------

    def pending_of_category(self, output, category, received_before):
        """Jobs of ``output`` owed for messages of ``category`` received before ``received_before`` (ISO)."""
        rows = self.query(
            "select o.message_id, o.department, o.attempts, m.data from outbox o join messages m on m.id = o.message_id"
            " where o.output = ? and o.state in ('pending', 'failed') and m.category = ? and m.received_at <= ?"
            " order by o.rowid", [output, category, received_before])
        return [(Job(r["message_id"], r["department"], output, r["attempts"]), json.loads(r["data"] or "{}")) for r in rows]

    def take(self, jobs):
        """Mark ``jobs`` under way, as claim() does for one: a crash before finish() makes them owed again."""
        self._set_state(jobs, "sending")

    def finish_grouped(self, jobs, leader):
        """Record ``jobs`` as told within ``leader``'s summary."""
        with self.atomic():
            self.db.conn.executemany(
                "update outbox set state = 'done', attempts = attempts + 1, last_error = ?, updated_at = ?"
                " where message_id = ? and department = ? and output = ?",
                [(f"grouped into the summary with {leader}", now_iso(), j.message_id, j.department, j.output) for j in jobs])

    def give_back(self, jobs):
        """Jobs taken for a summary that could not be told: owed again, as they were."""
        self._set_state(jobs, "pending")

    def _set_state(self, jobs, state):
        with self.atomic():
            self.db.conn.executemany(
                "update outbox set state = ?, updated_at = ? where message_id = ? and department = ? and output = ?",
                [(state, now_iso(), j.message_id, j.department, j.output) for j in jobs])

    def snoozed_until(self):
        """Epoch seconds until which speech is snoozed; 0 when it is not."""
        return float(self.get_meta("snoozed_until", 0) or 0)

    def snooze(self, until):
        self.set_meta("snoozed_until", repr(float(until)))

    def postpone(self, job, until):
        """Give a claimed job back, due at ``until`` (epoch seconds), without counting a failure."""
        with self.atomic():
            self.db["outbox"].update((job.message_id, job.department, job.output),
                                     {"state": "pending", "next_attempt": until, "updated_at": now_iso()})

    def secret(self, key, make):
        """A device secret kept in the database, made on first use."""
        with self.atomic():
            value = self.get_meta(key)
            if value is None:
                value = make()
                self.set_meta(key, value)
            return value

    # --- outages -------------------------------------------------------------

    def open_outage(self, subject, kind, reason, started_at):
        with self.atomic():
            return self.db["outages"].insert(
                {"subject": subject, "kind": kind, "reason": reason, "started_at": started_at, "ended_at": None}
            ).last_pk

    def close_outage(self, outage_id, ended_at):
        with self.atomic():
            self.db["outages"].update(outage_id, {"ended_at": ended_at})

    def outages(self, since=None, open_only=False):
        return self.query(
            "select * from outages where (? is null or started_at >= ? or ended_at is null or ended_at >= ?)"
            " and (not ? or ended_at is null) order by id",
            [since, since, since, open_only],
        )

    # --- reading -------------------------------------------------------------

    def messages(self, since=None, limit=100):
        """Newest first, each with its assignments and per-output states."""
        sql = (
            "select m.id, m.received_at, m.created_at, m.type, m.app, m.category, m.content, m.acked_at,"
            " a.department, a.staff_id,"
            " (select group_concat(o.output || ':' || o.state, ' ') from outbox o"
            "   where o.message_id = m.id and o.department = a.department) as outputs"
            " from messages m left join assignments a on a.message_id = m.id"
            " where (? is null or m.received_at >= ?) order by m.received_at desc, m.rowid desc limit ?"
        )
        return self.query(sql, [since, since, limit])

    def quarantined(self, since=None, limit=100):
        return self.query(
            "select id, received_at, platform_id, reason, substr(raw, 1, 200) as raw from quarantine"
            " where (? is null or received_at >= ?) order by id desc limit ?",
            [since, since, limit],
        )

    def counts(self):
        with self.atomic(write=False):
            return {t: self.db[t].count for t in ("messages", "assignments", "outbox", "quarantine")}


def _storable(text):
    """Text SQLite can take: lone surrogates (valid in JSON escapes, not in UTF-8) become "?"."""
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def _as_text(raw):
    """A bad message as JSON to keep; one nested too deeply for JSON is kept as a shortened repr."""
    try:
        return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=repr)
    except (RecursionError, ValueError, TypeError):
        import reprlib

        short = reprlib.Repr()
        short.maxlevel, short.maxstring, short.maxlist, short.maxdict, short.maxother = 12, 2000, 50, 50, 200
        return "(nested too deeply for JSON) " + short.repr(raw)


ESCALATION_MARK = "~esc"  # an escalation's id is the original's id, this mark and the step


def _like_prefix(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _explain(exc, path):
    text = str(exc)
    if "disk is full" in text or "No space" in text:
        return f"the disk holding {path} is full: free some space (messages wait on the platform meanwhile)"
    if "disk I/O error" in text:
        return (f"cannot write the database {path}: disk I/O error (the disk may be full or failing): "
                "free some space or check the SD card (messages wait on the platform meanwhile)")
    if "locked" in text:
        return f"the database {path} is locked by another program: stop it (e.g. an open sqlite3 shell)"
    if "readonly" in text or "Permission denied" in text or "unable to open" in text:
        return f"cannot write the database {path}: check that the directory exists and that speakerd may write to it"
    if "malformed" in text or "not a database" in text:
        return f"the database {path} is damaged: move it aside and restart to begin a new one"
    return f"database error on {path}: {text}"
