"""The ``speakerd`` command: argument parsing and printing only; the work is done elsewhere."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from speakerd import __version__
from speakerd import config as config_mod
from speakerd.errors import ConfigError, OutputError
from speakerd.store import Store, StoreError
from speakerd.text import table

logger = logging.getLogger("speakerd.cli")
EXAMPLE_CONFIG = Path(__file__).with_name("example_config.yaml")


def setup_logging(level="INFO"):
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


def cmd_run(args):
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


def _exit_now(code):
    """Leave without waiting for a long-poll still in flight: everything is saved and closed."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_check_config(args):
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    print(
        f"{path}: OK ({len(cfg.categories)} categories, {len(cfg.departments())} departments, "
        f"{len(cfg.staff())} staff, platform {cfg.platform.url})"
    )
    return 0


def cmd_stub(args):
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


def cmd_demo(args):
    from speakerd.daemon import Daemon
    from speakerd.stub import StubServer
    from speakerd.stub.scenarios import office

    setup_logging()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="speakerd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stub = StubServer(office(args.count), pace=args.pace, token="demo-token", port=_free_or_zero(8808)).start()
    text = re.sub(r"(?m)^(\s+url:\s*)http://127\.0\.0\.1:8808\s*$", lambda m: m.group(1) + stub.url, EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    sound = "the sound card"
    if not _has_sound_card():
        sound = f"WAV files in {workdir / 'audio'} (no sound card found)"
        text = re.sub(r"(?m)^(\s+device:\s*)default\b", lambda m: m.group(1) + f"wav:{workdir / 'audio'}", text)
    web_port = _free_or_zero(8080) or _free_port()
    text = re.sub(r"(?m)^(\s+listen:\s*)127\.0\.0\.1:8080\b", lambda m: m.group(1) + f"127.0.0.1:{web_port}", text)
    config_path = workdir / "config.yaml"
    config_path.write_text(text, encoding="utf-8")
    from speakerd.web import auth

    password = secrets.token_urlsafe(8)
    auth.set_password(config_path, password)
    print(
        f"speakerd demo\n"
        f"  web page      : http://127.0.0.1:{web_port}/  password {password}\n"
        f"                  dashboard with the panel's picture, settings, reports, board (/board)\n"
        f"  platform stub : {stub.url} (office scenario: a new event every {args.pace:g} s)\n"
        f"  config        : {config_path} (edit it here or on the page while the demo runs: it reloads)\n"
        f"  database      : {workdir / 'speakerd.db'}\n"
        f"  announcements : {sound}\n"
        f"  watch         : one log line per routed message below; in another terminal:\n"
        f"                  speakerd messages -c {config_path}\n"
        f"  stop          : Ctrl-C\n",
        flush=True,
    )
    try:
        code = Daemon(config_path).run()
    finally:
        stub.stop()
    print(f"demo stopped; its data stays in {workdir}", flush=True)
    _exit_now(code)


def _has_sound_card():
    try:
        from speakerd.speech.audio import list_devices

        return any(name != "null" for _, name, _ in list_devices())
    except Exception:  # noqa: BLE001 - no PortAudio, no ALSA: no sound card
        return False


def _free_or_zero(port):
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _existing_database(args):
    """``(cfg, database path)``, or None after saying there is no database yet."""
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"no database at {db_path} yet: the daemon creates it when it first runs", file=sys.stderr)
        return None
    return cfg, db_path


def cmd_messages(args):
    found = _existing_database(args)
    if found is None:
        return 1
    _, db_path = found
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return 2
    store = Store(db_path)
    try:
        rows = store.quarantined(since, args.limit) if args.quarantined else store.messages(since, args.limit)
    finally:
        store.close()
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


def cmd_set_password(args):
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


def cmd_ack(args):
    found = _existing_database(args)
    if found is None:
        return 1
    store = Store(found[1])
    try:
        outcome = store.acknowledge(args.message_id, "cli")
    finally:
        store.close()
    if outcome == "unknown":
        print(f"no message {args.message_id!r}: 'speakerd messages' lists the stored ones", file=sys.stderr)
        return 1
    print(f"{args.message_id}: " + ("acknowledged" if outcome == "done" else "was already acknowledged"))
    return 0


def local_time(iso):
    """'2026-11-23T12:56:16.228+00:00' → '11-23 20:56:16' in the device's time zone."""
    return datetime.fromisoformat(iso).astimezone().strftime("%m-%d %H:%M:%S")


def cmd_push_test(args):
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
    dep_name = cfg.departments()[department][1].name
    title, body = f"测试｜{dep_name}", f"这是发给{person.name}的测试通知，收到说明推送正常。"
    failures = 0
    for i, url in enumerate(person.push, 1):
        delivered, reason = push_targets.send(url, title, body, "normal", timeout=cfg.push.timeout)
        print(f"{i}. {push_targets.mask(url)}: {'delivered' if delivered else 'FAILED: ' + reason}")
        failures += not delivered
    return 1 if failures else 0


def cmd_stats(args):
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
    store = Store(db_path)
    try:
        rows = stats.report(store, args.by, since, until, cfg)
        outages = stats.outages(store, since, until)
    finally:
        store.close()
    if args.chart:
        from speakerd import charts

        charts.draw(rows, args.by, args.chart)
        print(f"chart written to {args.chart}", file=sys.stderr)
    print_report(rows, outages, args)
    return 0


def print_report(rows, outages, args):
    if args.format == "json":
        print(json.dumps({"by": args.by, "since": args.since, "until": args.until, "rows": rows, "outages": outages},
                         ensure_ascii=False, indent=2))
        return
    columns = list(rows[0]) if rows else [args.by, "messages"]
    if not any(r.get("name") for r in rows):
        columns = [c for c in columns if c != "name"]
    if args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    print(table(rows, columns))
    for o in outages:
        print(f"\noutages of {o['subject']}: {o['outages']}, {o['seconds'] / 60:.1f} min in all")


def parse_day(text):
    """'2026-11-01', 'today', '7d' (seven days ago) → a local day 'YYYY-MM-DD', or None."""
    if text is None:
        return None
    text = text.strip()
    today = datetime.now().astimezone()
    match = re.fullmatch(r"(\d+)d", text)
    if match:
        return (today - timedelta(days=int(match.group(1)))).strftime("%Y-%m-%d")
    if text == "today":
        return today.strftime("%Y-%m-%d")
    try:
        return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{text!r} is not a day: use 2026-11-01, today or 7d") from None


def cmd_say(args):
    from speakerd.speech import SpeechOutput, audio, text

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
        from speakerd.speech.voices import listing

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


def cmd_panel(args):
    from speakerd.dispatch import notice_from_row
    from speakerd.panel import screens

    found = _existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    store = Store(db_path)
    try:
        latest = store.query("select m.*, a.subsystem, a.department, a.staff_id from messages m join assignments a"
                             " on a.message_id = m.id order by m.received_at desc, a.rowid limit 1")
        waiting = store.waiting_by_department()
        beat = json.loads(store.get_meta("heartbeat") or "{}")
    finally:
        store.close()
    names = {dep_id: dep.name for dep_id, (_, dep) in cfg.departments().items()}
    platform = next((t for t in beat.get("troubles", []) if t["subject"] == "platform" and t["outage"]), None)
    state = screens.PanelState(
        waiting={names.get(d, d): n for d, n in waiting.items()},
        platform_ok=platform is None, down_since=platform["since"] if platform else None,
    )
    if latest:
        state.latest = notice_from_row(latest[0], cfg)
        state.latest_at = datetime.fromisoformat(latest[0]["received_at"]).timestamp()
    from speakerd.daemon import _address

    state.address = _address()
    image = screens.enlarged(screens.frame(state, datetime.now().timestamp()), args.scale)
    image.save(args.snapshot)
    print(f"wrote {args.snapshot} ({image.width}×{image.height})")
    return 0


STALE_AFTER = 35.0  # seconds without a heartbeat before the daemon counts as not running


def cmd_status(args):
    path = config_mod.default_path(args.config)
    cfg = _load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"speakerd: NOT RUNNING (no database at {db_path} yet)")
        return 1
    store = Store(db_path)
    try:
        beat = json.loads(store.get_meta("heartbeat") or "{}")
        outages = store.outages(since=parse_since("today"))
        waiting = store.query(
            "select output, sum(state in ('pending', 'sending')) as waiting, sum(state = 'failed') as failing"
            " from outbox group by output order by output"
        )
    finally:
        store.close()
    lines, verdict = status_lines(beat, outages, waiting)
    print(f"speakerd: {verdict}")
    print("\n".join(lines))
    return 0 if verdict == "OK" else 1


def status_lines(beat, outages, waiting, now=None):
    """The report and its verdict: OK, UNHEALTHY or NOT RUNNING."""
    import time

    now = now or time.time()
    age = now - beat.get("at", 0)
    troubles = {t["subject"]: t for t in beat.get("troubles", [])}
    if not beat or beat.get("stopped") or age > STALE_AFTER:
        verdict = "NOT RUNNING"
        daemon = "stopped" if beat.get("stopped") else ("never ran" if not beat else f"no sign of life for {age:.0f} s")
    else:
        verdict = "UNHEALTHY" if any(t["outage"] for t in troubles.values()) else "OK"
        daemon = f"running (pid {beat['pid']}, checked {age:.0f} s ago)"
    platform = troubles.get("platform")
    if platform:
        state = "DOWN" if platform["outage"] else "failing"
        link = f"{state} since {local_time_epoch(platform['since'])} ({platform['kind']}: {platform['reason']})"
    elif "platform" in beat.get("last_ok", {}):
        link = f"OK, last good poll {now - beat['last_ok']['platform']:.0f} s ago"
    else:
        link = "no answer yet"
    total = sum(_outage_seconds(o, now) for o in outages)
    lines = [f"daemon     : {daemon}", f"platform   : {link} [{beat.get('platform', '?')}]",
             f"outages today: {len(outages)} ({total / 60:.0f} min in all)"]
    lines += [f"trouble    : {s}: {t['reason']}{' (outage)' if t['outage'] else ''}" for s, t in troubles.items() if s != "platform"]
    lines += [f"output     : {w['output']}: {w['waiting'] or 0} waiting, {w['failing'] or 0} failing" for w in waiting]
    return lines, verdict


def _outage_seconds(outage, now):
    start = datetime.fromisoformat(outage["started_at"]).timestamp()
    end = datetime.fromisoformat(outage["ended_at"]).timestamp() if outage["ended_at"] else now
    return end - start


def local_time_epoch(epoch):
    return datetime.fromtimestamp(epoch).strftime("%m-%d %H:%M:%S")


def parse_since(text, now=None):
    """'30m', '2h', '7d', 'today', or an ISO date/time → an ISO timestamp in UTC (None for None)."""
    if text is None:
        return None
    now = now or datetime.now(timezone.utc)
    match = re.fullmatch(r"(\d+)\s*([mhd])", text.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return (now - timedelta(**{unit: int(match.group(1))})).isoformat()
    if text.strip() == "today":
        local = now.astimezone()
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc).isoformat()
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use 30m, 2h, 7d, today or 2026-11-21T09:00") from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(timezone.utc).isoformat()


# --- parser ------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(prog="speakerd", description="Tells shop staff about platform events: aloud, on a panel, on their phones.")
    parser.add_argument("--version", action="version", version=f"speakerd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, func, help):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def config_option(p):
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
    p.add_argument("--by", choices=["total", "app", "category", "type", "month", "day", "hour", "subsystem", "department", "staff"],
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


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args) or 0
