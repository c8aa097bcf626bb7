"""Several devices over a real mosquitto on loopback: a hub polls and assigns, department speakers announce.

The broker is Debian's mosquitto, started by the ``broker`` fixture with a
password per device, an ACL and persistence, exactly as the installer sets it
up on a hub.
"""

from __future__ import annotations

import logging
import time

import pytest

from speakerd.daemon.wiring import Daemon
from speakerd.fleet.broker import LocalBroker, Roster
from speakerd.outputs.recording import RecordingOutput

from .conftest import fast_platform
from .helpers import wait_until

SITE = "office"
PASSWORDS = {"hub": "hub-secret-1", "fin": "fin-secret-2", "ord": "ord-secret-3"}


def withdrawal(n):
    return {"id": f"w-{n}", "type": "finance.withdrawal", "app": "own-shop", "content": f"马丽申请提现{500 + n}元，请审核",
            "data": {"amount": 500.0 + n, "withdrawal_id": f"wd-{n}"}}


def order(n):
    return {"id": f"o-{n}", "type": "order.paid", "app": "wechat-mall", "content": f"客户张三已支付订单{n}",
            "data": {"order_id": str(n), "amount": 100.0}}


@pytest.fixture
def broker(tmp_path):
    """mosquitto with a user per device and the ACL the installer writes: hub; speakers fin (finance) and ord (orders)."""
    roster = Roster(hubs={"hub": SITE}, speakers={"fin": (SITE, ["finance"]), "ord": (SITE, ["orders"])})
    server = LocalBroker(tmp_path / "broker", roster, PASSWORDS).start()
    yield server
    server.stop()


class Fleet:
    """Daemons in this process, each with its own config, database and recording outputs."""

    def __init__(self, write_config, broker):
        self.write_config, self.broker = write_config, broker
        self.daemons, self.outputs = {}, {}

    def config(self, name, role, platform_url="http://127.0.0.1:9", **fleet):
        cfg = fast_platform(platform_url)
        cfg["storage"] = {"path": f"{name}.db"}
        cfg["health"] = {"fail_after": 1.0, "remind_every": 3600}
        cfg["fleet"] = {"role": role, "broker": self.broker.url(name), "site": SITE, "device": name, **fleet}
        if role == "hub":
            cfg["fleet"].setdefault("roster", str(self.broker.folder / "roster.json"))
        return self.write_config(cfg, name=f"{name}.yaml")

    def start(self, name, role, **kw):
        path = self.config(name, role, **kw)
        outputs = self.outputs.setdefault(name, {"speech": RecordingOutput("speech"), "screen": RecordingOutput("screen")})
        daemon = Daemon(path, outputs_factory=lambda *a, **k: list(outputs.values()))
        daemon.start()
        self.daemons[name] = daemon
        if role == "speaker" and name in self.broker.passwords and self.broker.passwords[name] == PASSWORDS.get(name):
            # A speaker gets what is sent after its first connection made its subscriptions: let it make them.
            assert wait_until(lambda: daemon.fleet.speaker.link.connected.is_set())
            time.sleep(0.2)
        return daemon

    def stop(self, name):
        self.daemons.pop(name).stop()

    def said(self, name):
        """Every message heard, alone or counted in a summary (the speaking budget folds a backlog into one)."""
        return [m for n in self.outputs[name]["speech"].notices for m in (n.message_id, *n.covers)]

    def stop_all(self):
        for name in list(self.daemons):
            self.stop(name)


@pytest.fixture
def fleet(write_config, broker):
    f = Fleet(write_config, broker)
    yield f
    f.stop_all()


def online(daemon, *names):
    return wait_until(lambda: all(d["state"] == "online" for d in daemon.fleet.hub.presence.snapshot() if d["device"] in names)
                      and {d["device"] for d in daemon.fleet.hub.presence.snapshot()} >= set(names))


def test_each_speaker_keeps_and_announces_exactly_its_departments_and_the_rotation_is_decided_once(fleet, stub):
    fin, ord_ = fleet.start("fin", "speaker", departments=["finance"]), fleet.start("ord", "speaker", departments=["orders"])
    server = stub([withdrawal(1), order(1), order(2), withdrawal(2), order(3), order(4)])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert wait_until(lambda: len(fleet.said("fin")) == 2 and len(fleet.said("ord")) == 4, 20)
    assert sorted(fleet.said("fin")) == ["w-1", "w-2"]
    assert sorted(fleet.said("ord")) == ["o-1", "o-2", "o-3", "o-4"]
    assert {r["id"] for r in fin.store.reports.messages()} == {"w-1", "w-2"}
    assert {r["id"] for r in ord_.store.reports.messages()} == {"o-1", "o-2", "o-3", "o-4"}
    assert len(hub.store.reports.messages()) == 6
    hub_staff = {r["id"]: r["staff_id"] for r in hub.store.reports.messages()}
    speaker_staff = {r["id"]: r["staff_id"] for d in (fin, ord_) for r in d.store.reports.messages()}
    assert speaker_staff == hub_staff  # the hub's rotation, not each speaker's own
    assert [hub_staff[f"o-{n}"] for n in range(1, 5)] == ["001", "002", "001", "002"]
    # With each department's speaker online, the hub itself stays quiet (its panel still shows all).
    assert fleet.said("hub") == [] and len(fleet.outputs["hub"]["screen"].notices) == 6


def test_a_department_with_no_speaker_online_is_announced_by_the_hub(fleet, stub):
    server = stub([withdrawal(1), order(1)])
    fleet.start("fin", "speaker", departments=["finance"])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert online(hub, "fin")
    assert wait_until(lambda: fleet.said("hub") == ["o-1"] and fleet.said("fin") == ["w-1"], 20)


def test_a_hub_restarted_between_promising_and_saying_a_message_still_says_it(fleet, tmp_path):
    """The speaker counts a message sent as covered as heard and says nothing. The hub's promise to say it lived in
    memory: restarted before its turn to speak came, with the speaker back by then, the hub skipped it too."""
    from speakerd.clock import SYSTEM
    from speakerd.config import load
    from speakerd.delivery.attention import Action, Attention
    from speakerd.fleet.hub import Hub
    from speakerd.health.alerts import Health
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.store import Store

    from .test_speech import notice

    cfg = load(fleet.config("hub", "hub"))
    told = notice(message_id="w-1", received_at=SYSTEM.iso())
    with Store(tmp_path / "promises.db") as store:
        Ingest(cfg, store)(Batch([withdrawal(1)], "c"), ["speech"])
        hub = Hub(cfg, store, Health(store, lambda raw: None, 60, 3600))
        assert hub.will_say(told)  # the hub's speech has not decided on it: promised
        hub.close()
    with Store(tmp_path / "promises.db") as store:
        hub = Hub(cfg, store, Health(store, lambda raw: None, 60, 3600))
        try:
            policy = Attention(store, lambda: cfg, heard_by=lambda department: (["fin"], []), promised=hub.promised)
            assert policy.decide("speech", told).action is Action.DELIVER
        finally:
            hub.close()


def test_a_speaker_that_was_off_gets_its_backlog_once_and_a_restart_repeats_nothing(fleet, stub):
    fleet.start("fin", "speaker", departments=["finance"])
    server = stub([])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert online(hub, "fin")
    fleet.stop("fin")  # off: its session stays on the broker
    assert wait_until(lambda: hub.fleet.heard_by("finance") == ([], ["fin"]))  # the hub knows: it says them itself
    server.platform.publish([withdrawal(n) for n in range(1, 6)])
    assert wait_until(lambda: hub.store.query("select count(*) as n from outbox where output = 'fleet' and state = 'done'")[0]["n"] == 5)
    assert wait_until(lambda: sorted(fleet.said("hub")) == [f"w-{n}" for n in range(1, 6)])  # heard in the hub's room meanwhile
    fleet.broker.restart()  # a broker restart in between loses nothing (persistence)
    fleet.start("fin", "speaker", departments=["finance"])
    screen = fleet.outputs["fin"]["screen"]
    assert wait_until(lambda: len(screen.notices) == 5, 20)  # shown, each
    assert wait_until(lambda: fleet.outputs["fin"]["speech"].played == ["本音箱离线期间，主机已播报5条消息，请查看屏幕。"], 20)
    assert fleet.said("fin") == []  # not said again one by one: the hub said them
    fleet.stop("fin")
    fleet.start("fin", "speaker", departments=["finance"])
    assert online(hub, "fin")
    server.platform.publish([withdrawal(6)])  # in order behind anything the broker would send again
    # Each once, over both runs (speech and the screen are separate workers: the screen may show w-6 after it is said).
    assert wait_until(lambda: "w-6" in fleet.said("fin") and len(screen.notices) == 6, 20)
    assert fleet.said("fin") == ["w-6"] and len({n.message_id for n in screen.notices}) == 6
    assert fleet.outputs["fin"]["speech"].played == ["本音箱离线期间，主机已播报5条消息，请查看屏幕。"]


def test_a_speakers_button_acknowledges_on_the_hub_and_a_hub_acknowledgement_clears_the_speaker(fleet, stub):
    fin = fleet.start("fin", "speaker", departments=["finance"])
    server = stub([withdrawal(1), withdrawal(2)])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert wait_until(lambda: len(fleet.said("fin")) == 2, 20)
    fin.fleet.speaker.request_ack("w-1")  # what the speaker's acknowledge button does after acknowledging locally
    assert wait_until(lambda: hub.store.acks.message("w-1")["acked_at"] is not None)
    assert hub.store.query("select acked_via from messages where id = 'w-1'")[0]["acked_via"] == "speaker fin"
    assert hub.store.acks.acknowledge("w-2", "web") == "done"
    assert wait_until(lambda: fin.store.acks.message("w-2")["acked_at"] is not None)


def test_a_speaker_offline_raises_one_alert_and_its_return_one_recovery(fleet, stub, caplog):
    caplog.set_level(logging.INFO)
    fleet.start("fin", "speaker", departments=["finance"])
    hub = fleet.start("hub", "hub", platform_url=stub([]).url)
    assert online(hub, "fin")
    client = fleet.daemons["fin"].fleet.speaker.link.client
    client.loop_stop()  # the speaker loses power: no goodbye, no reconnection
    client.socket().close()  # the broker sees the connection drop and writes the speaker's last will
    assert wait_until(lambda: any(n.type == "tech.device.alert" for n in fleet.outputs["hub"]["screen"].notices), 40)
    fleet.stop("fin")
    fleet.start("fin", "speaker", departments=["finance"])
    assert wait_until(lambda: any(n.type == "tech.device.recovered" for n in fleet.outputs["hub"]["screen"].notices), 20)
    told = [n for n in fleet.outputs["hub"]["screen"].notices if n.type.startswith("tech.device")]
    assert [n.type for n in told] == ["tech.device.alert", "tech.device.recovered"]
    assert told[0].content.startswith("技术告警：部门音箱离线，已持续") and told[0].spoken == "技术告警，部门音箱离线，请检查音箱的电源和网络。"
    assert told[1].content.startswith("技术通知：音箱“fin”已恢复正常")


def test_a_wrong_password_is_said_clearly_and_nothing_is_delivered(fleet, stub, caplog):
    fleet.broker.passwords["fin"] = "not-the-password"
    fin = fleet.start("fin", "speaker", departments=["finance"])
    fleet.broker.passwords["fin"] = PASSWORDS["fin"]
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1)]).url)
    assert wait_until(lambda: hub.store.query("select count(*) as n from outbox where output = 'fleet' and state = 'done'")[0]["n"] == 1)
    assert wait_until(lambda: "refused this device's user name or password" in caplog.text)
    assert "not-the-password" not in caplog.text
    assert fleet.said("fin") == [] and not fin.fleet.speaker.link.connected.is_set()


def test_the_acl_keeps_a_speaker_to_its_own_departments(fleet, stub):
    """A speaker configured for a department its broker user may not read gets nothing of it."""
    ord_ = fleet.start("ord", "speaker", departments=["orders", "finance"])
    server = stub([withdrawal(1), order(1)])
    hub = fleet.start("hub", "hub", platform_url=server.url)
    assert wait_until(lambda: fleet.said("ord") == ["o-1"], 20)
    assert wait_until(lambda: hub.store.query("select count(*) as n from outbox where output = 'fleet' and state = 'done'")[0]["n"] == 2)
    server.platform.publish([order(2)])  # the broker sends it after anything it would send of w-1
    assert wait_until(lambda: "o-2" in fleet.said("ord"), 20)
    assert fleet.said("ord") == ["o-1", "o-2"] and {r["id"] for r in ord_.store.reports.messages()} == {"o-1", "o-2"}
    assert wait_until(lambda: fleet.said("hub") == ["w-1"])  # ord is not enrolled for finance: the hub says it itself


def test_a_device_writing_outside_its_acl_is_refused_and_says_so(fleet, stub, caplog):
    """fleet.device must be the device's broker user: under another name its status and requests are refused."""
    fleet.start("ord", "speaker", departments=["orders"], device="orders-1")
    hub = fleet.start("hub", "hub", platform_url=stub([]).url)
    assert wait_until(lambda: "the broker refused to take speakerd/office/device/orders-1/status" in caplog.text)
    assert "fleet.device is this device's user on the broker" in caplog.text  # refused by the broker: never routed
    assert all(d["device"] != "orders-1" for d in hub.fleet.hub.presence.snapshot())


def test_the_hub_lists_its_devices_on_the_dashboard_in_status_and_fleet(fleet, stub, capsys, caplog):
    from speakerd.cli import main
    from speakerd.device.password import set_password
    from speakerd.web import create_app

    from .helpers import login

    fleet.start("fin", "speaker", departments=["finance"])
    hub = fleet.start("hub", "hub", platform_url=stub([]).url)
    assert online(hub, "fin")
    set_password(hub.config_path, "correct horse")
    client = create_app(hub.store, hub).test_client()
    login(client, "correct horse")
    page = client.get("/").get_data(as_text=True)
    assert 'id="devices"' in page and "office/fin" in page and "部门音箱" in page and "财务部" in page and "在线" in page
    hub.device_state.write_heartbeat(["speech"])
    assert main(["status", "-c", hub.config_path]) in (0, 1)
    assert "device     : office/fin speaker ONLINE" in capsys.readouterr().out
    assert main(["fleet", "-c", hub.config_path]) == 0
    listing = capsys.readouterr().out
    assert "fin" in listing and "speaker" in listing and "online" in listing and "finance" in listing
    assert PASSWORDS["hub"] not in listing
    # Regression: `fleet` logged in with the hub's own user; the broker binds client ids to users, so it took the
    # running hub's session over (a clean start wiping what was queued for it).
    assert "lost the broker" not in caplog.text and hub.fleet.hub.link.connected.is_set()


def test_fleet_sites_beside_a_running_hub_lists_each_sites_counts_as_the_hub_heard_them(fleet, stub, capsys, monkeypatch):
    from speakerd.cli import main
    from speakerd.daemon import wiring

    monkeypatch.setattr(wiring, "COUNTS_SECONDS", 0.2)
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1), order(1)]).url)
    assert wait_until(lambda: hub.fleet.site_counts() and hub.fleet.site_counts()[0]["messages"] == 2)
    hub.device_state.write_heartbeat(["speech"])
    assert main(["fleet", "--sites", "-c", hub.config_path]) == 0
    listing = capsys.readouterr().out
    assert "office" in listing and " 2 " in listing.splitlines()[-1]


def test_fleet_says_why_when_the_broker_refuses(fleet, capsys):
    from speakerd.cli import main

    fleet.broker.passwords["hub"] = "wrong"
    path = fleet.config("hub", "hub")
    fleet.broker.passwords["hub"] = PASSWORDS["hub"]
    assert main(["fleet", "-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert "refused this device's user name or password" in err and "wrong" not in err


def test_kill_9_of_a_speaker_and_the_hub_and_a_broker_restart_during_a_burst_lose_nothing_and_repeat_nothing(fleet, stub, tmp_path):
    """Real processes, killed without warning mid-burst; afterwards each speaker holds exactly its department's messages,
    each told once by its log output (an announcement cut off by a kill is told again, as on a single device)."""
    import signal
    import sqlite3

    from speakerd.config import load
    from speakerd.fleet.survey import survey

    from .helpers import count_rows, start_process

    events = [e for n in range(150) for e in (withdrawal(n), order(n))]
    server = stub(events, pace=0.002)
    paths = {"hub": fleet.config("hub", "hub", platform_url=server.url),
             "fin": fleet.config("fin", "speaker", departments=["finance"]),
             "ord": fleet.config("ord", "speaker", departments=["orders"])}
    dbs = {name: tmp_path / f"{name}.db" for name in paths}
    # The speakers first: a speaker gets what is sent after its first connection made its subscriptions.
    procs = {name: start_process(paths[name]) for name in ("fin", "ord")}
    assert wait_until(lambda: {d["device"] for d in survey(load(paths["hub"]))[0] if d["state"] == "online"} == {"fin", "ord"}, 30)
    procs["hub"] = start_process(paths["hub"])

    def kept(name):
        return count_rows(dbs[name], "select count(*) from messages")

    def strangers():
        """What a speaker holds beyond its department's messages, to say what went wrong."""
        return {name: sqlite3.connect(dbs[name]).execute("select id, type, content from messages where id not like ?",
                                                         (prefix,)).fetchall() for name, prefix in (("fin", "w-%"), ("ord", "o-%"))}

    def kill_and_restart(name):
        procs[name].send_signal(signal.SIGKILL)
        procs[name].wait(10)
        procs[name] = start_process(paths[name])

    try:
        assert wait_until(lambda: kept("fin") >= 20, 30)
        kill_and_restart("fin")
        assert wait_until(lambda: kept("hub") >= 120, 30)
        kill_and_restart("hub")
        fleet.broker.restart()
        assert wait_until(lambda: kept("ord") >= 60, 30)
        kill_and_restart("ord")
        assert wait_until(lambda: kept("fin") == 150 and kept("ord") == 150, 90), (kept("hub"), kept("fin"), kept("ord"), strangers())
        assert wait_until(lambda: count_rows(dbs["fin"], "select count(*) from outbox where output = 'log' and state = 'done'") == 150
                          and count_rows(dbs["ord"], "select count(*) from outbox where output = 'log' and state = 'done'") == 150, 30)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(15)
    assert count_rows(dbs["fin"], "select count(*) from messages where id like 'w-%'") == 150
    assert count_rows(dbs["ord"], "select count(*) from messages where id like 'o-%'") == 150
    # The platform's messages, each once; the hub's own alerts (a speaker offline longer than fail_after on a busy
    # machine) are messages too, and how many there are depends on timing.
    assert count_rows(dbs["hub"], "select count(*) from messages where app != 'speakerd'") == 300
    assert count_rows(dbs["hub"], "select count(*) from outbox where output = 'fleet' and state != 'done'") == 0


def test_demo_fleet_starts_a_broker_a_hub_and_two_speakers_that_each_announce_their_department(tmp_path):
    import os
    import re
    import signal
    import subprocess
    import sys
    import threading

    from .helpers import count_rows

    no_card = tmp_path / "asound.conf"
    no_card.write_text("pcm.null { type null }\npcm.!default { type hw\n card 9 }\n")
    proc = subprocess.Popen([sys.executable, "-m", "speakerd", "demo", "--fleet", "--dir", str(tmp_path), "--pace", "0.05", "--count", "40"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "ALSA_CONFIG_PATH": str(no_card)})
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    dbs = {name: tmp_path / name / "speakerd.db" for name in ("hub", "finance-speaker", "orders-speaker")}
    try:
        assert wait_until(lambda: all(count_rows(db, "select count(*) from messages") for db in dbs.values()), 60)
        assert wait_until(lambda: any(re.search(r"spoke m-\d+", line) for line in lines), 60)
        # The hub leaves each department's messages to its speaker.
        assert wait_until(lambda: any(re.search(r"speech: skip m-\d+: announced by speaker (finance|orders)-speaker", line)
                                      for line in lines), 60)
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines)
    assert proc.returncode == 0 and "Traceback" not in out
    assert "broker        : mosquitto on 127.0.0.1:" in out
    finance = count_rows(dbs["finance-speaker"], "select count(*) from assignments where department != 'finance'")
    orders = count_rows(dbs["orders-speaker"], "select count(*) from assignments where department != 'orders'")
    assert finance == 0 and orders == 0


def test_fleet_add_on_the_hub_and_fleet_join_on_a_speaker_set_up_a_working_pair(tmp_path, write_config, stub, capsys):
    """The installer's path: users and ACL written by fleet-add, a real mosquitto reading them, configs edited in place."""
    import re
    import subprocess

    from speakerd.cli import main
    from speakerd.config import load
    from speakerd.fleet.broker import MOSQUITTO, find
    from speakerd.ports import free_port

    mosq, port = tmp_path / "mosquitto", free_port()
    hub_path = write_config(fast_platform(stub([withdrawal(1)]).url) | {"storage": {"path": "hub.db"}}, name="hub.yaml")
    fin_path = write_config(fast_platform("http://127.0.0.1:9") | {"storage": {"path": "fin.db"}}, name="fin.yaml")
    common = ["--mosquitto-dir", str(mosq), "--host", "127.0.0.1", "--port", str(port), "--no-reload"]
    assert main(["fleet-add", "hub", "--hub", "-c", str(hub_path), *common]) == 0
    assert main(["fleet-add", "fin", "--departments", "finance", *common]) == 0
    printed = capsys.readouterr().out
    url = re.search(r"--speaker '([^']+)' --departments finance", printed).group(1)
    assert main(["fleet-join", url, "--departments", "finance", "-c", str(fin_path)]) == 0
    assert load(hub_path).fleet.role == "hub" and load(fin_path).fleet.departments == ("finance",)
    acl = (mosq / "speakerd.acl").read_text()
    assert "user fin\ntopic read speakerd/office/announce/finance\n" in acl and "user hub\ntopic readwrite speakerd/#" in acl
    assert url.split(":")[2].split("@")[0] not in (mosq / "speakerd.passwd").read_text()  # stored hashed
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"user root\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
                    f"password_file {mosq / 'speakerd.passwd'}\nacl_file {mosq / 'speakerd.acl'}\n")
    broker = subprocess.Popen([find(MOSQUITTO), "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        daemons = [Daemon(path, outputs_factory=lambda *a, **k: [RecordingOutput("speech")]) for path in (fin_path, hub_path)]
        for d in daemons:
            d.start()
        fin = daemons[0]
        assert wait_until(lambda: {r["id"] for r in fin.store.reports.messages()} == {"w-1"}, 20)
    finally:
        for d in daemons:
            d.stop()
        broker.terminate()
        broker.wait(10)


def test_two_sites_bridged_to_a_head_office_broker_are_seen_there_and_each_works_alone_when_the_bridge_is_down(
        tmp_path, write_config, stub, monkeypatch):
    """North has its own broker, bridged to the head office's; south's hub uses the head office's broker directly."""
    from speakerd.config import load
    from speakerd.daemon import wiring as daemon_mod
    from speakerd.fleet.survey import survey

    monkeypatch.setattr(daemon_mod, "COUNTS_SECONDS", 0.5)
    pw = {"north-hub": "n1", "north-fin": "n2", "south-hub": "s1", "hq": "h1", "north-bridge": "b1"}
    head = LocalBroker(tmp_path / "head", Roster(hubs={"south-hub": "south", "hq": "hq", "north-bridge": "north"}),
                       {k: pw[k] for k in ("south-hub", "hq", "north-bridge")}).start()
    bridge = "\n".join([
        "connection head-office", f"address 127.0.0.1:{head.port}", "remote_username north-bridge", "remote_password b1",
        "cleansession false", "restart_timeout 1", "topic speakerd/north/device/+/status out 1", "topic speakerd/north/hub/counts out 1"])
    north = LocalBroker(tmp_path / "north", Roster(hubs={"north-hub": "north"}, speakers={"north-fin": ("north", ["finance"])}),
                        {k: pw[k] for k in ("north-hub", "north-fin")}, bridge=bridge).start()
    north_stub, south_stub = stub([withdrawal(1), order(1)]), stub([order(2)])

    def device(name, role, site, broker, url="http://127.0.0.1:9", **fleet):
        cfg = fast_platform(url) | {"storage": {"path": f"{name}.db"},
                                    "fleet": {"role": role, "site": site, "device": name, "broker": broker.url(name), **fleet}}
        d = Daemon(write_config(cfg, name=f"{name}.yaml"), outputs_factory=lambda *a, **k: [RecordingOutput("speech")])
        d.start()
        return d

    daemons = [device("north-fin", "speaker", "north", north, departments=["finance"]),
               device("north-hub", "hub", "north", north, north_stub.url),
               device("south-hub", "hub", "south", head, south_stub.url)]
    hq = load(write_config(fast_platform("http://127.0.0.1:9") | {"fleet": {"role": "hub", "site": "hq", "device": "hq",
                                                                            "broker": head.url("hq")}}, name="hq.yaml"))

    def seen():
        devices, counts = survey(hq, every_site=True)
        return {(d["site"], d["device"]): d["state"] for d in devices}, {c["site"]: c["messages"] for c in counts}

    try:
        assert wait_until(lambda: seen() == ({("north", "north-hub"): "online", ("north", "north-fin"): "online",
                                             ("south", "south-hub"): "online"}, {"north": 2, "south": 1}), 30), seen()
        head.stop()  # the line to the head office is down: north goes on by itself
        north_stub.platform.publish([withdrawal(3)])
        fin = daemons[0]
        assert wait_until(lambda: "w-3" in {r["id"] for r in fin.store.reports.messages()}, 20)
        head.start()  # back: the bridge reconnects and north's counts catch up
        assert wait_until(lambda: seen()[1] == {"north": 3, "south": 1}, 30), seen()
    finally:
        for d in daemons:
            d.stop()
        north.stop()
        head.stop()


def test_a_speaker_that_loses_the_broker_says_so_on_its_panel_and_led_and_comes_back_by_itself(fleet, stub):
    fin = fleet.start("fin", "speaker", departments=["finance"])
    assert wait_until(lambda: fin.fleet.speaker.link.connected.is_set())
    fleet.broker.stop()
    assert wait_until(lambda: fin.device_state.link_down() is not None, 20)
    shown = fin.device_state.panel()
    assert (shown["link_name"], shown["platform_ok"]) == ("主机", False) and fin.device_state.led_mode() == "fast"
    assert any(n.type == "tech.broker.alert" for n in fleet.outputs["fin"]["screen"].notices)
    fleet.broker.start()
    hub = fleet.start("hub", "hub", platform_url=stub([withdrawal(1)]).url)
    assert wait_until(lambda: "w-1" in [n.message_id for n in fleet.outputs["fin"]["screen"].notices], 30)  # besides its alerts
    assert wait_until(lambda: fin.device_state.link_down() is None and fin.device_state.led_mode() != "fast")
    assert hub.store.acks.message("w-1") is not None
