"""What the device's buttons do: acknowledge, replay, mute (see :mod:`speakerd.device.gpio` for the wiring)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.delivery.followup import FollowUp
    from speakerd.outputs.interface import Notice, Showing, Speaking
    from speakerd.store import Store

logger = logging.getLogger(__name__)


class ButtonActions:
    """The callbacks :class:`speakerd.device.gpio.Controls` calls, in terms of the store, the panel, speech and follow-up."""

    def __init__(self, store: Store, config: Callable[[], Config], followup: FollowUp,
                 panel: Callable[[], Showing | None], speech: Callable[[], Speaking | None],
                 on_ack: Callable[[str], None] | None = None) -> None:
        self.store = store
        self._config = config
        self._followup = followup
        self._panel = panel  # the running outputs change on reload: asked for at each press
        self._speech = speech
        self._on_ack = on_ack or (lambda message_id: None)  # a speaker tells its hub

    def _latest(self, back: int = 0) -> Notice | None:
        panel = self._panel()
        history = list(panel.history) if panel else []
        return history[-1 - back] if back < len(history) else None

    def _touch(self) -> None:
        panel = self._panel()
        if panel:
            panel.touch()

    def acknowledge(self) -> None:
        """The message on the panel is handled."""
        notice = self._latest()
        if notice is not None:
            outcome = self.store.acks.acknowledge(notice.message_id, "button")
            logger.info("button: %s acknowledged (%s)", notice.message_id, outcome)
            self._on_ack(notice.message_id)
        panel = self._panel()
        if panel:
            panel.acknowledged()

    def acknowledge_all(self) -> None:
        """Long press: every waiting message is handled."""
        acked = self.store.acks.acknowledge_all("button")
        for message_id in acked:
            self._on_ack(message_id)
        logger.info("button: %d waiting message(s) acknowledged", len(acked))
        self._touch()

    def replay(self, steps_back: int) -> None:
        """The last announcement again, or the one ``steps_back`` before it; spoken off the button's thread."""
        from speakerd.outputs.speech import spoken_text

        notice, speech = self._latest(steps_back), self._speech()
        if notice is not None and speech is not None:
            cfg = self._config()
            spoken = spoken_text(notice, cfg.categories.get(notice.category), cfg.speech.max_chars)
            threading.Thread(target=speech.say, args=(spoken, None, f"replay-{notice.message_id}"), daemon=True).start()
            logger.info("button: replaying %s", notice.message_id)
        self._touch()

    def toggle_mute(self) -> None:
        """Snooze speech for gpio.mute_minutes; pressed again while snoozed, end the snooze."""
        if self.store.followup.snoozed_until() > self.store.clock.time():
            self._followup.unsnooze(wait=False)
        else:
            self._followup.snooze(self._config().gpio.mute_minutes, wait=False)
        self._touch()

    def end_mute(self) -> None:
        self._followup.unsnooze(wait=False)
        self._touch()
