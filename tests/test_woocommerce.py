"""A WooCommerce shop as the platform: its REST API's orders, through a local shop that answers as WooCommerce does."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from speakerd.errors import PlatformError
from speakerd.intake.woocommerce import WooClient, as_message
from speakerd.ports import free_port

from .conftest import fast_platform
from .helpers import claimed, wait_until
from .woo_shop import KEY, SECRET, T0, order


def test_each_status_an_order_reaches_is_one_message_and_none_is_taken_twice(shop):
    client = WooClient(shop.url, KEY, SECRET, 5)
    shop.put(order(101, "pending", T0), order(102, "processing", T0))
    first = client.fetch(None, 100)
    assert [m["id"] for m in first.messages] == ["woo-101-pending", "woo-102-processing"]
    paid = first.messages[1]
    assert paid["type"] == "order.paid" and paid["content"] == "客户李娜已支付订单102，金额1280.50元"
    assert paid["data"]["amount"] == 1280.5 and paid["data"]["items"] == ["羊绒围巾"] and paid["created_at"] == "2026-12-06T08:30:00+00:00"
    again = client.fetch(first.next, 100)
    assert again.messages == [] and again.next == first.next  # nothing new: nothing twice
    shop.put(order(103, "processing", T0))  # modified in the same second as the last taken: neither missed nor taken twice
    shop.put(order(101, "refunded", T0 + timedelta(seconds=40)))
    later = client.fetch(again.next, 100)
    assert [m["id"] for m in later.messages] == ["woo-103-processing", "woo-101-refunded"]
    assert later.messages[1]["type"] == "order.refund"
    assert shop.asked[-1]["modified_after"] == "2026-12-06T08:29:59" and shop.asked[-1]["orderby"] == "modified"
    client.close()


def test_a_bulk_action_past_one_page_in_one_second_is_read_to_its_end(shop):
    client = WooClient(shop.url, KEY, SECRET, 5)
    shop.put(*(order(n, "completed", T0) for n in range(1, 8)))
    taken = []
    cursor = None
    for _ in range(6):
        batch = client.fetch(cursor, 3)
        taken += [m["id"] for m in batch.messages]
        cursor = batch.next
    assert taken == [f"woo-{n}-completed" for n in range(1, 8)]
    client.close()


def test_a_wrong_key_and_a_shop_that_is_no_woocommerce_are_named(shop):
    with pytest.raises(PlatformError) as refused:
        WooClient(shop.url, KEY, "cs_wrong", 5).fetch(None, 10)
    assert refused.value.kind == "woo_auth" and "consumer_key" in refused.value.reason  # its key, not a token it does not have
    with pytest.raises(PlatformError) as wrong:
        WooClient(shop.url + "/nothing-here", KEY, SECRET, 5).fetch(None, 10)
    assert wrong.value.kind == "not_found"


def test_an_order_in_another_currency_and_an_unknown_status_still_read(shop):
    message = as_message({**order(9, "checkout-draft", T0), "currency": "USD", "total": "19.90"})
    assert message["type"] == "order.checkout-draft" and "19.90 USD" in message["content"]
    assert "items" not in as_message({**order(10, "processing", T0), "line_items": 5})["data"]  # a webhook's odd body: read, no items


def test_the_daemon_reads_a_woocommerce_shop_and_tells_its_orders(shop, write_config, run_daemon, recording, caplog):
    shop.put(order(201, "processing", T0, total="2948.00"))
    cfg = fast_platform(shop.url)
    cfg["platform"].update({"kind": "woocommerce", "consumer_key": KEY, "consumer_secret": SECRET, "long_poll": 0})
    run_daemon(claimed(write_config(cfg)))
    assert wait_until(lambda: [n.message_id for n in recording.notices] == ["woo-201-processing"])
    assert recording.notices[0].category == "order" and recording.notices[0].department == "orders"
    shop.put(order(201, "refunded", T0 + timedelta(minutes=5), total="2948.00"))
    assert wait_until(lambda: "woo-201-refunded" in [n.message_id for n in recording.notices])
    assert KEY not in caplog.text and SECRET not in caplog.text


def test_a_woocommerce_platform_without_its_key_is_refused_naming_the_field(write_config):
    from speakerd import config as config_mod
    from speakerd.errors import ConfigError

    with pytest.raises(ConfigError, match="platform.consumer_key"):
        config_mod.load(write_config({"platform": {"kind": "woocommerce", "url": "https://shop.example.com"}}))


def deliver(url, order_or_body, secret, topic="order.updated"):
    """A delivery as WooCommerce makes it: the order's JSON, signed with the webhook's secret (HMAC-SHA256, base64)."""
    import base64
    import hashlib
    import hmac
    import json

    body = order_or_body if isinstance(order_or_body, bytes) else json.dumps(order_or_body).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return requests.post(url, data=body, timeout=5, headers={"Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
                                                             "X-WC-Webhook-Signature": signature})


def test_an_order_webhook_is_told_at_once_and_the_poll_that_finds_it_tells_nobody_twice(shop, write_config, run_daemon, recording, caplog):
    """Polled every few seconds, a WooCommerce shop asked its server 17,000 times a day to learn of new orders; with
    its webhooks the order comes the moment it is placed, and the polls (now minutes apart) only catch up."""
    port = free_port()
    cfg = fast_platform("http://127.0.0.1:9")
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}"}
    cfg["sources"] = {"woo": {"kind": "woocommerce", "url": shop.url, "consumer_key": KEY, "consumer_secret": SECRET,
                              "webhook_secret": "wh-secret-1", "poll_interval": 0.5, "long_poll": 0}}
    daemon = run_daemon(claimed(write_config(cfg)))
    url = f"http://127.0.0.1:{port}/v1/woocommerce/woo"
    assert requests.post(url, data="webhook_id=17", timeout=5).status_code == 200  # the shop's ping as the webhook is saved
    placed = order(301, "processing", T0, total="88.00")
    answer = deliver(url, placed, "wh-secret-1")
    assert answer.status_code == 200 and answer.json()["stored"] == ["woo:woo-301-processing"]
    assert wait_until(lambda: "woo:woo-301-processing" in [n.message_id for n in recording.notices])
    assert deliver(url, placed, "wh-secret-1").json()["duplicates"] == 1  # the shop retries a delivery: told once
    assert deliver(url, placed, "a-guess").status_code == 401
    odd = requests.post(url, data=b"{}", timeout=5, headers={"X-WC-Webhook-Signature": "é=".encode("latin-1"), "X-WC-Webhook-Topic": "order.created"})
    assert odd.status_code == 401  # not ASCII: refused, not a 500
    assert deliver(url, {"id": "x"}, "wh-secret-1").status_code == 400
    assert deliver(url, {"id": 5, "name": "围巾"}, "wh-secret-1", topic="product.updated").json()["stored"] == []
    assert deliver(f"http://127.0.0.1:{port}/v1/woocommerce/nothing", placed, "wh-secret-1").status_code == 404
    shop.put(placed)  # the shop lists it from now on: the next poll finds the order the webhook brought
    polls = len(shop.asked)
    assert wait_until(lambda: len(shop.asked) >= polls + 2)
    assert daemon.store.query("select count(*) as n from messages where id like 'woo:%'")[0]["n"] == 1
    assert [n.message_id for n in recording.notices if n.message_id.startswith("woo:")] == ["woo:woo-301-processing"]
    assert "wh-secret-1" not in caplog.text and "refused: wrong or missing signature" in caplog.text


def test_a_webhook_secret_on_a_source_that_is_not_woocommerce_is_refused_naming_the_field(write_config):
    from speakerd import config as config_mod
    from speakerd.errors import ConfigError

    with pytest.raises(ConfigError, match="sources.erp.webhook_secret"):
        config_mod.load(write_config({"sources": {"erp": {"kind": "inbound", "token": "erp-token-1", "webhook_secret": "x"}}}))
