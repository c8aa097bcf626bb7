"""The HDMI board's credential: a link that logs a browser in to the board, and only from the device itself.

``install.sh --kiosk`` starts chromium on the Pi's own screen at boot, with
nobody there to type a password. It opens ``/kiosk/<token>``: the token
proves the browser was given it by root on this device, and the loopback
address proves the browser runs on this device. Both are needed on every
request, so a copied link or cookie is worth nothing from another machine,
and the session it opens shows the board and nothing else. The token lives
in the database; ``speakerd kiosk-url`` prints the link.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from typing import TYPE_CHECKING

from flask import abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

if TYPE_CHECKING:
    from flask import Flask

    from speakerd.store import Store

logger = logging.getLogger(__name__)

KEY = "kiosk_token"
BOARD_ENDPOINTS = {"board", "live_board", "static", "panel_png", "switch_language"}


def token(store: Store) -> str:
    return store.meta.secret(KEY, lambda: secrets.token_urlsafe(24))


def from_this_device() -> bool:
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def allowed() -> bool:
    """Whether this request rides a kiosk session that may see this page."""
    return bool(session.get("kiosk")) and from_this_device() and request.endpoint in BOARD_ENDPOINTS


def register(app: Flask, store: Store) -> None:
    @app.get("/kiosk/<given>")
    def kiosk(given: str) -> ResponseReturnValue:
        if not from_this_device():
            logger.warning("web: the kiosk link was used from %s; it works only on the device itself", request.remote_addr)
            abort(403)
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token(store).encode()):
            logger.warning("web: a wrong kiosk link was used")
            abort(403)
        session.clear()
        session["kiosk"] = True
        return redirect(url_for("board"))
