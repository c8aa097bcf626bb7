"""Sounds the page asks the device to make: a test sentence, the set-up's chime, an uploaded sound.

A sentence takes seconds to synthesise and play, and the page answers at
once, so the work runs in the background; whatever goes wrong there is
logged, since nobody waits for it. One place decides whether speech is on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app, flash
from flask_babel import gettext as _

logger = logging.getLogger(__name__)


def play(what: str, work: Callable[[Any], object]) -> bool:
    """Run ``work(speech)`` in the background; False, with a word to the person, when speech is off."""
    speech = current_app.extensions["speakerd"]["device"].speech
    if speech is None:
        flash(_("Speech is off (speech.enabled), so nothing can be played."))
        return False

    def run() -> None:
        try:
            work(speech)
        except Exception as exc:  # noqa: BLE001 - the log says why; the page already answered
            logger.warning("web: %s not played: %s", what, exc)

    threading.Thread(target=run, daemon=True, name=f"web-{what.replace(' ', '-')}").start()
    return True
