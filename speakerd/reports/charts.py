"""Trend charts of a report as PNG or SVG, drawn by matplotlib without a screen or browser.

Imported only by the ``stats`` command, never by the daemon, so matplotlib
costs the device nothing while it runs.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path
from typing import Any

from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei")
TIME_KEYS = ("day", "hour", "month")


def cjk_font() -> str | None:
    """A font that has Chinese glyphs, or None (labels then fall back to ids).

    The font files are registered by path: matplotlib's font cache may predate the CJK font's
    installation, and then knows no such family, and every Chinese label would be empty boxes.
    """
    from speakerd.outputs.panel.screens import FONT_FILES

    for path in FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def draw(rows: list[dict[str, Any]], by: str, out_path: str, title: str | None = None,
         legend: tuple[str, str] = ("messages 消息", "acknowledged 已确认")) -> None:
    """Write a chart of ``rows`` (``by``, ``messages``, ``acked``: from stats.report, or an operations report's
    chart items) to ``out_path``; the suffix picks PNG or SVG."""
    font = cjk_font()
    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    labels = [_label(row, by, font) for row in rows]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    try:
        if by in TIME_KEYS:
            positions = range(len(rows))
            ax.plot(positions, [r["messages"] for r in rows], marker="o", label=legend[0])
            ax.plot(positions, [r["acked"] for r in rows], marker="o", label=legend[1])
            ax.set_xticks(list(positions), labels, rotation=45 if len(rows) > 8 else 0, ha="right" if len(rows) > 8 else "center")
            ax.legend()
        else:
            ax.barh(labels, [r["messages"] for r in rows], label=legend[0])
            ax.barh(labels, [r["acked"] for r in rows], label=legend[1])
            ax.invert_yaxis()
            ax.legend()
        ax.set_title(title or f"speakerd: messages by {by}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_path)
    finally:
        plt.close(fig)


def _label(row, by, font):
    key = str(row[by])
    if row.get("name") and font:
        return f"{row['name']} ({key})"
    return key
