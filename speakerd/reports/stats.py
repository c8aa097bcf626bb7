"""The reports: counts by any key, acknowledgement, time to acknowledge, outages, order funnel.

Counts come from the ``tallies`` table, kept up to date at ingest and at
acknowledgement, so they stay exact after old messages expire and answer in
milliseconds on a year of a busy shop. Times to acknowledge need each
message, so they cover the messages still kept (``storage.retention_days``).
Days are the device's local days.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from speakerd.clock import iso
from speakerd.message.apps import APP_NAMES
from speakerd.plaintext import table
from speakerd.store.handovers import no_moves
from speakerd.store.reports import TALLY_KEYS

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.store import Store

Row = dict[str, Any]
KEYS = TALLY_KEYS  # what a report may count by
PER_ASSIGNMENT = {"subsystem", "department", "staff"}  # a message told to two departments counts in each
ORDER_TYPES = {"paid": "order.paid", "abandoned": "order.abandoned", "browsed": "order.browsed", "created": "order.created"}
FIRST_DAY, LAST_DAY = "0000-00-00", "9999-99-99"


def report(store: Store, by: str = "total", since: str | None = None, until: str | None = None, cfg: Config | None = None) -> list[Row]:
    """Rows of ``{by, name, messages, acked, unacked, ack_ratio, …}`` for days ``since``…``until`` (inclusive)."""
    count, acked = ("assigned", "acked_assigned") if by in PER_ASSIGNMENT else ("messages", "acked_messages")
    rows = store.reports.tally_counts(by, count, acked, since or FIRST_DAY, until or LAST_DAY)
    out = []
    for row in rows:
        item = {by: row["key"], "name": _name(cfg, by, row["key"]), "messages": row["messages"], "acked": row["acked"],
                "unacked": row["messages"] - row["acked"], "ack_ratio": _ratio(row["acked"], row["messages"])}
        out.append(item)
    if by in ("department", "staff"):
        _add_ack_times(store, by, since, until, out)
    if by == "staff":
        _add_handovers(store, since, until, out)
    if by in ("day", "month", "total"):
        _add_orders(store, by, since, until, out)
    return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _name(cfg: Config | None, by: str, key: str) -> str:
    if cfg is None:
        return ""
    if by == "department":
        department = cfg.departments().get(key)
        return department[1].name if department else ""
    if by == "staff":
        person = cfg.staff().get(key)
        return person[1].name if person else ""
    if by == "subsystem":
        return cfg.subsystems[key].name if key in cfg.subsystems else ""
    if by == "category":
        return cfg.categories[key].name if key in cfg.categories else ""
    if by == "app":
        return APP_NAMES.get(key, "")
    return ""


def _add_ack_times(store: Store, by: str, since: str | None, until: str | None, rows: list[Row]) -> None:
    """Median and 90th percentile (nearest rank) of seconds from receipt to acknowledgement.

    Read by rank from the (department|staff_id, ack_seconds) index: a few
    index walks per row instead of loading every acknowledged message.
    """
    bounds = None
    if since or until:
        bounds = (_day_start(since or FIRST_DAY), _day_start(_next_day(until) if until else LAST_DAY))
    for item in rows:
        key = item[by]
        count = store.reports.ack_seconds_count(by, key, bounds)
        if not count:
            item["ack_median_s"] = item["ack_p90_s"] = None
            continue
        middle = store.reports.ack_seconds_at(by, key, bounds, (count - 1) // 2, 2 if count % 2 == 0 else 1)
        item["ack_median_s"] = round(sum(middle) / len(middle), 1)
        item["ack_p90_s"] = round(store.reports.ack_seconds_at(by, key, bounds, -(-count * 9 // 10) - 1)[0], 1)


def _add_handovers(store: Store, since: str | None, until: str | None, rows: list[Row]) -> None:
    """Messages each person took over ("我来处理"), handed on and received from a colleague."""
    moved = store.handovers.per_person(since or FIRST_DAY, until or LAST_DAY)
    for item in rows:
        item.update(moved.get(item["staff"]) or no_moves())


def _add_orders(store: Store, by: str, since: str | None, until: str | None, rows: list[Row]) -> None:
    """Paid, abandoned ("A alert"), browsed-without-order ("B alert") and the paid ratio."""
    found = store.reports.tally_types(by, ORDER_TYPES, since or FIRST_DAY, until or LAST_DAY)
    for item in rows:
        counts = found.get(item[by], {})
        for name in ORDER_TYPES:
            item[f"orders_{name}"] = counts.get(name, 0)
        item["paid_ratio"] = _ratio(item["orders_paid"], item["orders_paid"] + item["orders_abandoned"])


def outages(store: Store, since: str | None = None, until: str | None = None, now: datetime | None = None) -> list[Row]:
    """Count and total seconds of outages that overlap the days, per subject."""
    now = now or store.clock.now()
    start, end = _day_start(since or FIRST_DAY), _day_start(_next_day(until) if until else LAST_DAY)
    out: dict[str, Row] = {}
    for row in store.outages.overlapping(start, end):
        began = datetime.fromisoformat(row["started_at"])
        ended = datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else now
        entry = out.setdefault(row["subject"], {"subject": row["subject"], "outages": 0, "seconds": 0.0})
        entry["outages"] += 1
        entry["seconds"] += max(0.0, (ended - began).total_seconds())
    return sorted(out.values(), key=lambda e: e["subject"])


def _day_start(day: str) -> str:
    """The UTC ISO instant a local day starts at (stored times are UTC ISO)."""
    if day in (FIRST_DAY, LAST_DAY):
        return day
    return iso(datetime.fromisoformat(day).astimezone())


def _next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).strftime("%Y-%m-%d")


def write_report(rows: list[Row], outages: list[Row], by: str, fmt: str, out: TextIO,
                 since: str | None = None, until: str | None = None) -> None:
    """A report as ``table`` (with its outages), ``csv`` or ``json``, written to ``out``."""
    if fmt == "json":
        json.dump({"by": by, "since": since, "until": until, "rows": rows, "outages": outages}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    columns = list(rows[0]) if rows else [by, "messages"]
    if not any(r.get("name") for r in rows):
        columns = [c for c in columns if c != "name"]
    if fmt == "csv":
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    out.write(table(rows, columns) + "\n")
    for o in outages:
        out.write(f"\noutages of {o['subject']}: {o['outages']}, {o['seconds'] / 60:.1f} min in all\n")
