"""End to end: stub platform over loopback HTTP → daemon → SQLite file → outputs."""

import collections
import json
import logging
import signal
import subprocess
import sys
import time

import pytest
import requests
import yaml

from speakerd.message import Rejected, parse
from speakerd.store import Store
from speakerd.stub.scenarios import flash_sale, malformed_events, office

from .conftest import fast_platform
from .helpers import count_rows, start_process, unique_good, wait_until


def stored(daemon):
    return daemon.store.reports.counts()["messages"]


def test_office_day_is_stored_once_classified_routed_and_announced(stub, write_config, run_daemon, recording):
    events = office(120)
    server = stub(events)
    daemon = run_daemon(write_config(fast_platform(server.url)))
    good = unique_good(events)
    assert len(events) > len(good) + 5  # the scenario really resends and breaks messages
    assert wait_until(lambda: stored(daemon) == len(good))
    assert daemon.store.meta.cursor == str(len(events))
    bad = {json.dumps(e, sort_keys=True, ensure_ascii=False) for e in events if isinstance(parse(e), Rejected)}
    assert len(bad) == 10 and len(daemon.store.reports.quarantined()) == len(bad)
    rows = daemon.store.query("select count(*) as n from assignments")
    assert wait_until(lambda: len(recording.notices) == rows[0]["n"])
    by_message = collections.Counter(n.message_id for n in recording.notices)
    assert set(by_message) == set(good)

    notices = {n.message_id: n for n in recording.notices}
    types = {e["id"]: e.get("type") for e in events if isinstance(e, dict) and e.get("id") in good}
    expected = {"finance.withdrawal": "finance", "member.joined": "membership", "order.refund": "service",
                "order.appeal": "service", "campaign.approved": "marketing", "platform.notice": "service"}
    for mid, type_ in types.items():
        if type_ in expected:
            assert notices[mid].department == expected[type_], (mid, type_)
        if type_ is None:  # no type: classified by its words (提现)
            assert notices[mid].category == "finance"
    withdrawal = next(n for n in recording.notices if n.category == "finance")
    assert (withdrawal.staff_id, withdrawal.staff_name, withdrawal.department_name) == ("003", "王芳", "财务部")

    online_orders = [n.staff_id for n in sorted(recording.notices, key=lambda n: n.message_id) if n.department == "orders"]
    assert set(online_orders) == {"001", "002"}
    assert all(a != b for a, b in zip(online_orders, online_orders[1:]))  # they take turns


def test_resent_event_after_restart_is_not_stored_again(stub, write_config, run_daemon, recording, open_store):
    events = office(10)
    server = stub(events)
    path = write_config(fast_platform(server.url))
    first = run_daemon(path)
    assert wait_until(lambda: stored(first) == len(unique_good(events)))
    first.stop()
    server.platform.publish([dict(events[0]), dict(events[1])])
    second = run_daemon(path)
    assert wait_until(lambda: second.store.meta.cursor == str(len(server.platform.log)))
    assert stored(second) == len(unique_good(events))


@pytest.mark.parametrize("raw, reason", malformed_events(), ids=lambda v: v if isinstance(v, str) else None)
def test_each_bad_input_is_quarantined_and_the_next_message_flows(stub, write_config, run_daemon, recording, raw, reason):
    server = stub([raw, {"id": "m-next", "type": "order.paid", "content": "客户张三已支付订单1"}])
    daemon = run_daemon(write_config(fast_platform(server.url)))
    assert recording.wait_for(1)
    assert recording.notices[0].message_id == "m-next"
    rows = daemon.store.reports.quarantined()
    assert len(rows) == 1 and reason in rows[0]["reason"]


def test_garbage_answer_is_kept_logged_and_retried(stub, write_config, run_daemon, recording, caplog):
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    requests.post(f"{server.url}/admin/fault", json={"mode": "garbage", "count": 2}, headers={"Authorization": "Bearer demo-token"})
    daemon = run_daemon(write_config(fast_platform(server.url)))
    assert recording.wait_for(1)
    assert "the answer is not JSON" in caplog.text
    rows = daemon.store.reports.quarantined()
    assert len(rows) == 1 and "502 Bad Gateway" in rows[0]["raw"]


@pytest.mark.parametrize("mode, logged", [("500", "failed with HTTP 500"), ("401", "refused the token"), ("slow", "no answer from")])
def test_platform_failure_is_retried_and_nothing_is_lost(stub, write_config, run_daemon, recording, caplog, mode, logged):
    events = office(20)
    server = stub(events)
    requests.post(f"{server.url}/admin/fault", json={"mode": mode, "count": 3, "seconds": 1.5},
                  headers={"Authorization": "Bearer demo-token"})
    daemon = run_daemon(write_config(fast_platform(server.url, timeout=0.5)))
    assert wait_until(lambda: stored(daemon) == len(unique_good(events)))
    assert "platform: " in caplog.text and logged in caplog.text
    assert server.platform.requests >= 4


def test_failing_output_is_retried_until_delivered_once(stub, write_config, run_daemon, recording, caplog, monkeypatch):
    monkeypatch.setattr("speakerd.delivery.dispatch.RETRY_FIRST", 0.1)
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    recording.fail_next(2)
    daemon = run_daemon(write_config(fast_platform(server.url)))
    assert recording.wait_for(1, timeout=20)
    assert wait_until(lambda: daemon.store.reports.messages()[0]["outputs"] == "recording:done")  # done: never owed again
    assert [n.message_id for n in recording.notices] == ["m-1"]
    assert "cannot deliver m-1" in caplog.text


def test_slow_output_does_not_hold_up_another(stub, write_config, run_daemon, recording):
    import threading

    from speakerd.outputs.recording import RecordingOutput

    release = threading.Event()

    class Stuck(RecordingOutput):
        def deliver(self, notice):
            release.wait(10)

    server = stub(office(5))
    try:
        run_daemon(write_config(fast_platform(server.url)), outputs=[Stuck("stuck"), recording])
        assert recording.wait_for(5)
    finally:
        release.set()


def test_edit_reloads_and_bad_edit_keeps_running_config(stub, write_config, run_daemon, recording, caplog):
    server = stub([])
    path = write_config(fast_platform(server.url))
    daemon = run_daemon(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["route"]["routes"][0]["department"] = "service"  # withdrawals now go to customer service
    del data["route"]["routes"][0]["staff"]  # whose person was in finance
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert wait_until(lambda: daemon.cfg.route.routes[0].department == "service", timeout=10)
    server.platform.publish([{"id": "m-1", "type": "finance.withdrawal", "content": "张三申请提现500元"}])
    assert recording.wait_for(1)
    assert recording.notices[0].department == "service"

    path.write_text(path.read_text(encoding="utf-8").replace("poll_interval: 0.2", "poll_interval: -4"), encoding="utf-8")
    assert wait_until(lambda: "config not reloaded" in caplog.text, timeout=10)
    assert "platform.poll_interval: must be at least 0.2" in caplog.text
    assert daemon.cfg.platform.poll_interval == 0.2
    server.platform.publish([{"id": "m-2", "type": "order.paid", "content": "客户张三已支付订单2"}])
    assert recording.wait_for(2)


# --- the daemon as a real process -------------------------------------------------


def expected_assignments(config_path, events):
    from speakerd import config
    from speakerd.rules.classify import Classifier
    from speakerd.rules.route import Router

    cfg = config.load(config_path)
    classifier, router = Classifier(cfg.categories, cfg.classify.fallback), Router(cfg)
    return sum(len(router.departments_for(m, classifier.classify(m).category)) for m in map(parse, events))


def test_kill_9_mid_batch_then_restart_stores_every_message_exactly_once(stub, write_config, tmp_path):
    events = flash_sale(3000)
    server = stub(events)
    # Small batches: a run takes a few seconds, so each kill lands mid-way.
    path = write_config(fast_platform(server.url, batch_size=10))
    routed = expected_assignments(path, events)  # some VIP orders go to two departments
    db_path = tmp_path / "speakerd.db"
    kills = 0
    for _ in range(4):
        proc = start_process(path)
        try:
            before = count_rows(db_path, "select count(*) as n from messages")
            wait_until(lambda before=before: count_rows(db_path, "select count(*) as n from messages") > before + 100, timeout=20, interval=0.02)
        finally:
            proc.kill()
            proc.wait(10)
        kills += 1
        if count_rows(db_path, "select count(*) as n from messages") == len(events):
            break
    proc = start_process(path)
    try:
        assert wait_until(lambda: count_rows(db_path, "select count(*) as n from messages") == len(events), timeout=60)
        assert wait_until(lambda: count_rows(db_path, "select count(*) as n from outbox where state = 'done'") == routed * 2, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert kills >= 2
    store = Store(db_path)
    try:
        assert store.meta.cursor == str(len(events))
        assert store.query("select count(distinct id) as n from messages")[0]["n"] == len(events)
        assert store.query("select count(*) as n from assignments")[0]["n"] == routed
        for output in ("log", "push"):
            assert store.query("select count(*) as n from outbox where output = ?", [output])[0]["n"] == routed
    finally:
        store.close()


def test_sigterm_stops_cleanly_and_sighup_reloads(stub, write_config, tmp_path):
    server = stub(office(5))
    path = write_config(fast_platform(server.url, long_poll=30))
    proc = start_process(path)
    try:
        assert wait_until(lambda: count_rows(tmp_path / "speakerd.db", "select count(*) as n from messages") == 5)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(20) == 0
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "SIGHUP: reloading" in log and "config reloaded" in log
    assert "SIGTERM: stopping" in log and "speakerd stopped" in log
    assert log.count("config reloaded") == 1  # stopping does not reload
    assert took < 15  # it does not wait out the 30 s long-poll in flight
    assert "Traceback" not in log


def test_run_with_broken_config_exits_1_naming_the_line(write_config, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("platform:\n  poll_interval: soon\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "speakerd", "run", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"{path}:2: platform.poll_interval: must be a time such as 30s, 5m or 1h, or a number of seconds (got 'soon')" in result.stderr


def test_log_output_writes_one_line_per_routed_message(stub, write_config, run_daemon, caplog):
    from speakerd.outputs.log import LogOutput

    caplog.set_level(logging.INFO, logger="speakerd.routed")
    server = stub([{"id": "m-7", "type": "finance.withdrawal", "content": "张三申请提现5000元，请审核"}])
    run_daemon(write_config(fast_platform(server.url)), outputs=[LogOutput()])
    assert wait_until(lambda: "m-7" in caplog.text)
    line = next(r.getMessage() for r in caplog.records if r.name == "speakerd.routed")
    assert line.startswith("m-7 finance [high] -> 总部/财务部 (finance), staff 003 王芳: 张三申请提现5000元")


def test_only_a_new_database_path_asks_for_a_restart(stub, write_config, run_daemon, caplog):
    server = stub([])
    path = write_config(fast_platform(server.url))
    daemon = run_daemon(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("retention_days: 90", "retention_days: 30"), encoding="utf-8")
    assert daemon.reload() and daemon.cfg.storage.retention_days == 30
    assert "takes effect after a restart" not in caplog.text
    path.write_text(text.replace("path: speakerd.db", "path: other.db"), encoding="utf-8")
    assert daemon.reload()
    assert "storage.path changed: it takes effect after a restart" in caplog.text
