"""The speech output: the category's chime, then one clear sentence, in the office.

One announcement at a time, most urgent first: the dispatcher hands this
output one notice at a time in priority order, so a critical message jumps
the queue but never cuts a sentence in half. Sentences are synthesised on a
helper thread while the one before is playing, so the first is heard while
the rest is still being made. Fixed phrases (technical alerts, recovery)
are synthesised at start-up and kept on disk: they play at once, and still
play when synthesis fails. ``deliver`` returns once the sound has played, so
the outbox records an announcement as done only when it was heard.

Before speaking, the output decides whether to speak at all: nothing while
snoozed or in quiet hours (critical categories excepted; held ones are
summarised later by :mod:`speakerd.followup`), and one summary instead of a
burst (see :meth:`SpeechOutput._summarise`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import queue
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from speakerd import quiet
from speakerd import store as store_mod
from speakerd.errors import Deferred, OutputError
from speakerd.speech import audio, chimes, text
from speakerd.speech.voices import OUTPUT_RATE, Voices, VoiceUnavailable

logger = logging.getLogger(__name__)

GAP = np.zeros(int(0.12 * OUTPUT_RATE), np.float32)


def fixed_phrases():
    """What technical alerts and recoveries say: known in advance, so synthesised once."""
    from speakerd.health import KIND_TEXT, subject_words

    phrases = [alert_phrase(what, todo) for what, todo in KIND_TEXT.values()]
    phrases += [f"{subject_words(s)}已恢复正常。" for s in ("platform", "disk", "database")]
    return phrases


def alert_phrase(what, todo):
    """A technical alert as spoken: the bracketed detail is for the screen, not the ear."""
    return f"技术告警，{re.sub(r'（[^）]*）', '', what)}，{todo}。"


def spoken_text(notice, category, limit):
    """The sentence for a notice; technical notices use their fixed phrase."""
    if notice.type.startswith("tech.") and notice.data.get("kind"):
        from speakerd.health import KIND_TEXT, subject_words

        if notice.type.endswith(".recovered"):
            return f"{subject_words(notice.data.get('subject', ''))}已恢复正常。"
        what, todo = KIND_TEXT.get(notice.data["kind"], (notice.content, ""))
        return alert_phrase(what, todo)
    return text.spoken(notice, category.speech if category else None, limit)


class Speaker:
    """Text to samples at OUTPUT_RATE: sentence by sentence, each script run by its language's voice."""

    def __init__(self, settings, cache_dir):
        choices = settings.voices
        self.voices = Voices({"zh": choices.zh, "en": choices.en}, cache_dir,
                             {"zh": choices.zh_piper, "en": choices.en_piper})
        self._phrases = Path(cache_dir) / "phrases"
        self._key = f"{choices.zh}|{choices.en}|{choices.zh_piper}|{choices.en_piper}"

    def sentence(self, sentence, lang=None):
        """``(samples, engines)`` for one sentence; cached phrases come from disk."""
        cached = self._cache_path(sentence)
        if cached.exists():
            return _read_wav(cached), ["cache"]
        parts, engines = [], []
        for run_lang, run in ([(lang, sentence)] if lang else text.runs(sentence)):
            samples, engine = self.voices.synthesize(run_lang, run)
            parts.append(samples)
            engines.append(f"{run_lang}:{engine}")
        return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), engines

    def sentences(self, spoken, lang=None):
        return [spoken] if lang == "en" else text.sentences(spoken)

    def remember(self, phrase):
        """Synthesise ``phrase`` once and keep it on disk."""
        path = self._cache_path(phrase)
        if not path.exists():
            samples, _ = self.sentence(phrase)
            path.parent.mkdir(parents=True, exist_ok=True)
            audio.write_wav(path.with_suffix(".tmp"), samples, OUTPUT_RATE)
            path.with_suffix(".tmp").replace(path)

    def _cache_path(self, phrase):
        return self._phrases / (hashlib.sha256(f"{self._key}|{phrase}".encode()).hexdigest()[:24] + ".wav")


def burst_sentence(burst, category, datas, seconds):
    """'过去1分钟新增订单48笔，合计23560元', normalised for speaking."""
    window = f"{max(1, math.ceil(seconds / 60))}分钟" if seconds >= 30 else f"{max(1, round(seconds))}秒"
    sentence = burst.text.format_map({"window": window, "name": category.name, "count": len(datas)})
    amounts = [d.get("amount") for d in datas if isinstance(d.get("amount"), (int, float)) and not isinstance(d.get("amount"), bool)]
    if amounts:
        sentence += f"，合计{sum(amounts):.2f}元"
    return text.normalize(sentence)


def _read_wav(path):
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


def make_sink(settings):
    if settings.device.startswith("wav:"):
        return audio.WavFolder(settings.device[4:], settings.volume)
    return audio.SoundCard(settings.device, settings.volume)


class SpeechOutput:
    name = "speech"

    def __init__(self, settings, current_config, cache_dir, warm=True, store=None):
        self.settings = settings
        self._config = current_config
        self._store = store
        self.speaker = Speaker(settings, cache_dir)
        self.sink = make_sink(settings)
        self._playing = threading.Lock()  # the outbox worker, replays and reminders share one speaker
        self._last_spoke = time.monotonic()
        self._closing = threading.Event()
        if settings.unload_after:
            threading.Thread(target=self._unload_when_idle, name="speech-idle", daemon=True).start()
        self._warm = threading.Thread(target=self._remember_fixed_phrases, name="speech-warm", daemon=True)
        if warm:
            self._warm.start()

    def _remember_fixed_phrases(self):
        try:
            for phrase in fixed_phrases():
                self.speaker.remember(phrase)
            logger.info("speech: %d fixed phrases ready", len(fixed_phrases()))
        except Exception as exc:  # noqa: BLE001 - they are then synthesised when needed
            logger.warning("speech: fixed phrases not prepared: %s", exc)

    @property
    def muted_until(self):
        """Epoch seconds until which speech is snoozed (kept in the store, so a restart keeps it)."""
        return self._store.snoozed_until() if self._store else 0.0

    def deliver(self, notice):
        category = self._config().categories.get(notice.category)
        mode = category.announce if category else "both"
        if mode == "none" or self._stale(notice) or self._held_back(notice, category):
            return
        summary, grouped = self._summarise(notice, category)
        try:
            self.play(summary or spoken_text(notice, category, self.settings.max_chars), category, notice.priority, notice.message_id, mode)
        except BaseException:
            if grouped:
                self._store.give_back(grouped)
            raise
        if grouped:
            self._store.finish_grouped(grouped, notice.message_id)

    def play(self, spoken, category, priority, name, mode="both"):
        """Chime (as the category has it) then ``spoken``; returns once heard, raises OutputError if not."""
        with self._playing:
            self.sink.open(OUTPUT_RATE)
            loudest = self.sink.volume
            if priority == "critical":
                self.sink.volume = max(loudest, self.settings.critical_volume)
            try:
                if mode in ("both", "chime"):
                    self.sink.write(np.concatenate([self._chime(category, priority), GAP]))
                engines = self._speak(spoken) if mode in ("both", "speech") else []
            finally:
                self.sink.volume = loudest
                self.sink.close(name)
                self._last_spoke = time.monotonic()
        logger.info("spoke %s [%s]: %s", name, " ".join(engines) or mode, spoken)

    def _unload_when_idle(self):
        limit = self.settings.unload_after * 60
        while not self._closing.wait(min(30.0, limit / 4)):
            if self.speaker.voices.loaded and time.monotonic() - self._last_spoke > limit and not self._warm.is_alive():
                with self._playing:
                    if self.speaker.voices.unload():
                        logger.info("speech: voices unloaded after %g min without speaking", self.settings.unload_after)

    def _held_back(self, notice, category):
        """Snoozed or quiet hours: not spoken now (critical messages always are)."""
        if notice.priority == "critical":
            return False
        if store_mod.now().timestamp() < self.muted_until:
            logger.info("not announcing %s: speech is snoozed", notice.message_id)
            return True
        if quiet.holds(category, self.settings, store_mod.now()):
            if self._store:
                self._store.hold(notice.message_id, notice.category)
            logger.info("not announcing %s now: quiet hours (%s)", notice.message_id, quiet.span_of(category, self.settings))
            return True
        return False

    def _summarise(self, notice, category):
        """``(sentence, other jobs)`` for a burst of ``category``, or ``(None, [])`` to announce ``notice`` alone.

        A message of a category with a burst threshold first waits
        ``group_wait`` seconds (raising Deferred), like Alertmanager's
        group_wait; then, if enough of its category are owed to this output,
        they are all taken under way with it and told in one summary.
        """
        burst = category.burst if category else None
        if not (burst and burst.threshold and self._store and notice.received_at) or notice.type.startswith(("tech.", "speakerd.")):
            return None, []
        received = datetime.fromisoformat(notice.received_at).timestamp()
        now = store_mod.now()
        if now.timestamp() < received + burst.group_wait:
            raise Deferred(received + burst.group_wait, "grouping wait")
        group = self._store.pending_of_category(self.name, notice.category, store_mod.iso(now))
        if len(group) + 1 < burst.threshold:
            return None, []
        jobs = [job for job, _ in group]
        self._store.take(jobs)
        logger.info("speech: %d %s messages told in one summary with %s", len(group) + 1, notice.category, notice.message_id)
        return burst_sentence(burst, category, [notice.data] + [data for _, data in group], now.timestamp() - received), jobs

    def _stale(self, notice):
        """Whether the announcement waited so long (a speaker was missing) that it is better left unsaid."""
        limit = self.settings.stale_after
        if not limit or not notice.received_at:
            return False
        waited = (store_mod.now() - datetime.fromisoformat(notice.received_at)).total_seconds() / 60
        if waited <= limit:
            return False
        logger.info("not announcing %s: it waited %d min (speech.stale_after is %d)", notice.message_id, waited, limit)
        return True

    def _chime(self, category, priority):
        choice = (category.chime if category else "") or chimes.BY_PRIORITY.get(priority, "ding")
        try:
            return chimes.chime(choice)
        except ValueError as exc:
            logger.warning("speech: %s; using the default chime", exc)
            return chimes.chime("ding")

    def _speak(self, spoken, lang=None):
        """Play sentence by sentence while the next is synthesised; return the engines used."""
        ready = queue.Queue(maxsize=2)

        def produce():
            try:
                for sentence in self.speaker.sentences(spoken, lang):
                    ready.put(self.speaker.sentence(sentence, lang))
            except VoiceUnavailable as exc:
                ready.put(OutputError(f"no voice can speak: {exc}"))
            except Exception as exc:  # noqa: BLE001
                ready.put(OutputError(f"speech synthesis failed: {exc}"))
            ready.put(None)

        threading.Thread(target=produce, name="speech-synth", daemon=True).start()
        engines = []
        while (item := ready.get()) is not None:
            if isinstance(item, OutputError):
                raise item
            samples, used = item
            self.sink.write(np.concatenate([samples, GAP]))
            engines += used
        return engines

    def say(self, spoken, lang=None, name="say"):
        """Speak ``spoken`` as is (the ``say`` command, replays); returns the engines used."""
        with self._playing:
            self.sink.open(OUTPUT_RATE)
            try:
                return self._speak(spoken, lang)
            finally:
                self.sink.close(name)
                self._last_spoke = time.monotonic()

    def close(self):
        self._closing.set()
        if self._warm.is_alive():
            self._warm.join(10)  # native code must not be running when the process ends
