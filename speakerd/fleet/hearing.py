"""Whether this device still hears the broker: its own status, sent again now and then, must come back.

A link can be up while nothing reaches the handler any more: messages held
back unacknowledged (a store that cannot keep them) fill the broker's
in-flight window (20 in mosquitto), and after that the broker sends this
device nothing, presence and acknowledgements included. Neither the link's
state nor presence can see it; an echo of the device's own retained status
can, with no topic or ACL line beyond those it already has. When the echo
stays away, the device says so (its status, its health) and leaves and
rejoins its session: the broker then sends again what was held back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from speakerd.fleet.topics import BadPayload, decode

ECHO_SECONDS = 20.0  # how often the status is sent again to be heard back
DEAF_AFTER = 60.0  # an echo not back in this long: the device is not hearing the broker


class Hearing:
    """``tick()`` from the daemon's loop; ``heard(payload)`` for each message on the device's own status topic.

    ``send(echo)`` publishes the status with that echo mark; ``changed(hearing, since)`` is told when the device
    stops hearing (``since`` is when the unanswered echo went out, on the wall clock) and when it hears again.
    """

    def __init__(self, send: Callable[[str], None], connected: Callable[[], bool], changed: Callable[[bool, float], None],
                 clock: Callable[[], float], wall: Callable[[], float]) -> None:
        self._send, self._connected, self._changed = send, connected, changed
        self.clock, self._wall = clock, wall
        self._nonce = secrets.token_hex(4)  # an echo of an earlier run, or of another device, is not this one's
        self._last_sent: float | None = None
        self._waiting_since: tuple[float, float] | None = None  # (monotonic, wall) of the oldest echo not back
        self.deaf_since: float | None = None  # wall clock, while not hearing
        self.last_heard: float | None = None  # monotonic, the last echo back
        self.echoes_sent = 0

    @property
    def hearing(self) -> bool:
        return self.deaf_since is None

    def tick(self) -> None:
        now = self.clock()
        if not self._connected():
            self._waiting_since = None  # a broker that is away is the link's trouble, not this one
            return
        if self._waiting_since and now - self._waiting_since[0] >= DEAF_AFTER:
            self.deaf_since = self.deaf_since or self._waiting_since[1]
            self._waiting_since = None  # the next echo starts a new wait, after the link rejoined
            self._changed(False, self.deaf_since)
        if self._last_sent is None or now - self._last_sent >= ECHO_SECONDS:
            self._last_sent = now
            if self._waiting_since is None:
                self._waiting_since = (now, self._wall())
            self.echoes_sent += 1
            self._send(f"{self._nonce}:{self.echoes_sent}")

    def heard(self, payload: bytes) -> None:
        """A message on this device's own status topic: its echo, or something else (a will, a stale retained one)."""
        try:
            mark = decode(payload, "status").get("echo")
        except BadPayload:
            return
        if not isinstance(mark, str) or not mark.startswith(f"{self._nonce}:"):
            return
        self._waiting_since, self.last_heard = None, self.clock()
        if self.deaf_since is not None:
            self.deaf_since = None
            self._changed(True, 0.0)

    def state(self) -> dict[str, Any]:
        """For the status payload: ``hearing`` and, while not, since when."""
        return {"hearing": "ok"} if self.hearing else {"hearing": "deaf", "deaf_since": self.deaf_since}
