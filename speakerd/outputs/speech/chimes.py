"""Chimes generated here, so their sound and their licence are ours; a user's WAV works too."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 24000


def _bell(freq, seconds, rate=RATE):
    """A struck-bell tone: a fundamental with two soft overtones and an exponential decay."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * freq * t) + 0.35 * np.sin(2 * np.pi * 2 * freq * t) + 0.12 * np.sin(2 * np.pi * 3.01 * freq * t)
    envelope = np.exp(-t * 5.5) * np.minimum(1, t / 0.004)
    return (tone * envelope / 1.5).astype(np.float32)


def _sequence(*notes, gap=0.16):
    """Notes (frequency, seconds) that start ``gap`` seconds apart and ring on."""
    length = int((gap * (len(notes) - 1) + max(s for _, s in notes)) * RATE)
    out = np.zeros(length, np.float32)
    for i, (freq, seconds) in enumerate(notes):
        start = int(i * gap * RATE)
        tone = _bell(freq, seconds)
        out[start : start + len(tone)] += tone
    return out / max(1.0, float(np.abs(out).max()) / 0.8)


CHIMES = {
    "ding": lambda: _sequence((1046.5, 0.7)),
    "dingdong": lambda: _sequence((659.3, 0.7), (523.3, 0.9), gap=0.32),
    "rising": lambda: _sequence((523.3, 0.5), (659.3, 0.5), (784.0, 0.8)),
    "alert": lambda: _sequence((880.0, 0.25), (880.0, 0.25), (880.0, 0.25), (1174.7, 0.6), gap=0.14),
    "soft": lambda: _sequence((392.0, 0.9)),
}
BY_PRIORITY = {"low": "soft", "normal": "ding", "high": "dingdong", "critical": "alert"}


def chime(name_or_path: str) -> np.ndarray:
    """Samples at RATE for a built-in chime name or a user's WAV file; raises ValueError if unusable."""
    if name_or_path in CHIMES:
        return CHIMES[name_or_path]()
    path = Path(name_or_path)
    try:
        with wave.open(str(path)) as w:
            frames, width, channels, rate = w.readframes(w.getnframes()), w.getsampwidth(), w.getnchannels(), w.getframerate()
    except (OSError, wave.Error, EOFError) as exc:
        raise ValueError(f"cannot read chime {path}: {exc}") from None
    if width != 2:
        raise ValueError(f"chime {path} must be 16-bit PCM WAV")
    samples = np.frombuffer(frames, np.int16).astype(np.float32).reshape(-1, channels).mean(axis=1) / 32768
    if rate != RATE:
        import soxr

        samples = soxr.resample(samples, rate, RATE).astype(np.float32)
    return samples
