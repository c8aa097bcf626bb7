"""Acknowledge, repeat until handled, escalate, quiet hours, bursts and snooze, on a clock the test moves.

The store's clock (a :class:`~speakerd.clock.FakeClock` here) is the one every
follow-up and attention decision reads, so moving it moves the device through
minutes and nights at once.
Each scenario reopens the store midway, as a restart would.
"""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from speakerd import config as config_mod
from speakerd.clock import SYSTEM, FakeClock
from speakerd.delivery.dispatch import OutputWorker
from speakerd.delivery.followup import FollowUp
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.outputs.interface import notice_from_row
from speakerd.store import Job, Store

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))


class Clock(FakeClock):
    """Set by the shop's local hour, as the scenarios are told."""

    def set(self, hour, minute=0, days=0):
        super().set(self.now().astimezone(T0.tzinfo).replace(hour=hour, minute=minute) + timedelta(days=days))


def withdrawal(n, **data):
    return {"id": f"w-{n}", "type": "finance.withdrawal", "app": "own-shop", "user": {"id": "u-1", "name": "马丽"},
            "content": f"马丽申请提现{500 + n}元，请审核", "data": {"amount": 500.0 + n, "withdrawal_id": f"wd-{n}", **data}}


def order(n, amount=100.0):
    return {"id": f"o-{n}", "type": "order.paid", "app": "wechat-mall", "user": {"id": "u-2", "name": "张三"},
            "content": f"客户张三已支付订单{n}", "data": {"order_id": str(n), "amount": amount}}


class Device:
    """The store, ingest and follow-up of a daemon, with what it said and escalated recorded; ``restart()`` reopens them."""

    def __init__(self, config_path, outputs=("speech",), clock=SYSTEM, heard_by=None):
        self.path, self.outputs, self.clock, self.heard_by = config_path, list(outputs), clock, heard_by
        self.cfg = config_mod.load(config_path)
        self.said = []
        self._open()

    def _open(self):
        self.store = Store(config_mod.database_path(self.cfg, self.path), self.clock)
        self.ingest = Ingest(self.cfg, self.store)
        self.follow = FollowUp(self.store, lambda: self.cfg, self._speak,
                               lambda raw, to, category: self.ingest.local(raw, self.outputs, to=to, category=category),
                               heard_by=self.heard_by)

    def _speak(self, sentence, category, priority, name):
        self.said.append(sentence)

    def restart(self):
        self.store.close()
        self._open()

    def receive(self, *events):
        return self.ingest(Batch(list(events), "c"), self.outputs)

    def check(self):
        before = len(self.said)
        self.follow.check()
        return self.said[before:]

    def row(self, message_id):
        return self.store.query("select * from messages where id = ?", [message_id])[0]

    def assignments(self, message_id):
        return [(r["department"], r["staff_id"]) for r in self.store.query(
            "select department, staff_id from assignments where message_id = ?", [message_id])]


@pytest.fixture
def clock(shanghai):
    return Clock(T0)


@pytest.fixture
def device(write_config, clock):
    devices = []

    def make(overrides=None, **kw):
        d = Device(write_config(overrides or {}), clock=clock, **kw)
        devices.append(d)
        return d

    yield make
    for d in devices:
        d.store.close()


# --- repeat -------------------------------------------------------------------


def test_reminders_come_every_interval_at_most_max_times_and_survive_a_restart(device, clock):
    d = device()  # finance: repeat every 5 min, at most 3, "还有{count}笔提现待审核"
    d.receive(withdrawal(1), withdrawal(2))
    clock.advance(minutes=4, seconds=59)
    assert d.check() == []
    clock.advance(seconds=1)
    assert d.check() == ["还有2笔提现待审核"]
    assert d.check() == []  # once per interval, however often the device looks
    clock.advance(minutes=4)
    assert d.check() == []
    d.restart()
    clock.advance(minutes=1)
    assert d.check() == ["还有2笔提现待审核"]
    d.store.acks.acknowledge("w-1", "button")
    clock.advance(minutes=5)
    assert d.check() == ["还有1笔提现待审核"]
    assert (d.row("w-1")["repeats"], d.row("w-2")["repeats"]) == (2, 3)
    clock.advance(minutes=5)
    assert d.check() == []  # w-2 had its three reminders
    clock.advance(hours=1)
    assert d.check() == []


def test_a_hub_leaves_a_reminder_to_the_room_whose_speaker_is_online(device, clock, caplog):
    """Regression: the hub and the finance department's speaker both said 还有2笔提现待审核, one reminder heard twice.
    With the speaker offline, the hub says it, as it announced the messages."""
    speakers = {"finance": (["fin"], [])}
    d = device({"fleet": {"role": "hub", "broker": "mqtt://hub:secret@127.0.0.1:1883"}},
               heard_by=lambda dep: speakers.get(dep, ([], ["fin"] if dep == "finance" else [])))
    d.receive(withdrawal(1), withdrawal(2))
    clock.advance(minutes=5)
    assert d.check() == [] and "reminder of finance left to the departments' speakers" in caplog.text  # said in their room
    assert (d.row("w-1")["repeats"], d.row("w-2")["repeats"]) == (1, 1)  # counted as reminded all the same
    speakers["finance"] = ([], ["fin"])
    clock.advance(minutes=5)
    assert d.check() == ["还有2笔提现待审核"]


def test_a_category_without_repeat_is_never_reminded(device, clock):
    d = device()
    d.receive(order(1))
    clock.advance(hours=2)
    assert d.check() == []


# --- escalation ---------------------------------------------------------------


def test_escalation_goes_to_the_lead_then_to_tech_once_each_and_is_recorded(device, clock):
    d = device({"categories": {"finance": {"repeat": {"every": 0}}},
                "subsystems": {"headquarters": {"departments": {"finance": {"staff": [
                    {"id": "003", "name": "王芳", "lead": True}, {"id": "011", "name": "刘洋"}]}}}},
                "route": {"department": "service", "routes": [{"match": {"category": "finance"}, "department": "finance"}]}})
    d.receive(withdrawal(1), withdrawal(2))
    assert d.assignments("w-2") == [("finance", "011")]  # rotation gave the second one to 011 (no person named)
    clock.advance(minutes=29)
    d.check()
    assert d.store.query("select count(*) as n from messages where type = 'speakerd.escalation'")[0]["n"] == 0
    clock.advance(minutes=1)
    d.check()
    d.check()
    assert d.assignments("w-2~esc1") == [("finance", "003")]  # step 1: the department's lead
    assert "升级提醒" in d.row("w-2~esc1")["content"] and "原由011号负责" in d.row("w-2~esc1")["content"]
    assert d.row("w-2")["escalated"] == 1
    d.restart()
    clock.advance(minutes=30)
    d.check()
    assert d.assignments("w-2~esc2") == [("tech", "007")]  # step 2: tech (its lead)
    assert d.row("w-2")["escalated"] == 2
    clock.advance(hours=5)
    d.check()
    escalations = [r["id"] for r in d.store.query("select id from messages where type = 'speakerd.escalation' order by id")]
    assert escalations == ["w-1~esc1", "w-1~esc2", "w-2~esc1", "w-2~esc2"]
    # Each escalation is a message with its own outbox work: push, speech and the panel tell the new person.
    assert d.store.query("select count(*) as n from outbox where message_id = 'w-2~esc2'")[0]["n"] == 1


def test_acknowledging_an_escalation_acknowledges_the_original_and_stops_the_chain(device, clock):
    d = device()
    d.receive(withdrawal(1))
    clock.advance(minutes=30)
    d.check()
    assert d.store.acks.acknowledge("w-1~esc1", "push link") == "done"
    assert d.row("w-1")["acked_via"] == "push link"
    clock.advance(hours=2)
    assert d.check() == []
    assert d.store.query("select count(*) as n from messages where id like 'w-1~esc%'")[0]["n"] == 1


def test_acknowledging_the_original_acknowledges_its_escalations(device, clock):
    d = device()
    d.receive(withdrawal(1))
    clock.advance(minutes=30)
    d.check()
    d.store.acks.acknowledge("w-1", "button")
    assert d.row("w-1~esc1")["acked_at"] is not None
    assert d.store.acks.waiting_count() == 0


def test_escalation_to_an_unknown_person_is_a_config_error_naming_the_step(write_config):
    path = write_config({"categories": {"finance": {"escalate": [{"after": 30, "to": "nobody"}]}}})
    with pytest.raises(config_mod.ConfigError) as exc:
        config_mod.load(path)
    assert "categories.finance.escalate[0].to: 'nobody' is neither lead" in str(exc.value)


# --- acknowledge from each source --------------------------------------------


def _ack_by_cli(d, message_id):
    from speakerd import cli

    assert cli.main(["ack", message_id, "-c", str(d.path)]) == 0


def _ack_by_button(d, message_id):
    from speakerd.device.buttons import ButtonActions

    notice = notice_from_row(d.store.outbox.notice_row(message_id, "finance"), d.cfg)
    panel = SimpleNamespace(history=[notice], acknowledged=lambda: None)
    ButtonActions(d.store, lambda: d.cfg, d.follow, lambda: panel, lambda: None).acknowledge()


def _ack_by_link(d, message_id):
    """The phone notification's action link and the web page both post to /ack/TOKEN."""
    from speakerd.outputs.push import ack_links
    from speakerd.web import create_app

    token = ack_links.make_token(d.store.meta.secret("ack_secret", ack_links.new_secret), message_id, 3600)
    assert create_app(d.store).test_client().post(f"/ack/{token}").status_code == 200


def _ack_by_platform(d, message_id):
    d.receive({"id": "p-1", "type": "finance.reviewed", "content": "提现申请已审核通过", "data": {"withdrawal_id": "wd-1"}})


@pytest.mark.parametrize("source, via", [(_ack_by_cli, "cli"), (_ack_by_button, "button"), (_ack_by_link, "push link"), (_ack_by_platform, "platform")])
def test_each_acknowledgement_source_stops_the_reminders_and_escalation(device, clock, source, via):
    d = device()
    d.receive(withdrawal(1), withdrawal(2))
    source(d, "w-1")
    assert d.row("w-1")["acked_via"] == via
    assert d.row("w-2")["acked_at"] is None
    clock.advance(minutes=5)
    assert d.check() == ["还有1笔提现待审核"]
    clock.advance(minutes=30)
    d.check()
    assert d.store.query("select id from messages where type = 'speakerd.escalation'") == [{"id": "w-2~esc1"}]


def test_cli_ack_of_an_unknown_id_is_an_error(device, capsys):
    from speakerd import cli

    d = device()
    d.receive(withdrawal(1))
    assert cli.main(["ack", "m-nope", "-c", str(d.path)]) == 1
    assert "no message 'm-nope'" in capsys.readouterr().err
    assert cli.main(["ack", "w-1", "-c", str(d.path)]) == 0
    assert cli.main(["ack", "w-1", "-c", str(d.path)]) == 0
    assert "was already acknowledged" in capsys.readouterr().out


def test_a_platform_event_naming_an_order_acknowledges_it_and_is_not_announced(device):
    d = device(outputs=("speech", "push"))
    d.receive(order(7), order(8))
    result = d.receive({"id": "p-9", "type": "order.shipped", "content": "订单7已发货", "data": {"order_id": "7"}},
                       {"id": "p-10", "type": "platform.notice", "content": "订单8已由客服处理", "data": {"handles": "o-8"}})
    assert result.handled == [("p-9", ["o-7"]), ("p-10", ["o-8"])] and result.new == []
    assert d.row("o-7")["acked_via"] == d.row("o-8")["acked_via"] == "platform"
    assert d.store.query("select count(*) as n from outbox where message_id in ('p-9', 'p-10')")[0]["n"] == 0
    assert d.store.acks.waiting_count() == 0


# --- quiet hours --------------------------------------------------------------


def quiet_speech(d, tmp_path, volume=0.8, **kw):
    from speakerd.outputs.speech import SpeechOutput

    cfg = d.cfg
    settings = dataclasses.replace(cfg.speech, device=f"wav:{tmp_path / 'played'}", volume=volume,
                                   voices=config_mod.VoicesConfig(zh="espeak", en="espeak"))
    return SpeechOutput(settings, lambda: cfg, tmp_path / "cache", warm=False, **kw)


def deliver(d, speech, message_id):
    """What speech's worker does with this message's job: ask the attention policy, then deliver or not."""
    job = Job(message_id, d.assignments(message_id)[0][0], "speech", 0)
    d.store.outbox.take([job])
    OutputWorker(speech, d.store, lambda: d.cfg).handle(job)


def test_quiet_hours_hold_back_all_but_critical_and_summarise_in_the_morning(device, clock, tmp_path):
    d = device({"speech": {"quiet_hours": "20:00-08:30"}})
    speech = quiet_speech(d, tmp_path)
    clock.set(22, 15)
    d.receive(withdrawal(1), withdrawal(2), order(1),
              {"id": "t-1", "type": "tech.platform.alert", "content": "技术告警：平台无法连接", "data": {}})
    for message_id in ("w-1", "w-2", "o-1", "t-1"):
        deliver(d, speech, message_id)
    assert sorted(p.name for p in (tmp_path / "played").iterdir()) == ["t-1.wav"]  # critical speaks anyway
    assert d.check() == []  # no reminders at night either
    clock.set(8, 29, days=1)
    assert d.check() == []
    d.restart()
    clock.set(8, 30)
    said = d.check()
    assert said[0] == "休息时间共收到财务2笔、订单1笔，请查看屏幕和手机。"
    assert d.check() == []  # once


def test_a_category_can_keep_its_own_hours_or_never_be_quiet(device, clock, tmp_path):
    d = device({"speech": {"quiet_hours": "20:00-08:30"}, "categories": {"finance": {"quiet_hours": ""}, "order": {"quiet_hours": "12:00-13:00"}}})
    speech = quiet_speech(d, tmp_path)
    clock.set(22, 0)
    d.receive(withdrawal(1), order(1))
    clock.advance(seconds=3)  # past the orders' grouping wait
    deliver(d, speech, "w-1")
    deliver(d, speech, "o-1")
    assert sorted(p.name for p in (tmp_path / "played").iterdir()) == ["o-1.wav", "w-1.wav"]
    clock.set(12, 30, days=1)
    d.receive(order(2))
    deliver(d, speech, "o-2")
    assert not (tmp_path / "played" / "o-2.wav").exists()


def test_critical_messages_are_played_at_least_at_the_critical_volume(device, clock, tmp_path):
    import numpy as np

    from speakerd.outputs.speech.speaker import _read_wav

    d = device({"speech": {"critical_volume": 0.8}})
    speech = quiet_speech(d, tmp_path, volume=0.1)
    d.receive(withdrawal(1), {"id": "t-1", "type": "tech.platform.alert", "content": "技术告警：平台无法连接", "data": {}})
    deliver(d, speech, "w-1")
    deliver(d, speech, "t-1")
    quiet_peak = np.abs(_read_wav(tmp_path / "played" / "w-1.wav")).max()
    loud_peak = np.abs(_read_wav(tmp_path / "played" / "t-1.wav")).max()
    assert loud_peak > 4 * quiet_peak
    assert speech.sink.volume == 0.1


# --- bursts -------------------------------------------------------------------


def test_a_burst_of_500_orders_is_one_summary_after_the_grouping_wait(write_config, tmp_path, caplog):
    d = Device(write_config({"categories": {"order": {"burst": {"threshold": 5, "group_wait": 1}}}}))
    speech = quiet_speech(d, tmp_path)
    d.receive(*[order(n, amount=10.0) for n in range(500)])
    worker = OutputWorker(speech, d.store, lambda: d.cfg)
    worker.start()
    try:
        assert wait_for(lambda: d.store.query(
            "select count(*) as n from outbox where output = 'speech' and state = 'done'")[0]["n"] == 500, 30)
    finally:
        worker.stop()
        d.store.close()
    assert [p.name for p in (tmp_path / "played").iterdir()] == ["o-0.wav"]
    assert "speech: group o-0: 500 order messages in one summary" in caplog.text
    assert re.search(r"spoke o-0 \[.*\]: 过去.秒新增订单五百笔，合计五千元", caplog.text)


def test_a_burst_counts_a_message_told_to_two_departments_once(write_config, tmp_path, caplog):
    """Regression: 10 orders, one of a VIP (told to membership and orders) was summed as 新增订单十一笔, its amount twice."""
    d = Device(write_config({"categories": {"order": {"burst": {"threshold": 5, "group_wait": 0}}}}))
    speech = quiet_speech(d, tmp_path)
    vip = {**order(0, amount=100.0), "user": {"id": "u-9", "name": "李四", "tier": "vip"}}
    d.receive(vip, *[order(n, amount=100.0) for n in range(1, 10)])
    assert len(d.assignments("o-0")) == 2
    worker = OutputWorker(speech, d.store, lambda: d.cfg)
    worker.start()
    try:
        assert wait_for(lambda: d.store.query(
            "select count(*) as n from outbox where output = 'speech' and state != 'done'")[0]["n"] == 0, 30)
    finally:
        worker.stop()
        d.store.close()
    assert "10 order messages in one summary" in caplog.text
    assert re.search(r"新增订单十笔，合计一千元", caplog.text), caplog.text[-500:]


def test_a_few_orders_below_the_threshold_are_each_announced(write_config, tmp_path):
    d = Device(write_config({"categories": {"order": {"burst": {"threshold": 5, "group_wait": 0.2}}}}))
    speech = quiet_speech(d, tmp_path)
    d.receive(*[order(n) for n in range(3)])
    worker = OutputWorker(speech, d.store, lambda: d.cfg)
    worker.start()
    try:
        assert wait_for(lambda: len(list((tmp_path / "played").glob("*.wav"))) == 3, 30)
    finally:
        worker.stop()
        d.store.close()


def test_a_summary_cut_off_is_owed_again_in_full(write_config, tmp_path, clock):
    from speakerd.errors import OutputError

    d = Device(write_config({"categories": {"order": {"burst": {"threshold": 5, "group_wait": 1}}}}), clock=clock)
    speech = quiet_speech(d, tmp_path)
    d.receive(*[order(n) for n in range(6)])
    clock.advance(seconds=2)
    under_way = []

    def sound_card_unplugged(samples):
        under_way.append(d.store.query("select count(*) as n from outbox where state = 'sending'")[0]["n"])
        raise OutputError("device vanished")

    speech.sink.write = sound_card_unplugged
    job = d.store.outbox.claim("speech")
    OutputWorker(speech, d.store, lambda: d.cfg).handle(job)
    # Mid-sentence all six were under way: a crash there leaves all six owed after restart (recover_interrupted).
    assert under_way == [6]
    # The sound card failed instead: the five others are owed again at once, the leader is retried by its worker.
    states = {r["message_id"]: r["state"] for r in d.store.query("select message_id, state from outbox")}
    assert states.pop(job.message_id) == "failed" and set(states.values()) == {"pending"}


# --- snooze -------------------------------------------------------------------


def test_snooze_says_until_when_warns_of_waiting_messages_and_ends_by_itself(device, clock, tmp_path):
    d = device()
    speech = quiet_speech(d, tmp_path)
    d.receive(withdrawal(1))
    d.follow.snooze(30)
    assert d.said == ["已静音，10:30恢复播报。还有1条消息待处理，请留意屏幕和手机。"]
    d.receive(withdrawal(2))
    deliver(d, speech, "w-2")
    assert not (tmp_path / "played").exists() or not list((tmp_path / "played").iterdir())
    clock.advance(minutes=10)
    assert d.check() == []  # no reminders while snoozed
    d.restart()
    speech = quiet_speech(d, tmp_path)
    assert d.store.followup.snoozed_until() > 0
    clock.advance(minutes=20)
    assert d.check()[0] == "静音结束，恢复播报。"
    assert d.store.followup.snoozed_until() == 0
    deliver(d, speech, "w-2")
    assert (tmp_path / "played" / "w-2.wav").exists()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_the_voice_process_ends_after_a_silence_and_starts_again_for_the_next_sentence(device, clock, tmp_path, caplog):
    d = device({"speech": {"unload_after": 0.01, "unload_after_working": 0}})
    speech = quiet_speech(d, tmp_path, clock=clock)
    d.receive(withdrawal(1), withdrawal(2))
    deliver(d, speech, "w-1")
    first = speech.speaker.voices.pid
    assert first and alive(first)
    clock.advance(seconds=1)
    assert wait_for(lambda: "voices unloaded after 0.01 min without speaking" in caplog.text, 10)
    assert not speech.speaker.voices.running and not alive(first)
    deliver(d, speech, "w-2")
    assert (tmp_path / "played" / "w-2.wav").exists() and speech.speaker.voices.pid not in (None, first)
    speech.close()


def test_in_working_hours_the_voices_stay_loaded_through_a_short_silence(device, clock, tmp_path):
    """On a Pi 4 starting the voice process again takes seconds: the first announcement after a lull must not wait for it."""
    d = device({"speech": {"unload_after": 10, "unload_after_working": 120, "quiet_hours": "20:00-08:30"}})
    speech = quiet_speech(d, tmp_path, clock=clock)
    try:
        clock.set(10)
        assert speech.hours.unload_limit() == 120
        clock.set(21)
        assert speech.hours.unload_limit() == 10
    finally:
        speech.close()


def alive(pid):
    """Whether ``pid`` is a running process (not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_voices_let_go_in_quiet_hours_are_loaded_again_as_the_office_opens(device, clock, tmp_path, caplog):
    """The first order of the morning waited for the voices to start: 18 s under the Pi proxy."""
    d = device({"speech": {"unload_after": 0.01, "unload_after_working": 120, "quiet_hours": "20:00-08:30"}})
    clock.set(21)
    speech = quiet_speech(d, tmp_path, clock=clock)
    try:
        d.receive({**withdrawal(1), "type": "monitor.service_down", "content": "支付服务不可用"})  # critical: said at night
        deliver(d, speech, "w-1")
        night = speech.speaker.voices.pid
        clock.advance(seconds=1)
        assert wait_for(lambda: not speech.speaker.voices.running, 10)
        looks = []
        asked = speech.hours.quiet_hours_now
        speech.hours.quiet_hours_now = lambda: looks.append(1) or asked()  # each round of the voices' watch asks it

        def rounds(n):
            looks.clear()
            return wait_for(lambda: len(looks) >= n, 10)

        clock.set(8, 29, days=1)
        assert rounds(3) and not speech.speaker.voices.running  # still quiet hours: let go
        clock.set(8, 31, days=1)
        assert wait_for(lambda: "voices loaded as the office opens" in caplog.text, 30)
        assert speech.speaker.voices.running and speech.speaker.voices.pid != night
        clock.advance(minutes=30)
        assert rounds(3) and speech.speaker.voices.running  # in the working day they stay (unload_after_working)
    finally:
        speech.close()
