"""One event resent under a new id is one message: heard once, assigned once, shown as the first one's duplicate."""

from __future__ import annotations

import pytest

from speakerd import config as config_mod
from speakerd.clock import FakeClock
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.message import parse
from speakerd.rules.identity import content_key
from speakerd.store import Store

from .conftest import EXAMPLE, fast_platform
from .helpers import wait_until


def order(message_id, event="order.paid", order_id="777001", amount=2948.0):
    return {"id": message_id, "type": event, "app": "wechat-mall", "content": f"客户张三已支付订单{order_id}",
            "data": {"order_id": order_id, "amount": amount}}


def test_the_same_order_under_two_ids_is_heard_once_and_assigned_once(stub, write_config, run_daemon, recording):
    """Regression: two ids, one order 777001, the same content: both spoken, one to each of two staff."""
    server = stub([order("m-1"), order("m-2")])
    daemon = run_daemon(write_config(fast_platform(server.url)))
    assert wait_until(lambda: daemon.store.meta.cursor == "2")
    assert wait_until(lambda: len(recording.notices) == 1)
    server.platform.publish([order("m-3", order_id="777002")])  # behind it: anything m-2 could still cause came first
    assert wait_until(lambda: any(n.message_id == "m-3" for n in recording.notices))
    assert [n.message_id for n in recording.notices] == ["m-1", "m-3"]
    assigned = daemon.store.query("select message_id, staff_id from assignments order by rowid")
    assert [a["message_id"] for a in assigned] == ["m-1", "m-3"]
    rows = {r["id"]: r for r in daemon.store.reports.messages()}
    assert rows["m-2"]["duplicate_of"] == "m-1" and rows["m-2"]["outputs"] == "duplicate of m-1"


def test_the_events_of_one_order_stay_distinct_and_the_window_ends(tmp_path):
    cfg = config_mod.load(EXAMPLE)
    clock = FakeClock()
    with Store(tmp_path / "s.db", clock) as store:
        ingest = Ingest(cfg, store)
        first = ingest(Batch([order("a-1", "order.created"), order("a-2"), order("a-3", "order.refund")], "1"), ["log"])
        assert len(first.new) == 3  # created, paid, refund: three events of one order
        clock.advance(days=6)
        assert ingest(Batch([order("a-4")], "2"), ["log"]).duplicates == 1
        clock.advance(days=2)  # past the 7 days since a-2
        assert len(ingest(Batch([order("a-5")], "3"), ["log"]).new) == 1


@pytest.mark.parametrize("raw, keyed", [
    (order("k-1"), True),
    ({"id": "k-2", "type": "order.paid", "content": "无订单号"}, False),  # a field of its key missing: by id only
    ({"id": "k-3", "type": "monitor.service_down", "content": "支付网关无响应"}, False),  # no service named: by id only
    ({"id": "k-5", "type": "platform.notice", "content": "系统维护"}, False),  # not listed: a real repeat is news
    ({"id": "k-4", "type": "campaign.rejected", "content": "未通过", "data": {"campaign": "双11", "attempt": 2}}, True),
])
def test_which_messages_have_a_content_key(raw, keyed):
    cfg = config_mod.load(EXAMPLE)
    assert (content_key(parse(raw), cfg.dedupe.keys) is not None) is keyed


def test_a_second_rejection_of_a_campaign_is_news_but_its_resend_is_not():
    keys = config_mod.load(EXAMPLE).dedupe.keys

    def rejected(attempt):
        return parse({"id": f"r-{attempt}", "type": "campaign.rejected", "content": "未通过", "data": {"campaign": "双11", "attempt": attempt}})

    assert content_key(rejected(1), keys) != content_key(rejected(2), keys)
    assert content_key(rejected(2), keys) == content_key(parse({**order("x"), "id": "r-9", "type": "campaign.rejected",
                                                                  "data": {"campaign": "双11", "attempt": 2}}), keys)


def test_dedupe_window_zero_keeps_only_the_id(tmp_path):
    cfg = config_mod.load(EXAMPLE)
    cfg = config_mod.Config(**{**cfg.__dict__, "dedupe": config_mod.DedupeConfig(window_days=0)})
    with Store(tmp_path / "s.db", FakeClock()) as store:
        result = Ingest(cfg, store)(Batch([order("z-1"), order("z-2")], "1"), ["log"])
    assert len(result.new) == 2


def alert(n, service="库存服务", kind="monitor.service_slow"):
    return {"id": f"al-{n}", "type": kind, "app": "platform", "content": f"服务监控：{service}响应缓慢，平均{8000 + n}毫秒",
            "data": {"service": service, "latency_ms": 8000 + n}}


def test_a_monitor_repeating_an_alert_is_told_once_per_ten_minutes_and_a_new_one_after_that(tmp_path):
    """Each repeat of a monitor's alert while a service stayed slow was a critical message said in full (8-10 s):
    at the office peak these were the floor under the urgent messages' wait. As Alertmanager's repeat_interval:
    told once per dedupe.windows (10 minutes), the repeats stored as its duplicates; a second real alert later is news."""
    cfg = config_mod.load(EXAMPLE)
    clock = FakeClock()
    with Store(tmp_path / "s.db", clock) as store:
        ingest = Ingest(cfg, store)
        assert len(ingest(Batch([alert(1)], "1"), ["log"]).new) == 1
        clock.advance(minutes=4)
        again = ingest(Batch([alert(2), alert(3, service="支付服务"), alert(4, kind="monitor.service_down")], "2"), ["log"])
        assert again.duplicates == 1 and [m for m, _, _ in again.new] == ["al-3", "al-4"]  # another service, another kind: news
        clock.advance(minutes=7)  # 11 minutes after the first
        assert [m for m, _, _ in ingest(Batch([alert(5)], "3"), ["log"]).new] == ["al-5"]
        assert store.query("select duplicate_of from messages where id = 'al-2'")[0]["duplicate_of"] == "al-1"
        clock.advance(days=6)  # an order's resend still repeats it for the 7 days of window_days
        ingest(Batch([order("o-1")], "4"), ["log"])
        clock.advance(days=6)
        assert ingest(Batch([order("o-2")], "5"), ["log"]).duplicates == 1


def test_a_window_that_is_not_a_time_is_refused_naming_it(write_config):
    from speakerd.errors import ConfigError

    with pytest.raises(ConfigError, match="dedupe.windows.monitor"):
        config_mod.load(write_config({"dedupe": {"windows": {"monitor.*": "soon"}}}))

