"""Plain-text tables that line up with Chinese text, whose characters take two columns."""

from __future__ import annotations

import unicodedata
from typing import Any


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clip(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` wide, with … when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for c in text:
        w = width(c)
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def escaped(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every unprintable character (controls, ESC, bidi overrides) written as an escape like \\x1b,
    so that data can neither drive the terminal nor disguise itself."""
    return "".join(c if c.isprintable() or (keep_newlines and c == "\n") else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def table(rows: list[dict[str, Any]], columns: list[str], max_width: int = 40) -> str:
    """Rows of dicts as aligned columns; None shows as '-'; unprintable characters are escaped."""
    cells = [[clip(escaped(" ".join(str("-" if r.get(c) is None else r[c]).split())), max_width) for c in columns] for r in rows]
    widths = [max([width(c)] + [width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = [columns] + cells
    return "\n".join("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(line, widths)).rstrip() for line in lines)
