"""Office peak: the stub's office mix at one event a second, heard through a speaker that keeps real time.

What an office meets at its busiest hour, not one event at a time: `speakerd
run` in a child process with the shipped config (natural voices), the stub
over loopback HTTP with long-poll, and ``speech.device: null`` (the sink that
takes samples at a sound card's pace). The bench publishes the events itself
and notes when; the daemon's log says when each announcement starts and which
messages it tells (``saying ... ids=...``). Prints, from an event to the start
of its first hearing (alone or in a summary), p50/p95/max for critical and
high messages and for the rest; the share of the time spent speaking; and how
many messages were heard alone, in a summary, never. ``--pi`` runs the daemon
and its voice process under the Pi-class CPU proxy (bench/piproxy.py).

    .venv/bin/python bench/peak.py [--minutes 10] [--rate 1] [--pi] [--plain] [--keep-log FILE] [--lags FILE]
"""

from __future__ import annotations

import argparse
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.piproxy import PiProxy  # noqa: E402
from speakerd.config import zone  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import office  # noqa: E402

SAYING = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO speakerd\.outputs\.speech: saying (\S+) ids=([^:]*): (.*)$")
SPOKE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO speakerd\.outputs\.speech: spoke (\S+) ")
URGENT = 2  # priority index of high in config.PRIORITIES


def config_for(url: str, folder: Path, plain: bool) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["platform"].update(url=url, token="demo-token", long_poll=20.0)
    data["speech"]["device"] = None
    if plain:
        data["speech"]["voices"].update(zh="espeak", en="espeak")
    data["display"]["driver"] = "emulator"
    for section in ("gpio", "web"):
        data[section]["enabled"] = False
    data["storage"]["path"] = str(folder / "peak.db")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    zone.apply(data["calendar"]["time_zone"])  # the daemon logs in the shop's zone: its stamps are read in the same
    return path


def stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def owed_to_speech(db: Path) -> dict[str, int]:
    """{message id: priority} of every message the speaker owes (or owed) a hearing."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return dict(conn.execute("select message_id, max(priority) from outbox where output = 'speech' group by message_id"))


def waiting(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("select count(*) from outbox where output = 'speech' and state != 'done'").fetchone()[0]


def run(args: argparse.Namespace, folder: Path, proxy: PiProxy | None) -> None:
    events = [e for e in office(int(args.minutes * 60 * args.rate) + 20, seed=args.seed) if isinstance(e, dict) and isinstance(e.get("id"), str)]
    events = events[: int(args.minutes * 60 * args.rate)]
    stub = StubServer([], pace=0).start()
    log = folder / "daemon.log"
    argv = [sys.executable, "-m", "speakerd", "run", "-c", str(config_for(stub.url, folder, args.plain))]
    with log.open("w") as out:
        proc = subprocess.Popen(proxy.wrap(argv) if proxy else argv, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    published: dict[str, float] = {}
    try:
        deadline = time.time() + 120
        while "speakerd running" not in log.read_text() and time.time() < deadline:
            time.sleep(0.2)
        start = time.time()
        for i, event in enumerate(events):
            time.sleep(max(0.0, start + i / args.rate - time.time()))
            published.setdefault(event["id"], time.time())  # a re-sent event is one message, published when first sent
            stub.platform.publish([event])
        end = time.time()
        db = folder / "peak.db"
        while waiting(db) and time.time() < end + args.drain:
            time.sleep(1)
        drained = time.time()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        stub.stop()
        if args.keep_log:
            args.keep_log.write_text(log.read_text())
    report(args, published, owed_to_speech(folder / "peak.db"), log.read_text().splitlines(), start, end, drained)


def report(args, published, owed, lines, start, end, drained) -> None:
    first: dict[str, float] = {}
    alone = summary = 0
    speaking, began = 0.0, {}
    for line in lines:
        if m := SAYING.match(line):
            at, name, ids, text = stamp(m[1]), m[2], [i for i in m[3].split(",") if i], m[4]
            began[name] = at
            told_in_summary = len(ids) > 1 or "待处理，请看屏幕" in text or text.startswith("过去")
            for message_id in ids:
                if message_id not in first and message_id in published:
                    first[message_id] = at
                    alone, summary = alone + (not told_in_summary), summary + told_in_summary
        elif (m := SPOKE.match(line)) and m[2] in began:
            speaking += stamp(m[1]) - began.pop(m[2])
    heard = {m: first[m] - published[m] for m in owed if m in published and m in first}
    if args.lags:
        args.lags.write_text("".join(f"{m}\t{owed[m]}\t{published[m]:.2f}\t{lag:.2f}\n" for m, lag in heard.items()))
    never = [m for m in owed if m in published and m not in first]
    print(f"events            : {len(published)} over {end - start:.0f} s ({args.rate:g}/s), {len(owed)} owed a hearing; "
          f"voices {'plain (espeak-ng)' if args.plain else 'natural (shipped)'}")
    for label, band in (("critical/high", lambda p: p >= URGENT), ("the rest", lambda p: p < URGENT)):
        lags = sorted(v for m, v in heard.items() if band(owed[m]))
        if lags:
            print(f"{label:18s}: event to first hearing p50 {pct(lags, 50):.1f} s, p95 {pct(lags, 95):.1f} s, max {lags[-1]:.1f} s ({len(lags)})")
    print(f"speaking          : {speaking:.0f} s of {drained - start:.0f} s ({100 * speaking / (drained - start):.0f} %)")
    print(f"heard             : alone {alone}, in a summary {summary}, never {len(never)}" + (f" (e.g. {never[:5]})" if never else ""))


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1.0, help="events a second")
    parser.add_argument("--pi", action="store_true", help="under the Pi-class CPU proxy (a cgroup quota; root)")
    parser.add_argument("--pi-cores", type=float, default=1.0)
    parser.add_argument("--plain", action="store_true", help="espeak-ng for both languages (the small-board choice)")
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait after the last event for the speaker to finish")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-log", type=Path, help="copy the daemon's log here (to read what was said when)")
    parser.add_argument("--lags", type=Path, help="write each message's id, priority, when published (epoch s) and its wait here (TSV)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pi:
            with PiProxy(args.pi_cores) as proxy:
                print(f"Pi proxy          : {proxy.describe()}")
                run(args, Path(tmp), proxy)
        else:
            run(args, Path(tmp), None)


if __name__ == "__main__":
    main()
