"""A database damaged on the card: found at start, kept aside, the newest good backup restored, tech told, no message lost."""

from __future__ import annotations

import contextlib
import os
import sqlite3

from speakerd.store import backups
from tests.conftest import fast_platform

from ..helpers import count_rows, wait_until


def damage(path, fraction=0.95, size=4096):
    """4 KiB of garbage at 95 % of the file, as a card that lost a few sectors leaves it."""
    with open(path, "r+b") as f:
        f.seek(int(os.path.getsize(path) * fraction) // 4096 * 4096)
        f.write(os.urandom(size))


def test_a_damaged_database_is_restored_from_the_newest_good_backup_and_nothing_is_lost(stub, write_config, run_daemon, recording):
    events = [{"id": f"m-{i}", "type": "order.paid", "content": f"客户已支付订单{i}" + "备注" * 200} for i in range(300)]
    server = stub(events[:200])
    path = write_config(fast_platform(server.url))
    daemon = run_daemon(path)
    assert wait_until(lambda: count_rows(daemon.store.path, "select count(*) from messages") == 200, 20)
    daemon.chores.safeguard()  # the daily check and backup
    assert len(backups.backups(daemon.store.path)) == 1
    server.platform.publish(events[200:])
    assert wait_until(lambda: count_rows(daemon.store.path, "select count(*) from messages") == 300, 20)
    database = daemon.store.path
    daemon.stop()

    damage(database)
    assert backups.quick_check(database) is not None  # the card really lost something
    recording.notices.clear()
    again = run_daemon(path)
    platform_messages = "select count(*) from messages where id like 'm-%'"
    assert wait_until(lambda: count_rows(again.store.path, platform_messages) == 300, 30)  # resent since the backup, each once
    assert backups.quick_check(database) is None
    assert [p.name for p in database.parent.iterdir() if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert wait_until(lambda: any(n.category == "tech" and "已从备份恢复" in n.content for n in recording.notices), 10)


def test_a_database_that_fails_the_daily_check_is_an_outage_for_tech(stub, write_config, run_daemon, recording):
    server = stub([{"id": f"m-{i}", "type": "order.paid", "content": "x" * 500} for i in range(100)])
    cfg = fast_platform(server.url)
    cfg["health"] = {"fail_after": 0.5}
    daemon = run_daemon(write_config(cfg))
    assert wait_until(lambda: count_rows(daemon.store.path, "select count(*) from messages") == 100, 20)
    # Checkpointed from a connection of the test's own: the daemon's is in use by its threads (using it from here
    # raced them: 'database table is locked'). Until no reader holds the WAL back, so the damage hits the data.
    assert wait_until(lambda: checkpointed(daemon.store.path), 10)
    damage(daemon.store.path, fraction=0.5)
    daemon.chores.safeguard()
    assert backups.backups(daemon.store.path) == []  # a damaged file is never taken as a backup
    assert daemon.health.snapshot()["troubles"][0]["kind"] == "damaged"


def test_a_crash_mid_batch_claim_leaves_every_claimed_job_owed_again(tmp_path):
    """Outputs claim up to 50 jobs in one transaction: a kill before they are recorded must lose none of them."""
    from speakerd import config as config_mod
    from speakerd.intake.ingest import Ingest
    from speakerd.intake.platform import Batch
    from speakerd.store import Store
    from tests.conftest import EXAMPLE

    events = [{"id": f"m-{i}", "type": "order.paid", "content": f"订单{i}"} for i in range(120)]
    with Store(tmp_path / "speakerd.db") as store:
        Ingest(config_mod.load(EXAMPLE), store)(Batch(events, "120"), ["log"])
        claimed = store.outbox.claim_many("log", 50)
        store.outbox.finish_many(claimed[:20])  # recorded; the other 30 were told but not yet recorded when it died
    with Store(tmp_path / "speakerd.db") as store:
        assert store.outbox.recover_interrupted() == 30
        owed = []
        while jobs := store.outbox.claim_many("log", 50):
            owed += jobs
            store.outbox.finish_many(jobs)
        assert sorted(j.message_id for j in owed) == sorted([j.message_id for j in claimed[20:]] + [f"m-{i}" for i in range(50, 120)])


def checkpointed(path):
    """Whether a full checkpoint emptied the WAL into the database file."""
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
        busy, _, _ = conn.execute("pragma wal_checkpoint(truncate)").fetchone()
    return busy == 0
