"""Hands outbox work to each output on its own thread, so a slow output never holds up another.

Each output has one worker. It takes the most urgent due job from the store,
marks it under way, asks the attention policy whether and how to tell it,
delivers it and marks it done; on OutputError it records the failure and
retries with a growing pause. Because the state lives in the store, a job
cut off by a crash is simply owed again after restart. The worker is the
only writer of the outbox: outputs deliver and nothing else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd.delivery.attention import Action, Attention, Decision
from speakerd.errors import NotYet, OutputError
from speakerd.outputs.interface import Notice, Output, notice_from_row
from speakerd.store import Job, Store, StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health

logger = logging.getLogger(__name__)

NOT_TOLD = "not told: "  # a skipped job's note: what it was not told for (snoozed, its speaker online, …)

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
IDLE_WAIT = 5.0


def retry_delay(attempts: int) -> float:
    """2, 4, 8 … seconds, capped: the pause after the ``attempts``-th failure."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, attempts - 1))


class OutputWorker:
    """One output's thread: claim, decide, deliver, record."""

    def __init__(self, output: Output, store: Store, config_source: Callable[[], Config], health: Health | None = None,
                 attention: Attention | None = None) -> None:
        self.output = output
        self.store = store
        self._config = config_source  # callable returning the current Config
        self._health = health
        self._attention = attention or Attention(store, config_source)
        self._clock = store.clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing = False
        self._done: list[tuple[Job, str | None]] = []  # done within the batch under way (and how), recorded together at its end
        self._in_batch = False
        self._told_in_summary: set[tuple[str, str]] = set()
        self._thread = threading.Thread(target=self._run, name=f"output-{output.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping()
        self._thread.join(timeout)

    def stopping(self) -> None:
        """Take no new job; the one under way finishes (or its output, closed meanwhile, gives it up to be done again)."""
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        store_failing = False
        while not self._stop.is_set():
            try:
                worked = self._step()
                if not worked:
                    self._wait()
                if store_failing:
                    logger.info("%s: reading its work from the store again", self.output.name)
                    store_failing = False
            except StoreError as exc:
                # Said once per spell (health raises the alert); then a calm retry, not a busy loop.
                if not store_failing:
                    logger.error("%s: cannot read its work from the store (retrying every %g s): %s", self.output.name, IDLE_WAIT, exc)
                    store_failing = True
                self._wake.wait(IDLE_WAIT)
                self._wake.clear()

    def _wait(self) -> None:
        due = self.store.outbox.next_due(self.output.name) if not self._stop.is_set() else None
        pause = IDLE_WAIT if due is None else min(IDLE_WAIT, max(0.05, due - self._clock.time()))
        self._wake.wait(pause)
        self._wake.clear()

    def _step(self) -> bool:
        """One batch of due jobs: claimed in one transaction, told in order, recorded together.

        Speech takes one job at a time (``batch_size`` 1): an announcement heard must be recorded before
        the next, so a crash never repeats one. Outputs whose repeat is harmless or guarded take more.
        """
        jobs = self.store.outbox.claim_many(self.output.name, max(1, getattr(self.output, "batch_size", 1)))
        if not jobs:
            return False
        begun = 0  # jobs handed to handle(); the rest were claimed but not begun
        self._in_batch, self._told_in_summary = True, set()
        try:
            for job in jobs:
                if self._stop.is_set():
                    break
                begun += 1
                if (job.message_id, job.department) not in self._told_in_summary:
                    self.handle(job)
        finally:
            self._in_batch = False
            try:
                self._flush()
            finally:
                if begun < len(jobs):
                    # Stopping, or the store failed on one: the jobs not begun are owed as they were.
                    # (The one it failed on stays under way until the next start, as a single job always did.)
                    self.store.outbox.give_back(jobs[begun:])
        return True

    def _flush(self) -> None:
        done, self._done = self._done, []
        if done:
            self.store.outbox.finish_many([job for job, _ in done], [note for _, note in done])

    def handle(self, job: Job) -> None:
        """Tell one claimed job as the attention policy decides, and record the outcome; raises only StoreError."""
        row = self.store.outbox.notice_row(job.message_id, job.department)
        if row is None:  # expiry removes a message with its outbox rows: only a hand-edited database gets here
            logger.error("%s: message %s is gone from the database; nothing to deliver", self.output.name, job.message_id)
            self.store.outbox.finish(job)
            return
        try:
            notice = notice_from_row(row, self._config())
            self._until_ready(notice)
            delivered = self._carry_out(job, notice, self._attention.decide(self.output.name, notice))
        except NotYet as held:
            self.store.outbox.postpone(job, held.until)
            return
        except Exception as exc:  # noqa: BLE001 - an output's bug must not kill its worker
            self._failed(job, exc)
            return
        if self._failing and delivered:  # only a real delivery proves a failing output works again
            logger.info("%s: delivering again", self.output.name)
            self._failing = False
            self.store.outbox.retry_now(self.output.name)  # the backlog flows now, in order
            if self._health:
                self._health.ok(f"output:{self.output.name}")

    def _until_ready(self, notice: Notice) -> None:
        """Wait until a paced output (speech in a run) would start the notice, so the policy decides with what came
        meanwhile: a message that arrives during the breath between two announcements is told in the next. Only for
        a notice the output would tell: one skipped (its speaker is online) or deferred is decided at once."""
        ready_in = getattr(self.output, "ready_in", None)
        wait = ready_in(notice) if ready_in is not None else 0.0
        if wait > 0 and not self._stop.is_set() and self._attention.tells(self.output.name, notice):
            self._clock.sleep(wait)

    def _carry_out(self, job: Job, notice: Notice, decision: Decision) -> bool:
        """Do what the policy decided, and record it; True when the output really delivered something.

        Raises what the output raised (the job is then failed).
        """
        outbox = self.store.outbox
        delivered = False
        if decision.action is Action.DEFER:
            outbox.postpone(job, decision.until)
            return False
        if decision.action is Action.HOLD:
            self.store.followup.hold(job.message_id, notice.category)
        elif decision.action in (Action.DELIVER, Action.GROUP):
            delivered = self._deliver(decision.notice or notice, decision.grouped, job.message_id)
        # A skipped job keeps why it was not told (its speaker online, snoozed, …): a hub's promises read it.
        self._done.append((job, f"{NOT_TOLD}{decision.reason}" if decision.action is Action.SKIP else None))
        if not self._in_batch:
            self._flush()
        return delivered

    def _deliver(self, notice: Notice, grouped: tuple[Job, ...], leader: str) -> bool:
        """Deliver, with the jobs a summary tells under way meanwhile: finished with it, or owed again."""
        if not grouped:
            return self.output.deliver(notice) is not False
        self.store.outbox.take(grouped)
        try:
            delivered = self.output.deliver(notice) is not False
        except BaseException:
            self.store.outbox.give_back(grouped)
            raise
        self.store.outbox.finish_grouped(grouped, leader)
        self._told_in_summary.update((job.message_id, job.department) for job in grouped)  # later in this batch: done
        return delivered

    def deliver_now(self, notice: Notice) -> None:
        """Deliver outside the outbox, for alerts about the store itself; never raises."""
        try:
            self.output.deliver(notice)
        except Exception as exc:  # noqa: BLE001
            logger.error("%s: could not deliver %s: %s", self.output.name, notice.message_id, exc)

    def _failed(self, job: Job, exc: BaseException) -> None:
        delay = retry_delay(job.attempts + 1)
        if not isinstance(exc, OutputError):
            logger.exception("%s: unexpected error delivering %s", self.output.name, job.message_id)
        elif not self._failing:
            logger.warning("%s: cannot deliver %s: %s (retrying, next in %.0f s)", self.output.name, job.message_id, exc, delay)
        self._failing = True
        if self._health:
            self._health.failing(f"output:{self.output.name}", f"output_{self.output.name}", f"{self.output.name}: {exc}", logged=True)
        self.store.outbox.fail(job, exc, self._clock.time() + delay)
