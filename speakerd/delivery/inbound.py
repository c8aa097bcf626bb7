"""Messages a platform pushes to the device instead of waiting to be polled (``POST /v1/inbound``).

For what cannot be polled: a webhook relayed from a shop system, an ERP that
wants "speak this now". Each message has the platform API's shape
(docs/platform-api.md) and goes the same way as a polled one: checked (a
malformed one is quarantined with the reason), deduplicated by id and by
content, classified, routed and told through every output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd.intake.source import Source

if TYPE_CHECKING:
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import Ingest, IngestResult

logger = logging.getLogger(__name__)

MOST_AT_ONCE = 500  # messages in one request; a platform with more sends them in several
PLATFORM_SOURCE = Source()


class Inbound:
    """``receive(payload)``: one message (a JSON object) or a list of them; the parts in force are asked each time."""

    def __init__(self, ingest: Callable[[], Ingest], outputs: Callable[[], list[str]], wake: Callable[[], None], health: Health) -> None:
        self._health = health
        self._ingest = ingest
        self._outputs = outputs
        self._wake = wake

    def receive(self, payload: object, source: Source = PLATFORM_SOURCE) -> IngestResult:
        """Store what ``source`` pushed; raises ValueError (said to the sender) when it is not a message or a list of them."""
        raws = payload if isinstance(payload, list) else [payload]
        if not raws or len(raws) > MOST_AT_ONCE:
            raise ValueError(f"send one message or a list of 1 to {MOST_AT_ONCE}")
        result = self._ingest().pushed(list(raws), self._outputs(), source)
        if source.named:
            self._health.ok(source.subject)  # when it last pushed, for status and the metrics
        if result.new:
            self._wake()
            logger.info("inbound: %d new message(s) pushed to the device", len(result.new))
        return result
