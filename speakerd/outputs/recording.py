"""An output that remembers what it was given: for tests and for trying routes safely."""

from __future__ import annotations

import threading

from speakerd.errors import OutputError
from speakerd.outputs.interface import Notice


class RecordingOutput:
    """Keeps every delivered notice; ``fail_next(n)`` makes the next n deliveries fail."""

    def __init__(self, name="recording") -> None:
        self.name = name
        self.notices: list[Notice] = []
        self.played: list[str] = []  # the device's own sentences said through it (Speaking.play), as speech would say them
        self.closed = False
        self._failures = 0
        self._changed = threading.Condition()

    def fail_next(self, count: int = 1) -> None:
        with self._changed:
            self._failures = count

    def deliver(self, notice: Notice) -> None:
        with self._changed:
            if self._failures:
                self._failures -= 1
                raise OutputError(f"{self.name}: failing on purpose")
            self.notices.append(notice)
            self._changed.notify_all()

    def play(self, spoken: str, category: object, priority: str, name: str, mode: str = "both", ids: tuple[str, ...] = ()) -> None:
        with self._changed:
            self.played.append(spoken)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        """Wait until ``count`` notices arrived; return whether they did."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.notices) >= count, timeout)

    def close(self) -> None:
        self.closed = True
