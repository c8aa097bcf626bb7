"""Signed, expiring acknowledge tokens: a link in a push that marks one message handled.

The token carries the message id and an expiry, signed with HMAC-SHA256 under
a random secret that never leaves the device's database. Whoever holds the
link may acknowledge that one message until it expires, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from speakerd.errors import N_, SpeakerdError


class AckError(SpeakerdError):
    """The link is malformed, forged or expired; the text says which, for the page."""


def new_secret() -> str:
    return secrets.token_hex(32)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret, payload):
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:18])


def make_token(secret: str, message_id: str, lifetime: float, now: float | None = None) -> str:
    expires = int((now or time.time()) + lifetime)
    payload = f"{_b64(message_id.encode())}.{expires}"
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: str, token: str, now: float | None = None) -> str:
    """The message id the token is for; raises AckError otherwise."""
    try:
        encoded, expires_text, signature = token.split(".")
        message_id = _unb64(encoded).decode()
        expires = int(expires_text)
    except ValueError:
        raise AckError(N_("This acknowledge link is incomplete.")) from None
    # As bytes: compare_digest refuses str with characters beyond ASCII (a hand-typed link), with a TypeError.
    if not hmac.compare_digest(signature.encode("utf-8", "replace"), _signature(secret, f"{encoded}.{expires}").encode()):
        raise AckError(N_("This acknowledge link is not valid."))
    if (now or time.time()) > expires:
        raise AckError(N_("This acknowledge link has expired; acknowledge on the device."))
    return message_id
