"""A platform that sends mostly garbage: the quarantine stays bounded, what it drops is counted, and tech hears of it."""

from __future__ import annotations

import os

from speakerd.intake.ingest import Ingest
from speakerd.intake.platform import Batch
from speakerd.store import Store
from speakerd.store import inbox as inbox_mod
from tests.conftest import EXAMPLE


def garbage(n, start=0, size=99_000):
    return [{"id": f"bad-{i}", "content": 7, "padding": "x" * size} for i in range(start, start + n)]


def test_the_quarantine_is_capped_per_row_and_per_day_and_counts_what_it_drops(tmp_path, monkeypatch):
    """Regression: 50 unique 99k-character bad messages per poll grew the database from 1 to 163 MB in 20 s."""
    from speakerd import config as config_mod

    monkeypatch.setattr(inbox_mod, "QUARANTINE_PER_DAY", 120)
    cfg = config_mod.load(EXAMPLE)
    with Store(tmp_path / "speakerd.db") as store:
        ingest = Ingest(cfg, store)
        for poll in range(6):
            ingest(Batch(garbage(50, start=poll * 50), f"c{poll}"), [])
        kept = store.reports.quarantined(limit=1000)
        assert len(kept) == 120
        assert all(len(row["raw"]) <= 200 for row in kept)  # the report's excerpt
        assert store.inbox.quarantine_dropped() == 180
        assert store.meta.cursor == "c5"  # the good flow goes on
        store.db.execute("vacuum")
    assert os.path.getsize(tmp_path / "speakerd.db") < 3 * 1024 * 1024


def test_a_platform_sending_mostly_garbage_is_an_outage_for_tech(stub, write_config, run_daemon, recording):
    from tests.conftest import fast_platform

    from ..helpers import wait_until

    events = [{"id": f"bad-{i}", "content": {"not": "text"}} for i in range(30)] + [{"id": "ok-1", "type": "order.paid", "content": "好的一条"}]
    server = stub(events)
    cfg = fast_platform(server.url)
    cfg["health"] = {"fail_after": 0.5}
    daemon = run_daemon(write_config(cfg))
    assert wait_until(lambda: any(n.category == "tech" and "无法识别" in n.content for n in recording.notices), 15)
    assert wait_until(lambda: any(n.message_id == "ok-1" for n in recording.notices), 5)  # the good one still came through
    assert daemon.health.snapshot()["troubles"][0]["subject"] == "platform data"
