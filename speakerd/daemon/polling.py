"""Every polled source as a job that plans its own next run: at once, after its poll interval, or after a backoff.

Each source's poller says how long to wait (:meth:`~speakerd.intake.poller.Poller.poll_once`);
its job only keeps asking, whatever a poll raised, until the daemon stops. Each
source has its own job (its own thread), so a shop that hangs or backs off for
minutes does not hold back the other sources of the device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from speakerd.intake.source import Source, polled

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.daemon.every import Every
    from speakerd.intake.poller import Poller

logger = logging.getLogger(__name__)


class Polling:
    """``update(cfg, on)`` keeps one poller per polled source (none on a speaker: the hub polls); ``start()`` after the daemon runs."""

    def __init__(self, make: Callable[[Source], Poller], running: Callable[[], bool]) -> None:
        self._make = make
        self._running = running
        self._every: Every | None = None
        self.pollers: dict[Source, Poller] = {}

    def start(self, every: Every) -> None:
        """Poll every source at once, and from then on as each answers."""
        self._every = every
        for source in self.pollers:
            self._schedule(source, 0)

    def update(self, cfg: Config, on: bool) -> None:
        """Pollers for the sources of ``cfg`` (closing those of sources gone), each with ``cfg`` from its next poll on."""
        wanted = polled(cfg) if on else []
        for source in [s for s in self.pollers if s not in wanted]:
            self.pollers.pop(source).close()
            if self._every:
                self._every.remove(_job(source))
        for source in wanted:
            if source in self.pollers:
                self.pollers[source].reconfigure(cfg)
            else:
                self.pollers[source] = self._make(source)
                if self._every:
                    self._schedule(source, 0)

    def now(self) -> None:
        """Bring every planned poll forward to now (after a reload)."""
        if self._every is None:
            return
        for source in self.pollers:
            self._every.now(_job(source))

    def alive(self) -> bool:
        """False when a poll hangs past every timeout it was given: then systemd should restart us."""
        return all(p.alive() for p in list(self.pollers.values()))

    def get(self, name: str = "platform") -> Poller | None:
        return self.pollers.get(Source(name))

    def close(self) -> None:
        for poller in self.pollers.values():
            poller.close()

    def _schedule(self, source: Source, delay: float) -> None:
        if self._every is not None and self._running():
            self._every.once(_job(source), delay, lambda: self._run(source))

    def _run(self, source: Source) -> None:
        poller = self.pollers.get(source)
        if poller is None:
            return  # the source is gone (a reload), or this device became a speaker
        delay: float = poller.settings.poll_interval
        try:
            delay = poller.poll_once() if self._running() else 0
        except Exception:  # noqa: BLE001 - the poll must go on whatever happened
            logger.exception("unexpected error while polling %s", source.name)
        finally:
            if self.pollers.get(source) is poller:
                self._schedule(source, delay)


def _job(source: Source) -> str:
    return "poll" if not source.named else f"poll-{source.name}"
