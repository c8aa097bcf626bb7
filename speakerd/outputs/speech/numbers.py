"""Numbers in Chinese words, as a shop says them: 1280 → 一千二百八十, 2000 → 两千, ¥1,280.50 → 一千二百八十元五角."""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"


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


def quantity(text: str) -> str:
    """A counted or measured number as a number: 12000 → 一万两千, 2.5 → 两点五 before 万."""
    return decimal(text.replace(",", ""))
