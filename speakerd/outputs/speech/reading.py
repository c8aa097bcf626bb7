"""What the office hears: a message turned into a sentence that sounds right when read aloud.

Amounts and quantities are read as people say them (¥1,280.50 →
一千二百八十元五角, 库存12000件 → 一万两千件, 2万 → 两万, 2条 → 两条, 12.5% →
百分之十二点五); identifiers digit by digit, by their label or their form
(工号003 → 工号零零三, 订单号2024…, long numbers without a unit, SO2024… →
S O 二零二四…); phone numbers in their groups with pauses, a masked one as
its ends (138****5678 → 一三八，尾号五六七八); times (with seconds), dates
(with or without a year) in words, a year digit by digit (2026年 →
二零二六年); capitals spelled (API → A P I), the platforms by their Chinese
names (PDD → 拼多多); 第2 stays 第二; markup and emoji are dropped; shop
abbreviations get a spoken form. docs/speech.md lists the rules.
The result is split by script, so each run goes to its own language's voice.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING

from speakerd.outputs.speech import brands, symbols
from speakerd.outputs.speech.numbers import decimal, digits, money, number, quantity

if TYPE_CHECKING:
    from speakerd.outputs.interface import Notice

logger = logging.getLogger(__name__)
# Platforms by the names the office says; other capitals are spelled out (_ACRONYM).
ABBREVIATIONS = {"JD": "京东", "PDD": "拼多多", "Tmall": "天猫", "TMall": "天猫", "Taobao": "淘宝", "WeChat": "微信",
                 "Wechat": "微信", "APP": "app", "App": "app"}
CUT_NOTICE = "，详情请看屏幕"
_TAG = re.compile(r"<[^<>]{0,200}>")
_MONEY = re.compile(r"(?:[¥￥]\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?元?)|(?:(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s?元)")
_STAFF = re.compile(r"(\d+)\s?号")
# A number after one of these labels is an identifier: read digit by digit, whatever its length.
_LABELLED = re.compile(r"((?:工号|编号|订单号|单号|运单号|快递单号|流水号|交易号|手机号?|电话|尾号|验证码|卡号|会员号|账号|房号|批次)\s?(?:[：:#]|为|是)?\s?)(\d[\d\s-]*\d|\d)")
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}|400[-\s]?\d{3}[-\s]?\d{4}|0\d{2,3}-\d{7,8})(?!\d)")
_MASKED = re.compile(r"(?<!\d)(\d{3,4})\*{3,}(\d{3,4})(?!\d)")
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,4})(\d{4,}|0\d{2,})(?![A-Za-z0-9])")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?[%％]")
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?:[:：]([0-5]\d))?(?!\d)整?")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?=\s?年)")
_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z0-9])")
_DATE = re.compile(r"(?<!\d)(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})[日号]?(?!\d)")
_MONTH_DAY = re.compile(r"(?<![\d-])(1[0-2]|0?[1-9])(?:-|月)(3[01]|[12]\d|0?[1-9])(?:日|号)?(?![\d-])")
_SEPARATED = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![\d,])")
_MYRIAD = re.compile(r"(\d+(?:\.\d+)?)\s?([万亿])")
_FINE_MONEY = re.compile(r"(?P<sign>[¥￥]\s?)?(?P<n>\d+\.\d{3,})(?(sign)|(?=\s?元))")  # more than cents: ¥7.000000000000001
_QUANTITY = re.compile(r"(\d{5,})(?=\s?(?:件|个|单|笔|人|次|份|台|箱|瓶|袋|张|位|条|元|块|斤|克|米|积分|分钟|秒|天))")
_LONG = re.compile(r"\d{5,}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_TWO = re.compile(r"(?<![\d.第])2(?=\s?(?:条|个|笔|件|位|次|份|单|人|台|箱|瓶|袋|张|天|小时|分钟|种|家|项|千克|克|斤|升|毫升|米|双|杯|盒|包|周|套)(?!\d))")
# What changes the meaning when misread (docs/speech.md): a minus sign, a range, a tail number after 为.
_NEGATIVE = re.compile(r"(?<![A-Za-z0-9])[-−－](?=\s?(?:[¥￥$€£]|[A-Z]{1,2}\$|[A-Z]{3})?\d)")
_TIME_RANGE = re.compile(r"(?<!\d)((?:[01]?\d|2[0-3])[:：][0-5]\d)\s?[-~～—–至]\s?((?:[01]?\d|2[0-3])[:：][0-5]\d)(?!\d)")
_RANGE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?[-~～至]\s?(\d+(?:\.\d+)?)(?=\s?(?:天|件|个|单|笔|人|次|份|台|箱|瓶|袋|张|位|条|元|块|斤|克|千克|小时|分钟|秒|周|年|折|%|％|摄氏度|度))")
# 2008-08, 2008/08, 2008.08: a year and its month (not an amount: no ¥ before, no 元 after).
_YEAR_MONTH = re.compile(r"(?<![\d.¥￥$/-])((?:19|20)\d{2})[-/.](1[0-2]|0?[1-9])(?![\d./-]|\s?[元块])")
# 08/08, 12/25, 08.08: a month (two digits) and a day (8.08 and 1/2 stay a number and a fraction).
_PADDED_MONTH_DAY = re.compile(r"(?<![\d./¥￥$])(0[1-9]|1[0-2])[./](0[1-9]|[12]\d|3[01])(?![\d./]|\s?[元块])")
_DOTTED_DATE = re.compile(r"(?<![\d.])(\d{4})\.(1[0-2]|0?[1-9])\.(3[01]|[12]\d|0?[1-9])(?![\d.])")
_FESTIVALS = ((re.compile(r"(?<![\d.])11\.11(?![\d.])"), "双十一"), (re.compile(r"(?<![\d.])12\.12(?![\d.])"), "双十二"),
              (re.compile(r"(?<![\d.])(?:6\.18|618)(?=\s?(?:大促|活动|购物节|年中|当天|期间|狂欢|预售))"), "六一八"))
_PER = re.compile(r"(?<=[元角分\d])\s?/\s?(?=[\u4e00-\u9fff])")
_READ_AS_DIGITS = re.compile(r"(?<!\d)(\d{3,5}(?=[室房])|\d{4}(?=年?款)|\d0(?=后))")
# A day of the month said with 号 (20号发货), where 号 after a number is otherwise a staff or seat number (003号).
_DAY_HAO = re.compile(r"(?<![\d号.])(3[01]|[12]\d|[1-9])号(?=(?:发货|到货|前|之前|以前|以后|之后|当天|上午|下午|晚上|中午|早上|凌晨|开始|"
                      r"截止|结束|生效|到期|送达|发出|出库|左右|下单|付款|签收|揽收|的订单|零点|[0-9]{1,2}[:：点]))")
_DEGREES = re.compile(r"\s?(?:°C|℃)")  # before clean(), which drops symbols such as °
_IP = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")  # 127.0.0.1: digit by digit, 点 between
# 08-2008, 08/2008: a month and its year.
_MONTH_YEAR = re.compile(r"(?<![\d./-])(0[1-9]|1[0-2])[-/.]((?:19|20)\d{2})(?![\d./-])")
_FULL_WIDTH = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)}
_ERHUA = re.compile(r"([这那哪])儿(?!子|女|童|科|歌|孙)")
_NUMBERED_PLACE = re.compile(r"(?<!\d)(\d+)(?=号(?:楼|门|线|店|馆|厅|库))")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9 .'&-]*[A-Za-z0-9]|[A-Za-z]")
_SPELLED = re.compile(r"[A-Z](?: [A-Z])*")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_WORD_CHAR = re.compile(r"[A-Za-z0-9'’]")
_PART_WORD = re.compile(_WORD_CHAR.pattern + "+$")


def _clock(m):
    hour, minute, second = int(m.group(1)), int(m.group(2)), m.group(3)
    said = ("两" if hour == 2 else number(hour)) + "点" + ("整" if minute == 0 and not second else ("零" if 0 < minute < 10 else "") + number(minute) + "分")
    if second:
        said += ("零" if int(second) < 10 and int(second) else "") + number(int(second)) + "秒"
    return said


def _grouped(text: str) -> str:
    """A phone number read in its groups, with a pause between them: 138-1234-5678 → 一三八，一二三四，五六七八."""
    bare = re.sub(r"\D", "", text)
    groups = re.split(r"[-\s]", text) if re.search(r"[-\s]", text) else (
        [bare[:3], bare[3:7], bare[7:]] if len(bare) == 11 else [bare[:3], bare[3:6], bare[6:]] if len(bare) == 10 else [bare])
    return "，".join(digits(g) for g in groups if g)


def _labelled(m) -> str:
    """An identifier after its label, digit by digit; a phone number in its groups. 为 and 是 stay: 尾号为〇〇八八."""
    label = m.group(1).rstrip("：:# ")
    return label + (_grouped(m.group(2)) if label.startswith(("手机", "电话")) else digits(m.group(2)))


def _date(m) -> str:
    return f"{digits(m.group(1))}年{number(int(m.group(2)))}月{number(int(m.group(3)))}日"


def _myriad(m) -> str:
    whole, _, frac = m.group(1).partition(".")
    head = "两" if whole == "2" else number(int(whole))
    return head + ("点" + digits(frac) if frac else "") + m.group(2)


def clean(text: str) -> str:
    """Drop markup, emoji and symbols that would be read out literally."""
    text = _TAG.sub("", text)
    kept = [c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cs", "Co", "Cc") or c in "\n"]
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def _to_cents(m: re.Match) -> str:
    """'7.000000000000001元' (a float the platform printed whole) → '7元': money is read to the cent."""
    cents = round(float(m["n"]) * 100)
    return f"{m['sign'] or ''}{cents // 100}" + (f".{cents % 100:02d}".rstrip("0") if cents % 100 else "")


def normalize(text: str) -> str:
    """Chinese text as it should be spoken; digits never reach a voice."""
    text = clean(_DEGREES.sub("摄氏度", text)).translate(_FULL_WIDTH)  # ＡＢＣ１２ were dropped or read as symbols
    text = brands.say(text)
    text = _ERHUA.sub(r"\1里", text)  # 这儿 read with a separate 儿 (er) by the voices
    for short, spoken in ABBREVIATIONS.items():
        text = re.sub(rf"(?<![A-Za-z]){short}(?![A-Za-z])", spoken, text)
    text = _before_money(text)
    text = _FINE_MONEY.sub(_to_cents, text)
    text = _MONEY.sub(lambda m: money(m.group(1) or m.group(3), m.group(2) or m.group(4)), text)
    text = _PER.sub("每", text)
    text = _MASKED.sub(lambda m: digits(m.group(1)) + "，尾号" + digits(m.group(2)), text)
    text = _PHONE.sub(lambda m: _grouped(m.group(0)), text)
    text = _LABELLED.sub(_labelled, text)
    text = _CODE.sub(lambda m: " ".join(m.group(1).upper()) + " " + digits(m.group(2)), text)
    text = _ACRONYM.sub(lambda m: " ".join(m.group(0)), text)
    text = _PERCENT.sub(lambda m: "百分之" + decimal(m.group(1)), text)
    text = _DATE.sub(_date, text)
    text = _YEAR.sub(lambda m: digits(m.group(1)), text)
    text = _READ_AS_DIGITS.sub(lambda m: digits(m.group(1)), text)
    text = _NUMBERED_PLACE.sub(lambda m: number(int(m.group(1))), text)
    text = _CLOCK.sub(_clock, text)
    text = _MONTH_DAY.sub(lambda m: f"{number(int(m.group(1)))}月{number(int(m.group(2)))}日", text)
    text = _DAY_HAO.sub(lambda m: number(int(m.group(1))) + "号", text)
    text = _MYRIAD.sub(_myriad, text)
    text = _SEPARATED.sub(lambda m: quantity(m.group(0)), text)
    text = _QUANTITY.sub(lambda m: quantity(m.group(1)), text)
    text = _STAFF.sub(lambda m: digits(m.group(1)) + "号", text)
    text = _LONG.sub(lambda m: digits(m.group(0)), text)
    text = _TWO.sub("两", text)
    return _NUMBER.sub(lambda m: decimal(m.group(0)), text)


def _before_money(text: str) -> str:
    """What must be read before money and dates take their digits: signs, ranges, dotted dates, festivals, units."""
    text = _NEGATIVE.sub("负", text)
    text = _TIME_RANGE.sub(r"\1到\2", text)
    text = _RANGE.sub(r"\1到\2", text)
    text = _DOTTED_DATE.sub(r"\1年\2月\3日", text)
    for pattern, said in _FESTIVALS:
        text = pattern.sub(said, text)
    text = _IP.sub(lambda m: "点".join(digits(part) for part in m.group(0).split(".")), text)
    text = _MONTH_YEAR.sub(lambda m: f"{digits(m.group(2))}年{number(int(m.group(1)))}月", text)
    text = _YEAR_MONTH.sub(lambda m: f"{digits(m.group(1))}年{number(int(m.group(2)))}月", text)
    text = _PADDED_MONTH_DAY.sub(lambda m: f"{number(int(m.group(1)))}月{number(int(m.group(2)))}日", text)
    return symbols.spell(text)


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending with 详情请看屏幕 when cut, never inside an English word."""
    if len(text) <= limit:
        return text
    end = max(1, limit - len(CUT_NOTICE))
    head = text[:end]
    if _WORD_CHAR.match(text, end):
        head = _PART_WORD.sub("", head) or head  # "call them back b" would be read as a letter
    return head.rstrip("，,。 ") + CUT_NOTICE


def said(written: str, limit: int, lang: str | None = None) -> str:
    """``written`` as the voices are given it: read by the rules and cut to ``limit``; as it is when ``lang="en"``."""
    return written if lang == "en" else cut(normalize(written), limit)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip(" ，,。")]


def runs(sentence: str) -> list[tuple[str, str]]:
    """``[(lang, text)]``: Latin runs for the English voice, the rest for the Mandarin one.

    Capitals spelled out (V I P) are not English words: they stay with the Mandarin run.
    """
    out, pos = [], 0
    for m in _LATIN.finditer(sentence):
        if _SPELLED.fullmatch(m.group(0)):
            continue  # letters said one by one stay in the Mandarin run, which names them (pinyin.LETTERS)
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
    return said(text, limit)
