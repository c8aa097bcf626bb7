"""An unclaimed device and the one-time code that claims it.

A new device must open its page to the office network so that staff can set
it up from a phone, yet anyone on that network could then take it over. The
code closes that gap the way a router's label or a TV's pairing PIN does: the
panel shows it, only someone standing at the device can read it, and the
set-up wizard asks for it before it lets anyone set the web password. Once a
password exists the device is claimed and the code is gone for good.

The code lives in the database, so the panel, ``speakerd setup-code`` (for a
device without a panel) and the page agree on it across restarts; it is
never logged.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from speakerd.device.password import stored_hash
from speakerd.store import Store

KEY = "setup_code"
DIGITS = 6


class Claim:
    """Whether the device still waits for its owner, and the code that proves someone stands at it."""

    def __init__(self, store: Store, config_path: str | Path) -> None:
        self._store = store
        self._config_path = config_path

    def open(self) -> bool:
        """True until the web password is set."""
        return stored_hash(self._config_path) is None

    def code(self) -> str:
        """The code to show, '' once the device is claimed."""
        if not self.open():
            return ""
        return self._store.meta.secret(KEY, lambda: f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}")

    def check(self, typed: str) -> bool:
        """Whether ``typed`` is the code (spaces ignored); always False once claimed."""
        code = self.code()
        given = "".join(typed.split())
        return bool(code) and hmac.compare_digest(given.encode("utf-8", "replace"), code.encode())

    def claimed(self) -> None:
        """Forget the code: the password now protects the device."""
        self._store.meta.delete(KEY)
