"""Each person's opening clause ("订单部零零一号，"), known from the config, made ahead of time and kept.

Nearly every sentence opens with the department and the person's number.
On a Pi 4 that first clause takes longer to make than the chime takes to
play, so the office heard the chime, then silence, then the words. Made
while the device is quiet and kept on disk beside the fixed phrases, it
plays from the disk the moment the chime ends while the rest of the
sentence is made.

An opening is what a sentence says before anything of the message itself:
the default sentence's "<department><number>号，", and a category template's
text up to its first clause end when only the department and the person
come before it. A template that opens with the message
("{content}，请处理", "{user.name}…") has none. At play time the kept clause is
used only when it is exactly the sentence's first clause, so a reading rule
that reads an opening otherwise in some sentence costs a cache miss, never a
wrong word.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from speakerd.outputs.speech import reading
from speakerd.outputs.speech.clauses import clauses

if TYPE_CHECKING:
    from speakerd.config import Config

KNOWN = frozenset({"department", "staff", "staff_name"})  # template fields that are no part of the message
CLAUSE_ENDS = "，、；：。！？,;:"


def openings(cfg: Config, limit: int) -> list[str]:
    """The opening clause of every sentence a person of this config may be told, each once."""
    found: dict[str, None] = {}
    templates = [c.speech for c in cfg.categories.values() if c.speech]
    for _, dep in cfg.departments().values():
        for person in [*dep.staff, None]:
            values = {"department": dep.name, "staff": f"{person.id}号" if person else "", "staff_name": person.name if person else ""}
            plain = f"{dep.name}{person.id}号，" if person else f"{dep.name}，"
            for text in [plain, *(_before_the_message(t, values) for t in templates)]:
                clause = _complete_first_clause(reading.said(text, limit)) if text else None
                if clause:
                    found[clause] = None
    return list(found)


def _before_the_message(template: str, values: dict[str, str]) -> str | None:
    """The template's text before its first field that is part of the message; None when a field it needs is empty."""
    said = []
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            said.append(literal)
            if field is None or field not in KNOWN or spec or conversion:
                break
            if not values[field]:
                return None  # read as the default sentence, whose opening is counted already
            said.append(values[field])
    except ValueError:
        return None
    return "".join(said)


def _complete_first_clause(text: str) -> str | None:
    runs = reading.runs(text)
    if not runs or runs[0][0] != "zh":
        return None
    first = clauses(runs[0][1])[0]
    return first if first[-1] in CLAUSE_ENDS and runs[0][1].startswith(first) else None


def first_clause(sentence: str) -> str | None:
    """The first clause of a sentence's Mandarin opening, or None when it opens otherwise or is one clause only."""
    runs = reading.runs(reading.sentences(sentence)[0]) if sentence else []
    if not runs or runs[0][0] != "zh":
        return None
    parts = clauses(runs[0][1])
    return parts[0] if len(parts) > 1 or len(runs) > 1 else None
