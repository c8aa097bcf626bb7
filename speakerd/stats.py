"""The reports: counts by any key, acknowledgement, time to acknowledge, outages, order funnel.

Counts come from the ``tallies`` table, kept up to date at ingest and at
acknowledgement, so they stay exact after old messages expire and answer in
milliseconds on a year of a busy shop. Times to acknowledge need each
message, so they cover the messages still kept (``storage.retention_days``).
Days are the device's local days.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

KEYS = {
    "total": "'all'", "app": "app", "category": "category", "type": "type", "month": "substr(day, 1, 7)",
    "day": "day", "hour": "hour", "subsystem": "subsystem", "department": "department", "staff": "staff_id",
}
PER_ASSIGNMENT = {"subsystem", "department", "staff"}  # a message told to two departments counts in each
ORDER_TYPES = {"paid": "order.paid", "abandoned": "order.abandoned", "browsed": "order.browsed", "created": "order.created"}
FIRST_DAY, LAST_DAY = "0000-00-00", "9999-99-99"


def report(store, by="total", since=None, until=None, cfg=None):
    """Rows of ``{by, name, messages, acked, unacked, ack_ratio, …}`` for days ``since``…``until`` (inclusive)."""
    key = KEYS[by]
    count, acked = ("assigned", "acked_assigned") if by in PER_ASSIGNMENT else ("messages", "acked_messages")
    rows = store.query(
        f"select {key} as key, sum({count}) as messages, sum({acked}) as acked from tallies"
        " where day between ? and ? group by 1 having sum(" + count + ") > 0 order by 1",
        [since or FIRST_DAY, until or LAST_DAY],
    )
    out = []
    for row in rows:
        item = {by: row["key"], "name": _name(cfg, by, row["key"]), "messages": row["messages"], "acked": row["acked"],
                "unacked": row["messages"] - row["acked"], "ack_ratio": _ratio(row["acked"], row["messages"])}
        out.append(item)
    if by in ("department", "staff"):
        _add_ack_times(store, by, since, until, out)
    if by in ("day", "month", "total"):
        _add_orders(store, by, key, since, until, out)
    return out


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


def _name(cfg, by, key):
    if cfg is None:
        return ""
    if by == "department":
        found = cfg.departments().get(key)
        return found[1].name if found else ""
    if by == "staff":
        found = cfg.staff().get(key)
        return found[1].name if found else ""
    if by == "subsystem":
        return cfg.subsystems[key].name if key in cfg.subsystems else ""
    if by == "category":
        return cfg.categories[key].name if key in cfg.categories else ""
    return ""


def _add_ack_times(store, by, since, until, rows):
    """Median and 90th percentile (nearest rank) of seconds from receipt to acknowledgement.

    Read by rank from the (department|staff_id, ack_seconds) index: a few
    index walks per row instead of loading every acknowledged message.
    """
    column = "department" if by == "department" else "staff_id"
    window, bounds = "ack_seconds is not null", []
    if since or until:
        window += " and assigned_at >= ? and assigned_at < ?"
        bounds = [_day_start(since or FIRST_DAY), _day_start(_next_day(until) if until else LAST_DAY)]
    def at(key, rank, n=1):
        """The ``n`` times to acknowledge from ``rank`` on, in ascending order."""
        return [r["s"] for r in store.query(
            f"select ack_seconds as s from assignments where {column} = ? and {window} order by ack_seconds limit ? offset ?",
            [key, *bounds, n, rank])]

    for item in rows:
        key = item[by]
        count = store.query(f"select count(*) as n from assignments where {column} = ? and {window}", [key, *bounds])[0]["n"]
        if not count:
            item["ack_median_s"] = item["ack_p90_s"] = None
            continue
        middle = at(key, (count - 1) // 2, 2 if count % 2 == 0 else 1)
        item["ack_median_s"] = round(sum(middle) / len(middle), 1)
        item["ack_p90_s"] = round(at(key, -(-count * 9 // 10) - 1)[0], 1)


def _add_orders(store, by, key, since, until, rows):
    """Paid, abandoned ("A alert"), browsed-without-order ("B alert") and the paid ratio."""
    sums = ", ".join(f"sum(case when type = '{t}' then messages else 0 end) as {name}" for name, t in ORDER_TYPES.items())
    found = {r["key"]: r for r in store.query(
        f"select {key} as key, {sums} from tallies where day between ? and ? group by 1", [since or FIRST_DAY, until or LAST_DAY]
    )}
    for item in rows:
        counts = found.get(item[by], {})
        for name in ORDER_TYPES:
            item[f"orders_{name}"] = counts.get(name, 0)
        item["paid_ratio"] = _ratio(item["orders_paid"], item["orders_paid"] + item["orders_abandoned"])


def outages(store, since=None, until=None, now=None):
    """Count and total seconds of outages that overlap the days, per subject."""
    now = now or datetime.now().astimezone()
    start, end = _day_start(since or FIRST_DAY), _day_start(_next_day(until) if until else LAST_DAY)
    rows = store.query("select subject, kind, started_at, ended_at from outages where started_at < ? and (ended_at is null or ended_at >= ?)", [end, start])
    out = {}
    for row in rows:
        began = datetime.fromisoformat(row["started_at"])
        ended = datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else now
        entry = out.setdefault(row["subject"], {"subject": row["subject"], "outages": 0, "seconds": 0.0})
        entry["outages"] += 1
        entry["seconds"] += max(0.0, (ended - began).total_seconds())
    return sorted(out.values(), key=lambda e: e["subject"])


def _day_start(day):
    """The UTC ISO instant a local day starts at (stored times are UTC ISO)."""
    if day in (FIRST_DAY, LAST_DAY):
        return day
    return datetime.fromisoformat(day).astimezone().astimezone(timezone.utc).isoformat()


def _next_day(day):
    return (datetime.fromisoformat(day) + timedelta(days=1)).strftime("%Y-%m-%d")
