"""Acknowledgements since the last look, from any source: the button, the page, a push link, the platform, ``speakerd ack``, a speaker.

The daemon reads it every second, so every panel showing a handled message
clears, and a hub tells its speakers. The mark is kept in the store, so a
restart neither misses one nor tells one twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.outputs.interface import Showing
    from speakerd.store import Store

MARK = "acked_through"


class AckFeed:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._through = store.meta.get(MARK) or store.clock.iso()  # a new device starts from now

    def pass_on(self, panel: Showing | None, tell: Callable[[str, str], bool]) -> None:
        """Clear each handled message from ``panel``, and ``tell(id, at)`` others (a hub its speakers) until it says no."""
        through = None
        try:
            for message_id, acked_at in self.new():
                if panel:
                    panel.forget(message_id)
                if not tell(message_id, acked_at):
                    return  # the rest are told when the broker is back
                through = acked_at
        finally:
            if through is not None:
                self.passed(through)  # one write for the whole pass, not one per message

    def new(self) -> list[tuple[str, str]]:
        """``(message id, acknowledged at)`` not yet passed on, oldest first; call :meth:`passed` for each handled."""
        return self._store.acks.acknowledged_since(self._through)

    def passed(self, acked_at: str) -> None:
        """Everything acknowledged up to ``acked_at`` has been passed on."""
        self._through = acked_at
        self._store.meta.set(MARK, acked_at)
