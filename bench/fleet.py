"""Several devices: what the hub adds between the platform and a department speaker, and a burst over five speakers.

The real path: a real mosquitto on loopback (users, ACL, persistence, as
installed on a hub), the stub over HTTP, a hub long-polling it, speakers with
their own SQLite stores, all in one process. Prints the figures.

1. Delay: for each event, from the hub's publish (its fleet output) to the
   speaker's first chime sample (the real speech output, with a sink that
   notes when the first audible sample is written), p50 and p95; and from the
   stub publishing the event to that chime, to compare with bench/latency.py.
2. Burst: 1,000 events at once over five department speakers; how long until
   every speaker has stored and told (log output) all of its messages.

    .venv/bin/python bench/fleet.py [--events 100] [--burst 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency import TimingSink, event, pct  # noqa: E402
from speakerd.daemon.outputs import build_outputs  # noqa: E402
from speakerd.daemon.wiring import Daemon  # noqa: E402
from speakerd.fleet.broker import LocalBroker, Roster, new_password  # noqa: E402
from speakerd.outputs.recording import RecordingOutput  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import office  # noqa: E402

SPEAKERS = {"orders-sp": "orders", "finance-sp": "finance", "membership-sp": "membership", "marketing-sp": "marketing", "service-sp": "service"}


def config_for(folder, name, role, broker, url="http://127.0.0.1:9", departments=()):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["platform"].update(url=url, token="demo-token", poll_interval=2.0, long_poll=20.0, batch_size=1000)
    data["speech"]["device"] = f"wav:{folder / 'unused'}"
    for section in ("display", "push", "gpio", "web"):
        data[section]["enabled"] = False
    data["storage"]["path"] = str(folder / f"{name}.db")
    data["fleet"] = {"role": role, "broker": broker.url(name), "device": name, "site": "office", **({"departments": list(departments)} if departments else {})}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_broker(folder):
    roster = Roster(hubs={"hub": "office"}, speakers={name: ("office", [dep]) for name, dep in SPEAKERS.items()})
    return LocalBroker(folder / "broker", roster, {name: new_password() for name in ("hub", *SPEAKERS)}).start()


def delay(folder, count, rng):
    broker, stub, sink = start_broker(folder), StubServer([], pace=0).start(), TimingSink()
    sent = {}

    def speaker_outputs(cfg, store, current, **parts):
        found = build_outputs(cfg, store, current, **parts)
        next(o for o in found if o.name == "speech").sink = sink
        return found

    speaker = Daemon(config_for(folder, "membership-sp", "speaker", broker, departments=["membership"]), outputs_factory=speaker_outputs)
    hub = Daemon(config_for(folder, "hub", "hub", broker, stub.url), outputs_factory=lambda *a, **k: [RecordingOutput("log")])
    speaker.start()
    hub.start()
    deliver = hub.fleet.hub.output.deliver

    def timed(notice):
        deliver(notice)
        sent[notice.message_id] = time.perf_counter()

    hub.fleet.hub.output.deliver = timed
    from_hub, from_platform = [], []
    try:
        for i in range(count + 1):  # the first loads the voices: not counted
            time.sleep(rng.uniform(0.2, 1.0))
            message_id, published = event(i)["id"], time.perf_counter()
            stub.platform.publish([event(i)])
            with sink.done:
                if not sink.done.wait_for(lambda message_id=message_id: message_id in sink.heard, 60):
                    raise SystemExit(f"{message_id} was never heard on the speaker")
            if i:
                chime = sink.heard[message_id][0]
                from_hub.append(chime - sent[message_id])
                from_platform.append(chime - published)
    finally:
        hub.stop()
        speaker.stop()
        stub.stop()
        broker.stop()
    return from_hub, from_platform


def burst(folder, count):
    broker, stub = start_broker(folder), StubServer([], pace=0).start()
    speakers = {}
    for name, dep in SPEAKERS.items():
        recording = RecordingOutput("log")
        speakers[name] = (Daemon(config_for(folder, name, "speaker", broker, departments=[dep]),
                                 outputs_factory=lambda *a, recording=recording, **k: [recording]), recording)
        speakers[name][0].start()
    hub = Daemon(config_for(folder, "hub", "hub", broker, stub.url), outputs_factory=lambda *a, **k: [RecordingOutput("log")])
    hub.start()
    events = [e for e in office(count=count * 2, seed=11) if isinstance(e, dict) and str(e.get("id", "")).startswith("m-0")][:count]
    try:
        time.sleep(1.0)
        began = time.perf_counter()
        stub.platform.publish(events)
        deadline = began + 300
        while time.perf_counter() < deadline:
            hub_done = hub.store.query("select count(*) as n from outbox where output = 'fleet' and state = 'done'")[0]["n"]
            expected = hub.store.query("select department, count(*) as n from assignments group by department")
            owed = {r["department"]: r["n"] for r in expected if r["department"] in SPEAKERS.values()}
            told = {dep: len({n.message_id for n in speakers[name][1].notices}) for name, dep in SPEAKERS.items()}
            if hub_done and hub_done == hub.store.query("select count(*) as n from outbox where output = 'fleet'")[0]["n"] and told == owed:
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"burst not delivered in 300 s: owed {owed}, told {told}")
        took = time.perf_counter() - began
        stored = hub.store.query("select count(*) as n from messages")[0]["n"]
    finally:
        hub.stop()
        for daemon, _ in speakers.values():
            daemon.stop()
        stub.stop()
        broker.stop()
    return took, stored, told


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from_hub, from_platform = delay(Path(tmp) / "delay", args.events, random.Random(args.seed))
        print(f"hub to speaker ({len(from_hub)} events): publish to first chime sample p50 {statistics.median(from_hub) * 1000:.1f} ms,"
              f" p95 {pct(from_hub, 95) * 1000:.1f} ms, max {max(from_hub) * 1000:.1f} ms")
        print(f"platform to speaker (long-poll): first chime sample p50 {statistics.median(from_platform):.3f} s, p95 {pct(from_platform, 95):.3f} s")
        took, stored, told = burst(Path(tmp) / "burst", args.burst)
        print(f"burst: {args.burst} events, {stored} stored on the hub, every speaker told all of its share in {took:.2f} s"
              f" ({', '.join(f'{dep} {n}' for dep, n in told.items())})")


if __name__ == "__main__":
    main()
