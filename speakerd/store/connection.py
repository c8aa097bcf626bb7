"""The database connection: opening, one lock, transactions, and errors a person can act on."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from speakerd.clock import SYSTEM, Clock, iso
from speakerd.errors import SpeakerdError
from speakerd.store.migrations import migrations

BUSY_TIMEOUT = 3.0  # seconds a write waits for another program's lock before it fails as "locked"


class StoreError(SpeakerdError):
    """The database refused a write or read (disk full, locked, corrupt)."""


class Connection:
    """One connection, serialised by a lock: the daemon's threads are few and its writes small.

    Every part of the store shares it; only the store package runs SQL on it.
    """

    def __init__(self, path: str | Path, clock: Clock = SYSTEM) -> None:
        self.path = Path(path)
        self.clock = clock
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
            raise StoreError(explain(exc, self.path)) from exc
        with self.atomic():
            # Checked first so that a reader opening a current database writes nothing.
            if migrations.pending(self.db):
                migrations.apply(self.db)

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()

    @contextlib.contextmanager
    def atomic(self, write: bool = True) -> Iterator[Connection]:
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
                raise StoreError(explain(exc, self.path)) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement, inside a transaction the caller holds."""
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self.db.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, in a read transaction of their own."""
        with self.atomic(write=False):
            return list(self.db.query(sql, params))

    def now_iso(self) -> str:
        return self.clock.iso()


def received_before(cutoff: datetime, anchor: tuple[int, float] | None, table: str = "messages", op: str = "<") -> tuple[str, list[Any]]:
    """SQL (on ``messages``) for "received before ``cutoff``", in the clock of now.

    After a step of the wall clock by S seconds, the messages stored before it (rowid up to R: ``anchor``
    ``(R, S)``) carry times of the old clock: they count as received S seconds later. Otherwise a clock stepped
    forward a year made every waiting message look a year old: escalated through every step, then expired.
    """
    if anchor is None:
        return f"{table}.received_at {op} ?", [iso(cutoff)]
    rowid, step = anchor
    return (f"(({table}.rowid <= ? and {table}.received_at {op} ?) or ({table}.rowid > ? and {table}.received_at {op} ?))",
            [rowid, iso(cutoff - timedelta(seconds=step)), rowid, iso(cutoff)])


def storable(text: str | None) -> str | None:
    """Text SQLite can take: lone surrogates (valid in JSON escapes, not in UTF-8) become "?"."""
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def like_prefix(text: str) -> str:
    """A LIKE pattern (with ``escape '\\'``) matching what starts with ``text``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def explain(exc: BaseException, path: Path) -> str:
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
    if "malformed JSON" in text:
        # A row's data that SQLite's JSON functions refuse: that row's fault, not a damaged file.
        return f"a stored message's data is not valid JSON to the database ({text}); the database itself is fine"
    if "malformed" in text or "not a database" in text:
        return f"the database {path} is damaged: move it aside and restart to begin a new one"
    return f"database error on {path}: {text}"
