"""Read-only queries for reports, lists, the digest, ``status`` and the panel snapshot.

Kept here so that no module outside the store runs SQL; the shaping of the
answers (names, ratios, percentiles) stays in :mod:`speakerd.reports.stats` and the
callers.
"""

from __future__ import annotations

from typing import Any

from speakerd.store.connection import Connection

# What a report may count by: a column (or expression) of the tallies table.
TALLY_KEYS = {
    "total": "'all'", "app": "app", "category": "category", "type": "type", "month": "substr(day, 1, 7)",
    "day": "day", "hour": "hour", "subsystem": "subsystem", "department": "department", "staff": "staff_id",
}
ACK_COLUMNS = {"department": "department", "staff": "staff_id"}


class Reports:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def tally_counts(self, by: str, count: str, acked: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """``{key, messages, acked}`` per value of ``by`` over the days, from columns ``count`` and ``acked``."""
        if count not in ("messages", "assigned") or acked not in ("acked_messages", "acked_assigned"):
            raise ValueError(f"not a tally column: {count}, {acked}")
        key = TALLY_KEYS[by]
        return self._conn.query(
            f"select {key} as key, sum({count}) as messages, sum({acked}) as acked from tallies"
            f" where day between ? and ? group by 1 having sum({count}) > 0 order by 1",
            [first_day, last_day])

    def tally_types(self, by: str, types: dict[str, str], first_day: str, last_day: str) -> dict[str, dict[str, Any]]:
        """``{key: {name: messages of that type}}`` per value of ``by``, for the named message ``types``."""
        sums = ", ".join(f"sum(case when type = ? then messages else 0 end) as {name}" for name in types if name.isidentifier())
        rows = self._conn.query(f"select {TALLY_KEYS[by]} as key, {sums} from tallies where day between ? and ? group by 1",
                                [*types.values(), first_day, last_day])
        return {r["key"]: r for r in rows}

    def fact_sums(self, family: str, first_day: str, last_day: str, per_day: bool = False) -> list[dict[str, Any]]:
        """``{day, metric, key, n, total}`` summed over the days (per day when ``per_day``) for one family of facts."""
        day = "day" if per_day else "''"
        return self._conn.query(
            f"select {day} as day, metric, key, sum(n) as n, sum(total) as total from facts"
            " where family = ? and day between ? and ? group by 1, 2, 3 order by 1, 2, 3", [family, first_day, last_day])

    def paying_customers(self, first_day: str, last_day: str, per_day: bool = False) -> list[dict[str, Any]]:
        """``{day, customers, vip}``: distinct customers with a paid order on the local days, and of them VIP."""
        day = "day" if per_day else "''"
        return self._conn.query(
            f"select {day} as day, count(distinct user_id) as customers, count(distinct case when vip then user_id end) as vip"
            " from customer_days where day between ? and ? group by 1 order by 1", [first_day, last_day])

    def ack_seconds_count(self, by: str, key: str, bounds: tuple[str, str] | None) -> int:
        """How many assignments of department/staff ``key`` were acknowledged (assigned within ``bounds``)."""
        where, params = self._ack_window(by, key, bounds)
        return self._conn.query(f"select count(*) as n from assignments where {where}", params)[0]["n"]

    def ack_seconds_at(self, by: str, key: str, bounds: tuple[str, str] | None, rank: int, n: int = 1) -> list[float]:
        """The ``n`` times to acknowledge from ``rank`` on, ascending: read by rank from the covering index."""
        where, params = self._ack_window(by, key, bounds)
        return [r["s"] for r in self._conn.query(
            f"select ack_seconds as s from assignments where {where} order by ack_seconds limit ? offset ?", [*params, n, rank])]

    @staticmethod
    def _ack_window(by: str, key: str, bounds: tuple[str, str] | None) -> tuple[str, list[Any]]:
        where = f"{ACK_COLUMNS[by]} = ? and ack_seconds is not null"
        if bounds:
            return where + " and assigned_at >= ? and assigned_at < ?", [key, *bounds]
        return where, [key]

    def messages(self, since: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, each with its assignments and per-output states."""
        return self._conn.query(
            "select m.id, m.received_at, m.created_at, m.type, m.app, m.category, m.content, m.acked_at,"
            " a.department, a.staff_id,"
            " coalesce((select group_concat(o.output || ':' || o.state, ' ') from outbox o"
            "   where o.message_id = m.id and o.department = a.department), 'duplicate of ' || m.duplicate_of) as outputs,"
            " m.duplicate_of"
            " from messages m left join assignments a on a.message_id = m.id"
            " where (? is null or m.received_at >= ?) order by m.received_at desc, m.rowid desc limit ?",
            [since, since, limit])

    def quarantined(self, since: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return self._conn.query(
            "select id, received_at, platform_id, reason, substr(raw, 1, 200) as raw from quarantine"
            " where (? is null or received_at >= ?) order by id desc limit ?",
            [since, since, limit])

    def latest_notice_row(self) -> dict[str, Any] | None:
        """The newest message with its first assignment: what the panel shows last."""
        rows = self._conn.query("select m.*, a.subsystem, a.department, a.staff_id from messages m join assignments a"
                                " on a.message_id = m.id order by m.received_at desc, a.rowid limit 1")
        return rows[0] if rows else None

    def outbox_by_output(self) -> list[dict[str, Any]]:
        """``{output, waiting, failing}`` per output."""
        return self._conn.query(
            "select output, sum(state in ('pending', 'sending')) as waiting, sum(state = 'failed') as failing"
            " from outbox group by output order by output")

    def counts(self) -> dict[str, int]:
        """Rows per main table."""
        with self._conn.atomic(write=False):
            return {t: self._conn.db[t].count for t in ("messages", "assignments", "outbox", "quarantine")}
