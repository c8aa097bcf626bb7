"""What the 128×64 panel shows, drawn as a 1-bit image: independent of the chip that displays it.

Two screens: the latest message (category, who, how long ago, the text
scrolling two lines at a time, "+N" for a burst), and, when nothing is new,
the idle screen (clock, the platform link, what is waiting per department,
the device's address), shifted a pixel now and then against burn-in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from speakerd.message.business import is_vip, number

if TYPE_CHECKING:
    from speakerd.outputs.interface import Notice

WIDTH, HEIGHT = 128, 64
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


BURST_SCREEN_AT = 5  # messages of one category in a burst from which the panel shows their running count


@dataclass
class Tally:
    """A burst of one category counted as it arrives: the panel shows this, not a frame per order."""

    category: str = ""
    name: str = ""
    since: float = 0.0
    count: int = 0
    amount: float = 0.0
    vip: int = 0

    def add(self, notice: Notice) -> None:
        amount = number(notice.data.get("amount")) if isinstance(notice.data, dict) else None
        self.count += 1
        if amount is not None:
            self.amount += amount
        self.vip += is_vip(notice.user_tier)


@dataclass
class PanelState:
    latest: Notice | None = None  # the Notice shown
    latest_at: float = 0.0  # when it arrived (epoch seconds)
    burst: int = 0  # further messages that arrived right after it
    tally: Tally | None = None  # the burst the latest message belongs to, counted
    waiting: dict = field(default_factory=dict)  # department name -> unacknowledged count
    platform_ok: bool = True
    down_since: float | None = None
    link_name: str = "平台"  # what the device depends on: the platform, or for a speaker its hub
    address: str = ""
    muted_until: float = 0.0
    mutes: dict = field(default_factory=dict)  # 'category:ID' or 'department:ID' -> muted until (epoch seconds)
    name: str = ""  # the LAN name, NAME.local
    port: str = ""  # of the web page; '' when it is off
    hotspot: str = ""  # the Wi-Fi hotspot to join while the device has no network
    setup_code: str = ""  # the one-time code while the device is unclaimed


@lru_cache(maxsize=4)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """WenQuanYi Micro Hei (fonts-wqy-microhei), legible at 12 px; PIL's own font without it."""
    for path in FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def ago(seconds: float) -> str:
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)}分钟前"
    return f"{int(seconds // 3600)}小时前"


NO_LINE_START = set("，。！？、；：）》」』”,.!?;:)")


MAX_SHOWN = 240  # characters of a message the panel pages through (about ten screens); the web page has the rest


@lru_cache(maxsize=1)
def drawable() -> frozenset[int] | None:
    """The characters the panel's font has glyphs for (its cmap); None when it is PIL's own font."""
    from fontTools.ttLib import TTFont

    for path in FONT_FILES:
        if Path(path).exists():
            with TTFont(path, fontNumber=0, lazy=True) as face:
                return frozenset(face.getBestCmap())
    return None


def shown_text(text: str) -> str:
    """What the panel draws of ``text``: characters its font can draw (an emoji is left out, not a box), at most MAX_SHOWN."""
    glyphs = drawable()
    kept = "".join(c for c in text[: MAX_SHOWN * 2] if glyphs is None or ord(c) in glyphs or c.isspace())
    return kept if len(kept) <= MAX_SHOWN else kept[: MAX_SHOWN - 1] + "…"


@lru_cache(maxsize=64)
def wrap(text: str, width: int, face: Any) -> list[str]:
    """Lines of ``text`` no wider than ``width`` pixels; no line starts with closing punctuation.

    Cached: the panel redraws the same message every few seconds while it is the latest.
    """
    lines, line = [], ""
    for char in text.replace("\n", " "):
        if face.getlength(line + char) <= width:
            line += char
        elif char in NO_LINE_START and len(line) > 1:
            lines.append(line[:-1])  # the last character goes down with the punctuation
            line = line[-1] + char
        else:
            lines.append(line)
            line = char.lstrip()
    return lines + ([line] if line else [])


TITLE_GAP = 4  # pixels between the header's title and the age on its right


def header_title(n: Notice, width: float, face: Any) -> str:
    """'[财务] 003 王芳', cut with '…' to ``width`` pixels so it never runs into the age beside it."""
    title = shown_text(f"[{n.category_name}] {n.staff_id or ''} {n.staff_name or ''}".strip())
    if face.getlength(title) <= width:
        return title
    while title and face.getlength(title + "…") > width:
        title = title[:-1]
    return title + "…"


def burst_screen(state: PanelState, tally: Tally, now: float) -> Image.Image:
    """'[订单] 2分钟内 / 新增812笔 / 合计¥96,400 / VIP 37': a flash sale as one running count."""
    image = Image.new("1", (WIDTH, HEIGHT), 0)
    draw, small, large = ImageDraw.Draw(image), font(12), font(16)
    seconds = now - tally.since
    window = f"{int(seconds // 60) + 1}分钟内" if seconds >= 60 else f"{max(1, int(seconds))}秒内"
    draw.text((0, 0), shown_text(f"[{tally.name}] {window}"), font=small, fill=1)
    draw.line((0, 15, WIDTH, 15), fill=1)
    draw.text((0, 17), f"新增{tally.count}笔", font=large, fill=1)
    if tally.amount:
        draw.text((0, 35), f"合计¥{tally.amount:,.0f}", font=small, fill=1)
    footer = (f"VIP {tally.vip}  " if tally.vip else "") + (state.latest.department_name if state.latest else "")
    draw.text((0, 50), footer + ("  静音" if is_muted(state, state.latest, now) else ""), font=small, fill=1)
    return image


def message_screen(state: PanelState, now: float, scroll: int = 0) -> Image.Image:
    image = Image.new("1", (WIDTH, HEIGHT), 0)
    draw, small = ImageDraw.Draw(image), font(12)
    n = state.latest
    if n is None:
        return idle_screen(state, now)
    if state.tally is not None and state.tally.count >= BURST_SCREEN_AT:
        return burst_screen(state, state.tally, now)
    when = ago(now - state.latest_at)
    title = header_title(n, WIDTH - small.getlength(when) - TITLE_GAP, small)
    draw.text((0, 0), title, font=small, fill=1)
    draw.text((WIDTH - small.getlength(when), 0), when, font=small, fill=1)
    draw.line((0, 15, WIDTH, 15), fill=1)
    lines = wrap(shown_text(n.content), WIDTH, small)
    start = (scroll * 2) % max(1, len(lines)) if len(lines) > 2 else 0
    for i, line in enumerate(lines[start : start + 2]):
        draw.text((0, 17 + i * 15), line, font=small, fill=1)
    footer = n.department_name + ("  静音" if is_muted(state, n, now) else "")
    draw.text((0, 50), footer, font=small, fill=1)
    if state.burst:
        more = f"+{state.burst}条"
        draw.text((WIDTH - small.getlength(more), 50), more, font=small, fill=1)
    return image


def is_muted(state: PanelState, notice: Notice | None, now: float) -> bool:
    """Whether what ``notice`` is about is silent now: everything snoozed, or its category or department muted."""
    if state.muted_until > now:
        return True
    keys = (f"category:{notice.category}", f"department:{notice.department}") if notice else ()
    return any(state.mutes.get(key, 0) > now for key in keys)


def waiting_line(waiting: dict[str, int], width: int, face: Any) -> str:
    """'订单5 财务2 …': the busiest departments first, as many as fit."""
    items = [f"{name[:2]}{count}" for name, count in sorted(waiting.items(), key=lambda kv: -kv[1]) if count]
    if not items:
        return "无待处理"
    line = items[0]
    for item in items[1:]:
        if face.getlength(f"{line} {item}") > width:
            break
        line = f"{line} {item}"
    return line


def idle_screen(state: PanelState, now: float, shift: tuple[int, int] = (0, 0)) -> Image.Image:
    image = Image.new("1", (WIDTH, HEIGHT), 0)
    draw, small, big = ImageDraw.Draw(image), font(12), font(20)
    dx, dy = shift
    draw.text((dx, dy - 2), time.strftime("%H:%M", time.localtime(now)), font=big, fill=1)
    if state.muted_until > now:
        draw.text((dx + 70, dy + 4), "静音", font=small, fill=1)
    elif any(until > now for until in state.mutes.values()):
        draw.text((dx + 70, dy + 4), "部分静音", font=small, fill=1)
    if state.platform_ok:
        link = f"{state.link_name} 正常"
    else:
        link = f"{state.link_name} 断开 " + (time.strftime("%H:%M起", time.localtime(state.down_since)) if state.down_since else "")
    draw.text((dx, dy + 21), link, font=small, fill=1)
    draw.text((dx, dy + 35), waiting_line(state.waiting, WIDTH - 2, small), font=small, fill=1)
    draw.text((dx, dy + 49), where_line(state, now), font=small, fill=1)
    return image


def where_line(state: PanelState, now: float) -> str:
    """Where to find the device: the hotspot to join, else its name and its address by turns (ten seconds each)."""
    if state.hotspot:
        return f"连WiFi {state.hotspot}"
    if not state.address:
        return "无网络"
    port = _port(state)
    return f"{state.name}{port}" if state.name and int(now // 10) % 2 == 0 else f"{state.address}{port}"


def _port(state: PanelState) -> str:
    """':8080' after the name or address, unless the page is on the browser's own port (80) or off."""
    return f":{state.port}" if state.port and state.port != "80" else ""


def setup_screen(state: PanelState) -> Image.Image:
    """An unclaimed device: where its page is, and the code the page asks for."""
    image = Image.new("1", (WIDTH, HEIGHT), 0)
    draw, small, big = ImageDraw.Draw(image), font(12), font(20)
    port = _port(state)
    draw.text((0, -1), "设置：浏览器打开", font=small, fill=1)
    if state.hotspot:
        draw.text((0, 13), f"先连WiFi {state.hotspot}", font=small, fill=1)
        draw.text((0, 27), "再选办公室的WiFi", font=small, fill=1)
    else:
        draw.text((0, 13), f"{state.name}{port}", font=small, fill=1)
        draw.text((0, 27), f"{state.address}{port}" if state.address else "无网络", font=small, fill=1)
    draw.text((0, 46), "代码", font=small, fill=1)
    draw.text((30, 40), state.setup_code, font=big, fill=1)
    return image


def frame(state: PanelState, now: float, scroll: int = 0, recent: float = 600.0) -> Image.Image:
    """The screen for now: the latest message for ten minutes or until acknowledged, else the idle screen."""
    if state.latest is not None and now - state.latest_at < recent:
        return message_screen(state, now, scroll)
    if state.setup_code:
        return setup_screen(state)
    minute = int(now // 60)
    return idle_screen(state, now, shift=(minute % 2, (minute // 2) % 2))


def enlarged(image: Image.Image, scale: int = 4) -> Image.Image:
    """The panel's picture as a person can read it: white on black, each pixel a block."""
    return image.convert("L").resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
