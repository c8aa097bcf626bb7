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

REPLAY_REQUEST = "replay_requested"  # a meta key: the page or the CLI asked for the last announcement again


def ask_replay(store: Store) -> None:
    """Ask the running daemon, through the store, to replay the last announcement (the page, ``speakerd replay``)."""
    store.meta.set(REPLAY_REQUEST, repr(store.clock.time()))


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

    def _latest_stored(self) -> Notice | None:
        """Without a panel (or after a restart) the last message is read back from the store."""
        from speakerd.outputs.interface import notice_from_row

        row = self.store.reports.latest_notice_row()
        return notice_from_row(row, self._config()) if row else None

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

    def replay_if_asked(self) -> None:
        """Replay once if the page or the CLI asked since the last look (the daemon looks every second)."""
        if self.store.meta.get(REPLAY_REQUEST) is not None:
            self.store.meta.delete(REPLAY_REQUEST)
            self.replay(0)

    def replay(self, steps_back: int) -> None:
        """The last announcement again, or the one ``steps_back`` before it; spoken off the button's thread."""
        from speakerd.outputs.speech import spoken_text

        notice, speech = self._latest(steps_back), self._speech()
        if notice is None and steps_back == 0:
            notice = self._latest_stored()
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
