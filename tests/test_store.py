import sqlite3
from datetime import datetime, timezone

import pytest

from speakerd import config
from speakerd.clock import FakeClock
from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.store import Store, StoreError, migrations

from .conftest import EXAMPLE

CFG = config.load(EXAMPLE)


def event(n, **extra):
    return {"id": f"m-{n}", "type": "order.paid", "app": "wechat-mall", "content": f"客户已支付订单{n}", **extra}


@pytest.fixture
def store(tmp_path, open_store):
    return open_store(tmp_path / "s.db")


def test_wal_and_migrations_are_applied_once(tmp_path, open_store):
    path = tmp_path / "s.db"
    first = open_store(path)
    assert first.db.journal_mode == "wal"
    first.close()
    again = open_store(path)
    names = [m.name for m in migrations.applied(again.db)]
    assert names[0] == "m001_initial" and len(names) == len(set(names)) >= 5
    assert migrations.pending(again.db) == []


def test_batch_is_stored_once_with_cursor(store):
    ingest = Ingest(CFG, store)
    result = ingest(Batch([event(1), event(2), event(1)], "3"), ["log"])
    assert [m[0] for m in result.new] == ["m-1", "m-2"] and result.duplicates == 1
    again = ingest(Batch([event(2), event(3)], "5"), ["log"])
    assert [m[0] for m in again.new] == ["m-3"] and again.duplicates == 1
    assert store.meta.cursor == "5"
    assert store.reports.counts() == {"messages": 3, "assignments": 3, "outbox": 3, "quarantine": 0}


def test_a_failing_batch_leaves_neither_messages_nor_cursor(store, monkeypatch):
    ingest = Ingest(CFG, store)
    ingest(Batch([event(1)], "1"), ["log"])
    real = store.inbox.add_assignment

    def explode(message_id, *args):
        if message_id == "m-3":
            raise sqlite3.OperationalError("database or disk is full")
        return real(message_id, *args)

    monkeypatch.setattr(store.inbox, "add_assignment", explode)
    with pytest.raises(StoreError, match="disk holding .* is full"):
        ingest(Batch([event(2), event(3)], "3"), ["log"])
    assert store.meta.cursor == "1"
    assert [r["id"] for r in store.reports.messages()] == ["m-1"]


def test_a_really_full_database_keeps_what_it_had(store):
    ingest = Ingest(CFG, store)
    ingest(Batch([event(1)], "1"), ["log"])
    pages = store.db.execute("pragma page_count").fetchone()[0]
    store.db.execute(f"pragma max_page_count = {pages}")
    big = [event(n, content="订单" * 1000) for n in range(2, 60)]
    with pytest.raises(StoreError, match="full"):
        ingest(Batch(big, "60"), ["log"])
    assert store.meta.cursor == "1" and store.reports.counts()["messages"] == 1


def test_quarantine_keeps_reason_and_ignores_resends(store):
    ingest = Ingest(CFG, store)
    bad = {"id": "m-bad", "content": 5}
    first = ingest(Batch([bad, event(1)], "2"), ["log"])
    second = ingest(Batch([bad], "3"), ["log"])
    assert first.quarantined == [("m-bad", "content must be text, not a number")]
    assert second.quarantined == []
    rows = store.reports.quarantined()
    assert len(rows) == 1 and rows[0]["platform_id"] == "m-bad" and '"content": 5' in rows[0]["raw"]
    assert store.reports.counts()["messages"] == 1


def test_huge_quarantined_body_is_cut(store):
    with store.atomic():
        store.inbox.quarantine("x" * 300_000, "garbage")
    assert store.db.execute("select length(raw) from quarantine").fetchone()[0] < 101_000


def test_rotation_is_stored_and_survives_reopen(tmp_path, open_store):
    path = tmp_path / "s.db"
    store = open_store(path)
    ingest = Ingest(CFG, store)
    ingest(Batch([event(1), event(2), event(3)], "3"), ["log"])
    store.close()
    store = open_store(path)
    Ingest(CFG, store)(Batch([event(4)], "4"), ["log"])
    staff = [r["staff_id"] for r in reversed(store.reports.messages())]
    assert staff == ["001", "002", "001", "002"]


def at_epoch(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)


def test_outbox_claims_most_urgent_first_and_recovers_interrupted(store):
    ingest = Ingest(CFG, store)
    ingest(Batch([event(1), event(2, type="finance.withdrawal", content="张三申请提现500元")], "2"), ["log"])
    job = store.outbox.claim("log")
    assert job.message_id == "m-2"  # finance is high priority, the order normal
    assert store.outbox.recover_interrupted() == 1
    again = store.outbox.claim("log")
    assert again.message_id == "m-2"
    store.outbox.finish(again)
    assert store.outbox.claim("log").message_id == "m-1"


def test_failed_job_waits_for_its_retry_time(tmp_path, open_store):
    clock = FakeClock(at_epoch(100))
    store = open_store(tmp_path / "s.db", clock)
    Ingest(CFG, store)(Batch([event(1)], "1"), ["log"])
    job = store.outbox.claim("log")
    store.outbox.fail(job, "speaker unplugged", retry_at=200)
    clock.set(at_epoch(150))
    assert store.outbox.claim("log") is None
    assert store.outbox.next_due("log") == 200
    clock.set(at_epoch(201))
    again = store.outbox.claim("log")
    assert again.attempts == 1
    store.outbox.finish(again)
    clock.set(at_epoch(10_000))
    assert store.outbox.claim("log") is None
    assert store.reports.messages()[0]["outputs"] == "log:done"


def test_unwritable_location_is_explained(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot write the database|database error"):
        Store(blocker / "sub" / "s.db")


def test_damaged_database_is_explained(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged"):
        Store(path)


def test_writer_that_read_first_waits_for_another_connection_instead_of_failing(tmp_path, open_store):
    """Regression: a deferred transaction that read, then wrote after another
    connection committed, failed at once with 'database is locked' (seen when
    a reader opened the database while the daemon was storing a batch)."""
    import threading

    path = tmp_path / "s.db"
    mine, other = open_store(path), open_store(path)
    go, errors = threading.Event(), []

    def other_writes():
        go.wait(5)
        try:
            other.meta.set("other", "1")
        except StoreError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_writes)
    thread.start()
    with mine.atomic():
        mine.db.execute("select count(*) from messages").fetchone()
        go.set()
        thread.join(0.3)  # the other connection tries to write meanwhile
        mine.inbox.set_cursor("7")
    thread.join(10)
    assert errors == []
    assert mine.meta.cursor == "7" and other.meta.get("other") == "1"
