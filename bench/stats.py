"""Report timings on a year of a busy shop: 1,000,000 messages made by the stub's generator, the operations reports too.

Builds the database once through the real ingest path (classification,
routing, tallies), with the clock spread over 365 days and a third of the
messages acknowledged, then times every report. Prints the figures; asserts
nothing. The database is kept, so later runs only time the reports.

    .venv/bin/python bench/stats.py [--messages 1000000] [--db /tmp/speakerd-bench-1m.db]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speakerd import config  # noqa: E402
from speakerd.clock import FakeClock  # noqa: E402
from speakerd.intake.ingest import Ingest  # noqa: E402
from speakerd.intake.platform import Batch  # noqa: E402
from speakerd.reports import operations, stats  # noqa: E402
from speakerd.reports.analysis import analyse  # noqa: E402
from speakerd.store import Store  # noqa: E402
from speakerd.stub.scenarios import office  # noqa: E402

BATCH = 2000


def build(path, count):
    cfg = config.load(ROOT / "config.yaml")
    start = datetime(2025, 11, 24, 9, tzinfo=timezone.utc)
    clock = FakeClock(start)
    store = Store(path, clock)
    ingest = Ingest(cfg, store)
    step = timedelta(days=365) / count
    made, chunk, began = 0, 0, time.perf_counter()
    rng = random.Random(7)
    while made < count:
        events = [e for e in office(count=BATCH, seed=chunk) if isinstance(e, dict) and str(e.get("id", "")).startswith("m-0")]
        for e in events:
            e["id"] = f"c{chunk}-{e['id']}"
        events = events[: count - made]
        new = [mid for mid, _, _ in ingest(Batch(events, str(made)), ["log", "push"]).new]
        ack = [(mid,) for mid in new if rng.random() < 0.33]
        with store.atomic():
            store.db.conn.executemany(
                "update messages set acked_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', received_at, '+' || (abs(random()) % 3600) || ' seconds')"
                " where id = ?", ack)
        made += len(new)
        chunk += 1
        clock.set(start + step * made)
        if chunk % 50 == 0:
            print(f"  built {made:,} messages in {time.perf_counter() - began:.0f} s", flush=True)
    print(f"built {made:,} messages in {time.perf_counter() - began:.0f} s ({made / (time.perf_counter() - began):,.0f}/s)")
    store.close()


def timed(label, func, repeat=3):
    best = min(_once(func) for _ in range(repeat))
    print(f"{label:<44} {best * 1000:8.1f} ms")
    return best


def _once(func):
    began = time.perf_counter()
    func()
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/speakerd-bench-1m.db")
    args = parser.parse_args()
    path = Path(args.db)
    if not path.exists():
        build(path, args.messages)
    cfg = config.load(ROOT / "config.yaml")
    store = Store(path)
    counts = store.reports.counts()
    print(f"database: {counts['messages']:,} messages, {counts['assignments']:,} assignments, "
          f"{store.query('select count(*) as n from tallies')[0]['n']:,} tally rows, {path.stat().st_size / 2**20:.0f} MiB")
    worst = 0.0
    for by in stats.KEYS:
        worst = max(worst, timed(f"stats --by {by} (whole year)", lambda by=by: stats.report(store, by, cfg=cfg)))
    for by in ("day", "department", "staff"):
        worst = max(worst, timed(f"stats --by {by} --since (last 30 days)",
                                 lambda by=by: stats.report(store, by, "2026-10-24", "2026-11-23", cfg)))
    worst = max(worst, timed("outages (whole year)", lambda: stats.outages(store)))
    print(f"facts: {store.query('select count(*) as n from facts')[0]['n']:,} rows")
    for kind in operations.KINDS:
        worst = max(worst, timed(f"stats --by {kind} (whole year)", lambda kind=kind: operations.report(store, kind)))
        worst = max(worst, timed(f"stats --by {kind} (last 30 days)", lambda kind=kind: operations.report(store, kind, "2026-10-24", "2026-11-23")))
    worst = max(worst, timed("stats --analysis (a week against the one before)", lambda: analyse(store, "2026-11-17", "2026-11-23")))
    print(f"slowest report: {worst * 1000:.0f} ms")
    store.close()


if __name__ == "__main__":
    main()
