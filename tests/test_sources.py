"""Several sources on one device: the platform, a WooCommerce shop, a second feed and a pusher, each with its own cursor and health."""

from __future__ import annotations

import re

import pytest
import requests

from speakerd.intake.source import Source
from speakerd.ports import free_port
from speakerd.reports.status import status_lines
from speakerd.web import create_app

from .conftest import fast_platform
from .helpers import claimed, login, send, wait_until
from .woo_shop import KEY, SECRET, T0, order

FAST = {"poll_interval": 0.2, "long_poll": 0, "timeout": 2, "retry_max": 1}


def paid(i, order_id):
    return {"id": f"m-{i}", "type": "order.paid", "app": "wechat-mall", "content": f"客户已支付订单{order_id}", "data": {"order_id": order_id}}


def ids(recording):
    return sorted(n.message_id for n in recording.notices if n.category != "tech")


def test_three_sources_are_read_at_once_each_with_its_cursor_ids_and_health(stub, shop, write_config, run_daemon, recording):
    own = stub([paid(1, "201"), paid(2, "202")])
    market = stub([paid(1, "201"), paid(2, "202")])  # the same ids and order numbers as the own shop: other orders all the same
    shop.put(order(201, "processing", T0))  # and the same order number again, in a WooCommerce shop
    cfg = fast_platform(own.url)
    cfg["health"] = {"fail_after": 1}
    cfg["sources"] = {"market": {"url": market.url, "token": "demo-token", **FAST},
                      "shop": {"kind": "woocommerce", "url": shop.url, "consumer_key": KEY, "consumer_secret": SECRET, **FAST}}
    daemon = run_daemon(claimed(write_config(cfg)))
    assert wait_until(lambda: ids(recording) == ["m-1", "m-2", "market:m-1", "market:m-2", "shop:woo-201-processing"])
    apps = {n.message_id: daemon.store.query("select app from messages where id = ?", [n.message_id])[0]["app"] for n in recording.notices}
    assert apps["market:m-1"] == "wechat-mall" and apps["shop:woo-201-processing"] == "shop"  # its own app, else the source's name
    assert daemon.store.meta.cursor == "2" and daemon.store.meta.get("cursor:market") == "2"
    assert daemon.store.meta.get("cursor:shop", "").startswith("2026-12-06T08:30:00")

    market.stop()  # one source goes away: the others go on, and the alert names the one that is gone
    shop.put(order(202, "processing", T0.replace(minute=31)))
    assert wait_until(lambda: "shop:woo-202-processing" in ids(recording))
    assert wait_until(lambda: any(n.category == "tech" and "market：" in n.content for n in recording.notices), 10)
    assert "platform" not in daemon.health.troubles and "source:shop" not in daemon.health.troubles
    daemon.device_state.write_heartbeat(daemon.running.names())
    lines, verdict = status_lines(daemon.device_state.heartbeat(), [], [])
    assert verdict == "UNHEALTHY"
    assert any(line.startswith("source     : market: DOWN since") for line in lines)
    assert any(line.startswith("source     : shop: OK, last good poll") and "woocommerce http://127.0.0.1" in line for line in lines)
    up = {s.labels["source"]: s.value for m in metrics(daemon) if m.name == "speakerd_source_up" for s in m.samples}
    assert up == {"platform": 1, "market": 0, "shop": 1}
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    dashboard = client.get("/").get_data(as_text=True)
    assert "平台连接正常" in dashboard  # the platform is fine; the alert on the page says which source is not
    assert re.search(r'<div class="error">[^<]*market：连不上平台', dashboard)
    card = re.search(r'id="platform-state">(.*?)</div>\s*<div class="card"', dashboard, re.S).group(1)
    assert re.search(r'class="source bad">market：自 \d\d:\d\d 起连接中断<', card) and 'class="source ok">shop：连接正常<' in card


def metrics(daemon):
    from speakerd.reports.metrics import DeviceCollector

    state = daemon.device_state
    return list(DeviceCollector(daemon.store, state.troubles, state.last_ok, lambda: ["platform", *daemon.cfg.sources]).collect())


def test_a_source_added_by_a_reload_is_polled_and_one_removed_is_not(stub, write_config, run_daemon, recording):
    own, market = stub([paid(1, "201")]), stub([paid(1, "301")])
    path = claimed(write_config(fast_platform(own.url)))
    daemon = run_daemon(path)
    assert wait_until(lambda: ids(recording) == ["m-1"])
    write_config({**fast_platform(own.url), "sources": {"market": {"url": market.url, "token": "demo-token", **FAST}}})
    assert daemon.reload()
    assert wait_until(lambda: ids(recording) == ["m-1", "market:m-1"])
    write_config(fast_platform(own.url))
    assert daemon.reload()
    assert [s.name for s in daemon.polling.pollers] == ["platform"]
    own.platform.publish([paid(2, "202")])
    assert wait_until(lambda: "m-2" in ids(recording))  # a poll of the market under way at the reload has ended by now
    asked = market.platform.requests
    market.platform.publish([paid(2, "302")])
    own.platform.publish([paid(3, "203")])
    assert wait_until(lambda: "m-3" in ids(recording))
    assert market.platform.requests == asked and "market:m-2" not in ids(recording)


@pytest.fixture
def pushed_to(stub, write_config, run_daemon, recording):
    port = free_port()
    cfg = fast_platform(stub([]).url)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "inbound_token": "platform-token"}
    cfg["sources"] = {"erp": {"kind": "inbound", "token": "erp-token"}}
    daemon = run_daemon(claimed(write_config(cfg)))
    return daemon, f"http://127.0.0.1:{port}/v1/inbound"


def push(url, body, token):
    return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_an_inbound_source_is_told_apart_by_its_token(pushed_to, recording, caplog):
    daemon, url = pushed_to
    message = {"id": "1", "type": "order.paid", "content": "客户王五已支付订单777001", "data": {"order_id": "777001"}}
    assert push(url, message, "erp-token").json()["stored"] == ["erp:1"]
    assert push(url, message, "platform-token").json()["stored"] == ["1"]  # another source: not a repeat of the ERP's
    assert push(url, message, "erp-token").json()["duplicates"] == 1
    assert push(url, message, "guess").status_code == 401
    assert wait_until(lambda: ids(recording) == ["1", "erp:1"])
    assert daemon.store.query("select app from messages where id = 'erp:1'")[0]["app"] == "erp"
    assert "source:erp" in daemon.health.last_ok
    daemon.device_state.write_heartbeat(daemon.running.names())
    lines, _ = status_lines(daemon.device_state.heartbeat(), [], [])
    assert any(line.startswith("source     : erp: OK, last push") and line.endswith("[inbound]") for line in lines)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    assert re.search(r'class="source ok">erp：最近一次推送在 \d\d:\d\d<', client.get("/").get_data(as_text=True))
    assert "erp-token" not in caplog.text and "platform-token" not in caplog.text


def test_a_source_marks_ids_handles_and_app_and_leaves_garbage_to_the_check():
    marked = Source("tmall").mark([{"id": 7, "type": "order.shipped", "data": {"handles": "m-1"}}, {"id": ""}, "garbage", {"id": True}], "tmall")
    assert marked[0] == {"id": "tmall:7", "type": "order.shipped", "app": "tmall", "data": {"handles": "tmall:m-1"}}
    assert marked[1]["id"] == "" and marked[2] == "garbage" and marked[3]["id"] is True
    platform = [{"id": "m-1"}]
    assert Source().mark(platform, "") is platform


@pytest.mark.parametrize("sources, field, words", [
    ({"天猫 店": {"url": "http://127.0.0.1:1"}}, "sources.天猫 店", "up to 32 letters"),
    ({"platform": {"url": "http://127.0.0.1:1"}}, "sources.platform", "choose another name"),
    ({"shop": {"kind": "woocommerce", "url": "https://shop.example.com"}}, "sources.shop.consumer_key", "REST API key"),
    ({"erp": {"kind": "inbound"}}, "sources.erp.token", "set one"),
    ({"a": {"kind": "inbound", "token": "same"}, "b": {"kind": "inbound", "token": "same"}}, "sources.b.token", "sources.a.token"),
    ({"market": {"token": "x"}}, "sources.market", "needs its url"),
])
def test_a_faulty_source_is_refused_naming_its_field(write_config, sources, field, words):
    from speakerd import config as config_mod
    from speakerd.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        config_mod.load(write_config({"sources": sources}))
    assert any(f"{field}:" in p and words in p for p in refused.value.problems), refused.value.problems


def test_the_platform_itself_cannot_be_inbound(write_config):
    from speakerd import config as config_mod
    from speakerd.errors import ConfigError

    with pytest.raises(ConfigError, match="platform.kind: inbound is for a source"):
        config_mod.load(write_config({"platform": {"kind": "inbound"}}))


def test_a_shipped_order_acknowledges_only_its_own_sources_order(tmp_path, write_config):
    from speakerd import config as config_mod
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.store import Store

    cfg = config_mod.load(write_config({"sources": {"market": {"url": "http://127.0.0.1:1"}}}))
    with Store(tmp_path / "speakerd.db") as store:
        ingest = Ingest(cfg, store)
        ingest(Batch([paid(1, "201")], "1"), [])
        ingest(Batch([paid(1, "201")], "1"), [], Source("market"))
        shipped = {"id": "m-2", "type": "order.shipped", "content": "订单201已发货", "data": {"order_id": "201"}}
        result = ingest(Batch([shipped], "2"), [], Source("market"))
        assert result.handled == [("market:m-2", ["market:m-1"])]
        assert store.query("select id from messages where acked_at is null") == [{"id": "m-1"}]
        result = ingest(Batch([shipped], "2"), [])
        assert result.handled == [("m-2", ["m-1"])]


def test_a_sources_trouble_names_the_source_and_the_settings_to_check_are_its_own():
    from speakerd.health.alerts import KIND_TEXT, alert_phrase, kind_text

    what, todo = kind_text("auth", subject="source:tmall log")
    assert what == "天猫：平台拒绝了设备的令牌" and todo == "请在设置页检查平台令牌（sources.tmall.token）"
    assert kind_text("auth", subject="platform") == KIND_TEXT["auth"]
    # A WooCommerce shop has no token: a refused key sends people to its key, the source's own.
    what, todo = kind_text("woo_auth", subject="source:woo")
    assert what == "woo：网店拒绝了设备的接口密钥" and todo.endswith("（sources.woo.consumer_key）") and "令牌" not in todo
    assert alert_phrase("unreachable", subject="source:market") == "技术告警，market：连不上平台，请检查平台服务是否在运行。"


def test_the_settings_page_adds_a_woocommerce_shop_after_one_poll_and_removes_it(site, shop):
    """Further sources were written in config.yaml by hand: shop staff could add a second shop only over SSH."""
    from speakerd import config as config_mod

    daemon, client, path = site
    shop.put(order(7, "processing", T0))
    refused = send(client, "/settings/sources/add", name="woo", kind="woocommerce", url=shop.url, consumer_key=KEY, consumer_secret="cs_wrong")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "网店拒绝了这个密钥" in page and "cs_wrong" not in page and KEY not in page
    assert config_mod.load(path).sources == {}
    added = send(client, "/settings/sources/add", name="woo", kind="woocommerce", url=shop.url.removeprefix("http://"), consumer_key=KEY,
                 consumer_secret=SECRET, webhook_secret="wh-secret-2")
    assert added.status_code == 302
    source = config_mod.load(path).sources["woo"]
    assert (source.kind, source.url, source.consumer_key, source.consumer_secret, source.webhook_secret) == ("woocommerce", shop.url, KEY,
                                                                                                            SECRET, "wh-secret-2")
    assert wait_until(lambda: any(m["id"] == "woo:woo-7-processing" for m in daemon.store.reports.messages()), 30)
    page = client.get("/settings").get_data(as_text=True)
    assert 'id="source-woo"' in page and "已设置：WooCommerce 消费者密钥（Consumer key）、WooCommerce 消费者密码（Consumer secret）、WooCommerce Webhook 密钥" in page
    assert KEY not in page and SECRET not in page and "wh-secret-2" not in page
    assert send(client, "/settings/sources/add", name="woo", kind="speakerd", url=shop.url).status_code == 400  # taken
    assert send(client, "/settings/sources/remove", name="woo").status_code == 302
    assert config_mod.load(path).sources == {} and "woo" not in daemon.cfg.sources
    assert send(client, "/settings/sources/remove", name="woo").status_code == 400


def test_a_source_that_does_not_answer_is_added_only_when_asked_and_a_pusher_needs_no_poll(site):
    from speakerd import config as config_mod

    _, client, path = site
    dead = f"http://127.0.0.1:{free_port()}"
    refused = send(client, "/settings/sources/add", name="tmall", kind="speakerd", url=dead, token="feed-token-1")
    assert refused.status_code == 400 and "未添加：它没有应答" in refused.get_data(as_text=True) and "feed-token-1" not in refused.get_data(as_text=True)
    assert send(client, "/settings/sources/add", name="tmall", kind="speakerd", url=dead, token="feed-token-1", anyway="on").status_code == 302
    assert config_mod.load(path).sources["tmall"].token == "feed-token-1"
    assert send(client, "/settings/sources/add", name="erp", kind="inbound", token="erp-token-long-enough-1").status_code == 302
    assert config_mod.load(path).sources["erp"].kind == "inbound"
    bad = send(client, "/settings/sources/add", name="a b", kind="inbound", token="another-token-long-enough")
    assert bad.status_code == 400 and "sources" in bad.get_data(as_text=True)  # the config's own check names the field
    assert send(client, "/settings/sources/add", name="x", kind="ftp", url=dead).status_code == 400
