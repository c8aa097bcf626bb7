"""The commands for the office's day: who is on duty (and a day's change), mutes with an end, replaying the last announcement.

They write the store, which the running daemon reads: a change or a mute
holds from the next message on, and a replay is picked up within a second.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from speakerd.cli.common import existing_database
from speakerd.delivery.mutes import mute_end
from speakerd.device.buttons import ask_replay
from speakerd.plaintext import table
from speakerd.reports.timeparse import parse_day
from speakerd.rules.duty import Duty
from speakerd.store import Store


def cmd_duty(args: argparse.Namespace) -> int:
    found = existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    duty = Duty(cfg)
    with Store(db_path) as store:
        now = store.clock.now().astimezone()
        try:
            day = parse_day(args.day or "today", now) or now.strftime("%Y-%m-%d")
        except ValueError as exc:
            print(f"--day: {exc}", file=sys.stderr)
            return 2
        if args.staff_id:
            return _change(store, duty, day, args)
        board = duty.board(now, store.duty.of_day(day))
        changes = store.duty.of_day(day).by_staff
    names = {s.id: s.name for _, s in cfg.staff().values()}
    rows = [{"department": f"{dep.name} ({dep_id})", "on duty now": ", ".join(f"{i} {names[i]}" for i in board[dep_id]) or "nobody",
             "rota": f"{len(dep.rota)} shifts" if dep.rota else "all hours"} for dep_id, (_, dep) in cfg.departments().items()]
    print(f"{now:%Y-%m-%d %H:%M} ({'workday' if duty.calendar.is_workday(now.date()) else 'rest day'})")
    print(table(rows, ["department", "on duty now", "rota"], max_width=60))
    for change in changes.values():
        print(f"{day}: {change.staff_id} {change.state}" + (f" {change.covers}" if change.covers else ""))
    return 0


def _change(store: Store, duty: Duty, day: str, args: argparse.Namespace) -> int:
    if args.change == "clear":
        cleared = store.duty.clear(day, args.staff_id)
        print(f"{day}: {args.staff_id} follows the rota again" if cleared else f"{day}: {args.staff_id} had no change")
        return 0
    problem = duty.check_change(args.staff_id, args.change, args.covers)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    store.duty.set(day, args.staff_id, args.change, args.covers, by="cli")
    print(f"{day}: {args.staff_id} {args.change}" + (f" {args.covers}" if args.covers else ""))
    return 0


def cmd_mute(args: argparse.Namespace) -> int:
    found = existing_database(args)
    if found is None:
        return 1
    cfg, db_path = found
    scope, target = ("category", args.category) if args.category else ("department", args.department or "")
    known = cfg.categories if scope == "category" else cfg.departments()
    with Store(db_path) as store:
        now = store.clock.now()
        if not target:
            return _list_mutes(store, now)
        if target not in known:
            print(f"no {scope} {target!r}; known: {', '.join(known)}", file=sys.stderr)
            return 2
        if args.end:
            print(f"{scope} {target}: " + ("mute ended" if store.mutes.unmute(scope, target) else "was not muted"))
            return 0
        try:
            until = mute_end(args.for_, now)
        except ValueError as exc:
            print(f"--for: {exc}", file=sys.stderr)
            return 2
        store.mutes.mute(scope, target, until, by="cli")
    print(f"{scope} {target}: muted until {datetime.fromtimestamp(until).astimezone():%Y-%m-%d %H:%M}")
    return 0


def _list_mutes(store: Store, now: datetime) -> int:
    mutes = store.mutes.active(now.timestamp())
    for m in mutes:
        print(f"{m['scope']} {m['target']}: muted until {datetime.fromtimestamp(m['until']).astimezone():%Y-%m-%d %H:%M}")
    if not mutes:
        print("nothing is muted")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    found = existing_database(args)
    if found is None:
        return 1
    with Store(found[1]) as store:
        ask_replay(store)
    print("the running daemon replays the last announcement within a second")
    return 0
