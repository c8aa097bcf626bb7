"""The outputs running now, one :class:`~speakerd.delivery.dispatch.OutputWorker` each: started, looked up, stopped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.delivery.dispatch import OutputWorker
    from speakerd.outputs.interface import Output

logger = logging.getLogger(__name__)


class RunningOutputs:
    def __init__(self) -> None:
        self.workers: list[OutputWorker] = []

    def start(self, workers: list[OutputWorker]) -> None:
        self.workers = workers
        for worker in workers:
            worker.start()

    def stop(self) -> None:
        """Stop the workers and close their outputs, then wait for each worker to end, before the store closes.

        Closing an output cuts off what it is doing (an announcement playing, a sound card blocked on a write):
        that job is recorded as owed and done again after the restart, never recorded against a closed store.
        One output failing to close stops none of the others.
        """
        for worker in self.workers:
            worker.stopping()
        for worker in reversed(self.workers):
            try:
                worker.output.close()
            except Exception:  # noqa: BLE001 - closing must go on for the others
                logger.exception("closing output %s failed", worker.output.name)
        for worker in reversed(self.workers):
            worker.stop()

    def get(self, name: str) -> Output | None:
        """The running output called ``name``, or None."""
        return next((w.output for w in self.workers if w.output.name == name), None)

    def names(self) -> list[str]:
        return [w.output.name for w in self.workers]
