"""Footprint: the daemon's and its voice process's memory while speaking and after, and idle CPU, from /proc.

``speakerd run`` as a child process with the shipped config, polling the
stub every 5 s (no long-poll), speech written to WAV files so the voices
are really loaded and used: it announces office events (Chinese, one with
an English word, one in English, three as long as a spoken sentence may
be; one every 3 s, so each is said alone, not folded into a summary by the
speaking budget), while the RSS of the daemon and of its voice process are sampled every
0.1 s; the events are acknowledged, and it sits idle for ``--minutes``
while its CPU time and RSS are read each minute. ``--unload-after`` is
``speech.unload_after`` (minutes), short here so that the memory after the
voice process ends is measured too.

    .venv/bin/python bench/footprint.py [--minutes 4] [--unload-after 2] [--voices auto|espeak] [--chinese]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfs import children, count, cpu_seconds, memory_mib  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402

PACE = 3.0  # seconds between events: more than one announcement takes to make and write to WAV files

ENGLISH = ("The customer asked for a refund of the order because the package arrived damaged, please call them back"
           " before six this evening and explain when the replacement will arrive.")
LONG = ("客户李四在微信商城提交了订单，金额一千二百八十元，收货地址是上海市浦东新区世纪大道一百号，"
        "请订单部尽快确认库存并安排发货，同时在今天下午六点之前电话回复客户，说明预计送达的时间和快递单号。")
EVENTS = [
    {"id": "f-1", "type": "finance.withdrawal", "user": {"id": "u-1", "name": "马丽"}, "content": "马丽申请提现5000元，请审核", "data": {"amount": 5000}},
    {"id": "f-2", "type": "member.joined", "content": "新会员林静通过淘宝注册"},
    {"id": "f-3", "type": "order.refund", "content": "客户张三申请退款，订单873885，金额1478.72元，原因：商品破损，VIP customer"},
    {"id": "f-4", "type": "campaign.approved", "content": "活动“双十二满减”审核通过"},
    {"id": "f-5", "type": "platform.notice", "content": "平台将于今晚23:00至次日01:00进行系统维护"},
    {"id": "f-6", "type": "platform.notice", "content": LONG},
    {"id": "f-7", "type": "platform.notice", "content": LONG.replace("李四", "王五").replace("一百号", "二百号")},
    {"id": "f-8", "type": "platform.notice", "content": ENGLISH},
    {"id": "f-9", "type": "platform.notice", "content": LONG.replace("李四", "赵六")},
]


class Sampler:
    """RSS of the daemon, of its voice process, and of both together, at their highest so far."""

    def __init__(self, pid):
        self.pid, self.daemon, self.voice, self.both = pid, 0.0, 0.0, 0.0

    def sample(self):
        daemon = memory_mib(self.pid)
        voice = sum(memory_mib(child) for child in children(self.pid))
        self.daemon, self.voice, self.both = max(self.daemon, daemon), max(self.voice, voice), max(self.both, daemon + voice)
        return daemon, voice


def spoken(db):
    return count(db, "select count(*) from outbox where output = 'speech' and state = 'done'")


def start(folder, args, stub_url):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["platform"].update(url=stub_url, token="demo-token", poll_interval=5.0, long_poll=0.0)
    data["speech"].update(device=f"wav:{folder / 'audio'}", unload_after=args.unload_after, unload_after_working=0)
    data["speech"]["voices"].update(zh=args.voices, en=args.voices)
    data["storage"]["path"] = str(folder / "speakerd.db")
    data["web"]["enabled"] = False
    (folder / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(folder / "config.yaml")],
                            stdout=subprocess.DEVNULL, stderr=open(folder / "daemon.log", "w"))


def speak_all(proc, folder, sampler, events):
    started = time.monotonic()
    while spoken(folder / "speakerd.db") < len(events):
        if proc.poll() is not None or time.monotonic() - started > 300:
            raise SystemExit("the daemon did not announce the events; see its log")
        sampler.sample()
        time.sleep(0.1)
    print(f"speaking {len(events)} events ({time.monotonic() - started:.0f} s): peak RSS daemon {sampler.daemon:.0f} MiB,"
          f" voice process {sampler.voice:.0f} MiB, both together {sampler.both:.0f} MiB")
    for event in events:  # handled, as in an office: no reminders during the idle time
        subprocess.run([sys.executable, "-m", "speakerd", "ack", event["id"], "-c", str(folder / "config.yaml")],
                       check=True, stdout=subprocess.DEVNULL)


def idle(proc, folder, sampler, minutes):
    pid, ended = proc.pid, None
    cpu0, t0, each_minute = cpu_seconds(pid), time.monotonic(), []
    while (elapsed := time.monotonic() - t0) < minutes * 60:
        daemon, voice = sampler.sample()
        if voice == 0 and ended is None:
            ended = elapsed
        if elapsed >= 60 * (len(each_minute) + 1):
            each_minute.append(daemon + voice)
        time.sleep(1)
    used, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
    print(f"idle {wall / 60:.1f} min polling every 5 s: CPU {used:.2f} s = {100 * used / wall:.2f} % of one core;"
          f" RSS (daemon + voice process) each minute {' '.join(f'{r:.0f}' for r in each_minute)} MiB")
    if ended is None:
        print("  the voice process was still running at the end")
    else:
        print(f"  the voice process ended {ended:.0f} s into the idle time; RSS at the end {memory_mib(pid):.0f} MiB"
              f" ({(wall - ended) / 60:.1f} min after); daemon peak over the whole run {memory_mib(pid, 'VmHWM'):.0f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--unload-after", type=float, default=2.0)
    parser.add_argument("--voices", choices=["auto", "espeak"], default="auto")
    parser.add_argument("--chinese", action="store_true", help="only events without English words (letters are read in Mandarin)")
    args = parser.parse_args()
    events = [e for e in EVENTS if not (args.chinese and re.search("[a-z]", e["content"]))]  # capitals are read in Mandarin
    # One every PACE seconds: each said alone, as its own sentence (all at once, the speaking budget folds them into one summary).
    with tempfile.TemporaryDirectory() as tmp, StubServer(events, pace=PACE) as stub:
        folder = Path(tmp)
        proc = start(folder, args, stub.url)
        sampler = Sampler(proc.pid)
        try:
            speak_all(proc, folder, sampler, events)
            idle(proc, folder, sampler, args.minutes)
        finally:
            proc.terminate()
            proc.wait(30)
            said = [line.split(" INFO ", 1)[-1] for line in (folder / "daemon.log").read_text().splitlines()
                    if "spoke " in line or "voice is" in line or "unloaded" in line]
            print("the daemon's log of speech:\n  " + "\n  ".join(said))


if __name__ == "__main__":
    main()
