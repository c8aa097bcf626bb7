"""Soak: a long run at 20 events/s with faults injected; does memory stay flat, is anything lost?

``speakerd run`` as a child process with the shipped config (web page on,
panel on the emulator, push to a local webhook; speech off, since nobody can
listen to 20 announcements a second). The stub serves the office scenario
(with its resends and malformed events) at ``--rate`` events/s. Every
minute the platform fails for 10 s (HTTP 500, a slow answer, garbage, in
turn); every two minutes the push receiver is down for 20 s. At the end the
faults stop, the backlog drains, and the script checks that every good
event was stored once and every push delivered. Prints the figures.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 20]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import yaml
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfs import count, memory_mib  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import office  # noqa: E402

FAULTS = [{"mode": "500"}, {"mode": "slow", "seconds": 4}, {"mode": "garbage"}]


class Hook:
    """A push receiver that can be taken down and brought back on the same port."""

    def __init__(self):
        self.count = 0
        app = Flask("hook")

        @app.post("/hook")
        def hook():
            self.count += 1
            request.get_data()
            return jsonify(ok=True)

        self.app, self.server = app, None
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.socket.getsockname()[1]
        self.up()

    def up(self):
        if self.server is None:
            self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.server.shutdown()
        self.server.server_close()
        self.server = None


def query(db, sql):
    return count(db, sql, missing=-1)


def good_ids(events):
    ids = set()
    for e in events:
        if isinstance(e, dict) and isinstance(e.get("id"), str) and not e["id"].startswith("m-bad"):
            ids.add(e["id"])
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    events = office(int(args.minutes * 60 * args.rate), seed=5)
    hook = Hook()
    with tempfile.TemporaryDirectory() as tmp, StubServer(events, pace=1 / args.rate) as stub:
        folder = Path(tmp)
        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        data["platform"].update(url=stub.url, token="demo-token", long_poll=20.0, retry_max=10.0)
        data["speech"]["enabled"] = False
        data["display"]["driver"] = "emulator"
        data["web"]["listen"] = "127.0.0.1:18181"
        data["storage"]["path"] = str(folder / "speakerd.db")
        data["health"]["fail_after"] = 5
        for sub in data["subsystems"].values():
            for dep in sub["departments"].values():
                dep["push"] = [f"json://127.0.0.1:{hook.port}/hook"]
        (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(folder / "config.yaml")],
                                stdout=subprocess.DEVNULL, stderr=open(folder / "daemon.log", "w"))
        admin = {"Authorization": "Bearer demo-token"}
        started, samples, faults = time.monotonic(), [], itertools.cycle(FAULTS)
        try:
            minute = 0
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(10)
                elapsed = time.monotonic() - started
                samples.append((elapsed, memory_mib(proc.pid)))
                if int(elapsed // 60) > minute:
                    minute = int(elapsed // 60)
                    requests.post(f"{stub.url}/admin/fault", json={**next(faults), "count": 0}, headers=admin, timeout=5)
                    threading.Timer(10, lambda: requests.post(f"{stub.url}/admin/fault", json={"mode": "none"}, headers=admin, timeout=5)).start()
                    if minute % 2 == 0:
                        hook.down()
                        threading.Timer(20, hook.up).start()
                print(f"  {elapsed / 60:4.1f} min: RSS {samples[-1][1]:.0f} MiB, stored {query(folder / 'speakerd.db', 'select count(*) from messages')}", flush=True)
            time.sleep(25)  # faults over, receiver back
            expected = len(good_ids(events))
            drained = time.monotonic()
            while (query(folder / "speakerd.db", "select count(*) from messages where type not like 'tech.%'") < expected
                   or query(folder / "speakerd.db", "select count(*) from outbox where state != 'done'") > 0):
                if time.monotonic() - drained > 300:
                    break
                time.sleep(2)
            db = folder / "speakerd.db"
            stored = query(db, "select count(*) from messages where type not like 'tech.%'")
            pending = query(db, "select count(*) from outbox where state != 'done'")
            pushes = query(db, "select count(*) from push_log where state = 'sent'")
            alerts = query(db, "select count(*) from messages where type like 'tech.%'")
            first = [r for t, r in samples if t <= 120]
            last = [r for t, r in samples if t >= samples[-1][0] - 120]
            print(f"soak {args.minutes:g} min at {args.rate:g} events/s ({len(events)} events, {expected} good ids):"
                  f" stored {stored}/{expected}, outbox not done {pending}, pushes sent {pushes}, receiver got {hook.count},"
                  f" technical alerts {alerts}; drained {time.monotonic() - drained:.0f} s after the faults stopped")
            print(f"RSS: first 2 min {min(first):.0f}–{max(first):.0f} MiB, last 2 min {min(last):.0f}–{max(last):.0f} MiB,"
                  f" peak {max(r for _, r in samples):.0f} MiB; daemon {'running' if proc.poll() is None else 'EXITED'}")
        finally:
            proc.terminate()
            proc.wait(30)
            if hook.server:
                hook.down()


if __name__ == "__main__":
    main()
