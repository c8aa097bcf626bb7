"""Hands outbox work to each output on its own thread, so a slow output never holds up another.

Each output has one worker. It takes the most urgent due job from the store,
marks it under way, delivers it and marks it done; on OutputError it records
the failure and retries with a growing pause. Because the state lives in the
store, a job cut off by a crash is simply owed again after restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from speakerd.errors import Deferred, OutputError
from speakerd.outputs import Notice
from speakerd.store import StoreError

logger = logging.getLogger(__name__)

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
IDLE_WAIT = 5.0


def retry_delay(attempts):
    """2, 4, 8 … seconds, capped: the pause after the ``attempts``-th failure."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, attempts - 1))


def notice_from_row(row, cfg):
    """Build the notice from what the store holds, with names from the current config."""
    departments, staff = cfg.departments(), cfg.staff()
    subsystem_id, dep = departments.get(row["department"], (row["subsystem"], None))
    category = cfg.categories.get(row["category"])
    person = staff.get(row["staff_id"], (None, None))[1]
    sub = cfg.subsystems.get(subsystem_id)
    return Notice(
        message_id=row["id"], content=row["content"], category=row["category"],
        category_name=category.name if category else row["category"],
        priority=category.priority if category else "normal",
        department=row["department"], department_name=dep.name if dep else row["department"],
        subsystem=subsystem_id, subsystem_name=sub.name if sub else subsystem_id,
        staff_id=row["staff_id"], staff_name=person.name if person else None,
        type=row["type"] or "", app=row["app"] or "", user_name=row["user_name"] or "",
        created_at=row["created_at"] or "", received_at=row.get("received_at") or "", data=json.loads(row["data"] or "{}"),
    )


class OutputWorker:
    def __init__(self, output, store, config_source, health=None):
        self.output = output
        self.store = store
        self._config = config_source  # callable returning the current Config
        self._health = health
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name=f"output-{output.name}", daemon=True)

    def start(self):
        self._thread.start()

    def wake(self):
        self._wake.set()

    def stop(self, timeout=5.0):
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self):
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

    def _wait(self):
        due = self.store.next_due(self.output.name) if not self._stop.is_set() else None
        pause = IDLE_WAIT if due is None else min(IDLE_WAIT, max(0.05, due - time.time()))
        self._wake.wait(pause)
        self._wake.clear()

    def _step(self):
        job = self.store.claim(self.output.name)
        if job is None:
            return False
        row = self.store.notice_row(job.message_id, job.department)
        try:
            self.output.deliver(notice_from_row(row, self._config()))
        except Deferred as exc:
            self.store.postpone(job, exc.until)
            return True
        except Exception as exc:  # noqa: BLE001 - an output's bug must not kill its worker
            self._failed(job, exc)
            return True
        self.store.finish(job)
        if self._failing:
            logger.info("%s: delivering again", self.output.name)
            self._failing = False
            self.store.retry_now(self.output.name)  # the backlog flows now, in order
            if self._health:
                self._health.ok(f"output:{self.output.name}")
        return True

    def deliver_now(self, notice):
        """Deliver outside the outbox, for alerts about the store itself; never raises."""
        try:
            self.output.deliver(notice)
        except Exception as exc:  # noqa: BLE001
            logger.error("%s: could not deliver %s: %s", self.output.name, notice.message_id, exc)

    def _failed(self, job, exc):
        delay = retry_delay(job.attempts + 1)
        if not isinstance(exc, OutputError):
            logger.exception("%s: unexpected error delivering %s", self.output.name, job.message_id)
        elif not self._failing:
            logger.warning("%s: cannot deliver %s: %s (retrying, next in %.0f s)", self.output.name, job.message_id, exc, delay)
        self._failing = True
        if self._health:
            self._health.failing(f"output:{self.output.name}", "output", f"{self.output.name}: {exc}", logged=True)
        self.store.fail(job, exc, time.time() + delay)
