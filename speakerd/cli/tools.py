"""The commands for trying things out: the platform stub, the demo, and saying a sentence."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from speakerd import config as config_mod
from speakerd.cli.common import exit_now, load_or_exit
from speakerd.cli.demo import EXAMPLE_CONFIG
from speakerd.errors import OutputError
from speakerd.logs import setup_logging


def cmd_stub(args: argparse.Namespace) -> int:
    from speakerd.stub import SCENARIOS, StubServer

    setup_logging()
    kwargs: dict[str, Any] = {"count": args.count} if args.count is not None else {}
    if args.vip_threshold is not None:
        kwargs["vip_threshold"] = args.vip_threshold
    if args.consolation_after is not None:
        kwargs["consolation_after"] = args.consolation_after
    events = SCENARIOS[args.scenario](**kwargs)
    try:
        server = StubServer(events, pace=args.pace, token=args.token, host=args.host, port=args.port)
    except OSError as exc:
        print(f"stub: cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (choose another --port)", file=sys.stderr)
        return 1
    print(f"platform stub on {server.url}/v1/messages: scenario {args.scenario!r}, {len(events)} events, one every {args.pace:g} s (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_demo(args: argparse.Namespace) -> None:
    from speakerd.cli import demo
    from speakerd.daemon.wiring import Daemon
    from speakerd.stub import StubServer
    from speakerd.stub.scenarios import office

    setup_logging()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="speakerd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stub = StubServer(office(args.count), pace=args.pace, token="demo-token", port=demo.free_or_zero(demo.STUB_PORT)).start()
    speakers: list[Daemon] = []
    broker = None
    try:
        if args.fleet:
            fleet = demo.prepare_fleet(workdir, stub.url)
            broker, setup = fleet.broker, fleet.hub
            for speaker in fleet.speakers.values():
                speakers.append(Daemon(speaker.config_path))
                speakers[-1].start()
        else:
            setup = demo.prepare(workdir, stub.url)
        print(_demo_summary(args, workdir, stub.url, setup, broker), flush=True)
        code = Daemon(setup.config_path).run()
    finally:
        for daemon in speakers:
            daemon.stop()
        if broker:
            broker.stop()
        stub.stop()
    print(f"demo stopped; its data stays in {workdir}", flush=True)
    exit_now(code)


def _demo_summary(args: argparse.Namespace, workdir: Path, stub_url: str, setup: Any, broker: Any) -> str:
    lines = [
        "speakerd demo" + (" --fleet: a hub and two department speakers over mosquitto" if broker else ""),
        f"  web page      : {setup.web_url}  password {setup.password}",
        "                  dashboard with the panel's picture" + (", the devices" if broker else "") + ", settings, reports, board (/board)",
        f"  platform stub : {stub_url} (office scenario: a new event every {args.pace:g} s)",
        f"  config        : {setup.config_path} (edit it here or on the page while the demo runs: it reloads)",
        f"  announcements : {setup.sound}",
        "  bad input     : the scenario mixes in deliberately broken events (ids m-bad-…); the log says 'quarantined'",
        "                  for each, as it would for real ones (speakerd messages --quarantined lists them)",
    ]
    if broker:
        lines += [f"  broker        : mosquitto on 127.0.0.1:{broker.port}, a user and password per device ({workdir / 'broker'})",
                  f"  speakers      : {workdir / 'finance-speaker'} (finance), {workdir / 'orders-speaker'} (orders);"
                  " each announces only its department, the hub the rest",
                  f"                  speakerd fleet -c {setup.config_path}"]
    lines += ["  watch         : one log line per routed message below; in another terminal:",
              f"                  speakerd messages -c {setup.config_path}", "  stop          : Ctrl-C", ""]
    return "\n".join(lines)


def cmd_say(args: argparse.Namespace) -> int:
    from speakerd.outputs.speech import SpeechOutput, audio, reading
    from speakerd.outputs.speech.voices import VoiceSettings, cache_beside, listing

    if args.list_devices:
        try:
            devices = [d for d in audio.list_devices() if d[1] != "null"]
        except OSError as exc:
            print(f"no audio system: {exc} (install libportaudio2)", file=sys.stderr)
            return 1
        for index, name, default in devices:
            print(f"{index:3d}  {name}{'  (default)' if default else ''}")
        if not devices:
            print("no sound card found: plug in the speaker (USB or the Pi's audio jack) and check 'aplay -l'; "
                  "meanwhile speech.device: null plays in real time to nowhere (keep_wav: FOLDER keeps each as a WAV file)", file=sys.stderr)
            return 1
        return 0
    if not args.text and not args.list_voices:
        print("say: give the TEXT to speak (or --list-devices, --list-voices)", file=sys.stderr)
        return 2
    setup_logging("WARNING")
    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path) if config_mod.present(path) else config_mod.parse_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    settings, cache = cfg.speech, cache_beside(config_mod.database_path(cfg, path))
    if args.list_voices:
        for lang, engine, state, note in listing(VoiceSettings.of(settings.voices, cache)):
            print(f"{lang}  {engine:<7} {state}\n            {note}")
        return 0
    if args.wav:
        import dataclasses

        settings = dataclasses.replace(settings, device=f"wav:{tempfile.mkdtemp(prefix='speakerd-say-')}", volume=1.0)
    output, language = SpeechOutput(settings, lambda: cfg, cache, warm=False), "en" if args.lang == "en" else None
    if args.explain:
        print("\n".join(output.explain(args.text, language)))
        output.close()
        return 0
    spoken = reading.said(args.text, settings.max_chars, language)
    try:
        engines = output.say(spoken, language)
    except OutputError as exc:
        print(f"say: {exc}", file=sys.stderr)
        return 1
    if args.wav:
        Path(str(settings.device)[4:], "say.wav").replace(args.wav)
        print(f"wrote {args.wav} ({' '.join(engines)}): {spoken}")
    else:
        print(f"said ({' '.join(engines)}): {spoken}")
    return 0


def cmd_platform_check(args: argparse.Namespace) -> int:
    """Check a platform's implementation of the API (docs/platform-api.md); exit 1 on a failure."""
    from speakerd.intake.conformance import check

    result = check(args.url, args.token, args.timeout)
    for f in result.findings:
        mark = "✓" if f.ok and not f.warning else "!" if f.warning else "✗"
        print(f"{mark} {f.zh}\n  {f.en}")
    failures = sum(1 for f in result.findings if not (f.ok or f.warning))
    print(f"\n{'通过' if result.passed else f'{failures} 项不符合'} / {'passed' if result.passed else f'{failures} failed'}: {args.url}")
    return 0 if result.passed else 1
