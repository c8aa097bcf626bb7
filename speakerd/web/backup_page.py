"""下载备份 and 从备份恢复: the device's set-up in one file that leaves it, and that file put on a new device.

The download needs the page's login; it holds the platform token and the
push addresses, so the page says to keep it like a key. Restoring is offered
on an unclaimed device only, beside the first step of the wizard, and needs
the code on the panel like claiming does: the file brings its own password.
The database is staged and put in place when the service starts again,
which the page asks of it (systemd starts it again at once).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from speakerd import config as config_mod
from speakerd.device import backup_files
from speakerd.errors import ConfigError
from speakerd.store import archive
from speakerd.web.wizard import code_refused, page

if TYPE_CHECKING:
    from speakerd.web.device import Device

logger = logging.getLogger(__name__)
RESTART_AFTER = 2.0  # seconds: the page answers before the service goes


def register(app: Flask) -> None:
    @app.get("/settings/backup")
    def download_backup() -> ResponseReturnValue:
        device = _device()
        data = archive.pack(backup_files.paths(device.config_path, device.store.path))
        name = f"speakerd-backup-{socket.gethostname()}-{time.strftime('%Y%m%d-%H%M')}.tar.gz"
        logger.info("web: backup downloaded by %s (%d bytes)", request.remote_addr, len(data))
        return Response(data, mimetype="application/gzip", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/setup/restore")
    def setup_restore() -> ResponseReturnValue:
        device = _device()
        if not device.claim.open():
            return page("setup_claim", 409, error=_("This device is set up already; a backup is restored on a new one."))
        refused = code_refused(app, device)
        if refused:
            return refused
        upload = request.files.get("backup")
        paths = backup_files.paths(device.config_path, device.store.path)
        try:
            done = archive.restore(upload.read() if upload else b"", paths, _loads)
        except archive.ArchiveError as exc:
            return page("setup_claim", 400, error=_("This file cannot be restored: it is not a whole backup of a speakerd device, "
                                                    "or it was made by a newer version. Nothing on this device was changed."),
                        detail=str(exc))
        address = request.remote_addr or "?"
        app.extensions["speakerd"]["throttle"].succeeded(address)
        logger.warning("web: backup restored from %s (%s); restarting to use its database", address, ", ".join(done))
        device.claim.claimed()
        _restart_soon(current_app.config.get("SPEAKERD_RESTART", True))
        return page("setup_restored", 200)


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def _loads(text: str) -> None:
    try:
        config_mod.parse_text(text, "config.yaml")
    except ConfigError as exc:
        raise ValueError("; ".join(exc.problems)) from None


def _restart_soon(really: bool) -> None:
    """Stop the service once the page has answered; systemd (Restart=always) starts it on the restored database."""
    if not really:
        return
    threading.Timer(RESTART_AFTER, os.kill, (os.getpid(), signal.SIGTERM)).start()
