"""The commands that read or act on this device: run, check-config, status, messages, ack, stats, panel, push-test, setup-code, kiosk-url, set-password."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from speakerd import config as config_mod
from speakerd.cli.common import existing_database, exit_now, load_or_exit
from speakerd.intake.platform import safe_url
from speakerd.logs import setup_logging
from speakerd.plaintext import table
from speakerd.reports.timeparse import local_time, parse_day, parse_since
from speakerd.store import Store, StoreError

logger = logging.getLogger("speakerd.cli")


def cmd_run(args: argparse.Namespace) -> None:
    from speakerd.daemon.wiring import Daemon

    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path)
    setup_logging(cfg.log.level.upper())
    try:
        code = Daemon(path, cfg).run()
    except StoreError as exc:
        logger.error("cannot start: %s", exc)
        code = 1
    exit_now(code)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path)
    print(
        f"{path}: OK ({len(cfg.categories)} categories, {len(cfg.departments())} departments, "
        f"{len(cfg.staff())} staff, platform {safe_url(cfg.platform.url)})"
    )
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    found = existing_database(args)
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


def cmd_setup_code(args: argparse.Namespace) -> int:
    """The one-time code an unclaimed device's page asks for: for a device without a panel."""
    from speakerd.device.claim import Claim

    found = existing_database(args)
    if found is None:
        return 1
    _, db_path = found
    with Store(db_path) as store:
        code = Claim(store, config_mod.default_path(args.config)).code()
    if not code:
        print("this device is claimed: its web password is set (change it with 'speakerd set-password')", file=sys.stderr)
        return 1
    print(code)
    return 0


def cmd_kiosk_url(args: argparse.Namespace) -> int:
    """The link that shows the board on the device's own screen without a password (install.sh --kiosk uses it)."""
    from speakerd.web import kiosk

    found = existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    if not cfg.web.enabled:
        print("the web page is off (web.enabled: false): there is no board to show", file=sys.stderr)
        return 1
    with Store(db_path) as store:
        print(f"http://127.0.0.1:{cfg.web.listen.rpartition(':')[2]}/kiosk/{kiosk.token(store)}")
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    import getpass

    from speakerd.device.password import set_password

    path = config_mod.default_path(args.config)
    load_or_exit(path)
    try:
        if args.stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("new password for the web page: ")
            if getpass.getpass("again: ") != password:
                print("the two passwords differ; nothing changed", file=sys.stderr)
                return 1
    except (EOFError, KeyboardInterrupt):
        print("\nno password given; nothing changed (to pipe one in: speakerd set-password --stdin)", file=sys.stderr)
        return 1
    try:
        written = set_password(path, password)
    except (ValueError, OSError) as exc:
        print(f"set-password: {exc}", file=sys.stderr)
        return 1
    print(f"password set (its hash is in {written}); those logged in must log in again")
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    found = existing_database(args)
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
    from speakerd.outputs.push.recipients import send_test

    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path)
    found = cfg.staff().get(args.staff_id)
    if found is None:
        print(f"no staff member {args.staff_id!r} in {path}; known: {', '.join(cfg.staff())}", file=sys.stderr)
        return 1
    department, person = found
    if not person.push:
        print(f"{person.id} {person.name} has no push targets: add them under push: in {path}", file=sys.stderr)
        return 1
    failures = 0
    for i, (shown, delivered, reason) in enumerate(send_test(cfg, args.staff_id), 1):
        print(f"{i}. {shown}: {'delivered' if delivered else 'FAILED: ' + reason}")
        failures += not delivered
    return 1 if failures else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from speakerd.reports import operations, stats
    from speakerd.reports.operations import KINDS as OPERATIONS

    if args.chart and args.by == "total":
        print("--chart: the total is one number; chart it --by day, hour, month, department, staff, category or app", file=sys.stderr)
        return 2
    found = existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    try:
        since, until = parse_day(args.since), parse_day(args.until)
    except ValueError as exc:
        print(f"--since/--until: {exc}", file=sys.stderr)
        return 2
    if args.analysis:
        return _analysis(db_path, since, until)
    with Store(db_path) as store:
        if args.by in OPERATIONS:
            rows, outages = operations.report(store, args.by, since, until), []
        else:
            rows, outages = stats.report(store, args.by, since, until, cfg), stats.outages(store, since, until)
    if args.chart:
        from speakerd.reports import charts

        if args.by in OPERATIONS:
            key = operations.CHART[args.by][0]  # day: a trend line; a channel, campaign or product: bars
            items = [{key: label, "messages": whole, "acked": part} for label, whole, part in operations.chart_items(args.by, rows)]
            charts.draw(items, key, args.chart, f"speakerd: {args.by}", operations.LEGEND[args.by])
        else:
            charts.draw(rows, args.by, args.chart)
        print(f"chart written to {args.chart}", file=sys.stderr)
    stats.write_report(rows, outages, args.by, args.format, sys.stdout, since=args.since, until=args.until)
    return 0


def _analysis(db_path: Path, since: str | None, until: str | None) -> int:
    """The operations analysis of ``since``…``until`` against the range before it.

    Without days: the last seven days up to yesterday; ``--since`` alone runs to today.
    """
    from datetime import date, timedelta

    from speakerd.reports.analysis import analyse

    with Store(db_path) as store:
        today = store.clock.now().astimezone().date()
        last = until or (today if since else today - timedelta(days=1)).isoformat()
        first = since or (date.fromisoformat(last) - timedelta(days=6)).isoformat()
        if first > last:
            print(f"--since {first} is after --until {last}", file=sys.stderr)
            return 2
        print(analyse(store, first, last).text())
    return 0


def cmd_panel(args: argparse.Namespace) -> int:
    from speakerd.device.panel_snapshot import snapshot

    found = existing_database(args)
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
    cfg = load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"speakerd: NOT RUNNING (no database at {db_path} yet)")
        return 1
    from speakerd.device.state import DeviceState
    from speakerd.reports.status import status_lines

    with Store(db_path) as store:
        beat = DeviceState(store, lambda: cfg).heartbeat()
        outages = store.outages.find(since=parse_since("today"))
        waiting = store.reports.outbox_by_output()
    lines, verdict = status_lines(beat, outages, waiting)
    if cfg.speech.enabled:
        from speakerd.outputs.speech.board import detect
        from speakerd.outputs.speech.voices import VoiceSettings, cache_beside, chosen

        voices = VoiceSettings.of(cfg.speech.voices, cache_beside(db_path))
        lines += [f"board      : {detect().describe()}"]
        lines += [f"voice      : {lang} {engine}: {licence}" for lang, engine, licence in chosen(voices)]
    print(f"speakerd: {verdict}")
    print("\n".join(lines))
    return 0 if verdict == "OK" else 1


# --- parser ------------------------------------------------------------------


def cmd_fleet(args: argparse.Namespace) -> int:
    from speakerd.fleet.survey import SurveyError, survey
    from speakerd.reports.status import not_hearing
    from speakerd.reports.timeparse import local_time_epoch

    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path)
    view = _running_view(cfg, path)
    try:
        devices, counts = view if view else survey(cfg, every_site=args.sites)
    except SurveyError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 1
    if view and cfg.fleet.role == "speaker":
        print("this device is a department speaker: the hub lists the fleet (run speakerd fleet on the hub)")
        return 0
    devices = [d for d in devices if args.sites or d["site"] == cfg.fleet.site]
    for d in devices:
        d["departments"] = ", ".join(d["departments"])
        d["since"] = local_time_epoch(d["since"]) if d["since"] else ""
        d["state"] += not_hearing(d)
    print(table(devices, ["site", "device", "role", "state", "since", "departments", "version"]) if devices else "no devices on the broker")
    if args.sites:
        print()
        print(table(counts, ["site", "hub", "day", "messages", "acked", "unacked", "at"]) if counts else "no site has published its counts yet")
    return 0


def _running_view(cfg: config_mod.Config, path: Path) -> tuple[list[dict], list[dict]] | None:
    """``(devices, site counts)`` as this device's running daemon sees them, or None when it is not running.

    The broker binds client ids to user names, so a second connection with this device's user would take the
    running daemon's session over (and a clean one would wipe its queued messages): ask the daemon instead.
    """
    from speakerd.reports.status import running

    db_path = config_mod.database_path(cfg, path)
    if not cfg.fleet.broker or not db_path.exists():
        return None
    from speakerd.device.state import DeviceState

    with Store(db_path) as store:
        beat = DeviceState(store, lambda: cfg).heartbeat()
        now = store.clock.time()
    if not running(beat, now):
        return None
    return beat.get("devices", []), beat.get("site_counts", [])


def cmd_fleet_add(args: argparse.Namespace) -> int:
    from speakerd.fleet import enrol
    from speakerd.fleet.broker import BrokerError

    departments = [d.strip() for d in (args.departments or "").split(",") if d.strip()]
    try:
        password = enrol.add_device(args.name, "hub" if args.hub else "speaker", args.site, departments,
                                    args.base_topic, Path(args.mosquitto_dir))
    except (ValueError, BrokerError, OSError) as exc:
        print(f"fleet-add: {exc}", file=sys.stderr)
        return 1
    url = enrol.broker_url(args.name, password, args.host, args.port)
    print(f"{args.name}: broker user created ({'hub' if args.hub else 'speaker for ' + ', '.join(departments)}); "
          + ("" if args.no_reload else enrol.reload_broker()))
    if args.hub and args.config:
        return _join(Path(args.config), url, "hub", [], args.site)
    print(f"on the speaker: sudo scripts/install.sh --speaker '{url}' --departments {','.join(departments)}")
    return 0


def cmd_fleet_join(args: argparse.Namespace) -> int:
    departments = [d.strip() for d in (args.departments or "").split(",") if d.strip()]
    return _join(config_mod.default_path(args.config), args.broker, "speaker", departments, args.site)


def _join(path: Path, url: str, role: str, departments: list[str], site: str) -> int:
    """Write the fleet settings into config.yaml, keeping its comments; check them as check-config would."""
    from speakerd.config.editor import ConfigFile, Invalid, flow_seq
    from speakerd.fleet.enrol import device_of

    try:
        changes = {"fleet.role": role, "fleet.broker": url, "fleet.device": device_of(url), "fleet.site": site}
        if departments:
            changes["fleet.departments"] = flow_seq(departments)
        file = ConfigFile(path)
        file.apply(changes, file.read()[1])
    except Invalid as exc:
        print("\n".join(f"fleet: {p}: {reason}" for p, reason in exc.errors.items()), file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: this device is now the {role} {device_of(url)} of site {site}"
          + (f" for {', '.join(departments)}" if departments else "") + "; the running daemon reloads it")
    return 0
