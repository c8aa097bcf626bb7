"""The voice process itself: loads the voices and answers the daemon's requests (see :mod:`.voice_process`).

Run as ``python -m speakerd.outputs.speech.voiced SETTINGS_JSON`` by the
daemon, never by hand. Reads one JSON request per line on stdin; answers
one JSON line on stdout, followed for speech by the samples as float32 at
OUTPUT_RATE. Exits when stdin closes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

from speakerd.outputs.speech.voice_process import VoiceSettings
from speakerd.outputs.speech.voices import Voices, VoiceUnavailable


def serve(settings: VoiceSettings, requests, answers) -> None:
    """Answer requests until stdin closes: load each language's voice on first use, as Voices does."""
    voices = Voices(settings.choices, settings.cache_dir, settings.piper_files)
    for line in requests:
        request = json.loads(line)
        try:
            if request["op"] == "engine":
                answers.write(json.dumps({"engine": voices.voice(request["lang"]).name}).encode() + b"\n")
            else:
                samples, engine = voices.synthesize(request["lang"], request["text"])
                samples = np.ascontiguousarray(samples, np.float32)
                answers.write(json.dumps({"engine": engine, "samples": len(samples)}).encode() + b"\n")
                answers.write(samples.tobytes())
        except VoiceUnavailable as exc:
            answers.write(json.dumps({"unavailable": str(exc)}).encode() + b"\n")
        answers.flush()


def main(argv: list[str]) -> None:
    # The protocol gets its own copy of stdout; fd 1 becomes stderr, so a native library printing cannot corrupt it.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle; it then closes our stdin
    from speakerd.cli.common import setup_logging

    setup_logging("INFO")
    settings = VoiceSettings(**json.loads(argv[0]))
    Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    serve(settings, sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
