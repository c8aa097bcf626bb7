"""Numbers Python's json reads but JSON has not (NaN, 1e999): refused when checked, never stopping intake."""

from __future__ import annotations

import json

from speakerd import message
from speakerd.store.connection import explain
from tests.conftest import fast_platform

from ..helpers import wait_until
from .hostile import HostilePlatform


def test_a_non_finite_number_in_data_is_refused_and_named(tmp_path):
    found = message.parse({"id": "m-1", "content": "订单", "data": {"items": [{"price": float("inf")}]}})
    assert isinstance(found, message.Rejected) and "data.items.0.price is not a finite number" in found.reason
    assert isinstance(message.parse({"id": "m-2", "content": "订单", "data": {"amount": float("nan")}}), message.Rejected)
    assert isinstance(message.parse({"id": "m-3", "content": "订单", "data": {"amount": 1e308}}), message.Message)


def test_a_json_error_from_sqlite_is_not_called_a_damaged_database(tmp_path):
    said = explain(Exception("malformed JSON"), tmp_path / "speakerd.db")
    assert "damaged" not in said and "the database itself is fine" in said


def test_one_number_no_longer_stops_intake_for_good(write_config, run_daemon, recording, caplog):
    """Regression: data with 1e999 or NaN was stored as Infinity/NaN; the next 'handled' event ran json_extract over
    waiting messages, failed, and no batch was ever stored again; tech was told the database was damaged."""
    pages = {
        None: b'{"messages": [{"id": "m-1", "type": "order.paid", "content": "\\u5ba2\\u6237\\u5df2\\u652f\\u4ed8\\u8ba2\\u53551",'
              b' "data": {"order_id": "1", "amount": 1e999}},'
              b' {"id": "m-2", "type": "order.paid", "content": "\\u8ba2\\u53552", "data": {"order_id": "2", "amount": NaN}},'
              b' {"id": "m-3", "type": "order.paid", "content": "\\u8ba2\\u53553", "data": {"order_id": "3", "amount": 30}}], "next": "3"}',
        "3": json.dumps({"messages": [{"id": "m-4", "type": "order.shipped", "content": "已发货", "data": {"order_id": "3"}}],
                         "next": "4"}).encode(),
        "4": json.dumps({"messages": [{"id": "m-5", "type": "order.paid", "content": "新订单5", "data": {"order_id": "5"}}],
                         "next": "5"}).encode(),
    }

    def answer(query):
        body = pages.get(query.get("after"), json.dumps({"messages": [], "next": query.get("after")}).encode())
        return 200, {"Content-Type": "application/json"}, body

    with HostilePlatform(answer) as platform:
        daemon = run_daemon(write_config(fast_platform(platform.url)))
        assert wait_until(lambda: daemon.store.meta.cursor == "5", 15)  # every batch stored, the cursor on
        assert wait_until(lambda: any(n.message_id == "m-5" for n in recording.notices), 10)
    reasons = {row["platform_id"]: row["reason"] for row in daemon.store.reports.quarantined(limit=10)}
    assert "not a finite number" in reasons["m-1"] and "not a finite number" in reasons["m-2"]
    assert daemon.store.query("select acked_via from messages where id = 'm-3'")[0]["acked_via"] == "platform"
    assert "damaged" not in caplog.text
