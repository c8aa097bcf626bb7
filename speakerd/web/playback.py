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


FAILS_WITHIN = 1.5  # seconds: a missing sound card or voice fails at once; a sentence that plays takes longer


def play(what: str, work: Callable[[Any], object]) -> bool:
    """Run ``work(speech)`` in the background; False, with a word to the person, when speech is off or it failed at once.

    The page said "playing" even when no sound card existed, the reason only in the log: the first moments are
    waited for, so what fails at once (the card, the voices) is said on the page.
    """
    speech = current_app.extensions["speakerd"]["device"].speech
    if speech is None:
        flash(_("Speech is off (speech.enabled), so nothing can be played."))
        return False
    failed: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            work(speech)
        except Exception as exc:  # noqa: BLE001 - said on the page if early, in the log in any case
            logger.warning("web: %s not played: %s", what, exc)
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=f"web-{what.replace(' ', '-')}").start()
    if done.wait(FAILS_WITHIN) and failed:
        flash(_("The device could not play it: %(reason)s", reason=str(failed[0])[:300]))
        return False
    if not speech.audible:
        flash(_("This device has no sound card: it plays in time, but nothing can be heard. Plug in a speaker (USB or "
                "the audio jack), then choose it under Settings, Speech (sound output device)."))
        return False
    return True
