"""Alert sounds people upload from the page: checked, converted once to the chimes' format, kept beside the database.

An upload is whatever a browser sends, so nothing of it is trusted: the
name it came with is ignored (the sound is stored under a name the person
types, letters and digits only), the bytes are decoded by libsndfile
(through soundfile) only if they are a WAV, MP3 or OGG file, and the size
and length are bounded before anything is decoded in full. The result is a
mono 16-bit WAV at the chimes' rate, written atomically, so playing it costs
nothing and a category's ``chime`` can name its path like any user's WAV.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import wave
from pathlib import Path

import numpy as np

from speakerd.errors import N_, SpeakerdError
from speakerd.outputs.speech.chimes import RATE

MAX_BYTES = 5 * 1024 * 1024
MAX_SECONDS = 10.0
FORMATS = {"WAV", "WAVEX", "MP3", "OGG"}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
FOLDER = "sounds"


class SoundError(SpeakerdError):
    """Why an upload was refused, in words for the page (a message id the page translates) and ``detail``."""

    def __init__(self, reason: str, **detail: object) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(reason % detail if detail else reason)


def folder(database: Path) -> Path:
    """Where uploaded sounds live: beside the database, in the device's state folder."""
    return Path(database).parent / FOLDER


def uploaded(where: Path) -> dict[str, Path]:
    """``{name: path}`` of the sounds uploaded so far."""
    return {p.stem: p for p in sorted(where.glob("*.wav"))} if where.is_dir() else {}


def save(where: Path, name: str, data: bytes) -> Path:
    """Check and convert ``data``; store it as ``NAME.wav``. Raises SoundError and then changes nothing."""
    if not NAME.match(name):
        raise SoundError(N_("A sound's name is 1 to 32 small letters, digits, - or _ (e.g. doorbell)."))
    if not data:
        raise SoundError(N_("No file was chosen."))
    if len(data) > MAX_BYTES:
        raise SoundError(N_("The file is larger than %(mb)d MB."), mb=MAX_BYTES // (1024 * 1024))
    samples, rate = _decode(data)
    write_wav(where / f"{name}.wav", _to_device(samples, rate))
    return where / f"{name}.wav"


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            if f.format not in FORMATS:
                raise SoundError(N_("Only WAV, MP3 and OGG sounds can be used (this is %(format)s)."), format=f.format)
            if f.frames <= 0 or f.samplerate <= 0:
                raise SoundError(N_("The file holds no sound."))
            if f.frames / f.samplerate > MAX_SECONDS:
                raise SoundError(N_("The sound lasts %(seconds).0f seconds; at most %(most).0f are allowed."),
                                 seconds=f.frames / f.samplerate, most=MAX_SECONDS)
            samples = f.read(frames=int(MAX_SECONDS * f.samplerate) + 1, dtype="float32", always_2d=True)
            rate = f.samplerate
    except SoundError:
        raise
    except Exception:  # noqa: BLE001 - libsndfile's many ways of saying "not a sound": one answer for the page
        raise SoundError(N_("This is not a WAV, MP3 or OGG sound file, or it is damaged.")) from None
    if not len(samples) or not np.isfinite(samples).all():
        raise SoundError(N_("The file holds no sound."))
    return samples, rate


def _to_device(samples: np.ndarray, rate: int) -> np.ndarray:
    mono = samples.mean(axis=1)
    if rate != RATE:
        import soxr

        mono = soxr.resample(mono, rate, RATE)
    peak = float(np.abs(mono).max()) or 1.0
    return (mono / max(1.0, peak / 0.8)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """A mono 16-bit WAV at RATE, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sound-", suffix=".wav", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
