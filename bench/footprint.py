"""Footprint: the daemon's memory with its voices loaded, and its CPU while idle, from /proc.

``speakerd run`` as a child process with the shipped config, polling the
stub every 5 s (no long-poll), speech written to WAV files so the voices
are really loaded and used: it first announces a handful of office events
(Chinese and English), then sits idle for ``--minutes`` while its CPU time is
read from /proc/PID/stat. Prints the figures.

    .venv/bin/python bench/footprint.py [--minutes 10] [--voices auto|espeak]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfs import count, cpu_seconds, memory_mib  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402

EVENTS = [
    {"id": "f-1", "type": "finance.withdrawal", "user": {"id": "u-1", "name": "马丽"}, "content": "马丽申请提现5000元，请审核", "data": {"amount": 5000}},
    {"id": "f-2", "type": "member.joined", "content": "新会员林静通过淘宝注册"},
    {"id": "f-3", "type": "order.refund", "content": "客户张三申请退款，订单873885，金额1478.72元，原因：商品破损，VIP customer"},
    {"id": "f-4", "type": "campaign.approved", "content": "活动“双十二满减”审核通过"},
    {"id": "f-5", "type": "platform.notice", "content": "平台将于今晚23:00至次日01:00进行系统维护"},
]


def spoken(db):
    return count(db, "select count(*) from outbox where output = 'speech' and state = 'done'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--voices", choices=["auto", "espeak"], default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, StubServer(EVENTS, pace=0) as stub:
        folder = Path(tmp)
        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        data["platform"].update(url=stub.url, token="demo-token", poll_interval=5.0, long_poll=0.0)
        data["speech"].update(device=f"wav:{folder / 'audio'}")
        data["speech"]["voices"].update(zh=args.voices, en=args.voices)
        data["storage"]["path"] = str(folder / "speakerd.db")
        data["web"]["enabled"] = False
        (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(folder / "config.yaml")],
                                stdout=subprocess.DEVNULL, stderr=open(folder / "daemon.log", "w"))
        args.log = folder / "daemon.log"
        try:
            while spoken(folder / "speakerd.db") < len(EVENTS):
                if proc.poll() is not None or time.monotonic() - started > 180:
                    raise SystemExit("the daemon did not announce the events; see its log")
                time.sleep(0.5)
            for event in EVENTS:  # handled, as in an office: no reminders during the idle time
                subprocess.run([sys.executable, "-m", "speakerd", "ack", event["id"], "-c", str(folder / "config.yaml")],
                               check=True, stdout=subprocess.DEVNULL)
            time.sleep(5)  # let the last announcement's buffers go
            pid = proc.pid
            print(f"voices {args.voices}: after announcing {len(EVENTS)} events: RSS {memory_mib(pid):.0f} MiB (peak {memory_mib(pid, 'VmHWM'):.0f} MiB)")
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            samples = []
            while time.monotonic() - t0 < args.minutes * 60:
                time.sleep(min(60.0, args.minutes * 60 - (time.monotonic() - t0)))
                samples.append(memory_mib(pid))
            used, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
            print(f"idle {wall / 60:.1f} min polling every 5 s: CPU {used:.2f} s = {100 * used / wall:.2f} % of one core;"
                  f" RSS each minute {' '.join(f'{r:.0f}' for r in samples)} MiB (peak {memory_mib(pid, 'VmHWM'):.0f} MiB)")
            unloaded = [line for line in args.log.read_text().splitlines() if "voices unloaded" in line]
            print("  " + (unloaded[0] if unloaded else "voices were not unloaded"))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
