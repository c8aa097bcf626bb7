"""Where the sound goes: the sound card through PortAudio/ALSA, or WAV files (and :mod:`.realtime` without a card)."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np

from speakerd.errors import OutputError

NO_DEVICE_HELP = ("check that a speaker is plugged in (headphone jack, HDMI or USB) and that speech.device names it; "
                  "'speakerd say --list-devices' lists the choices")


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    data = (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def unused_name(folder: Path, name: str) -> Path:
    """``NAME.wav``, or ``NAME.2.wav`` and so on when that exists: a message told twice (two departments,
    a replay) never overwrites what was heard."""
    path, n = folder / f"{name}.wav", 1
    while path.exists():
        n += 1
        path = folder / f"{name}.{n}.wav"
    return path


def list_devices() -> list[tuple[int, str, bool]]:
    """``[(index, name, default)]`` of the output devices PortAudio sees."""
    import sounddevice as sd

    default = sd.default.device[1]
    return [(i, d["name"], i == default) for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0]


class SoundCard:
    """One PortAudio stream per announcement; every PortAudio error becomes an OutputError that says what to do."""

    def __init__(self, device="default", volume=1.0) -> None:
        self.device = None if device in ("", "default") else (int(device) if device.isdigit() else device)
        self.volume = volume
        self._stream: Any = None  # a sounddevice.OutputStream while open

    def open(self, rate: int) -> None:
        try:
            import sounddevice as sd

            self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=self.device)
            self._stream.start()
        except OSError as exc:  # PortAudio itself missing
            raise OutputError(f"no audio system: {exc}; install libportaudio2") from None
        except Exception as exc:  # sounddevice.PortAudioError; ValueError for an unknown device name
            self._stream = None
            raise OutputError(f"cannot open sound device {self.device or 'default'!r}: {exc}; {NO_DEVICE_HELP}") from None

    def write(self, samples: np.ndarray) -> None:
        try:
            self._stream.write(np.ascontiguousarray(samples * self.volume, np.float32).reshape(-1, 1))
        except Exception as exc:  # noqa: BLE001 - a device unplugged while playing
            self.close()
            raise OutputError(f"sound device {self.device or 'default'!r} failed while playing: {exc}; {NO_DEVICE_HELP}") from None

    def abort(self) -> None:
        """From another thread, at shutdown: a write under way fails (the announcement stays owed)."""
        self.close()

    def close(self, name: str | None = None) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - closing a vanished device
                pass
            self._stream = None


class WavFolder:
    """Writes each announcement to a WAV file named after it: for machines without a sound card."""

    def __init__(self, folder, volume=1.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.volume = volume
        self._parts: list[np.ndarray] = []
        self._rate = 24000

    def open(self, rate: int) -> None:
        self._parts, self._rate = [], rate

    def abort(self) -> None:
        """Nothing to cut off: files are written at once."""

    def write(self, samples: np.ndarray) -> None:
        self._parts.append(samples * self.volume)

    def close(self, name: str | None = None) -> None:
        """Write ``NAME.wav`` (see :func:`unused_name`)."""
        if self._parts and name:
            write_wav(unused_name(self.folder, name), np.concatenate(self._parts), self._rate)
        self._parts = []
