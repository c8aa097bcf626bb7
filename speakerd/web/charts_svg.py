"""Trend charts for the web page as plain SVG markup.

The daemon serves the page, and matplotlib costs it tens of megabytes and a
second of start-up for a few bars; the CLI's ``stats --chart`` keeps using
it for PNG and SVG files. Labels are escaped: they come from config names.
"""

from __future__ import annotations

from html import escape

from flask_babel import gettext

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 40, 54, 14


def bars(items: list[tuple[str, int, int]], legend: tuple[str, str] | None = None) -> str:
    """``[(label, total, part)]`` → an SVG bar chart (the part darker); '' when empty.

    The part is the acknowledged messages unless ``legend`` names the whole and the part (operations reports).
    """
    if not items:
        return ""
    peak = max(total for _, total, _ in items) or 1
    step = (WIDTH - LEFT) / len(items)
    width = max(2.0, step * 0.7)
    plot = HEIGHT - BOTTOM - TOP
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(gettext("Trend chart"))}" xmlns="http://www.w3.org/2000/svg">']
    for fraction in (0, 0.5, 1):
        y = TOP + plot * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">{round(peak * fraction)}</text>')
    for i, (label, total, acked) in enumerate(items):
        x = LEFT + i * step + (step - width) / 2
        h_total, h_acked = plot * total / peak, plot * acked / peak
        parts.append(f'<rect x="{x:.1f}" y="{TOP + plot - h_total:.1f}" width="{width:.1f}" height="{h_total:.1f}" class="total">'
                     f'<title>{escape(_tip(label, total, acked, legend))}</title></rect>')
        parts.append(f'<rect x="{x:.1f}" y="{TOP + plot - h_acked:.1f}" width="{width:.1f}" height="{h_acked:.1f}" class="acked"/>')
        if len(items) <= 31:
            parts.append(f'<text x="{x + width / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" class="axis" text-anchor="end"'
                         f' transform="rotate(-40 {x + width / 2:.1f} {HEIGHT - BOTTOM + 14})">{escape(label[-12:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _tip(label: str, total: int, part: int, legend: tuple[str, str] | None) -> str:
    if legend is None:
        return gettext("%(label)s: %(total)s messages, %(acked)s acknowledged", label=label, total=total, acked=part)
    return f"{label}: {legend[0]} {total}, {legend[1]} {part}"
