"""A flash sale on the phones: how many pushes the people on duty get, and whether every order is in them.

``speakerd run`` as a child process with the shipped config (speech and the
web page off), polling the stub's flash-sale scenario released over
``--seconds``; the orders department has three people on duty, each with a
push target on a local JSON webhook. When the outbox is done, the pushes
are read back: each summary's "订单N笔，合计X元，其中VIP M笔" and each single
order's own text, summed and compared with the stub's events. Also the
daemon's peak RSS and that every order was stored once. Prints the figures.

    .venv/bin/python bench/flash_push.py [--events 10000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfs import count, memory_mib  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import flash_sale  # noqa: E402


class Webhook(ThreadingHTTPServer):
    """Keeps every JSON body posted to it."""

    def __init__(self):
        self.bodies, self.last_at = [], 0.0
        lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    hook.bodies.append(body)
                    hook.last_at = time.monotonic()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def configure(folder, stub_url, port):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["platform"].update(url=stub_url, token="demo-token", poll_interval=1.0, long_poll=0.0, batch_size=1000)
    data["speech"]["enabled"] = False
    data["web"]["enabled"] = False
    data["storage"]["path"] = str(folder / "speakerd.db")
    hook = f"json://127.0.0.1:{port}/hook"
    orders = data["subsystems"]["mall"]["departments"]["orders"]
    orders["staff"] = [{"id": f"10{i}", "name": name, "push": [hook]} for i, name in ((1, "李娜"), (2, "陈伟"), (3, "王强"))]
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def told(bodies, vip_orders):
    """(orders, amount, vip, pushes per person) as the pushes tell them; a single order's tier is looked up."""
    orders = amount = vip = 0.0
    per_person = collections.Counter()
    for body in bodies:
        message = body.get("message", "")
        if "订单" not in body.get("title", "") + message:
            continue
        per_person[m.group(1) if (m := re.search(r"负责人：(\d+)", message)) else "?"] += 1
        if summary := re.search(r"新增订单(\d+)笔(?:，合计([\d,.]+)元)?(?:，其中VIP (\d+)笔)?", message):
            orders += int(summary.group(1))
            amount += float((summary.group(2) or "0").replace(",", ""))
            vip += int(summary.group(3) or 0)
        elif single := re.search(r"已支付订单(\S+?)，实付([\d.]+)元", message):
            orders, amount = orders + 1, amount + float(single.group(2))
            vip += single.group(1) in vip_orders
    return orders, amount, vip, per_person


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    events = flash_sale(args.events)
    hook = Webhook()
    with tempfile.TemporaryDirectory() as tmp, StubServer(events, pace=args.seconds / args.events) as stub:
        folder = Path(tmp)
        db = folder / "speakerd.db"
        began = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(configure(folder, stub.url, hook.server_port))],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(folder / "daemon.log", "w"))
        peak = 0.0
        try:
            while count(db, "select count(*) from messages where app != 'speakerd'") < len(events) or \
                    count(db, "select count(*) from outbox where state != 'done'", 1) > 0:
                if proc.poll() is not None or time.monotonic() - began > args.seconds + 600:
                    raise SystemExit("the daemon did not finish:\n" + (folder / "daemon.log").read_text()[-3000:])
                peak = max(peak, memory_mib(proc.pid))
                time.sleep(0.5)
            stored_all = time.monotonic() - began
            time.sleep(2)
            peak = max(peak, memory_mib(proc.pid, "VmHWM"))
            distinct = count(db, "select count(distinct id) from messages where app != 'speakerd'")
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:  # POS orders go to the stores' sales team
                to_orders = {r[0] for r in conn.execute("select message_id from assignments where department = 'orders'")}
        finally:
            proc.terminate()
            proc.wait(30)
    mine = [e for e in events if e["id"] in to_orders]
    vip_orders = {e["data"]["order_id"] for e in mine if (e.get("user") or {}).get("tier") == "vip"}
    orders, amount, vip, per_person = told(hook.bodies, vip_orders)
    expected_amount = sum(e["data"]["amount"] for e in mine)
    expected_vip = sum(1 for e in mine if (e.get("user") or {}).get("tier") == "vip")  # order ids may repeat
    print(f"{len(events):,} orders released over {args.seconds:.0f} s to 3 people on duty; all delivered {stored_all:.1f} s after start")
    print(f"pushes: {sum(per_person.values())} in all, per person {dict(sorted(per_person.items()))}")
    print(f"routed to the orders department: {len(mine):,} (the rest came from POS: the stores' sales team, no push target)")
    print(f"told in them: {orders:,.0f} orders (expected {len(mine):,}), ¥{amount:,.2f} (expected ¥{expected_amount:,.2f}),"
          f" VIP {vip:.0f} (expected {expected_vip})")
    print(f"stored: {distinct:,} distinct orders; daemon peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
