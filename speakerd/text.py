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


def table(rows: list[dict[str, Any]], columns: list[str], max_width: int = 40) -> str:
    """Rows of dicts as aligned columns; None shows as '-'."""
    cells = [[clip(" ".join(str("-" if r.get(c) is None else r[c]).split()), max_width) for c in columns] for r in rows]
    widths = [max([width(c)] + [width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = [columns] + cells
    return "\n".join("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(line, widths)).rstrip() for line in lines)
