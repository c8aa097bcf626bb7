"""The speech output: the category's chime, then one clear sentence, in the office.

One announcement at a time, most urgent first: the dispatcher hands this
output one notice at a time in priority order, so a critical message jumps
the queue but never cuts a sentence in half. Sentences are synthesised clause
by clause (in the voice process, :mod:`.speaker`) on a helper thread while the
chime or the clause before is playing. Fixed phrases (technical alerts,
recovery) and each person's opening clause (:mod:`.openings`) are
synthesised whenever the device is quiet and kept on disk: they play at
once, and fixed phrases still play when synthesis fails. ``deliver`` returns
once the sound has played, so the outbox records an announcement as done
only when it was heard.

Whether to speak at all (snooze, quiet hours, stale announcements, one
summary instead of a burst) is not decided here but by
:mod:`speakerd.delivery.attention`, which dispatch asks before each delivery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from speakerd.clock import SYSTEM, Clock
from speakerd.outputs.speech import audio, chimes, openings, reading
from speakerd.outputs.speech.pace import Pace
from speakerd.outputs.speech.realtime import RealTimeSink
from speakerd.outputs.speech.speaker import GAP, Speaker, Synthesis
from speakerd.outputs.speech.voice_hours import VoiceHours
from speakerd.outputs.speech.voices import OUTPUT_RATE

if TYPE_CHECKING:
    from speakerd.config import Category, Config, SpeechConfig
    from speakerd.outputs.interface import Notice

logger = logging.getLogger(__name__)

WARM_WHEN_QUIET_FOR = 5.0  # seconds without speaking before a fixed phrase is prepared
MAKE_AHEAD_EVERY = 300.0  # seconds between looks for phrases and openings not made yet


def spoken_text(notice: Notice, category: Category | None, limit: int) -> str:
    """The sentence for a notice: the device's own sentence when it made one, else the category's template."""
    if notice.spoken:
        return reading.said(notice.spoken, limit)
    return reading.spoken(notice, category.speech if category else None, limit)


class _Closing(Exception):
    """The output closes: stop making phrases ahead."""


def make_sink(settings: SpeechConfig, clock: Clock = SYSTEM) -> audio.WavFolder | audio.SoundCard | RealTimeSink:
    """The sound card; with ``device: null`` a sink that keeps real time; ``wav:FOLDER`` files written at once."""
    if settings.device is None:
        return RealTimeSink(settings.keep_wav or None, settings.volume, clock)
    if settings.device.startswith("wav:"):
        return audio.WavFolder(settings.device[4:], settings.volume)
    return audio.SoundCard(settings.device, settings.volume)


class SpeechOutput:
    """Implements :class:`~speakerd.outputs.interface.Output`, :class:`~speakerd.outputs.interface.Paced` and
    :class:`~speakerd.outputs.interface.Speaking`."""

    name = "speech"

    @property
    def audible(self) -> bool:
        return not isinstance(self.sink, RealTimeSink)

    def __init__(self, settings: SpeechConfig, current_config: Callable[[], Config], cache_dir: Path,
                 phrases: Iterable[str] = (), warm: bool = True, clock: Clock = SYSTEM) -> None:
        self.settings = settings
        self._config = current_config
        self.speaker = Speaker(settings, cache_dir)
        self.sink = make_sink(settings, clock)
        self._playing = threading.Lock()  # the outbox worker, replays and reminders share one speaker
        self._clock = clock
        self.pace = Pace(settings, clock)
        self._saying: tuple[str, ...] | None = None  # the log line of the announcement about to start playing
        self._closing = threading.Event()
        self._phrases = list(phrases)
        self._making = threading.Event()  # a phrase is being made ahead: the voices stay loaded meanwhile
        self._look_again = threading.Event()  # look for what to make ahead now, not at the next MAKE_AHEAD_EVERY
        self._voice_known = False
        self.hours = VoiceHours(settings, clock, self.speaker.voices, self._playing, self._making)
        self._warm = threading.Thread(target=self._make_ahead, name="speech-warm", daemon=True)
        if warm:
            self._warm.start()

    def _ahead(self) -> Iterator[str]:
        """What is made ahead: every person's opening clause of the config in force (when the Mandarin voice makes
        sentences clause by clause, which the first phrase shows), then the fixed phrases. Openings first: every
        announcement starts sooner with its own, while a missing fixed phrase is made when its alert comes."""
        yield from self._phrases[:1]
        if self.speaker.clausewise():
            yield from openings.openings(self._config(), self.settings.max_chars)
        yield from self._phrases[1:]

    def _make_ahead(self) -> None:
        """Synthesise the fixed phrases and the openings one by one while the device is quiet: a live announcement never
        waits for more than the one phrase being made (it did, for the whole batch, when they were made at start-up at
        once). Looked at again every :data:`MAKE_AHEAD_EVERY` seconds, so a person added by a reload gets theirs."""
        failed = False
        while not self._closing.is_set():
            try:
                made = self._make_missing()
                if made:
                    logger.info("speech: %d fixed phrases and openings made ahead", made)
            except _Closing:
                return
            except Exception as exc:  # noqa: BLE001 - they are then synthesised when needed
                if not failed:
                    logger.warning("speech: phrases not made ahead (they are made when needed): %s", exc)
                failed = True
            self._look_again.wait(MAKE_AHEAD_EVERY)
            self._look_again.clear()

    def _spoken(self) -> None:
        """After speaking: the voice is known now, so a look for openings that waited for it goes ahead."""
        self.hours.used()
        if not self.speaker.knows():
            return
        if not self._voice_known:
            self._voice_known = True
            self._look_again.set()

    def _make_missing(self) -> int:
        made = 0
        for phrase in self._ahead():
            if self.speaker.kept(phrase):
                continue
            while not self._quiet():
                if self._closing.wait(0.5):
                    raise _Closing
            self._making.set()
            try:
                self.speaker.remember(phrase)
            finally:
                self._making.clear()
            made += 1
        return made

    def _quiet(self) -> bool:
        return not self._playing.locked() and self.hours.silent_for() >= WARM_WHEN_QUIET_FOR

    def explain(self, written: str, lang: str | None = None) -> list[str]:
        """``speakerd say --explain``: one tab-separated line per run of ``written`` (language, engine, words, pinyin).

        The words are what the voice is given after the reading rules; ``lang="en"`` reads ``written`` as it is.
        """
        return ["\t".join(row).rstrip("\t") for row in self.speaker.explain(reading.said(written, self.settings.max_chars, lang), lang)]

    def deliver(self, notice: Notice) -> None:
        """Chime and sentence, as the category has them; whether to speak at all was decided by the attention policy."""
        category = self._config().categories.get(notice.category)
        mode = category.announce if category else "both"
        if self.pace.follows_the_last(notice) and notice.covers and mode == "both":
            mode = "speech"  # a summary told in a run of announcements: the office listens already, its chime only costs time
        # A summary may count several categories: it has the short neutral chime, not one category's.
        chime_of, priority = (None, "normal") if notice.covers else (category, notice.priority)
        self.play(spoken_text(notice, category, self.settings.max_chars), chime_of, priority, notice.message_id, mode,
                  ids=(notice.message_id, *notice.covers), breath=self.pace.breath_for(notice))

    def play(self, spoken: str, category: Category | None, priority: str, name: str, mode: str = "both",
             ids: tuple[str, ...] = (), breath: bool = False) -> None:
        """Chime (as the category has it) then ``spoken``; returns once heard, raises OutputError if not.

        The first clause is made while the chime plays, so the first word follows the chime without a pause.
        ``ids``: the messages this announcement tells (a summary tells several), named in the log line
        that starts with ``saying`` when it starts playing. ``breath``: first wait until ``speech.pause_between``
        has passed since the last announcement ended; the first clause is made meanwhile, so on a slow board the
        breath is not followed by a second silence while the voice starts the sentence.
        """
        with self._playing:
            synthesis = Synthesis(self.speaker, spoken) if mode in ("both", "speech") else None
            try:
                if breath:
                    self.pace.breathe()
                self.sink.open(OUTPUT_RATE)
                engines = self._played(synthesis, category, priority, name, ("saying %s ids=%s: %s", name, ",".join(ids), spoken),
                                       chime=mode in ("both", "chime"), learn=breath)
            finally:
                if synthesis is not None:
                    synthesis.abandon()  # heard to the end, or failing part-way: its helper stops either way
        logger.info("spoke %s [%s]: %s", name, " ".join(engines) or mode, spoken)

    def _played(self, synthesis: Synthesis | None, category: Category | None, priority: str, name: str,
                saying: tuple[str, ...], chime: bool, learn: bool) -> list[str]:
        """Chime and sentence into the open sink, closed after; returns the engines used."""
        loudest = self.sink.volume
        if priority == "critical":
            self.sink.volume = max(loudest, self.settings.critical_volume)
        self._saying = saying
        try:
            if chime:
                self._write(np.concatenate([self._chime(category, priority), GAP]))
            return self._play_parts(synthesis) if synthesis is not None else []
        finally:
            self._saying = None
            if learn and synthesis is not None:
                self.pace.learn(synthesis.lead)
            self.sink.volume = loudest
            self.sink.close(name)
            self._spoken()
            self.pace.ended()

    def ready_in(self, notice: Notice) -> float:
        """Seconds until this output would start ``notice`` (:class:`~.pace.Pace`): dispatch decides it only then."""
        return self.pace.ready_in(notice)

    def _write(self, samples: np.ndarray) -> None:
        """To the sink; before an announcement's first samples, its ``saying`` line: it starts playing now (without a
        chime, only once its first clause is made, which on a slow board is a while after it was taken)."""
        if self._saying is not None:
            logger.info(*self._saying)
            self._saying = None
        self.sink.write(samples)

    def _chime(self, category, priority):
        choice = (category.chime if category else "") or chimes.BY_PRIORITY.get(priority, "ding")
        try:
            return chimes.chime(choice)
        except ValueError as exc:
            logger.warning("speech: %s; using the default chime", exc)
            return chimes.chime("ding")

    def _speak(self, spoken, lang=None):
        """Play clause by clause while the next is synthesised; return the engines used. A failing sink leaves
        nothing running."""
        synthesis = Synthesis(self.speaker, spoken, lang)
        try:
            return self._play_parts(synthesis)
        finally:
            synthesis.abandon()

    def _play_parts(self, synthesis: Synthesis) -> list[str]:
        """Write each part to the sink as it comes; return the engines used. Whoever made the synthesis abandons it."""
        engines: list[str] = []
        for samples, used in synthesis:
            self._write(samples)
            engines += used
        return engines

    def say(self, spoken: str, lang: str | None = None, name: str = "say") -> list[str]:
        """Speak ``spoken`` as is (the ``say`` command, replays); returns the engines used."""
        with self._playing:
            self.sink.open(OUTPUT_RATE)
            try:
                return self._speak(spoken, lang)
            finally:
                self.sink.close(name)
                self._spoken()

    def close(self) -> None:
        """Stop now: an announcement playing is cut off (it stays owed) and the voice process ends."""
        self._closing.set()
        self.hours.close()
        self._look_again.set()
        self.sink.abort()
        if self._warm.is_alive():
            self._warm.join(10)
        self.speaker.voices.close()
