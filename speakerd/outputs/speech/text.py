"""What the office hears: a message turned into a sentence that sounds right when read aloud.

Amounts are read as people say them (¥1,280.50 → 一千二百八十元五角), staff
ids and long numbers digit by digit (003号 → 零零三号), times and dates in
words; markup and emoji are dropped; shop abbreviations get a spoken form.
The result is split by script, so each run goes to its own language's voice.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.outputs import Notice

logger = logging.getLogger(__name__)
DIGITS = "零一二三四五六七八九"
ABBREVIATIONS = {"JD": "京东", "VIP": "V I P", "APP": "app", "App": "app", "POS": "P O S", "SKU": "S K U"}
CUT_NOTICE = "，详情请看屏幕"
_TAG = re.compile(r"<[^<>]{0,200}>")
_MONEY = re.compile(r"(?:[¥￥]\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?元?)|(?:(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?元)")
_STAFF = re.compile(r"(\d+)\s?号")
_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_DATE = re.compile(r"(?<!\d)(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?!\d)")
_LONG = re.compile(r"\d{5,}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9 .'&-]*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


def digits(text: str) -> str:
    return "".join(DIGITS[int(c)] for c in text if c.isdigit())


def number(n: int) -> str:
    """An integer below 10¹² in Chinese words: 1280 → 一千二百八十, 10 → 十, 2000 → 两千."""
    if n == 0:
        return "零"
    if n >= 10**8:
        return _lead(n // 10**8) + "亿" + _tail(n % 10**8, 10**7)
    if n >= 10**4:
        return _lead(n // 10**4) + "万" + _tail(n % 10**4, 10**3)
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        word = "两" if d == 2 and unit in ("千",) and not out else DIGITS[d]
        out += ("" if d == 1 and unit == "十" and not out else word) + unit
    return out


def _lead(n):
    """The count of 万 or 亿: two of them is 两万."""
    return "两" if n == 2 else number(n)


def _tail(rest, high):
    """The part after 万 or 亿: a 零 when it does not start at the next unit."""
    if rest == 0:
        return ""
    return ("零" if rest < high else "") + number(rest)


def money(whole: str, cents: str) -> str:
    """'1,280', '.50' → 一千二百八十元五角."""
    yuan = int(whole.replace(",", ""))
    jiao, fen = (int((cents or ".")[1:].ljust(2, "0")[i]) for i in (0, 1))
    text = number(yuan) + "元" if yuan or not (jiao or fen) else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        text += ("零" if yuan and not jiao else "") + DIGITS[fen] + "分"
    return text


def decimal(text: str) -> str:
    whole, _, frac = text.partition(".")
    return number(int(whole)) + ("点" + digits(frac) if frac else "")


def _time(m):
    hour, minute = int(m.group(1)), int(m.group(2))
    return f"{number(hour)}点" + ("整" if minute == 0 else ("零" if minute < 10 else "") + number(minute) + "分")


def _date(m) -> str:
    return f"{digits(m.group(1))}年{number(int(m.group(2)))}月{number(int(m.group(3)))}日"


def clean(text: str) -> str:
    """Drop markup, emoji and symbols that would be read out literally."""
    text = _TAG.sub("", text)
    kept = [c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cs", "Co", "Cc") or c in "\n"]
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def normalize(text: str) -> str:
    """Chinese text as it should be spoken; digits never reach a voice."""
    text = clean(text)
    for short, spoken in ABBREVIATIONS.items():
        text = re.sub(rf"(?<![A-Za-z]){short}(?![A-Za-z])", spoken, text)
    text = _MONEY.sub(lambda m: money(m.group(1) or m.group(3), m.group(2) or m.group(4)), text)
    text = _DATE.sub(_date, text)
    text = _TIME.sub(_time, text)
    text = _STAFF.sub(lambda m: digits(m.group(1)) + "号", text)
    text = _LONG.sub(lambda m: digits(m.group(0)), text)
    return _NUMBER.sub(lambda m: decimal(m.group(0)), text)


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending with 详情请看屏幕 when cut."""
    if len(text) <= limit:
        return text
    return text[: max(1, limit - len(CUT_NOTICE))].rstrip("，,。 ") + CUT_NOTICE


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip(" ，,。")]


def runs(sentence: str) -> list[tuple[str, str]]:
    """``[(lang, text)]``: Latin runs for the English voice, the rest for the Mandarin one."""
    out, pos = [], 0
    for m in _LATIN.finditer(sentence):
        before = sentence[pos : m.start()]
        if before.strip(" ，,。、"):
            out.append(("zh", before.strip()))
        out.append(("en", m.group(0)))
        pos = m.end()
    rest = sentence[pos:]
    if rest.strip(" ，,。、"):
        out.append(("zh", rest.strip()))
    return out


def render(template: str, notice: Notice) -> str | None:
    """Fill a category's sentence template; None when a field is missing or empty (then the default sentence is read).

    An empty field would leave a broken sentence ("，申请提现"): better the plain one. Each missing field is
    logged once per template, so a template that never fits is noticed without flooding the log.
    """
    fields = _Fields({
        "content": notice.content, "category": notice.category_name, "department": notice.department_name,
        "staff": f"{notice.staff_id}号" if notice.staff_id else "", "staff_name": notice.staff_name or "",
        "app": notice.app, "user": {"name": notice.user_name}, "data": notice.data,
    })
    try:
        return template.format_map(fields)
    except KeyError as exc:
        field = str(exc.args[0]) if exc.args else "?"
        if (template, field) not in _SAID:
            _SAID.add((template, field))
            logger.warning("speech: the template %r needs {%s}, which %s lacks; reading the default sentence", template, field, notice.message_id)
        return None
    except (AttributeError, IndexError, ValueError):
        return None


_SAID: set[tuple[str, str]] = set()


class _Fields(dict):
    """Lets a template say {data.amount} and {user.name}; a missing or empty field raises KeyError naming its path."""

    def __init__(self, values: dict, path: str = "") -> None:
        super().__init__(values)
        self._path = path

    def __missing__(self, name):
        raise KeyError(self._path + name)

    def __getitem__(self, name):
        value = super().__getitem__(name)
        if value in ("", None):
            raise KeyError(self._path + name)
        return _Fields(value, f"{self._path}{name}.") if isinstance(value, dict) else value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]


def spoken(notice: Notice, template: str | None = None, limit: int = 120) -> str:
    """The sentence for a notice: the template, else '<department><id>号，<content>'; cut to ``limit``."""
    text = render(template, notice) if template else None
    if text is None:
        who = f"{notice.department_name}{notice.staff_id}号，" if notice.staff_id else f"{notice.department_name}，"
        text = who + notice.content
    return cut(normalize(text), limit)
