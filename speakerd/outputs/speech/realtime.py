"""A sound sink that keeps real time, for a device, test or demo without a sound card (``speech.device: null``).

A sound card takes samples at its own pace: a blocking write returns once all
but its buffer has been played, so an office that sends more than the hour
holds hears a growing queue. Writing WAV files as fast as they are made hides
that backlog; this sink does not. It blocks like a card with a short buffer,
on the clock it is given (a :class:`~speakerd.clock.FakeClock` in tests, which
moves on instead of waiting), and can keep each announcement as a WAV file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from speakerd.clock import SYSTEM, Clock
from speakerd.errors import OutputError
from speakerd.outputs.speech.audio import unused_name, write_wav

BUFFER = 0.1  # seconds of sound a write may run ahead of what has been played, as an ALSA period or two
STEP = 0.1  # seconds slept at a time, so that a stop cuts an announcement off at once


class RealTimeSink:
    """Same interface as :class:`~.audio.SoundCard`: ``open(rate)``, ``write(samples)``, ``close(name)``."""

    def __init__(self, keep_wav: str | Path | None = None, volume: float = 1.0, clock: Clock = SYSTEM) -> None:
        self.folder = Path(keep_wav) if keep_wav else None
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.volume = volume
        self.clock = clock
        self.played = 0.0  # seconds of sound played in all, for the benchmarks' share of time spent speaking
        self._rate = 24000
        self._ends = 0.0  # monotonic time at which what was written so far has been heard
        self._parts: list[np.ndarray] = []
        self._aborted = threading.Event()

    def open(self, rate: int) -> None:
        self._rate, self._parts = rate, []
        self._ends = self.clock.monotonic()

    def write(self, samples: np.ndarray) -> None:
        """Return once all but :data:`BUFFER` seconds of ``samples`` have been played."""
        seconds = len(samples) / self._rate
        self._ends = max(self._ends, self.clock.monotonic()) + seconds
        self.played += seconds
        if self.folder:
            self._parts.append(samples * self.volume)
        self._wait_until(self._ends - BUFFER)

    def close(self, name: str | None = None) -> None:
        """Drain (the last sample is heard before the announcement counts as told), then keep ``NAME.wav`` if asked."""
        self._wait_until(self._ends)
        if self.folder and self._parts and name:
            write_wav(unused_name(self.folder, name), np.concatenate(self._parts), self._rate)
        self._parts = []

    def abort(self) -> None:
        """From another thread, at shutdown: the write or drain under way fails, as a card closed under it would."""
        self._aborted.set()

    def _wait_until(self, moment: float) -> None:
        while (left := moment - self.clock.monotonic()) > 1e-6:  # finer than any clock's step, a FakeClock's included
            if self._aborted.is_set():
                raise OutputError("the sound stopped: the device is stopping")
            self.clock.sleep(min(left, STEP))
