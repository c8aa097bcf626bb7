"""The voices follow the office's hours: let go after a silence, loaded again as the office opens.

The voices (190–230 MiB with a neural one) run in a process of their own. In
quiet hours it ends after ``speech.unload_after`` minutes of silence; in
working hours only after ``speech.unload_after_working`` (long): starting it
takes a second here and several on a Pi 4 (18 s under the Pi proxy), which
the first announcement after a lull would wait. Voices let go in quiet hours
are started again as the quiet hours end, before the first order of the
morning; voices let go after a long silence in the working day wait for the
next sentence, since they were let go to give their memory back.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from speakerd.rules import quiet

if TYPE_CHECKING:
    from speakerd.clock import Clock
    from speakerd.config import SpeechConfig
    from speakerd.outputs.speech.voice_process import VoiceProcess

logger = logging.getLogger("speakerd.outputs.speech")


class VoiceHours:
    """Watches the silence on a thread of its own; ``used()`` after every sentence, ``close()`` at the end."""

    def __init__(self, settings: SpeechConfig, clock: Clock, voices: VoiceProcess, speaking: threading.Lock,
                 making: threading.Event) -> None:
        self._settings = settings
        self._clock = clock
        self._voices = voices
        self._speaking = speaking  # held while a sentence plays: the voices are not let go under it
        self._making = making  # set while a phrase is made ahead: likewise
        self._closing = threading.Event()
        self.last_used = clock.monotonic()
        if settings.unload_after:
            threading.Thread(target=self._watch, name="speech-idle", daemon=True).start()

    def used(self) -> None:
        self.last_used = self._clock.monotonic()

    def silent_for(self) -> float:
        return self._clock.monotonic() - self.last_used

    def quiet_hours_now(self) -> bool:
        return quiet.is_quiet(self._settings.quiet_hours, self._clock.now())

    def unload_limit(self) -> float:
        """Minutes of silence after which the voices are let go now: ``unload_after`` in quiet hours; in working
        hours ``unload_after_working`` (long), so the first announcement after a quiet spell does not wait for them."""
        settings = self._settings
        if self.quiet_hours_now() or not settings.unload_after_working:
            return settings.unload_after
        return max(settings.unload_after, settings.unload_after_working)

    def close(self) -> None:
        self._closing.set()

    def _idle(self) -> bool:
        return self._voices.running and self.silent_for() > self.unload_limit() * 60 and not self._making.is_set()

    def _watch(self) -> None:
        load_at_opening = False
        while not self._closing.wait(min(30.0, self._settings.unload_after * 60 / 4)):
            if self._idle():
                with self._speaking:
                    # asked again: a sentence may have been spoken while this waited for the speaker
                    if self._idle() and self._voices.unload():
                        logger.info("speech: voices unloaded after %g min without speaking", self.unload_limit())
                        load_at_opening = self.quiet_hours_now()
            elif load_at_opening and not self.quiet_hours_now():
                load_at_opening = False
                self._load()

    def _load(self) -> None:
        try:
            self._voices.engine("zh")
        except Exception as exc:  # noqa: BLE001 - the next sentence starts them, and says why if it cannot
            logger.warning("speech: voices not loaded as the office opens (the next announcement loads them): %s", exc)
            return
        self.used()  # the silence of the night is not counted against them again
        logger.info("speech: voices loaded as the office opens")
