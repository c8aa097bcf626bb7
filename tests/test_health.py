"""Technical alerts: one per outage, reminders, a recovery notice, and nothing lost meanwhile."""

import os
import socket
import threading
import time
from datetime import datetime, timezone

import pytest
import requests

from speakerd.clock import FakeClock
from speakerd.health.alerts import Health, spoken_duration
from speakerd.outputs.recording import RecordingOutput

from .conftest import fast_platform
from .helpers import unique_good, wait_until


@pytest.fixture
def health(tmp_path, open_store):
    clock = FakeClock(datetime.fromtimestamp(1_700_000_000, timezone.utc))
    store = open_store(tmp_path / "h.db", clock)
    said = []
    return Health(store, said.append, fail_after=60, remind_every=900), said, clock, store


def test_one_alert_after_fail_after_then_reminders_then_recovery(health):
    h, said, clock, store = health
    h.failing("platform", "unreachable", "refused")
    clock.advance(seconds=59)
    h.failing("platform", "unreachable", "refused")
    h.tick()
    assert said == []
    clock.advance(seconds=1)
    h.tick()
    h.failing("platform", "unreachable", "refused")
    assert [m["type"] for m in said] == ["tech.platform.alert"]
    assert said[0]["content"] == "技术告警：连不上平台（连接被拒绝或超时），已持续1分钟。请检查平台服务是否在运行。"
    for _ in range(3):
        clock.advance(seconds=900)
        h.tick()
    assert [m["type"] for m in said][1:] == ["tech.platform.reminder"] * 3
    assert len({m["id"] for m in said}) == 4
    clock.advance(seconds=125)
    h.ok("platform")
    assert said[-1]["type"] == "tech.platform.reminder"  # back, but not yet for fail_after
    clock.advance(seconds=60)
    h.tick()
    assert said[-1]["type"] == "tech.platform.recovered"
    assert said[-1]["content"] == "技术通知：平台连接已恢复正常，中断48分钟。"  # 2885 s
    assert said[-1]["data"]["seconds"] == 60 + 2700 + 125
    outage = store.outages.find()[0]
    assert (outage["subject"], outage["kind"]) == ("platform", "unreachable") and outage["ended_at"]


def test_blips_shorter_than_fail_after_raise_nothing(health):
    h, said, clock, store = health
    for _ in range(20):  # flapping: down 30 s, up, down again
        h.failing("platform", "server", "HTTP 500")
        clock.advance(seconds=30)
        h.tick()
        h.ok("platform")
    assert said == [] and store.outages.find() == []


def test_each_kind_says_what_to_do(health):
    h, said, clock, _ = health
    h.fail_after = 0
    for subject, kind, words in [("platform", "auth", "platform.token"), ("disk", "disk_full", "清理"),
                                 ("output:speech", "output", "查看设备日志"), ("database", "database", "数据库")]:
        h.failing(subject, kind, "x")
        assert words in said[-1]["content"], said[-1]
        h.ok(subject)
        assert said[-1]["type"].endswith(".recovered")


def test_an_outputs_fault_is_told_in_chinese_with_what_to_do_and_the_english_detail_only_in_its_data(health):
    """Regression: staff read "技术告警：speech: cannot open sound device 'default' …"."""
    h, said, clock, _ = health
    h.fail_after = 0
    reason = "speech: cannot open sound device 'default' (PortAudioError: Error querying device -1)"
    h.failing("output:speech", "output_speech", reason)
    alert = said[-1]
    assert alert["content"].startswith("技术告警：音箱放不出声音") and "声音输出设备" in alert["content"]
    assert "PortAudio" not in alert["content"] and alert["data"]["reason"] == reason
    h.ok("output:speech")
    assert said[-1]["type"].endswith(".recovered") and "音箱播放已恢复正常" in said[-1]["content"]


def test_open_outage_survives_a_restart_without_a_second_alert(health, tmp_path):
    h, said, clock, store = health
    h.failing("platform", "network", "no route")
    clock.advance(seconds=61)
    h.tick()
    assert len(said) == 1
    again_said = []
    again = Health(store, again_said.append, fail_after=60, remind_every=900)
    again.failing("platform", "network", "no route")
    clock.advance(seconds=10)
    again.ok("platform")
    clock.advance(seconds=60)
    again.tick()
    assert [m["type"] for m in again_said] == ["tech.platform.recovered"]
    assert "中断1分钟" in again_said[0]["content"]


def test_an_outage_that_flaps_is_one_alert_and_one_recovery(health):
    """Regression: a push target that failed now and then gave 9 alerts and 9 'working again' in 9 minutes."""
    h, said, clock, store = health
    h.failing("output:push", "output", "push: ntfy refused")
    clock.advance(seconds=61)
    h.tick()
    for _ in range(9):  # works for half a minute, fails again, for 9 minutes
        h.ok("output:push")
        clock.advance(seconds=30)
        h.tick()
        h.failing("output:push", "output", "push: ntfy refused")
        clock.advance(seconds=30)
        h.tick()
    assert [m["type"] for m in said] == ["tech.output.alert"]
    h.ok("output:push")
    clock.advance(seconds=60)
    h.tick()
    assert [m["type"] for m in said] == ["tech.output.alert", "tech.output.recovered"]
    assert len(store.outages.find()) == 1


def test_spoken_duration():
    assert [spoken_duration(s) for s in (5, 60, 3599, 3600, 3725)] == ["不到1分钟", "1分钟", "59分钟", "1小时", "1小时2分钟"]


# --- against the real stub ------------------------------------------------------


def health_config(url, **health):
    cfg = fast_platform(url, timeout=0.5)
    cfg["health"] = {"fail_after": 0.6, "remind_every": 1.5, **health}
    return cfg


def tech_notices(recording):
    return [n for n in recording.notices if n.type.startswith("tech.")]


def set_fault(server, mode, count=0, seconds=0):
    requests.post(f"{server.url}/admin/fault", json={"mode": mode, "count": count, "seconds": seconds},
                  headers={"Authorization": "Bearer demo-token"}, timeout=5).raise_for_status()


@pytest.mark.parametrize(
    "mode, kind",
    [("500", "server"), ("401", "auth"), ("garbage", "garbage"), ("slow", "unreachable"), ("404", "not_found")],
)
def test_platform_fault_raises_one_alert_of_its_kind_and_recovers(stub, write_config, run_daemon, recording, mode, kind):
    server = stub([])
    daemon = run_daemon(write_config(health_config(server.url)))
    set_fault(server, mode, seconds=1.0)
    assert wait_until(lambda: any(n.type == "tech.platform.alert" for n in recording.notices), timeout=10)
    alert = next(n for n in recording.notices if n.type == "tech.platform.alert")
    assert alert.data["kind"] == kind
    assert (alert.department, alert.staff_id, alert.priority) == ("tech", "007", "critical")
    server.platform.publish([{"id": "m-during", "type": "order.paid", "content": "客户张三已支付订单9"}])
    set_fault(server, "none")
    assert wait_until(lambda: any(n.type == "tech.platform.recovered" for n in recording.notices), timeout=10)
    assert wait_until(lambda: any(n.message_id == "m-during" for n in recording.notices))
    types = [n.type for n in tech_notices(recording)]
    assert types.count("tech.platform.alert") == 1 and types.count("tech.platform.recovered") == 1
    assert [o["kind"] for o in daemon.store.outages.find()] == [kind]


def test_stub_stopped_reminds_then_recovers_and_loses_nothing(stub, write_config, run_daemon, recording):
    from speakerd.stub import StubServer
    from speakerd.stub.scenarios import office

    events = office(30)
    first = stub(events[:10])
    port = int(first.url.rsplit(":", 1)[1])
    daemon = run_daemon(write_config(health_config(first.url)))
    assert wait_until(lambda: daemon.store.reports.counts()["messages"] == len(unique_good(events[:10])))
    first.stop()  # the port is closed now
    assert wait_until(lambda: [n.type for n in tech_notices(recording)].count("tech.platform.reminder") >= 2, timeout=15)
    second = StubServer(events, port=port).start()  # the platform is back with what happened meanwhile
    try:
        assert wait_until(lambda: any(n.type == "tech.platform.recovered" for n in recording.notices), timeout=10)
        assert wait_until(lambda: daemon.store.reports.counts()["messages"] == len(unique_good(events)) + len(tech_notices(recording)))
    finally:
        second.stop()
    notices = tech_notices(recording)
    assert [n.type for n in notices].count("tech.platform.alert") == 1
    assert notices[0].data["kind"] == "unreachable"
    recovered = next(n for n in notices if n.type == "tech.platform.recovered")
    assert recovered.data["seconds"] >= 3 and "中断" in recovered.content
    assert set(unique_good(events)) <= {r["id"] for r in daemon.store.query("select id from messages")}


def test_flapping_shorter_than_fail_after_raises_nothing(stub, write_config, run_daemon, recording, caplog):
    """An alert comes only from an outage: once the platform works again with none opened, none can come."""
    server = stub([])
    daemon = run_daemon(write_config(health_config(server.url, fail_after=5)))
    for _ in range(4):
        set_fault(server, "500", count=1)
        time.sleep(0.3)  # the faults come and go: this paces them, it proves nothing
    server.platform.publish([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    assert recording.wait_for(1)
    assert wait_until(lambda: "platform" not in daemon.health.troubles)
    assert "platform: " in caplog.text  # the faults were seen
    assert daemon.store.outages.find() == [] and tech_notices(recording) == []


def test_nearly_full_disk_is_an_alert(stub, write_config, run_daemon, recording):
    server = stub([])
    run_daemon(write_config(health_config(server.url, disk_min_free_mb=10**9)))
    assert wait_until(lambda: any(n.type == "tech.disk.alert" for n in recording.notices), timeout=10)
    alert = next(n for n in recording.notices if n.type == "tech.disk.alert")
    assert "存储空间快满了" in alert.content and "MB free" in alert.data["reason"]


def test_a_failing_output_is_reported_through_the_others(stub, write_config, run_daemon, recording):
    broken = RecordingOutput("speaker")
    broken.fail_next(10**6)
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    run_daemon(write_config(health_config(server.url)), outputs=[broken, recording])
    assert wait_until(lambda: any(n.type == "tech.output.alert" for n in recording.notices), timeout=15)
    alert = next(n for n in recording.notices if n.type == "tech.output.alert")
    assert alert.data["subject"] == "output:speaker"
    broken.fail_next(0)
    assert wait_until(lambda: any(n.type == "tech.output.recovered" for n in recording.notices), timeout=20)


def test_alerts_can_be_switched_off(stub, write_config, run_daemon, recording):
    server = stub([])
    daemon = run_daemon(write_config(health_config(server.url, enabled=False)))
    set_fault(server, "500")
    assert wait_until(lambda: daemon.store.outages.find() != [], timeout=10)
    with daemon.health._lock:  # the call that opened the outage has returned, its alert (stored at once when on) included
        pass
    assert daemon.store.query("select count(*) as n from messages where type like 'tech.%'")[0]["n"] == 0
    assert tech_notices(recording) == []


# --- status and the systemd watchdog ---------------------------------------------


def test_status_reports_healthy_then_down_then_not_running(stub, write_config, run_daemon, capsys, monkeypatch):
    from speakerd import cli
    from speakerd.daemon import wiring as daemon_mod

    monkeypatch.setattr(daemon_mod, "HEARTBEAT_SECONDS", 0.2)
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    path = write_config(health_config(server.url))
    d = run_daemon(path)
    assert wait_until(lambda: d.store.meta.get("heartbeat") is not None)
    time.sleep(0.5)
    assert cli.main(["status", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("speakerd: OK") and "platform   : OK" in out

    set_fault(server, "401")
    assert wait_until(lambda: cli.main(["status", "-c", str(path)]) == 1, timeout=10)
    out = capsys.readouterr().out.split("speakerd: ")[-1]
    assert out.startswith("UNHEALTHY") and "platform   : DOWN since" in out and "auth" in out
    assert "outages today: 1" in out

    d.stop()
    assert cli.main(["status", "-c", str(path)]) == 1
    assert capsys.readouterr().out.startswith("speakerd: NOT RUNNING")


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield sock
    sock.close()


def test_watchdog_pings_only_while_polling_is_alive(stub, write_config, run_daemon, notify_socket, monkeypatch):
    from speakerd.intake import poller

    monkeypatch.setattr(poller, "HANG_MARGIN", 0)
    server = stub([])
    d = run_daemon(write_config(health_config(server.url)))
    states = [notify_socket.recv(100).decode() for _ in range(2)]
    assert states == ["READY=1", "WATCHDOG=1"]

    release = threading.Event()
    monkeypatch.setattr(d.poller.client, "fetch", lambda *a, **k: release.wait(30) and None)  # a poll that hangs
    deadline = time.monotonic() + 5
    notify_socket.settimeout(0.2)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < 2.5:
        try:
            notify_socket.recv(100)
            quiet_since = time.monotonic()
        except socket.timeout:
            pass
    release.set()
    assert time.monotonic() - quiet_since >= 2.5, "still pinging systemd while the poll hangs"
