"""The right person: a route's named person, the weekly rota with the Chinese calendar, a day's changes, mutes that end."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from speakerd import config as config_mod
from speakerd.cli import main
from speakerd.clock import FakeClock
from speakerd.delivery.attention import Attention
from speakerd.delivery.decision import Action
from speakerd.delivery.mutes import CHOICES, mute_end
from speakerd.errors import ConfigError
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.outputs.interface import notice_from_row
from speakerd.rules.duty import Change, Changes, Duty
from speakerd.store import Store

from .conftest import fast_platform
from .helpers import wait_until

ROTA = {"subsystems": {"mall": {"departments": {"orders": {"rota": [
    {"days": "workdays", "hours": "09:00-18:00"},
    {"days": "restdays", "hours": "10:00-16:00", "staff": ["002"]},
    {"days": "daily", "hours": "22:00-06:00", "staff": ["001"]},
]}}}}}
FINANCE = {"subsystems": {"headquarters": {"departments": {"finance": {"staff": [
    {"id": "003", "name": "王芳", "lead": True}, {"id": "011", "name": "刘洋"}]}}}}}


def local(text):
    return datetime.fromisoformat(text).astimezone()


def order(message_id):
    return {"id": message_id, "type": "order.created", "app": "wechat-mall", "content": f"新订单{message_id}",
            "data": {"order_id": message_id}}


def withdrawal(message_id):
    return {"id": message_id, "type": "finance.withdrawal", "content": f"提现申请{message_id}", "data": {"withdrawal_id": message_id}}


@pytest.fixture
def configured(write_config):
    return lambda overrides: config_mod.load(write_config(overrides))


@pytest.mark.parametrize("moment, on_duty", [
    ("2026-12-07T10:00:00", ["001", "002"]),  # a Monday: the workday shift, everyone
    ("2026-12-07T19:00:00", []),               # after it
    ("2026-10-01T10:00:00", ["002"]),          # National Day, a Thursday: the rest-day shift
    ("2026-10-10T10:00:00", ["001", "002"]),   # a Saturday made a working day for the Golden Week
    ("2026-10-11T10:00:00", ["002"]),          # the Sunday after it: a rest day
    ("2026-12-08T02:00:00", ["001"]),          # the night shift begun on Monday evening
    ("2026-12-07T23:30:00", ["001"]),
])
def test_the_rota_follows_the_chinese_calendar(shanghai, configured, moment, on_duty):
    assert Duty(configured(ROTA)).on_duty("orders", local(moment)) == on_duty


def test_the_rota_picks_the_person_when_a_message_is_stored(shanghai, configured, tmp_path):
    """Through ingest and the real store: a holiday's order goes to the one person on the rest-day shift."""
    cfg = configured(ROTA)
    clock = FakeClock(local("2026-10-01T10:00:00"))
    with Store(tmp_path / "s.db", clock) as store:
        ingest = Ingest(cfg, store)
        ingest(Batch([order("h-1"), order("h-2")], "1"), ["log"])
        clock.advance(days=9)  # the make-up Saturday: both again, in turn
        ingest(Batch([order("w-1"), order("w-2")], "2"), ["log"])
        people = [r["staff_id"] for r in store.query("select staff_id from assignments where department = 'orders' order by rowid")]
    assert people == ["002", "002", "001", "002"]


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_said_once(configured, caplog):
    duty = Duty(configured(ROTA))
    with caplog.at_level(logging.WARNING, logger="speakerd.rules.duty"):
        assert duty.calendar.is_workday(datetime(2031, 1, 6).date())  # a Monday
        assert not duty.calendar.is_workday(datetime(2031, 1, 5).date())
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1
    assert "no data for 2031" in caplog.records[0].getMessage()


def test_the_calendar_section_corrects_the_built_in_days(configured):
    duty = Duty(configured({**ROTA, "calendar": {"holidays": ["2026-12-07"], "workdays": ["2026-12-06"]}}))
    assert not duty.calendar.is_workday(datetime(2026, 12, 7).date())
    assert duty.calendar.is_workday(datetime(2026, 12, 6).date())  # a Sunday


def test_a_days_change_comes_before_the_switch_and_the_rota(shanghai, configured):
    duty = Duty(configured(ROTA))
    monday = local("2026-12-07T10:00:00")
    assert duty.on_duty("orders", monday, Changes({"001": Change("001", "off")})) == ["002"]
    sunday = local("2026-12-06T11:00:00")
    assert duty.on_duty("orders", sunday, Changes({"001": Change("001", "covers", "002")})) == ["001"]  # 002 is off, 001 takes her shift
    switched_off = configured({"subsystems": {"stores": {"departments": {"store-sales": {}}}}})
    assert Duty(switched_off).on_duty("store-sales", monday) == ["009"]  # 010 is switched off in the example
    assert Duty(switched_off).on_duty("store-sales", monday, Changes({"010": Change("010", "on")})) == ["009", "010"]


def test_a_pinned_route_gives_every_withdrawal_to_its_person(stub, write_config, run_daemon):
    """Regression: with two people in finance, the second withdrawal went to the other one by rotation."""
    overrides = {**FINANCE, "route": {"department": "service", "routes": [
        {"match": {"category": "finance"}, "department": "finance", "staff": "003"}]}}
    server = stub([withdrawal("w-1"), withdrawal("w-2"), withdrawal("w-3")])
    daemon = run_daemon(write_config({**fast_platform(server.url), **overrides}))
    assert wait_until(lambda: daemon.store.meta.cursor == "3")
    assigned = daemon.store.query("select staff_id from assignments where department = 'finance'")
    assert [a["staff_id"] for a in assigned] == ["003", "003", "003"]


def test_a_preferred_person_gets_the_message_while_on_duty_and_the_rotation_otherwise(configured, tmp_path):
    cfg = configured({**FINANCE, "route": {"department": "service", "routes": [
        {"match": {"category": "finance"}, "department": "finance", "prefer": "003"}]}})
    with Store(tmp_path / "s.db", FakeClock()) as store:
        ingest = Ingest(cfg, store)
        ingest(Batch([withdrawal("p-1"), withdrawal("p-2")], "1"), ["log"])
        store.duty.set(store.clock.now().astimezone().strftime("%Y-%m-%d"), "003", "off")
        ingest(Batch([withdrawal("p-3")], "2"), ["log"])
        people = [r["staff_id"] for r in store.query("select staff_id from assignments order by rowid")]
    assert people == ["003", "003", "011"]


@pytest.mark.parametrize("overrides, expected", [
    ({**FINANCE, "route": {"department": "service", "routes": [{"match": {"category": "finance"}, "department": "finance", "staff": "007"}]}},
     "route.routes[0].staff: staff '007' is not in department 'finance'; known: 003, 011"),
    ({"route": {"department": "service", "prefer": "003"}}, "route.prefer: staff '003' is not in department 'service'"),
    ({"subsystems": {"mall": {"departments": {"orders": {"rota": [{"days": "weekends"}]}}}}},
     "subsystems.mall.departments.orders.rota[0].days: 'weekends' is not a day"),
    ({"subsystems": {"mall": {"departments": {"orders": {"rota": [{"staff": ["003"]}]}}}}},
     "subsystems.mall.departments.orders.rota[0].staff[0]: staff '003' is not in department 'orders'"),
    ({"subsystems": {"mall": {"departments": {"orders": {"rota": [{"hours": "9-18"}]}}}}}, "rota[0].hours: must be HH:MM-HH:MM"),
    ({"subsystems": {"mall": {"departments": {"orders": {"staff": [{"id": "001", "name": "李娜", "mobile": "call me"}]}}}}},
     "staff[0].mobile: must be a mobile number"),
])
def test_a_wrong_person_or_shift_is_named_with_its_line(configured, overrides, expected):
    with pytest.raises(ConfigError) as raised:
        configured(overrides)
    assert any(expected in p and ":" in p.split(expected)[0] for p in raised.value.problems), raised.value.problems
    assert "call me" not in str(raised.value.problems)


def test_duty_on_the_command_line(shanghai, write_config, capsys, tmp_path):
    path = write_config({"storage": {"path": str(tmp_path / "d.db")}})
    Store(tmp_path / "d.db").close()
    assert main(["duty", "002", "covers", "001", "-c", str(path)]) == 0
    assert main(["duty", "-c", str(path)]) == 0
    shown = capsys.readouterr().out
    assert "订单部 (orders)" in shown and "002 陈伟" in shown and "001 李娜" not in shown.split("订单部")[1].splitlines()[0]
    assert main(["duty", "002", "covers", "006", "-c", str(path)]) == 2  # 006 is in membership
    assert "can cover only for another member" in capsys.readouterr().err
    assert main(["duty", "002", "clear", "-c", str(path)]) == 0
    assert main(["duty", "999", "-c", str(path)]) == 2


def _speech_decision(store, cfg, message_id):
    row = store.outbox.notice_row(message_id, store.query("select department from assignments where message_id = ?", [message_id])[0]["department"])
    return Attention(store, lambda: cfg).decide("speech", notice_from_row(row, cfg))


def test_a_mute_silences_its_category_and_ends_by_itself(configured, tmp_path):
    cfg = configured({"speech": {"heard_within": 0}})
    clock = FakeClock()
    with Store(tmp_path / "s.db", clock) as store:
        Ingest(cfg, store)(Batch([order("o-1"), withdrawal("f-1")], "1"), ["speech"])
        store.mutes.mute("category", "order", mute_end("15m", clock.now()))
        muted = _speech_decision(store, cfg, "o-1")
        assert muted.action is Action.SKIP and "muted until" in muted.reason
        assert _speech_decision(store, cfg, "f-1").action is Action.DELIVER
        clock.advance(minutes=15, seconds=1)
        assert _speech_decision(store, cfg, "o-1").action is Action.DELIVER
        assert store.mutes.active(clock.time()) == []


def test_a_critical_category_is_said_through_a_department_mute(configured, tmp_path):
    cfg = configured({})
    with Store(tmp_path / "s.db", FakeClock()) as store:
        Ingest(cfg, store)(Batch([{"id": "t-1", "type": "monitor.service_down", "content": "支付网关无响应"}], "1"), ["speech"])
        store.mutes.mute("department", "tech", store.clock.time() + 3600)
        assert _speech_decision(store, cfg, "t-1").action is Action.DELIVER


def test_mute_until_tomorrow_ends_at_local_midnight(shanghai):
    end = datetime.fromtimestamp(mute_end("tomorrow", local("2026-12-07T15:20:00"))).astimezone()
    assert (end.day, end.hour, end.minute) == (8, 0, 0)
    with pytest.raises(ValueError, match="a minute to a week"):
        mute_end("200h", local("2026-12-07T15:20:00"))
    with pytest.raises(ValueError):
        mute_end("nan", local("2026-12-07T15:20:00"))


def test_mute_on_the_command_line(write_config, capsys, tmp_path):
    path = write_config({"storage": {"path": str(tmp_path / "m.db")}})
    Store(tmp_path / "m.db").close()
    assert main(["mute", "--department", "marketing", "--for", "30m", "-c", str(path)]) == 0
    assert main(["mute", "-c", str(path)]) == 0
    assert "department marketing: muted until" in capsys.readouterr().out
    assert main(["mute", "--category", "nosuch", "-c", str(path)]) == 2
    assert main(["mute", "--department", "marketing", "--end", "-c", str(path)]) == 0
    assert "mute ended" in capsys.readouterr().out
    with Store(tmp_path / "m.db") as store:
        assert store.mutes.active(store.clock.time()) == []


def test_every_span_the_page_offers_is_a_mute_of_the_future():
    now = datetime.now().astimezone()
    assert all(mute_end(choice, now) > now.timestamp() for choice in CHOICES)


def test_the_same_start_and_end_is_the_whole_day(configured):
    tech = configured({})  # the example's tech department is on round the clock
    assert all(Duty(tech).on_duty("tech", datetime(2026, 12, 7, hour).astimezone()) == ["007"] for hour in (0, 3, 12, 23))
