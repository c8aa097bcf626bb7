"""Event to first sound: from the stub publishing an event to the chime and the first spoken word being heard.

The real path in one process: the stub over loopback HTTP, the daemon
polling it (plain polling every 2 s, then long-poll), a real SQLite file, the
real speech output with the configured voices. The sound card is replaced at
the lowest layer by the sink that keeps real time (as a card takes samples),
which notes when the first audible sample of the chime and of the spoken
sentence begins to play. Events are published one at a time, each after the
previous was heard and a random pause, so they land anywhere in the poll
cycle. Prints the figures. ``--pi`` runs this whole process (stub included:
pessimistic) under the Pi-class CPU proxy of bench/piproxy.py.

After the first event (which loads the voices) it waits until the device has
made its openings ahead, as a device that has run a while has (``--cold``:
not, as a device just started).

``--silence MIN`` then leaves the device quiet for MIN minutes before one
more event: the first announcement after a lull.

    .venv/bin/python bench/latency.py [--events 100] [--modes poll,long-poll] [--pi] [--cold] [--silence MIN]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.piproxy import PiProxy  # noqa: E402
from speakerd.daemon.outputs import build_outputs  # noqa: E402
from speakerd.daemon.wiring import Daemon  # noqa: E402
from speakerd.outputs.speech.openings import openings  # noqa: E402
from speakerd.outputs.speech.realtime import RealTimeSink  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402


class TimingSink(RealTimeSink):
    """Takes samples at a card's pace; notes when the first audible sample of the chime and of the speech begins to play,
    and when the chime's last sample has played."""

    def __init__(self):
        super().__init__()
        self.heard = {}  # message id -> (chime begins, chime ends, speech begins)
        self._writes, self._chime, self._chime_end, self._speech = 0, None, None, None
        self.done = threading.Condition()

    def open(self, rate):
        super().open(rate)
        self._writes, self._chime, self._chime_end, self._speech = 0, None, None, None

    def write(self, samples):
        self._writes += 1
        begins = max(self._ends, time.monotonic())
        audible = np.flatnonzero(np.abs(samples) > 1e-3)
        if len(audible):
            at = begins + audible[0] / self._rate
            if self._chime is None:
                self._chime, self._chime_end = at, begins + (audible[-1] + 1) / self._rate
            elif self._writes >= 2 and self._speech is None:
                self._speech = at
        super().write(samples)

    def close(self, name=None):
        super().close(name)
        with self.done:
            if name:
                self.heard[name] = (self._chime, self._chime_end, self._speech)
            self.done.notify_all()


def config_for(url, mode, folder):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["platform"].update(url=url, token="demo-token", poll_interval=2.0, long_poll=20.0 if mode == "long-poll" else 0.0)
    data["speech"]["device"] = None  # the timing sink below takes the sound card's place
    for section in ("display", "push", "gpio", "web"):
        data[section]["enabled"] = False
    data["storage"]["path"] = str(folder / f"{mode}.db")
    path = folder / f"{mode}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def event(i):
    # A new member: a short Chinese sentence with no grouping wait ("会员部零零六号，新会员林静通过淘宝注册").
    return {"id": f"lat-{i:04d}", "type": "member.joined", "app": "taobao", "user": {"id": "u-1", "name": "林静"},
            "content": "新会员林静通过淘宝注册", "data": {"channel": "taobao"}}


def wait_for_openings(daemon, mode):
    """Until the device has made its openings ahead, as it does in its first quiet moment: what a device that has run a
    while plays. The first event taught it which voice speaks; the rest waits for nothing but the device."""
    speech, started = daemon.speech, time.monotonic()
    wanted = openings(daemon.cfg, daemon.cfg.speech.max_chars)
    while not all(speech.speaker.kept(o) for o in wanted):
        if time.monotonic() - started > 900:
            raise SystemExit("the openings were not made within 15 minutes")
        time.sleep(0.5)
    print(f"  {mode}: {len(wanted)} openings (and the fixed phrases) made ahead in {time.monotonic() - started:.0f} s")


def heard(stub, sink, i):
    """(published, chime begins, chime ends, first word) of event ``i``, published now."""
    message_id = event(i)["id"]
    published = time.monotonic()
    stub.platform.publish([event(i)])
    with sink.done:
        if not sink.done.wait_for(lambda: message_id in sink.heard, 120):
            raise SystemExit(f"{message_id} was never heard")
    return (published, *sink.heard[message_id])


def run(mode, count, folder, rng, cold=False, silence=0.0):
    stub = StubServer([], pace=0).start()
    sink = TimingSink()

    def outputs(cfg, store, current, **parts):
        found = build_outputs(cfg, store, current, **parts)
        speech = next(o for o in found if o.name == "speech")
        speech.sink = sink
        return found

    daemon = Daemon(config_for(stub.url, mode, folder), outputs_factory=outputs)
    daemon.start()
    chime, speech, after = [], [], []
    try:
        for i in range(count + 1):  # the first loads the voices: reported apart
            time.sleep(rng.uniform(0.2, 2.2))
            published, heard_chime, chime_end, heard_speech = heard(stub, sink, i)
            if i == 0:
                print(f"  {mode}: first event after start (voices load): chime {heard_chime - published:.2f} s, "
                      f"first word {heard_speech - published:.2f} s")
                if not cold:
                    wait_for_openings(daemon, mode)
                continue
            chime.append(heard_chime - published)
            speech.append(heard_speech - published)
            after.append(heard_speech - chime_end)
        if silence:
            time.sleep(silence * 60)
            loaded = daemon.speech.speaker.voices.running
            published, heard_chime, _, heard_speech = heard(stub, sink, count + 1)
            print(f"  {mode}: first event after {silence:g} min of silence (voices {'still' if loaded else 'not'} loaded): "
                  f"chime {heard_chime - published:.2f} s, first word {heard_speech - published:.2f} s")
    finally:
        daemon.stop()
        stub.stop()
    return chime, speech, after


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--modes", default="poll,long-poll")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pi", action="store_true", help="this process under the Pi-class CPU proxy (a cgroup quota; root)")
    parser.add_argument("--cold", action="store_true", help="do not wait for the openings to be made ahead (a device just started)")
    parser.add_argument("--silence", type=float, default=0.0, help="then minutes of silence before one more event (the first after a lull)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.pi:
        with PiProxy() as proxy:
            (proxy.path / "cgroup.procs").write_text(str(os.getpid()))
            print(f"Pi proxy: {proxy.describe()} (the stub runs in it too)")
            measure(args, rng)
    else:
        measure(args, rng)


def measure(args, rng):
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            chime, speech, after = run(mode, args.events, Path(tmp), rng, args.cold, args.silence)
            print(f"{mode:9s} ({len(speech)} events): chime heard p50 {statistics.median(chime):.3f} s, p95 {pct(chime, 95):.3f} s;"
                  f" first word heard p50 {statistics.median(speech):.3f} s, p95 {pct(speech, 95):.3f} s, max {max(speech):.3f} s;"
                  f" silence from the chime's end to the first word p50 {statistics.median(after):.3f} s, p95 {pct(after, 95):.3f} s")


if __name__ == "__main__":
    main()
