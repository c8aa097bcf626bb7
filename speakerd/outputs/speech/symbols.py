"""What is written with signs, codes and units, said in words: currencies, units, comparison signs, fractions, am/pm.

Run before amounts and dates take their digits (reading.normalize), so that
``HK$100`` is 一百港元 and not a dollar sign beside 一百, ``1/2`` is 二分之一
and not 一/二, ``65W`` is 六十五瓦.
"""

from __future__ import annotations

import re

from speakerd.outputs.speech.numbers import number, quantity

# Longest first: HK$ before $, CNY before a bare letter code.
CURRENCIES = {"HK$": "港元", "US$": "美元", "A$": "澳元", "C$": "加元", "$": "美元", "€": "欧元", "£": "英镑",
              "HKD": "港元", "USD": "美元", "AUD": "澳元", "CAD": "加元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元",
              "CNY": "人民币", "RMB": "人民币"}
_CURRENCY = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(c) for c in sorted(CURRENCIES, key=len, reverse=True))
                       + r")\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
UNITS = {"kg": "千克", "KG": "千克", "Kg": "千克", "g": "克", "ml": "毫升", "mL": "毫升", "ML": "毫升", "L": "升", "cm": "厘米",
         "mm": "毫米", "km": "公里", "ms": "毫秒", "m²": "平方米", "km²": "平方公里", "cm²": "平方厘米",
         "m³": "立方米", "w": "万", "W": "瓦", "mAh": "毫安时", "GB": "G", "TB": "T"}
_UNIT = re.compile(r"(?<=\d)\s?(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")(?![A-Za-z²³])")
SIGNS = {"≥": "大于等于", "≤": "小于等于", "±": "正负", "≈": "约", ">=": "大于等于", "<=": "小于等于"}
_SIGN = re.compile("|".join(re.escape(s) for s in sorted(SIGNS, key=len, reverse=True)))
# a/b read as a fraction: not a date (2008/08, 08/08) nor a path; small numbers only.
_FRACTION = re.compile(r"(?<![\d/.:])([1-9]\d{0,2})\s?/\s?([1-9]\d{0,2})(?![\d/.])")
_AM_PM = re.compile(r"(?<![\d:])(\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)\s?([ap])\.?m\.?(?![A-Za-z])", re.I)
_TO = re.compile(r"(?<![A-Za-z])([A-Z])2([A-Z])(?![A-Za-z0-9])")  # B2B, O2O: said "B to B"


def spell(text: str) -> str:
    """``text`` with its currencies, units, signs, fractions and am/pm in words (numbers left for the next rules)."""
    text = _CURRENCY.sub(_money, text)
    text = _AM_PM.sub(lambda m: ("上午" if m.group(2).lower() == "a" else "下午") + m.group(1), text)
    text = _TO.sub(r"\1 to \2", text)
    text = _SIGN.sub(lambda m: SIGNS[m.group(0)], text)
    text = _FRACTION.sub(lambda m: f"{number(int(m.group(2)))}分之{number(int(m.group(1)))}", text)
    return _UNIT.sub(lambda m: UNITS[m.group(1)], text)


def _money(m: re.Match) -> str:
    """$19.9 → 十九点九美元, HK$1,200.50 → 一千二百点五港元: the amount, then the currency's name."""
    cents = (m.group(3) or "").rstrip("0").rstrip(".")
    return quantity(m.group(2) + cents) + CURRENCIES[m.group(1)]
