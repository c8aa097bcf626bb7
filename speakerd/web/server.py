"""Starts the web page for the running daemon, or says clearly why it cannot."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.web.device import Device

logger = logging.getLogger(__name__)


def start_web(device: Device, cfg: Config) -> Any:
    """The running server, or None when the page is off or ``web.listen`` cannot be used (logged)."""
    if not cfg.web.enabled:
        return None
    from speakerd.device.password import stored_hash
    from speakerd.web import serve

    try:
        server = serve(device.store, cfg.web.listen, device=device)
    except OSError as exc:
        logger.error("web: cannot listen on %s (%s); the web page and acknowledge links are off until web.listen is fixed",
                     cfg.web.listen, exc.strerror or exc)
        return None
    logger.info("web page on http://%s%s", cfg.web.listen,
                "" if stored_hash(device.config_path) else
                " (not set up yet: open it and follow the set-up; it asks for the code on the panel, or from 'speakerd setup-code')")
    return server
