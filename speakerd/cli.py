"""The ``speakerd`` command: argument parsing and printing only; the work is done elsewhere."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from speakerd import __version__
from speakerd import config as config_mod
from speakerd.errors import ConfigError, OutputError
from speakerd.store import Store, StoreError
from speakerd.store.reports import TALLY_KEYS
from speakerd.text import table
from speakerd.timeparse import local_time, parse_day, parse_since

logger = logging.getLogger("speakerd.cli")
EXAMPLE_CONFIG = Path(__file__).with_name("example_config.yaml")  # for 'say' on a machine with no config yet


def setup_logging(level: str = "INFO") -> None:
    """Plain lines for journald (it adds the time), timestamps on a terminal."""
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
    for noisy in ("apscheduler", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load_or_exit(path):
    try:
        return config_mod.load(path)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        raise SystemExit(1) from None


# --- commands ----------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> None:
    from speakerd.daemon import Daemon

    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    setup_logging(cfg.log.level.upper())
    try:
        code = Daemon(path, cfg).run()
    except StoreError as exc:
        logger.error("cannot start: %s", exc)
        code = 1
    _exit_now(code)


def _exit_now(code) -> None:
    """Leave without waiting for a long-poll still in flight: everything is saved and closed."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    print(
        f"{path}: OK ({len(cfg.categories)} categories, {len(cfg.departments())} departments, "
        f"{len(cfg.staff())} staff, platform {cfg.platform.url})"
    )
    return 0


def cmd_stub(args: argparse.Namespace) -> int:
    from speakerd.stub import SCENARIOS, StubServer

    setup_logging()
    kwargs = {"count": args.count} if args.count is not None else {}
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
    from speakerd import demo
    from speakerd.daemon import Daemon
    from speakerd.stub import StubServer
    from speakerd.stub.scenarios import office

    setup_logging()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="speakerd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stub = StubServer(office(args.count), pace=args.pace, token="demo-token", port=demo.free_or_zero(demo.STUB_PORT)).start()
    setup = demo.prepare(workdir, stub.url)
    print(
        f"speakerd demo\n"
        f"  web page      : {setup.web_url}  password {setup.password}\n"
        f"                  dashboard with the panel's picture, settings, reports, board (/board)\n"
        f"  platform stub : {stub.url} (office scenario: a new event every {args.pace:g} s)\n"
        f"  config        : {setup.config_path} (edit it here or on the page while the demo runs: it reloads)\n"
        f"  database      : {workdir / 'speakerd.db'}\n"
        f"  announcements : {setup.sound}\n"
        f"  watch         : one log line per routed message below; in another terminal:\n"
        f"                  speakerd messages -c {setup.config_path}\n"
        f"  stop          : Ctrl-C\n",
        flush=True,
    )
    try:
        code = Daemon(setup.config_path).run()
    finally:
        stub.stop()
    print(f"demo stopped; its data stays in {workdir}", flush=True)
    _exit_now(code)


def _existing_database(args):
    """``(cfg, database path)``, or None after saying there is no database yet."""
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"no database at {db_path} yet: the daemon creates it when it first runs", file=sys.stderr)
        return None
    return cfg, db_path


def cmd_messages(args: argparse.Namespace) -> int:
    found = _existing_database(args)
    if found is None:
        return 1
    _, db_path = found
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return 2
    with Store(db_path) as store:
        rows = store.reports.quarantined(since, args.limit) if args.quarantined else store.reports.messages(since, args.limit)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        row["received"] = local_time(row["received_at"])
    if args.quarantined:
        print(table(rows, ["id", "received", "platform_id", "reason", "raw"]))
    else:
        print(table(rows, ["id", "received", "category", "department", "staff_id", "outputs", "content"]))
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    import getpass

    from speakerd.web import auth

    path = config_mod.default_path(args.config)
    _load_or_exit(path)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("new password for the web page: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ; nothing changed", file=sys.stderr)
            return 1
    try:
        written = auth.set_password(path, password)
    except (ValueError, OSError) as exc:
        print(f"set-password: {exc}", file=sys.stderr)
        return 1
    print(f"password set (its hash is in {written}); those logged in must log in again")
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    found = _existing_database(args)
    if found is None:
        return 1
    with Store(found[1]) as store:
        outcome = store.acks.acknowledge(args.message_id, "cli")
    if outcome == "unknown":
        print(f"no message {args.message_id!r}: 'speakerd messages' lists the stored ones", file=sys.stderr)
        return 1
    print(f"{args.message_id}: " + ("acknowledged" if outcome == "done" else "was already acknowledged"))
    return 0


def cmd_push_test(args: argparse.Namespace) -> int:
    from speakerd import push_targets

    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    found = cfg.staff().get(args.staff_id)
    if found is None:
        print(f"no staff member {args.staff_id!r} in {path}; known: {', '.join(cfg.staff())}", file=sys.stderr)
        return 1
    department, person = found
    if not person.push:
        print(f"{person.id} {person.name} has no push targets: add them under push: in {path}", file=sys.stderr)
        return 1
    failures = 0
    for i, (shown, delivered, reason) in enumerate(push_targets.send_test(cfg, args.staff_id), 1):
        print(f"{i}. {shown}: {'delivered' if delivered else 'FAILED: ' + reason}")
        failures += not delivered
    return 1 if failures else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from speakerd import stats

    found = _existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    try:
        since, until = parse_day(args.since), parse_day(args.until)
    except ValueError as exc:
        print(f"--since/--until: {exc}", file=sys.stderr)
        return 2
    with Store(db_path) as store:
        rows = stats.report(store, args.by, since, until, cfg)
        outages = stats.outages(store, since, until)
    if args.chart:
        from speakerd import charts

        charts.draw(rows, args.by, args.chart)
        print(f"chart written to {args.chart}", file=sys.stderr)
    stats.write_report(rows, outages, args.by, args.format, sys.stdout, since=args.since, until=args.until)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from speakerd.outputs.speech import SpeechOutput, audio, text

    if args.list_devices:
        try:
            for index, name, default in audio.list_devices():
                print(f"{index:3d}  {name}{'  (default)' if default else ''}")
        except OSError as exc:
            print(f"no audio system: {exc} (install libportaudio2)", file=sys.stderr)
            return 1
        return 0
    if not args.text and not args.list_voices:
        print("say: give the TEXT to speak (or --list-devices, --list-voices)", file=sys.stderr)
        return 2
    setup_logging("WARNING")
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path) if path.exists() else config_mod.parse_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    settings = cfg.speech
    if args.list_voices:
        from speakerd.outputs.speech.voices import listing

        files = {"zh": settings.voices.zh_piper, "en": settings.voices.en_piper}
        for lang, engine, state, note in listing(config_mod.database_path(cfg, path).parent / "voice-cache", files):
            print(f"{lang}  {engine:<7} {state}\n            {note}")
        return 0
    if args.wav:
        import dataclasses

        settings = dataclasses.replace(settings, device=f"wav:{tempfile.mkdtemp(prefix='speakerd-say-')}", volume=1.0)
    cache = config_mod.database_path(cfg, path).parent / "voice-cache"
    output = SpeechOutput(settings, lambda: cfg, cache, warm=False)
    spoken = args.text if args.lang == "en" else text.cut(text.normalize(args.text), settings.max_chars)
    try:
        engines = output.say(spoken, "en" if args.lang == "en" else None)
    except OutputError as exc:
        print(f"say: {exc}", file=sys.stderr)
        return 1
    if args.wav:
        Path(settings.device[4:], "say.wav").replace(args.wav)
        print(f"wrote {args.wav} ({' '.join(engines)}): {spoken}")
    else:
        print(f"said ({' '.join(engines)}): {spoken}")
    return 0


def cmd_panel(args: argparse.Namespace) -> int:
    from speakerd.outputs.panel.snapshot import snapshot

    found = _existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    with Store(db_path) as store:
        image = snapshot(store, cfg, args.scale)
    image.save(args.snapshot)
    print(f"wrote {args.snapshot} ({image.width}×{image.height})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"speakerd: NOT RUNNING (no database at {db_path} yet)")
        return 1
    from speakerd.device_state import DeviceState
    from speakerd.status import status_lines

    with Store(db_path) as store:
        beat = DeviceState(store, lambda: cfg).heartbeat()
        outages = store.outages.find(since=parse_since("today"))
        waiting = store.reports.outbox_by_output()
    lines, verdict = status_lines(beat, outages, waiting)
    print(f"speakerd: {verdict}")
    print("\n".join(lines))
    return 0 if verdict == "OK" else 1


# --- parser ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speakerd", description="Tells shop staff about platform events: aloud, on a panel, on their phones.")
    parser.add_argument("--version", action="version", version=f"speakerd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int | None], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def config_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", metavar="FILE", help="config file (default: $SPEAKERD_CONFIG, /etc/speakerd/config.yaml, ./config.yaml)")

    config_option(command("run", cmd_run, "run the daemon until SIGTERM; SIGHUP or a saved config file reloads it"))
    config_option(command("check-config", cmd_check_config, "check a config file; print each fault as FILE:LINE: field: reason"))

    p = command("stub", cmd_stub, "serve the platform stub (the shop platform's message API) for trying speakerd out")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8808, help="port to listen on (default 8808)")
    p.add_argument("--scenario", choices=["office", "flash-sale", "empty"], default="office", help="which events to serve (default office)")
    p.add_argument("--count", type=int, help="how many events the scenario makes")
    p.add_argument("--pace", type=float, default=3.0, help="seconds between two events; 0 serves them all at once (default 3)")
    p.add_argument("--token", default="demo-token", help="bearer token clients must send (default demo-token)")

    p = command("demo", cmd_demo, "run the stub and the daemon together on loopback, for a first look")
    p.add_argument("--dir", help="keep the demo's config and database here (default: a new temporary folder)")
    p.add_argument("--pace", type=float, default=3.0, help="seconds between two events (default 3)")
    p.add_argument("--count", type=int, default=120, help="how many events the office scenario makes (default 120)")

    p = command("stats", cmd_stats, "reports: messages, acknowledgement, time to acknowledge, orders and outages, by any key")
    config_option(p)
    p.add_argument("--by", choices=list(TALLY_KEYS),
                   default="total", help="what to count by (default total)")
    p.add_argument("--since", help="first day: 2026-11-01, today or 7d (seven days ago)")
    p.add_argument("--until", help="last day, included")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="table (default), csv or json")
    p.add_argument("--chart", metavar="OUT", help="also draw the report as a chart, OUT.png or OUT.svg")

    p = command("say", cmd_say, "speak TEXT with the configured voices, or write it to a WAV file")
    p.add_argument("text", nargs="?", metavar="TEXT", help="what to say; Chinese and English may be mixed")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default: Chinese, English words by the English voice) or en")
    p.add_argument("--wav", metavar="OUT", help="write exactly what would be played (without chime) to this WAV file")
    p.add_argument("--list-devices", action="store_true", help="list the sound devices speech.device may name")
    p.add_argument("--list-voices", action="store_true", help="list the voices per language, in auto order, with their licences")
    config_option(p)

    p = command("panel", cmd_panel, "render what the OLED panel shows now to a PNG file")
    p.add_argument("--snapshot", metavar="OUT.png", required=True, help="where to write the picture")
    p.add_argument("--scale", type=int, default=4, help="pixels per panel pixel (default 4: 512×256)")
    config_option(p)

    p = command("set-password", cmd_set_password, "set the web page's password (kept only as a hash beside the config file)")
    p.add_argument("--stdin", action="store_true", help="read the password from the first line of standard input instead of asking")
    config_option(p)

    p = command("ack", cmd_ack, "acknowledge a message by its platform id: its reminders and escalation stop")
    p.add_argument("message_id", metavar="MESSAGE_ID", help="the platform's id, e.g. m-000123")
    config_option(p)

    p = command("push-test", cmd_push_test, "send a test notification to each push target of one staff member and say which worked")
    p.add_argument("staff_id", metavar="STAFF_ID", help='the staff id, e.g. 003')
    config_option(p)

    config_option(command("status", cmd_status, "print the daemon's health (platform, outages today, outputs); exit 1 when unhealthy"))

    p = command("messages", cmd_messages, "list stored messages with their category, department, staff and output states")
    config_option(p)
    p.add_argument("--since", help="only messages received since: 30m, 2h, 7d, today or an ISO date/time")
    p.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    p.add_argument("--format", choices=["table", "json"], default="table", help="table (default) or json")
    p.add_argument("--quarantined", action="store_true", help="list the messages kept aside as malformed, with the reason")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0
