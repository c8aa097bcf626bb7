"""What the hub told while this speaker was away: shown and pushed as ever, said in one sentence.

A speaker back from offline gets from the broker every message the hub sent
its departments meanwhile. The hub announced those itself, in its own room
(``fleet.hub_announces_unheard``), so they were heard once; said again one
by one, a speaker back after an hour would talk for minutes about what is
done or in hand. The hub marks such a message ``covered``; the speaker stores
it, shows it on its panel and pushes it like any other, leaves it out of its
own speech, and once its backlog has come in (:data:`SETTLE` seconds without
another) says how many there were, in one sentence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speakerd.clock import Clock
    from speakerd.intake.ingest import Ingest, IngestResult

logger = logging.getLogger(__name__)

SETTLE = 3.0  # seconds without another covered message before the backlog counts as in


class FromHub:
    """``receive(raw, department, staff_id, category, covered)`` stores what the hub sent; ``check()`` says the count when due."""

    def __init__(self, ingest: Callable[[], Ingest], outputs: Callable[[], list[str]], wake: Callable[[], None],
                 say: Callable[[str], None], clock: Clock) -> None:
        self._ingest = ingest
        self._outputs = outputs
        self._wake = wake
        self._say = say
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._last = 0.0

    def receive(self, raw: dict[str, Any], department: str, staff_id: str | None, category: str | None,
                covered: bool = False) -> IngestResult:
        outputs = [name for name in self._outputs() if not (covered and name == "speech")]
        result = self._ingest().remote(raw, outputs, department, staff_id, category)
        if covered and result.new:
            with self._lock:
                self._count += 1
                self._last = self._clock.monotonic()
        self._wake()
        return result

    def check(self) -> None:
        """Say how many the hub told while this speaker was away, once they have all come in."""
        with self._lock:
            if not self._count or self._clock.monotonic() - self._last < SETTLE:
                return
            count, self._count = self._count, 0
        logger.info("fleet: %d message(s) the hub announced while this speaker was away: shown, counted in one sentence", count)
        self._say(f"本音箱离线期间，主机已播报{count}条消息，请查看屏幕。")
