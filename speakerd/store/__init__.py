"""The device's memory: every message once, who got it, what each output did, and the cursor.

Everything the daemon learns is written here before it acts on it, in one
transaction per poll batch, so that a crash or a power cut at any point
resumes where it stopped: a batch is either stored with its cursor or not at
all (and fetched again), and an output's work is either marked done or done
again. SQLite runs in WAL mode with ``synchronous=NORMAL``: a power cut may
undo the last batch, but then it undoes its cursor too, so nothing is lost.

One part per concern, each the only writer of its tables or columns:

========================  ==================================================
``store.meta``            the cursor, heartbeat, snooze and secrets
``store.inbox``           messages, assignments, tallies, quarantine (ingest)
``store.outbox``          each output's work (dispatch)
``store.acks``            acknowledgements and waiting counts
``store.followup``        reminders, escalation steps, quiet-hours holds
``store.outages``         lasting troubles (health)
``store.push_log``        each recipient's push
``store.reports``         read-only queries for reports and lists
``store.housekeeping``    expiry and masking
``store.duty``            today's changes to who is on duty
``store.mutes``           mutes of a category or department, with their end
``store.handovers``       messages taken over or handed on
``store.promises``        messages a hub promised its speakers to say itself
========================  ==================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from speakerd.clock import SYSTEM, Clock
from speakerd.store.acks import ESCALATION_MARK, Acks
from speakerd.store.connection import Connection, StoreError
from speakerd.store.duty import DutyChanges, Mutes
from speakerd.store.followup import FollowUpState
from speakerd.store.handovers import Handovers
from speakerd.store.housekeeping import Housekeeping
from speakerd.store.inbox import Inbox
from speakerd.store.meta import Meta
from speakerd.store.migrations import migrations
from speakerd.store.outages import Outages
from speakerd.store.outbox import Job, Outbox, Owed, Waiting
from speakerd.store.promises import Promises
from speakerd.store.pushlog import PushLog
from speakerd.store.reports import Reports

__all__ = ["ESCALATION_MARK", "Job", "Owed", "Store", "StoreError", "migrations", "Waiting"]


class Store:
    """Opens (and migrates) the database at ``path``; its parts share one connection and ``clock``."""

    def __init__(self, path: str | Path, clock: Clock = SYSTEM) -> None:
        self._conn = Connection(path, clock)
        self.path = self._conn.path
        self.clock = clock
        self.db = self._conn.db  # sqlite-utils' view, for tests and tools that inspect; the daemon goes through the parts
        self.meta = Meta(self._conn)
        self.inbox = Inbox(self._conn)
        self.outbox = Outbox(self._conn)
        self.acks = Acks(self._conn)
        self.followup = FollowUpState(self._conn, self.meta)
        self.outages = Outages(self._conn)
        self.push_log = PushLog(self._conn)
        self.reports = Reports(self._conn)
        self.housekeeping = Housekeeping(self._conn)
        self.duty = DutyChanges(self._conn)
        self.mutes = Mutes(self._conn)
        self.handovers = Handovers(self._conn)
        self.promises = Promises(self._conn)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Safe to call twice."""
        self._conn.close()

    @contextmanager
    def atomic(self, write: bool = True) -> Iterator[Store]:
        """One transaction around several parts' writes (a poll batch, an escalation and its mark)."""
        with self._conn.atomic(write):
            yield self

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Read-only inspection (tests, benchmarks, an operator's shell): the daemon's own reads go through the parts."""
        return self._conn.query(sql, params)
