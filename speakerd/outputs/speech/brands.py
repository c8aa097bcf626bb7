"""Brand names in Latin letters as a shop says them: ADIDAS is 阿迪达斯, not A D I D A S nor an English word.

The built-in table holds brands Chinese shops commonly sell under their Chinese
names; ``speech.brands`` in config.yaml adds a shop's own (or corrects one).
Matched as whole words whatever the case. Names shops say in English
(ZARA, H&M) are left out: the English voice reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

BUILT_IN = {
    "ADIDAS": "阿迪达斯", "NIKE": "耐克", "UNIQLO": "优衣库", "PUMA": "彪马", "NEW BALANCE": "新百伦", "CONVERSE": "匡威",
    "SKECHERS": "斯凯奇", "FILA": "斐乐", "UNDER ARMOUR": "安德玛", "LI-NING": "李宁", "LINING": "李宁", "ANTA": "安踏",
    "DECATHLON": "迪卡侬", "THE NORTH FACE": "北面", "LEVI'S": "李维斯", "LEVIS": "李维斯", "IKEA": "宜家", "MUJI": "无印良品",
    "L'OREAL": "欧莱雅", "LOREAL": "欧莱雅", "LANCOME": "兰蔻", "ESTEE LAUDER": "雅诗兰黛", "DIOR": "迪奥", "CHANEL": "香奈儿",
    "GUCCI": "古驰", "PRADA": "普拉达", "HERMES": "爱马仕", "SHISEIDO": "资生堂", "CLINIQUE": "倩碧", "KIEHL'S": "科颜氏",
    "OLAY": "玉兰油", "SWAROVSKI": "施华洛世奇", "PANDORA": "潘多拉", "ROLEX": "劳力士", "OMEGA": "欧米茄", "CASIO": "卡西欧",
    "SEIKO": "精工", "APPLE": "苹果", "HUAWEI": "华为", "XIAOMI": "小米", "LENOVO": "联想", "SAMSUNG": "三星", "SONY": "索尼",
    "CANON": "佳能", "NIKON": "尼康", "PHILIPS": "飞利浦", "DYSON": "戴森", "PANASONIC": "松下", "HAIER": "海尔", "MIDEA": "美的",
    "GREE": "格力", "LEGO": "乐高", "DISNEY": "迪士尼", "STARBUCKS": "星巴克", "KFC": "肯德基", "MCDONALD'S": "麦当劳",
    "MCDONALDS": "麦当劳", "NESTLE": "雀巢", "COCA-COLA": "可口可乐", "PEPSI": "百事",
}

_table: dict[str, str] = {}
_pattern: re.Pattern[str] | None = None


def use(extra: Mapping[str, str] | None = None) -> None:
    """The table to read with: the built-in one and ``extra`` (config's ``speech.brands``), which wins."""
    global _pattern
    _table.clear()
    _table.update({k.upper(): v for k, v in BUILT_IN.items()})
    _table.update({k.strip().upper(): v.strip() for k, v in (extra or {}).items() if k.strip() and v.strip()})
    names = sorted(_table, key=len, reverse=True)
    _pattern = re.compile(r"(?<![A-Za-z'])(" + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names) + r")(?![A-Za-z'])", re.I)


def say(text: str) -> str:
    """``text`` with each brand in Latin letters replaced by its shop reading."""
    if _pattern is None:
        use()
    assert _pattern is not None
    return _pattern.sub(lambda m: _table[re.sub(r"\s+", " ", m.group(1)).upper()], text)
