"""An unclaimed device and the one-time code that claims it.

A new device must open its page to the office network so that staff can set
it up from a phone, yet anyone on that network could then take it over. The
code closes that gap the way a router's label or a TV's pairing PIN does: the
panel shows it, only someone standing at the device can read it, and the
set-up wizard asks for it before it lets anyone set the web password. Once a
password exists the device is claimed and the code is gone for good.

The code lives in the database, so the panel, ``speakerd setup-code`` (for a
device without a panel) and the page agree on it; it is never logged. It is
made anew at every start of the daemon and after :data:`MOST_WRONG` wrong
codes from anywhere: throttled per address only, one code lasted forever and
two hundred addresses had even odds in about 42 hours; now each code allows
twenty guesses in a million.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path

from speakerd.device.password import stored_hash
from speakerd.store import Store

logger = logging.getLogger(__name__)

KEY = "setup_code"
DIGITS = 6
MOST_WRONG = 20


class Claim:
    """Whether the device still waits for its owner, and the code that proves someone stands at it."""

    def __init__(self, store: Store, config_path: str | Path) -> None:
        self._store = store
        self._config_path = config_path
        self._wrong = 0

    def open(self) -> bool:
        """True until the web password is set."""
        return stored_hash(self._config_path) is None

    def code(self) -> str:
        """The code to show, '' once the device is claimed."""
        if not self.open():
            return ""
        return self._store.meta.secret(KEY, lambda: f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}")

    def check(self, typed: str) -> bool:
        """Whether ``typed`` is the code (spaces ignored); always False once claimed. Too many wrong ones: a new code."""
        code = self.code()
        given = "".join(typed.split())
        right = bool(code) and hmac.compare_digest(given.encode("utf-8", "replace"), code.encode())
        if code and not right:
            self._wrong += 1
            if self._wrong >= MOST_WRONG:
                logger.warning("set-up: %d wrong set-up codes; a new code is on the panel ('speakerd setup-code' prints it)", self._wrong)
                self.rotate()
        return right

    def rotate(self) -> None:
        """A new code (at start, and after too many wrong ones); nothing once the device is claimed."""
        self._wrong = 0
        self._store.meta.delete(KEY)

    def claimed(self) -> None:
        """Forget the code: the password now protects the device."""
        self._store.meta.delete(KEY)
