"""Decides what a message is about: by its platform type, else by its words, else the fallback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.config import Category
    from speakerd.message import Message


@dataclass(frozen=True)
class Verdict:
    category: str
    reason: str  # how it was decided, kept with the message for "why did this go there?"


def type_matches(pattern: str, event_type: str) -> bool:
    """'order.*' matches 'order.paid'; anything else must be equal."""
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


class Classifier:
    """Built once per config; :meth:`classify` is a pure function of the message."""

    def __init__(self, categories: dict[str, Category], fallback: str) -> None:
        self._fallback = fallback
        self._exact = {t: cid for cid, cat in categories.items() for t in cat.types if not t.endswith(".*")}
        # Longest family first, so 'order.refund.*' beats 'order.*'.
        families = [(t, cid) for cid, cat in categories.items() for t in cat.types if t.endswith(".*")]
        self._families = sorted(families, key=lambda pair: -len(pair[0]))
        self._words = [(cid, tuple(cat.keywords), tuple(re.compile(p) for p in cat.patterns)) for cid, cat in categories.items()]

    def classify(self, message: Message) -> Verdict:
        if message.type:
            if message.type in self._exact:
                return Verdict(self._exact[message.type], f"type {message.type}")
            for pattern, cid in self._families:
                if type_matches(pattern, message.type):
                    return Verdict(cid, f"type {message.type} ~ {pattern}")
        for cid, keywords, patterns in self._words:
            for word in keywords:
                if word in message.content:
                    return Verdict(cid, f"keyword {word}")
            for regex in patterns:
                if regex.search(message.content):
                    return Verdict(cid, f"pattern {regex.pattern}")
        return Verdict(self._fallback, "fallback")
