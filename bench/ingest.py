"""Burst ingest and footprint: how fast a poll batch is stored, and the daemon's memory.

Runs the real path: the stub's flash-sale scenario served over loopback HTTP,
``speakerd run`` as a child process polling it, a real SQLite file. Prints
the figures; asserts nothing.

    .venv/bin/python bench/ingest.py [--events 10000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfs import count, memory_mib  # noqa: E402
from speakerd import config  # noqa: E402
from speakerd.intake.ingest import Ingest  # noqa: E402
from speakerd.intake.platform import Batch  # noqa: E402
from speakerd.store import Store  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import flash_sale  # noqa: E402


def in_process(events, batch):
    """Ingest alone: one transaction per batch, no HTTP."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config.load(ROOT / "config.yaml")
        store = Store(Path(tmp) / "b.db")
        ingest = Ingest(cfg, store)
        timings = []
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            began = time.perf_counter()
            ingest(Batch(chunk, str(start + len(chunk))), ["log"])
            timings.append((time.perf_counter() - began) / len(chunk))
        store.close()
    per_message = statistics.median(timings)
    print(f"ingest in process   : {1 / per_message:,.0f} messages/s (median over {len(timings)} batches of {batch})")


def end_to_end(events, batch):
    with tempfile.TemporaryDirectory() as tmp, StubServer(events) as stub:
        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        data["platform"].update(url=stub.url, batch_size=batch, long_poll=0, poll_interval=1)
        # Ingest alone: no voices loaded; push stays on with no targets (its outbox rows are still made).
        data["speech"]["enabled"] = False
        data["web"]["enabled"] = False
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        db = Path(tmp) / "speakerd.db"
        with open(os.devnull, "w") as devnull:
            began = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(path)], cwd=ROOT, stderr=devnull)
            try:
                while count(db, "select count(*) from messages") < len(events):
                    time.sleep(0.01)
                stored = time.perf_counter() - began
                routed = count(db, "select count(*) from outbox")
                outputs = ", ".join(r[0] for r in sqlite3.connect(db).execute("select distinct output from outbox"))
                while count(db, "select count(*) from outbox where state = 'done'") < routed:
                    time.sleep(0.01)
                delivered = time.perf_counter() - began
                time.sleep(1)
                rss, peak = memory_mib(proc.pid), memory_mib(proc.pid, "VmHWM")
            finally:
                proc.terminate()
                proc.wait(30)
    print(f"burst end to end    : {len(events):,} events stored in {stored:.2f} s ({len(events) / stored:,.0f} messages/s, "
          f"batches of {batch}, includes process start)")
    print(f"outbox drained      : {routed:,} deliveries ({outputs}) done after {delivered:.2f} s")
    print(f"daemon memory       : RSS {rss:.1f} MiB after the burst, peak {peak:.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    events = flash_sale(args.events)
    print(f"machine             : {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    in_process(events, args.batch)
    end_to_end(events, args.batch)


if __name__ == "__main__":
    main()
