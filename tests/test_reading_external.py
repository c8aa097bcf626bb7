"""An outside check of the reading rules: WeTextProcessing's published text-normalisation cases (tests/data/wetext).

Writing conventions are made the same on both sides before comparing: 幺 and 一, 两 and 二 (两百 / 二百), 点整 and
点 (十一点整 / 十一点), 公里 and 千米, 号 and 日 after a month, money as 一元二角五分 or 一点二五元, punctuation and
the pauses speakerd puts between a number's groups. Bare numbers of five or more digits are read digit by digit on
purpose (an order or a tracking number is far likelier than a count without a unit: docs/speech.md) and left out.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from speakerd.outputs.speech import reading

DATA = Path(__file__).parent / "data" / "wetext"
# The classes a shop hears, and their files; "sentences" is the general file, every class mixed.
CLASSES = {"cardinal": ("cardinal", "number"), "date": ("date",), "time": ("time",), "money": ("money",),
           "measure": ("measure",), "fraction": ("fraction",), "sentences": ("normalizer",)}
TARGET = {"cardinal": 0.9, "date": 0.9, "time": 0.9, "money": 0.9, "measure": 0.9, "fraction": 0.9, "sentences": 0.85}
DIGIT_BY_DIGIT = re.compile(r"^\d{5,}$")
MONEY_WORDS = re.compile(r"元([一二三四五六七八九])角(?:([一二三四五六七八九])分)?")


def canon(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("幺", "一").replace("两", "二").replace("点整", "点")
    text = text.replace("公里", "千米").replace("。", ".").replace("“", '"').replace("”", '"')
    text = MONEY_WORDS.sub(lambda m: "点" + m.group(1) + (m.group(2) or "") + "元", text)
    text = re.sub(r"月([一二三四五六七八九十]+)号", r"月\1日", text)
    return re.sub(r"[\s,，]", "", text)


def cases(kind: str) -> list[tuple[str, str]]:
    rows = [line.split(" => ", 1) for name in CLASSES[kind]
            for line in (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines() if " => " in line]
    return [(written, said) for written, said in rows if not DIGIT_BY_DIGIT.match(written.strip())]


def rate(kind: str) -> tuple[float, list[str]]:
    found = cases(kind)
    misses = [f"{w} → {reading.normalize(w)} (expected {s})" for w, s in found if canon(reading.normalize(w)) != canon(s)]
    return 1 - len(misses) / len(found), misses


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_each_class_a_shop_hears_reads_as_the_published_cases_say(kind):
    passed, misses = rate(kind)
    assert passed >= TARGET[kind], f"{kind}: {passed:.0%}\n" + "\n".join(misses)


def test_the_cases_are_the_published_ones_with_their_licence():
    assert "Apache License" in (DATA / "LICENSE").read_text(encoding="utf-8")
    assert "039007e6b819bd40c4c4a0644f3939da1da47e44" in (DATA / "SOURCE.md").read_text(encoding="utf-8")
    assert sum(len(cases(kind)) for kind in CLASSES) > 90
