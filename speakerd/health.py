"""Knows whether the platform is answering, and tells listeners when that changes.

The poller reports each poll's outcome here. A single failed poll is only
logged; the platform counts as *down* once it has failed for
``health.fail_after`` seconds, and *up* again at the next good answer. The
technical-alert feature listens to these two transitions.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from speakerd.platform import FAILURE_KINDS

logger = logging.getLogger(__name__)


class LinkListener(Protocol):
    def platform_down(self, kind: str, reason: str, since: float) -> None: ...

    def platform_up(self, outage_seconds: float) -> None: ...


class LinkMonitor:
    def __init__(self, fail_after, listeners=(), clock=time.time):
        self.fail_after = fail_after
        self.listeners = list(listeners)
        self._clock = clock
        self.failing_since = None  # epoch seconds of the first failure in a row
        self.down = False
        self.last_ok = None
        self.last_error = None

    def ok(self):
        now = self._clock()
        self.last_ok = now
        if self.failing_since is None:
            return
        outage = now - self.failing_since
        if self.down:
            logger.warning("platform reachable again after %.0f s", outage)
            for listener in self.listeners:
                listener.platform_up(outage)
        else:
            logger.info("platform answering again")
        self.failing_since, self.down, self.last_error = None, False, None

    def failed(self, error):
        now = self._clock()
        if self.failing_since is None:
            self.failing_since = now
        if self.last_error is None or self.last_error.kind != error.kind:
            logger.warning("platform poll failed: %s", error.reason)
        self.last_error = error
        if not self.down and now - self.failing_since >= self.fail_after:
            self.down = True
            logger.error("platform down for %.0f s: %s (%s)", now - self.failing_since, FAILURE_KINDS[error.kind], error.reason)
            for listener in self.listeners:
                listener.platform_down(error.kind, error.reason, self.failing_since)
