"""Who may use the settings page: one password, kept only as a hash, beside config.yaml.

``speakerd set-password`` (the installer runs it) writes ``web-password``
next to the config file: a salted scrypt hash from Werkzeug, readable by the
speakerd user only. A login starts a session cookie that expires after
``web.session_hours`` and ends when the password changes. Wrong passwords
are logged with the address they came from, and each one after the third in
a row from one address makes that address wait longer (up to a minute).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.security import check_password_hash

from speakerd.device.password import fingerprint, stored_hash

logger = logging.getLogger(__name__)

FREE_TRIES = 3
MAX_WAIT = 60.0


class Throttle:
    """Counts wrong passwords per address and says how long that address must wait."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # address -> (count in a row, time of the last)

    def admit(self, address: str) -> float:
        """0 and the attempt counted as a failure until it succeeds, or the seconds ``address`` must still wait.

        One step under the lock: forty guesses sent at once are one try and thirty-nine refusals, not forty
        password checks (each costs 32 MiB of scrypt).
        """
        with self._lock:
            count, last = self._failures.get(address, (0, 0.0))
            now = self._clock()
            wait = 0.0 if count < FREE_TRIES else max(0.0, last + min(MAX_WAIT, 2.0 ** (count - FREE_TRIES + 1)) - now)
            if not wait:
                self._failures[address] = (count + 1, now)
            return wait

    def failed(self, address: str) -> int:
        """Say so: the attempt was counted when it was admitted."""
        with self._lock:
            count = self._failures.get(address, (0, 0.0))[0]
        logger.warning("web: wrong password from %s (%d in a row)", address, count)
        return count

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


CHECKS = threading.BoundedSemaphore(2)  # password checks at once: each takes 32 MiB of memory for scrypt
CHECK_QUEUE_SECONDS = 10.0


class Busy(Exception):
    """Too many password checks at once: try again in a moment."""


def check(config_path: str | Path, password: str) -> bool:
    hashed = stored_hash(config_path)
    if hashed is None:
        return False
    if not CHECKS.acquire(timeout=CHECK_QUEUE_SECONDS):
        raise Busy("too many password checks at once")
    try:
        return check_password_hash(hashed, password)
    finally:
        CHECKS.release()


class Sessions:
    """Logins the server knows, so that logging out ends one for good: a cookie captured before is worth nothing.

    Kept in memory: a restart of the daemon asks everyone to log in again.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def issue(self, hours: float) -> str:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._until = {k: v for k, v in self._until.items() if v > now}  # forget the expired ones
            self._until[sid] = now + hours * 3600
        return sid

    def valid(self, sid: object) -> bool:
        with self._lock:
            return isinstance(sid, str) and self._until.get(sid, 0.0) > self._clock()

    def end(self, sid: object) -> None:
        with self._lock:
            if isinstance(sid, str):
                self._until.pop(sid, None)


def same_site(target: str) -> str | None:
    """``target`` when it is a path on this site (where to go after logging in), else None.

    Browsers read '/\\host', '/<TAB>/host' and '//host' as other sites: only a plain absolute path passes.
    """
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc
            or any(c in target for c in "\\\t\r\n") or any(ord(c) < 32 for c in target)):
        return None
    return target


def log_in(app: Any) -> None:
    """Start a fresh session for the person who just proved the password (or claimed the device): a new cookie, a new id."""
    from flask import session

    config_path = app.extensions["speakerd"]["device"].config_path
    language = session.get("lang")
    session.clear()
    session.permanent = True
    if language:
        session["lang"] = language
    session["pw"] = fingerprint(stored_hash(config_path) or "")
    session["sid"] = app.extensions["speakerd"]["sessions"].issue(app.permanent_session_lifetime.total_seconds() / 3600)


def bearer_matches(header: str, token: str) -> bool:
    """Whether an ``Authorization: Bearer …`` header carries ``token`` (compared in constant time); never for an empty token."""
    given = header.removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())
