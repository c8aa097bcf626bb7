"""Take over and hand on: from a push's link and from the dashboard; the assignment moves, the person is told, reports count it."""

from __future__ import annotations

import json

import requests

from speakerd.cli import main
from speakerd.device.password import set_password
from speakerd.ports import free_port
from speakerd.web import create_app

from .helpers import WEB_PASSWORD, WITHDRAWAL, claimed, csrf, login, wait_until, with_targets


def finance_of_two(cfg, port):
    finance = cfg["subsystems"]["headquarters"]["departments"]["finance"]
    finance["staff"].append({"id": "011", "name": "刘洋", "push": [f"json://127.0.0.1:{port}/hook"]})
    return cfg


def test_handing_on_from_the_push_link_moves_the_message_tells_the_colleague_and_is_counted(stub, write_config, real_daemon,
                                                                                            receiver, capsys):
    port = free_port()
    cfg = finance_of_two(with_targets(stub([WITHDRAWAL]).url, receiver.port), receiver.port)
    cfg["web"] = {"enabled": True, "listen": f"127.0.0.1:{port}", "public_url": f"http://127.0.0.1:{port}"}
    path = claimed(write_config(cfg))
    daemon = real_daemon(path)
    assert wait_until(lambda: receiver.kinds("json"))
    link = receiver.kinds("json")[0]["ack_url"]
    page = requests.get(link, timeout=5).text
    assert 'value="011"' in page and "我来处理" in page and "转给TA" in page
    moved = requests.post(f"{link}/handover", data={"staff_id": "011", "kind": "give"}, timeout=5)
    assert moved.status_code == 200, moved.text
    assert daemon.store.query("select staff_id from assignments where message_id = 'm-w1'")[0]["staff_id"] == "011"
    assert wait_until(lambda: any(b["message"].startswith("王芳转给011号刘洋：张三申请提现5000元") for b in receiver.kinds("json")))
    told = daemon.store.query("select id from messages where type = 'speakerd.handover'")
    assert [t["id"] for t in told] == ["m-w1~esch1"]
    daemon.store.acks.acknowledge("m-w1~esch1", "button")  # acknowledging the notice acknowledges the message
    assert daemon.store.query("select acked_at from messages where id = 'm-w1'")[0]["acked_at"]
    refused = requests.post(f"{link}/handover", data={"staff_id": "003", "kind": "take"}, timeout=5)
    assert refused.status_code == 409 and "已处理" in refused.text
    daemon.stop()
    assert main(["stats", "--by", "staff", "--format", "json", "-c", str(path)]) == 0
    rows = {r["staff"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert (rows["003"]["handed_on"], rows["011"]["received"], rows["011"]["took"]) == (1, 1, 0)


def test_taking_over_from_the_dashboard_and_what_is_refused(stub, write_config, run_daemon, receiver):
    cfg = finance_of_two(with_targets(stub([WITHDRAWAL]).url, receiver.port), receiver.port)
    cfg["web"] = {"enabled": False}
    daemon = run_daemon(write_config(cfg))
    assert wait_until(lambda: daemon.store.query("select count(*) as n from assignments")[0]["n"] == 1)
    set_password(daemon.config_path, WEB_PASSWORD)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    assert 'name="kind" value="take"' in client.get("/").get_data(as_text=True)
    client.post("/messages/handover", data={"csrf_token": csrf(client, "/"), "message_id": "m-w1", "staff_id": "007", "kind": "give"})
    assert daemon.store.query("select staff_id from assignments where message_id = 'm-w1'")[0]["staff_id"] == "003"  # 007 is in tech
    client.post("/messages/handover", data={"csrf_token": csrf(client, "/"), "message_id": "m-w1", "staff_id": "011", "kind": "take"})
    assert daemon.store.query("select staff_id from assignments where message_id = 'm-w1'")[0]["staff_id"] == "011"
    assert daemon.store.handovers.per_person("0000-00-00", "9999-99-99") == {"011": {"took": 1, "handed_on": 0, "received": 0}}
    assert wait_until(lambda: any(n["content"].startswith("011号刘洋接手处理：") for n in daemon.store.reports.messages()))
