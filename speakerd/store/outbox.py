"""The ``outbox`` table: each output's work on each message, ``pending`` → ``sending`` → ``done``.

Only dispatch writes here (claim, finish, fail, postpone, and a burst's
take / finish_grouped / give_back): one owner for what each output did, so a
restart resumes every output where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from speakerd.store.connection import Connection


@dataclass(frozen=True)
class Job:
    """One output's work on one message for one department."""

    message_id: str
    department: str
    output: str
    attempts: int


@dataclass(frozen=True)
class Owed:
    """A job owed, with what a summary of it needs: its message's data and its customer's tier."""

    job: Job
    data: dict[str, Any]
    tier: str = ""
    received_at: str = ""


@dataclass(frozen=True)
class Waiting:
    """A job owed to an output, with what the speaking budget weighs: category, urgency, age, length, money."""

    job: Job
    category: str
    priority: int  # the index in config.PRIORITIES
    received_at: str
    chars: int  # of the message's content
    has_amount: bool


class Outbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def recover_interrupted(self) -> int:
        """Work that was under way when the process died is owed again; return how much."""
        with self._conn.atomic():
            cur = self._conn.execute("update outbox set state = 'pending', updated_at = ? where state = 'sending'", [self._conn.now_iso()])
            return cur.rowcount

    def claim(self, output: str) -> Job | None:
        """The most urgent job of ``output`` that is due, marked as under way; None when idle."""
        jobs = self.claim_many(output, 1)
        return jobs[0] if jobs else None

    def claim_many(self, output: str, limit: int) -> list[Job]:
        """Up to ``limit`` of the most urgent due jobs of ``output``, in order, all marked under way in one transaction.

        A crash before they are finished leaves them under way, and :meth:`recover_interrupted` makes them
        owed again at the next start: told again, never lost.
        """
        with self._conn.atomic():
            rows = self._conn.execute(
                "select message_id, department, attempts from outbox where output = ? and state in ('pending', 'failed')"
                " and next_attempt <= ? order by priority desc, rowid limit ?",
                [output, self._conn.clock.time(), limit],
            ).fetchall()
            jobs = [Job(r[0], r[1], output, r[2]) for r in rows]
            self._conn.executemany(
                "update outbox set state = 'sending', updated_at = ? where message_id = ? and department = ? and output = ?",
                [(self._conn.now_iso(), j.message_id, j.department, output) for j in jobs])
            return jobs

    def finish(self, job: Job) -> None:
        self._set_job(job, "state = 'done', attempts = attempts + 1, last_error = null")

    def finish_many(self, jobs: Sequence[Job], notes: Sequence[str | None] = ()) -> None:
        """Record ``jobs`` done, in one transaction; ``notes``, when given, say how each was done (skipped, and why)."""
        with self._conn.atomic():
            self._conn.executemany(
                "update outbox set state = 'done', attempts = attempts + 1, last_error = ?, updated_at = ?"
                " where message_id = ? and department = ? and output = ?",
                [(note, self._conn.now_iso(), j.message_id, j.department, j.output)
                 for j, note in zip(jobs, notes or [None] * len(jobs), strict=True)])

    def fail(self, job: Job, error: object, retry_at: float) -> None:
        self._set_job(job, "state = 'failed', attempts = attempts + 1, last_error = ?, next_attempt = ?", [str(error)[:500], retry_at])

    def postpone(self, job: Job, until: float) -> None:
        """Give a claimed job back, due at ``until`` (epoch seconds), without counting a failure."""
        self._set_job(job, "state = 'pending', next_attempt = ?", [until])

    def _set_job(self, job: Job, assignments: str, params: Sequence[Any] = ()) -> None:
        with self._conn.atomic():
            self._conn.execute(
                f"update outbox set {assignments}, updated_at = ? where message_id = ? and department = ? and output = ?",
                [*params, self._conn.now_iso(), job.message_id, job.department, job.output])

    def next_due(self, output: str) -> float | None:
        """When ``output`` next has work to retry (epoch seconds), or None."""
        rows = self._conn.query(
            "select min(next_attempt) as due from outbox where output = ? and state in ('pending', 'failed')", [output]
        )
        return rows[0]["due"]

    def retry_now(self, output: str) -> None:
        """Make every failed job of ``output`` due now, so a backlog flows in order once it works again."""
        with self._conn.atomic():
            self._conn.execute("update outbox set next_attempt = 0 where output = ? and state = 'failed'", [output])

    def state_of(self, message_id: str, department: str, output: str) -> tuple[str, str | None] | None:
        """``(state, note)`` of one job: pending, sending, failed or done, with its error or how it was done; None if none."""
        rows = self._conn.query("select state, last_error from outbox where message_id = ? and department = ? and output = ?",
                                [message_id, department, output])
        return (rows[0]["state"], rows[0]["last_error"]) if rows else None

    def notice_row(self, message_id: str, department: str) -> dict[str, Any] | None:
        """The message with its assignment to ``department``: what a notice is built from."""
        rows = self._conn.query(
            "select m.*, a.subsystem, a.department, a.staff_id from messages m join assignments a on a.message_id = m.id"
            " where m.id = ? and a.department = ?",
            [message_id, department],
        )
        return rows[0] if rows else None

    # --- bursts: many jobs told in one summary ---------------------------------

    def pending_of_category(self, output: str, category: str, received_before: str,
                            recipient: tuple[str, str | None] | None = None, under_way: bool = False) -> list[Owed]:
        """Jobs of ``output`` owed for messages of ``category`` received before ``received_before`` (ISO), with their data.

        ``recipient=(department, staff id)``: only the jobs assigned to that person in that department.
        ``under_way``: also the jobs claimed and not yet told, which for an output taking jobs in batches
        are the rest of its batch (its worker skips those a summary told).
        """
        department, staff_id = recipient or (None, None)
        states = "('pending', 'failed', 'sending')" if under_way else "('pending', 'failed')"
        rows = self._conn.query(
            "select o.message_id, o.department, o.attempts, m.data, m.user_tier, m.received_at from outbox o join messages m on m.id = o.message_id"
            " join assignments a on a.message_id = o.message_id and a.department = o.department"
            f" where o.output = ? and o.state in {states} and m.category = ? and m.received_at <= ?"
            " and (? = 0 or (o.department = ? and a.staff_id is ?))"
            " order by o.rowid", [output, category, received_before, recipient is not None, department, staff_id])
        return [Owed(Job(r["message_id"], r["department"], output, r["attempts"]), json.loads(r["data"] or "{}"), r["user_tier"] or "",
                     r["received_at"]) for r in rows]

    def waiting(self, output: str) -> list[Waiting]:
        """Every job owed to ``output`` and not under way (due or deferred), in the order they would be told."""
        rows = self._conn.query(
            "select o.message_id, o.department, o.attempts, o.priority, m.category, m.received_at, length(m.content) as chars,"
            " case when json_valid(m.data) then json_type(m.data, '$.amount') in ('integer', 'real') else 0 end as has_amount"
            " from outbox o join messages m on m.id = o.message_id"
            " where o.output = ? and o.state in ('pending', 'failed') order by o.priority desc, o.rowid", [output])
        return [Waiting(Job(r["message_id"], r["department"], output, r["attempts"]), r["category"], r["priority"], r["received_at"],
                        r["chars"], bool(r["has_amount"])) for r in rows]

    def summarised_in(self, leader: str, output: str) -> list[str]:
        """The messages ``output`` told within ``leader``'s summary: acknowledging the summary acknowledges them."""
        return [r["message_id"] for r in self._conn.query(
            "select message_id from outbox where output = ? and last_error = ?", [output, f"grouped into the summary with {leader}"])]

    def take(self, jobs: Sequence[Job]) -> None:
        """Mark ``jobs`` under way, as claim() does for one: a crash before finish_grouped() makes them owed again."""
        self._set_state(jobs, "sending")

    def finish_grouped(self, jobs: Sequence[Job], leader: str) -> None:
        """Record ``jobs`` as told within ``leader``'s summary."""
        with self._conn.atomic():
            self._conn.executemany(
                "update outbox set state = 'done', attempts = attempts + 1, last_error = ?, updated_at = ?"
                " where message_id = ? and department = ? and output = ?",
                [(f"grouped into the summary with {leader}", self._conn.now_iso(), j.message_id, j.department, j.output) for j in jobs])

    def give_back(self, jobs: Sequence[Job]) -> None:
        """Jobs taken for a summary that could not be told: owed again, as they were."""
        self._set_state(jobs, "pending")

    def _set_state(self, jobs: Sequence[Job], state: str) -> None:
        with self._conn.atomic():
            self._conn.executemany(
                "update outbox set state = ?, updated_at = ? where message_id = ? and department = ? and output = ?",
                [(state, self._conn.now_iso(), j.message_id, j.department, j.output) for j in jobs])
