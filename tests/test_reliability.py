"""Crashes and faults: the daemon is killed, starved of disk, locked out of its database and loses its
speaker, and each time it says what is wrong, stays up (or comes back), and loses nothing."""

from __future__ import annotations

import collections
import contextlib
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from speakerd.store import Store
from tests.conftest import fast_platform

from .helpers import Receiver, count_rows, start_process, wait_until, with_targets

KILLS = 20


def orders(count, size=0):
    """Orders with unique contents, so each push can be traced to its message."""
    return [{"id": f"m-{i:05d}", "type": "order.paid", "app": "wechat-mall", "content": f"订单{i:05d}已支付" + "。" * size,
             "data": {"order_id": str(i)}} for i in range(count)]


def test_twenty_kill_9s_lose_nothing_and_repeat_only_pushes_cut_off_in_flight(stub, write_config, tmp_path):
    events = orders(600)
    receiver = Receiver().start()
    try:
        server = stub(events)
        cfg = with_targets(server.url, receiver.port, tech007=[f"json://127.0.0.1:{receiver.port}/hook"])
        cfg["platform"]["batch_size"] = 10
        cfg["categories"] = {"order": {"burst": {"threshold": 0}}}  # each order its own push, to trace each one
        path = write_config(cfg)
        db_path = tmp_path / "speakerd.db"
        rng, in_flight = random.Random(11), set()
        for _ in range(KILLS):
            proc = start_process(path)
            time.sleep(rng.uniform(0.8, 2.2))  # start-up takes most of a second: kills land in every phase
            proc.kill()
            proc.wait(10)
            if db_path.exists():
                # What was being sent when the process died may be sent again; nothing else may.
                with contextlib.closing(sqlite3.connect(db_path)) as conn:
                    in_flight |= {r[0] for r in conn.execute("select message_id from push_log where state = 'sending'")}
        proc = start_process(path)
        try:
            assert wait_until(lambda: count_rows(db_path, "select count(*) as n from outbox where state = 'done'") == 2 * len(events), 90)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        store = Store(db_path)
        try:
            assert store.meta.cursor == str(len(events))
            assert store.query("select count(*) as n from messages")[0]["n"] == len(events)
            assert store.query("select count(*) as n from push_log where state = 'sent'")[0]["n"] == len(events)
        finally:
            store.close()
        got = collections.Counter(body["message"].split("订单")[1][:5] for body in receiver.kinds("json"))
        assert set(got) == {f"{i:05d}" for i in range(len(events))}  # every message pushed
        repeated = {f"m-{n}" for n, count in got.items() if count > 1}
        assert repeated <= in_flight, f"pushed twice though finished before a kill: {sorted(repeated - in_flight)}"
    finally:
        receiver.stop()


def _limit_file_size(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_is_reported_the_daemon_stays_up_and_nothing_is_lost(stub, write_config, tmp_path):
    events = orders(1500, size=300)
    server = stub(events)
    cfg = fast_platform(server.url, batch_size=50)
    cfg["health"] = {"fail_after": 0.5, "disk_min_free_mb": 0}
    path = write_config(cfg)
    db_path, log_path = tmp_path / "speakerd.db", tmp_path / "daemon.log"
    with open(log_path, "a", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(path)], stderr=log, stdout=subprocess.DEVNULL,
                                preexec_fn=_limit_file_size(1_000_000))
    try:
        assert wait_until(lambda: "the disk may be full" in log_path.read_text(encoding="utf-8"), 30)
        assert wait_until(lambda: "技术告警" in log_path.read_text(encoding="utf-8"), 15)
        time.sleep(1)
        assert proc.poll() is None  # still running, retrying
        stored_while_full = count_rows(db_path, "select count(*) as n from messages")
        assert 0 < stored_while_full < len(events)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    text = log_path.read_text(encoding="utf-8")
    assert "free some space or check the SD card (messages wait on the platform meanwhile)" in text
    # Each output worker says it once, then retries calmly (it used to log twenty lines a second).
    assert text.count("push: cannot read its work from the store") <= 1
    proc = start_process(path)  # space again
    try:
        # The platform's messages, each once (the device's own alerts are messages too, and how many depends on timing).
        platform = "select count(*) as n from messages where id like 'm-%'"
        assert wait_until(lambda: count_rows(db_path, platform) == len(events), 60), (count_rows(db_path, platform), log_path.read_text(encoding="utf-8")[-3000:])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert count_rows(db_path, "select count(*) as n from quarantine") == 0


def test_a_database_locked_by_another_program_is_an_alert_and_nothing_is_lost(stub, write_config, run_daemon, recording, tmp_path, monkeypatch):
    monkeypatch.setattr("speakerd.store.connection.BUSY_TIMEOUT", 0.5)  # the lock below outlasts it several times over
    server = stub(orders(3))
    cfg = fast_platform(server.url)
    cfg["health"] = {"fail_after": 0.5}
    daemon = run_daemon(write_config(cfg))
    assert recording.wait_for(3)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(tmp_path / 'speakerd.db')!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(4); c.execute('COMMIT')\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        server.platform.publish(orders(6)[3:])
        # The store cannot take the alert either: it goes to the outputs directly.
        assert wait_until(lambda: any(n.type == "tech.database.alert" for n in recording.notices), 25)
        alert = next(n for n in recording.notices if n.type == "tech.database.alert")
        assert "locked by another program" in alert.data["reason"]
    finally:
        holder.wait(20)
    assert wait_until(lambda: daemon.store.reports.counts()["messages"] >= 6, 20)
    assert wait_until(lambda: any(n.type == "tech.database.recovered" for n in recording.notices), 20)
    assert {n.message_id for n in recording.notices if n.message_id.startswith("m-")} == {f"m-{i:05d}" for i in range(6)}


class VanishingStream:
    """sounddevice.OutputStream whose device disappears mid-sentence for the first ``fail_opens`` announcements."""

    opened, fail_opens, written = 0, 2, []

    def __init__(self, **kw):
        import sounddevice as sd

        self._sd = sd
        VanishingStream.opened += 1
        self._writes, self._doomed = 0, VanishingStream.opened <= VanishingStream.fail_opens

    def start(self):
        pass

    def write(self, data):
        self._writes += 1
        if self._doomed and self._writes == 2:
            raise self._sd.PortAudioError("Error writing to stream: device unavailable [PaErrorCode -9985]")
        VanishingStream.written.append(np.asarray(data).copy())

    def stop(self):
        pass

    def close(self):
        pass


def test_a_speaker_vanishing_mid_sentence_is_retried_until_it_is_back(write_config, tmp_path, monkeypatch, caplog):
    import dataclasses

    import sounddevice as sd

    from speakerd import config as config_mod
    from speakerd.delivery.dispatch import OutputWorker
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.outputs.speech import SpeechOutput

    monkeypatch.setattr(sd, "OutputStream", VanishingStream)
    monkeypatch.setattr("speakerd.delivery.dispatch.RETRY_FIRST", 0.1)
    cfg = config_mod.load(write_config())
    store = Store(tmp_path / "speakerd.db")
    Ingest(cfg, store)(Batch([{"id": "w-1", "type": "finance.withdrawal", "content": "马丽申请提现500元"}], "c"), ["speech"])
    settings = dataclasses.replace(cfg.speech, voices=config_mod.VoicesConfig(zh="espeak", en="espeak"))
    worker = OutputWorker(SpeechOutput(settings, lambda: cfg, tmp_path / "cache", warm=False), store, lambda: cfg)
    worker.start()
    try:
        assert wait_until(lambda: store.query("select state from outbox")[0]["state"] == "done", 30)
    finally:
        worker.stop()
    row = store.query("select attempts from outbox")[0]
    store.close()
    assert row["attempts"] == 3 and VanishingStream.opened == 3
    assert "device unavailable" in caplog.text and "'speakerd say --list-devices' lists the choices" in caplog.text
    assert sum(len(chunk) for chunk in VanishingStream.written) > 24000  # the third time it was played whole


@pytest.fixture(autouse=True)
def _reset_stream():
    VanishingStream.opened, VanishingStream.written = 0, []


@pytest.mark.parametrize("garbage", [b"\x00\xff\xfe binary \x80\x81", b"platform: [[[[", b"", "平台：乱码".encode("gb18030")])
def test_config_replaced_with_garbage_while_running_keeps_the_running_settings(stub, write_config, run_daemon, recording, caplog, garbage):
    server = stub(orders(1))
    path = write_config(fast_platform(server.url))
    daemon = run_daemon(path)
    assert recording.wait_for(1)
    running = daemon.cfg
    path.write_bytes(garbage)
    assert wait_until(lambda: "config not reloaded, keeping the previous settings" in caplog.text, 10)
    server.platform.publish(orders(2)[1:])
    assert recording.wait_for(2)
    assert daemon.cfg is running and daemon.state.name == "RUNNING"
