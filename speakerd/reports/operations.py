"""The operations reports: the order funnel, VIP customers, members by channel, campaigns and flash sales.

Read from the ``facts`` sums kept at ingest (:mod:`speakerd.message.business`), per
local day, so any range answers in milliseconds and survives expiry;
distinct paying customers from the ``customer_days`` table kept beside them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from speakerd.reports.stats import FIRST_DAY, LAST_DAY

if TYPE_CHECKING:
    from speakerd.store import Store

Row = dict[str, Any]
KINDS = ("funnel", "vip", "channel", "campaign", "flash_sale")
CAUSES = {"payment_failed": "支付失败", "timeout": "支付超时", "out_of_stock": "库存不足", "unknown": "原因不明"}
TOTAL = "total"
# The order monitor's grade of a customer behind an A or B alert, as the platform writes it (docs/stats.md):
# A alerts: never paid before (an important prospect) or a customer already; B alerts: browsed long (B) or not (C).
GRADES = {"important": "important", "customer": "secondary", "secondary": "secondary",
          "B": "prospect", "prospect": "prospect", "C": "none", "none": "none"}
GRADE_NAMES = {"important": "重要潜在客户", "prospect": "潜在客户", "secondary": "次要客户", "none": "非潜在客户"}


def report(store: Store, kind: str, since: str | None = None, until: str | None = None) -> list[Row]:
    """Rows of ``kind`` for the local days ``since``…``until``: per day (funnel, vip) or per channel, campaign or
    flash sale, and a last row ``total`` for the whole range."""
    first, last = since or FIRST_DAY, until or LAST_DAY
    if kind == "funnel":
        return _funnel(store, first, last)
    if kind == "vip":
        return _vip(store, first, last)
    per_key = {"channel": _channel, "campaign": _campaign, "flash_sale": _flash_sale}[kind]
    return per_key(store, first, last)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _funnel_row(label: str, facts: list[Row], all_causes: set[str]) -> Row:
    n: dict[str, int] = defaultdict(int)
    totals: dict[str, float] = defaultdict(float)
    causes: dict[str, int] = defaultdict(int)
    for f in facts:
        n[f["metric"]] += f["n"]
        totals[f["metric"]] += f["total"]
        if f["metric"] == "abandoned":
            causes[f["key"]] += f["n"]
    row = {"day": label, "paid": n["paid"], "a_alerts": n["abandoned"], "b_alerts": n["browsed"],
           "conversion": _ratio(n["paid"], n["paid"] + n["abandoned"] + n["browsed"]),
           "avg_minutes_to_order": round(totals["minutes"] / n["minutes"], 1) if n["minutes"] else None,
           "revenue": round(totals["paid"], 2), "abandoned_amount": round(totals["abandoned"], 2)}
    for cause in sorted(set(CAUSES) | all_causes):  # the same columns on every row, a cause the platform adds too
        row[f"cause_{cause}"] = causes.get(cause, 0)
    grades = dict.fromkeys(GRADE_NAMES, 0)
    for f in facts:
        grade = GRADES.get(f["key"]) if f["metric"] in ("abandoned_grade", "browsed") else None
        if grade:
            grades[grade] += f["n"]
    row.update({f"grade_{g}": n for g, n in grades.items()})
    return row


def _by_day(facts: list[Row]) -> list[tuple[str, list[Row]]]:
    """Facts summed per day, grouped by their day, in order of days."""
    days: dict[str, list[Row]] = defaultdict(list)
    for f in facts:
        days[f["day"]].append(f)
    return sorted(days.items())


def _funnel(store: Store, first: str, last: str) -> list[Row]:
    per_day = store.reports.fact_sums("funnel", first, last, per_day=True)
    causes = {f["key"] for f in per_day if f["metric"] == "abandoned"}
    rows = [_funnel_row(day, facts, causes) for day, facts in _by_day(per_day)]
    return rows + [_funnel_row(TOTAL, per_day, causes)] if rows else []


def _vip(store: Store, first: str, last: str) -> list[Row]:
    facts = store.reports.fact_sums("vip", first, last, per_day=True)
    customers = {r["day"]: r for r in store.reports.paying_customers(first, last, per_day=True)}
    rows = [_vip_row(day, found, customers.get(day)) for day, found in _by_day(facts)]
    if not rows:
        return []
    whole = store.reports.paying_customers(first, last)
    return rows + [_vip_row(TOTAL, facts, whole[0] if whole else None)]


def _vip_row(label: str, facts: list[Row], customers: Row | None) -> Row:
    revenue = sum(f["total"] for f in facts if f["metric"] == "revenue")
    vip_revenue = sum(f["total"] for f in facts if f["metric"] == "revenue" and f["key"] == "vip")
    all_customers, vip = (customers or {}).get("customers", 0), (customers or {}).get("vip", 0)
    return {"day": label, "customers": all_customers, "vip_customers": vip, "vip_share": _ratio(vip, all_customers),
            "revenue": round(revenue, 2), "vip_revenue": round(vip_revenue, 2), "vip_revenue_share": _ratio(vip_revenue, revenue),
            "vip_orders": sum(f["n"] for f in facts if f["metric"] == "revenue" and f["key"] == "vip"),
            "new_vips": sum(f["n"] for f in facts if f["metric"] == "new_vip")}


def _keyed(facts: list[Row]) -> dict[str, dict[str, Row]]:
    """``{key: {metric: fact}}``: a report's facts by the channel, campaign or sale they are about."""
    out: dict[str, dict[str, Row]] = defaultdict(dict)
    for f in facts:
        out[f["key"]][f["metric"]] = f
    return out


def _n(metrics: dict[str, Row], name: str) -> int:
    return metrics[name]["n"] if name in metrics else 0


def _sum(metrics: dict[str, Row], name: str) -> float:
    return metrics[name]["total"] if name in metrics else 0.0


def _channel(store: Store, first: str, last: str) -> list[Row]:
    found = _keyed(store.reports.fact_sums("channel", first, last))
    joined_all = sum(_n(m, "joined") for m in found.values())
    rows = [{"channel": key, "joined": _n(m, "joined"), "merged": _n(m, "merged"), "share_of_new": _ratio(_n(m, "joined"), joined_all)}
            for key, m in sorted(found.items(), key=lambda kv: (-_n(kv[1], "joined"), kv[0]))]
    if rows:
        merged = sum(_n(m, "merged") for m in found.values())
        rows.append({"channel": TOTAL, "joined": joined_all, "merged": merged, "share_of_new": 1.0 if joined_all else None})
    return rows


def _top_words(facts: list[Row], limit: int = 5) -> list[tuple[str, int]]:
    """The sensitive words campaigns failed review on most, with how often."""
    words = [(f["key"], f["n"]) for f in facts if f["metric"] == "word"]
    return sorted(words, key=lambda kv: (-kv[1], kv[0]))[:limit]


def _campaign(store: Store, first: str, last: str) -> list[Row]:
    facts = store.reports.fact_sums("campaign", first, last)
    found = _keyed([f for f in facts if f["metric"] != "word"])  # a word's fact is keyed by the word, not a campaign
    rows = [_campaign_row(key, [m]) for key, m in sorted(found.items())]
    if rows:
        total = _campaign_row(TOTAL, list(found.values()))
        total["top_words"] = "、".join(f"{w}×{n}" for w, n in _top_words(facts))
        rows.append(total)
    return rows


def _campaign_row(label: str, metrics: list[dict[str, Row]]) -> Row:
    approved, rejected = sum(_n(m, "approved") for m in metrics), sum(_n(m, "rejected") for m in metrics)
    issued, verified = sum(_sum(m, "issued") for m in metrics), sum(_n(m, "verified") for m in metrics)
    return {"campaign": label, "submitted": sum(_n(m, "submitted") for m in metrics), "approved": approved, "rejected": rejected,
            "pass_rate": _ratio(approved, approved + rejected), "coupons_issued": int(issued), "coupons_verified": verified,
            "use_rate": _ratio(verified, issued)}


def _flash_sale(store: Store, first: str, last: str) -> list[Row]:
    found = _keyed(store.reports.fact_sums("flash_sale", first, last))
    rows = [_sale_row(key, [m]) for key, m in sorted(found.items())]
    if rows:
        rows.append(_sale_row(TOTAL, list(found.values())))
    return rows


def _sale_row(label: str, metrics: list[dict[str, Row]]) -> Row:
    """A sale's figures (or all sales' in the total); ``repeat_failers`` failed twice or more, ``consolations`` are owed."""
    def total(name: str) -> int:
        return int(sum(_sum(m, name) for m in metrics))

    return {"sale": label, "sales": sum(_n(m, "stock") for m in metrics), "stock": total("stock"), "winners": total("winners"),
            "failures": total("failures"), "failed_buyers": total("failed_buyers"), "repeat_failers": total("repeat_failers"),
            "consolations": sum(_n(m, "consolations") for m in metrics)}


def previous_period(since: str, until: str) -> tuple[str, str]:
    """The range of the same length just before ``since``…``until``."""
    first, last = date.fromisoformat(since), date.fromisoformat(until)
    length = (last - first).days + 1
    if first - date.min < timedelta(days=length):  # a range from the year 1 has nothing before it
        return date.min.isoformat(), date.min.isoformat()
    return (first - timedelta(days=length)).isoformat(), (first - timedelta(days=1)).isoformat()


# What each report's chart shows: a bar per day or key, its whole and the part of it that matters most.
CHART: dict[str, tuple[str, Callable[[Row], float], str]] = {  # kind: (label column, the whole of a row, part column)
    "funnel": ("day", lambda r: r["paid"] + r["a_alerts"] + r["b_alerts"], "paid"),
    "vip": ("day", lambda r: r["revenue"], "vip_revenue"),
    "channel": ("channel", lambda r: r["joined"] + r["merged"], "joined"),
    "campaign": ("campaign", lambda r: r["approved"] + r["rejected"], "approved"),
    "flash_sale": ("sale", lambda r: r["winners"] + r["failed_buyers"], "winners"),
}
LEGEND = {  # (whole, part), in Chinese as the reports are read
    "funnel": ("下单尝试（支付+A+B）", "已支付"), "vip": ("成交额", "其中VIP"), "channel": ("会员事件（新增+合并）", "新会员"),
    "campaign": ("审核", "通过"), "flash_sale": ("参与（成交+失败的人）", "成交"),
}


def chart_items(kind: str, rows: list[Row]) -> list[tuple[str, float, float]]:
    """``[(label, whole, part)]`` for the chart of a report, its total row left out."""
    label, whole, part = CHART[kind]
    return [(str(r[label]), whole(r), r[part]) for r in rows if r[label] != TOTAL]
