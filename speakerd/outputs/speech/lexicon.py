"""pypinyin's phrase table, held compactly: the largest part of the Mandarin front end's memory.

pypinyin decodes its table of 47,000 phrases from JSON into a list of
one-syllable lists per phrase, every syllable a string of its own: about
35 MiB in the voice process, which has to stay small beside a neural voice.
Read here with each syllable list made once and shared by every phrase that
has it (pypinyin copies what it looks up before changing it), the same table
holds a third of that. It must be read before pypinyin is first imported:
afterwards, or if pypinyin's file no longer reads as expected, pypinyin's own
table is used, with a log line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from importlib import resources

logger = logging.getLogger(__name__)

MIN_PHRASES = 10_000  # fewer read means the file's form has changed: pypinyin's own reading is safer
_ENTRY = re.compile(r'"([^"\\]+)"\s*:\s*\[((?:\s*\[[^\[\]]*\]\s*,?)*)\s*\]')
_GROUP = re.compile(r"\[([^\[\]]*)\]")
_SYLLABLE = re.compile(r'"([^"\\]*)"')
_WITHOUT_TABLE = {"PYPINYIN_NO_PHRASES": "1", "PYPINYIN_NO_DICT_COPY": "1"}  # pypinyin's own switches


def compact(source: str) -> dict[str, list[list[str]]]:
    """``{phrase: [[syllable, …], …]}`` from pypinyin's phrases_dict.json, each syllable list made once."""
    shared: dict[tuple[str, ...], list[str]] = {}
    table = {}
    for entry in _ENTRY.finditer(source):
        groups = []
        for group in _GROUP.finditer(entry.group(2)):
            syllables = tuple(_SYLLABLE.findall(group.group(1)))
            if syllables not in shared:
                shared[syllables] = list(syllables)
            groups.append(shared[syllables])
        table[entry.group(1)] = groups
    return table


def load() -> None:
    """Import pypinyin without its phrase table, then give it the compact one (once per process)."""
    if "pypinyin" in sys.modules:
        return
    saved = {name: os.environ.get(name) for name in _WITHOUT_TABLE}
    os.environ.update(_WITHOUT_TABLE)
    try:
        import pypinyin
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    pypinyin.load_phrases_dict(table(_source()))


def table(source: str) -> dict[str, list[list[str]]]:
    """The compact table, or pypinyin's own when ``source`` does not read as its phrase table."""
    found = compact(source)
    if len(found) >= MIN_PHRASES:
        return found
    logger.warning("speech: pypinyin's phrase table did not read as expected (%d phrases); using pypinyin's own", len(found))
    from pypinyin.phrases_dict import phrases_dict

    return phrases_dict


def _source() -> str:
    try:
        return (resources.files("pypinyin") / "phrases_dict.json").read_text(encoding="utf-8")
    except OSError:
        return ""
