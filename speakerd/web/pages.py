"""The pages that show the device at work: dashboard, board, reports, the live panel, and their actions."""

from __future__ import annotations

import io
import logging
import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from speakerd.health.alerts import subject_words
from speakerd.intake.source import Source
from speakerd.message.apps import app_name
from speakerd.reports import operations, stats
from speakerd.web import charts_svg
from speakerd.web.device import Device
from speakerd.web.i18n import trouble_text

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

REPORT_KEYS = {"day": _l("By day"), "department": _l("By department"), "staff": _l("By staff"), "category": _l("By category"),
               "app": _l("By app"), "hour": _l("By hour"), "month": _l("By month"), "funnel": _l("Order funnel"),
               "vip": _l("VIP customers"), "channel": _l("New members by channel"), "campaign": _l("Campaigns"),
               "flash_sale": _l("Flash sales")}
# The operations reports' columns, as the page heads them.
COLUMNS = {
    "day": _l("Day"), "paid": _l("Paid"), "a_alerts": _l("A warnings"), "b_alerts": _l("B warnings"), "conversion": _l("Conversion"),
    "grade_important": _l("Important prospects"), "grade_prospect": _l("Prospects"), "grade_secondary": _l("Secondary"),
    "grade_none": _l("Not prospects"),
    "avg_minutes_to_order": _l("Minutes to order"), "revenue": _l("Revenue"), "abandoned_amount": _l("Abandoned amount"),
    "cause_payment_failed": _l("Payment failed"), "cause_timeout": _l("Payment timed out"), "cause_out_of_stock": _l("Out of stock"),
    "cause_unknown": _l("Cause unknown"), "customers": _l("Customers"), "vip_customers": _l("VIP customers"), "vip_share": _l("VIP share"),
    "vip_revenue": _l("VIP revenue"), "vip_revenue_share": _l("VIP revenue share"), "vip_orders": _l("VIP orders"),
    "new_vips": _l("New VIPs"), "channel": _l("Channel"), "joined": _l("New members"), "merged": _l("Merged"),
    "share_of_new": _l("Share of new members"), "campaign": _l("Campaign"), "submitted": _l("Submitted"), "approved": _l("Passed"),
    "rejected": _l("Failed"), "pass_rate": _l("Pass rate"), "coupons_issued": _l("Coupons issued"),
    "coupons_verified": _l("Coupons used"), "use_rate": _l("Use rate"), "top_words": _l("Top sensitive words"), "sale": _l("Flash sale"), "repeat_failers": _l("Failed twice or more"),
    "sales": _l("Sales"), "stock": _l("Stock"), "winners": _l("Winners"), "failures": _l("Failed attempts"),
    "failed_buyers": _l("Buyers who failed"), "consolations": _l("Consolation coupons"),
}
RATIOS = {"conversion", "vip_share", "vip_revenue_share", "share_of_new", "pass_rate", "use_rate"}


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def overview() -> dict[str, Any]:
    """What the dashboard and the board show: connection, today's counts, waiting per department, latest messages."""
    device = _device()
    cfg, store, state = device.cfg, device.store, device.device_state
    departments = {dep_id: dep.name for dep_id, (_, dep) in cfg.departments().items()}
    staff = {sid: person.name for sid, (_, person) in cfg.staff().items()}
    down = state.link_down()
    messages = latest(store.reports.messages(limit=45), departments, staff, cfg, 15)
    return {
        "platform_ok": down is None,
        "platform_text": _("Platform connected") if down is None else
        _("Platform down since %(time)s: %(reason)s", time=_clock(down["since"]), reason=trouble_text(down["kind"], down["reason"])),
        "platform_detail": down["reason"] if down else "",
        "sources": _sources(cfg, state),
        "troubles": [{**t, "text": trouble_text(t["kind"], t["reason"], t["subject"])} for t in state.troubles() if t["outage"]],
        "today": state.today(),
        "waiting": state.waiting(),
        "snoozed_until": _until(store.followup.snoozed_until(), store.clock.time()),
        "messages": messages,
        "colleagues": {dep_id: [(s.id, s.name) for s in dep.staff] for dep_id, (_, dep) in cfg.departments().items()},
        "devices": [{**d, "since_text": _clock_face(d["since"]), "deaf_text": _clock_face(d.get("deaf_since") or 0),
                     "department_names": "、".join(departments.get(x, x) for x in d["departments"])} for d in state.devices()],
    }


def _sources(cfg: Any, state: Any) -> list[dict[str, Any]]:
    """Each source under ``sources:`` with its state in a few words, for the dashboard's connection card."""
    troubles, last_ok = {t["subject"]: t for t in state.troubles()}, state.last_ok()
    shown = []
    for name, settings in cfg.sources.items():
        subject, source = Source(name).subject, app_name(name)
        trouble = troubles.get(subject)
        down = trouble is not None and bool(trouble["outage"])
        if trouble is not None and down:
            text = _("%(source)s: down since %(time)s", source=source, time=_clock(trouble["since"]))
        elif subject not in last_ok:
            text = _("%(source)s: nothing pushed yet", source=source) if settings.kind == "inbound" else \
                _("%(source)s: no answer yet", source=source)
        elif settings.kind == "inbound":
            text = _("%(source)s: last push at %(time)s", source=source, time=_clock(last_ok[subject]))
        else:
            text = _("%(source)s: connected", source=source)
        shown.append({"ok": not down, "text": text})
    return shown


def latest(rows: list[dict[str, Any]], departments: dict[str, str], staff: dict[str, str], cfg: Any, limit: int) -> list[dict[str, Any]]:
    """One row per message, newest first, naming every department and person it was told to."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = merged.get(row["id"])
        if seen is None:
            if len(merged) == limit:
                break
            seen = merged[row["id"]] = {**row, "departments": [], "people": [],
                                        "time": datetime.fromisoformat(row["received_at"]).astimezone().strftime("%H:%M:%S"),
                                        "category_name": cfg.categories[row["category"]].name if row["category"] in cfg.categories else row["category"]}
        if row["department"]:
            seen["departments"].append(departments.get(row["department"], row["department"]))
        if row["staff_id"]:
            seen["people"].append(f"{row['staff_id']} {staff.get(row['staff_id'], '')}".strip())
    for m in merged.values():
        m["department_name"], m["staff_text"] = "、".join(m["departments"]), "、".join(m["people"])
    return list(merged.values())


def _clock(epoch: float) -> str:
    return format_datetime(_local(epoch), "HH:mm")


def _clock_face(epoch: float) -> str:
    return format_datetime(_local(epoch), "short") if epoch else ""


def _local(epoch: float) -> datetime:
    """The device's local time as a naive datetime: Babel's zone is UTC, which passes it through as it is."""
    return datetime.fromtimestamp(epoch)


def _until(epoch: float, now: float) -> str:
    """'10:30' while ``epoch`` is still to come, else ''."""
    return _clock(epoch) if epoch > now else ""


def register(app: Flask) -> None:
    @app.get("/")
    def dashboard() -> ResponseReturnValue:
        from speakerd.web import wizard
        from speakerd.web.office import duty_overview

        return render_template("dashboard.html", o=overview(), d=duty_overview(_device()), panel=_device().panel is not None,
                               setup_pending=wizard.unfinished(_device()))

    @app.get("/board")
    def board() -> ResponseReturnValue:
        return render_template("board.html", o=overview(), now=datetime.now().strftime("%H:%M"))

    @app.get("/live/dashboard")
    def live_dashboard() -> ResponseReturnValue:
        """The dashboard's changing part, which app.js swaps in every few seconds."""
        return render_template("_dashboard_live.html", o=overview())

    @app.get("/live/board")
    def live_board() -> ResponseReturnValue:
        return render_template("_board_live.html", o=overview(), now=datetime.now().strftime("%H:%M"))

    @app.get("/api/state")
    def state() -> ResponseReturnValue:
        o = overview()
        return jsonify({k: o[k] for k in ("platform_ok", "platform_text", "today", "waiting", "snoozed_until")})

    @app.get("/panel.png")
    def panel_png() -> ResponseReturnValue:
        from speakerd.outputs.panel import screens

        display = _device().panel
        if display is None:
            return "the panel is off (display.enabled)", 404
        image = display.last_frame or display.render()
        out = io.BytesIO()
        screens.enlarged(image, 4).save(out, "PNG")
        out.seek(0)
        return send_file(out, mimetype="image/png", max_age=0)

    @app.post("/messages/ack")
    def acknowledge() -> ResponseReturnValue:
        # The id travels as form data, never in the path: an id like '../../x' cannot point the form elsewhere.
        message_id = request.form.get("message_id", "")
        outcome = _device().store.acks.acknowledge(message_id, "web")
        said = {"done": _("%(id)s acknowledged.", id=message_id), "already": _("%(id)s was already acknowledged.", id=message_id)}
        flash(said.get(outcome) or _("There is no message %(id)s.", id=message_id))
        logger.info("web: %s acknowledged (%s)", message_id, outcome)
        return redirect(url_for("dashboard"))

    @app.post("/snooze")
    def snooze() -> ResponseReturnValue:
        follow = _device().followup
        if request.form.get("end"):
            follow.unsnooze(wait=False)
            flash(_("Mute ended."))
        else:
            minutes = _minutes(request.form.get("minutes"), _device().cfg.gpio.mute_minutes)
            follow.snooze(minutes, wait=False)
            shown = f"{minutes:g}"
            flash(_("Muted for %(minutes)s minutes.", minutes=shown))
        return redirect(url_for("dashboard"))

    @app.get("/reports")
    def reports() -> ResponseReturnValue:
        by = request.args.get("by", "day")
        by = by if by in REPORT_KEYS else "day"
        device = _device()
        today = device.store.clock.now().astimezone().date()
        until_day = _day(request.args.get("until"), today)
        since_day = _day(request.args.get("since"), until_day - timedelta(days=13))
        since, until = since_day.isoformat(), until_day.isoformat()
        if by in operations.KINDS:
            return _operations_page(device, by, since, until)
        rows = stats.report(device.store, by, since, until, device.cfg)
        chart = charts_svg.bars([(str(r["name"] or r[by]), r["messages"], r["acked"]) for r in rows])
        return render_template("reports.html", rows=rows, by=by, keys=REPORT_KEYS, since=since, until=until, chart=chart,
                               outages=[{**o, "subject": subject_words(o["subject"])} for o in stats.outages(device.store, since, until)])


def _operations_page(device: Device, kind: str, since: str, until: str) -> ResponseReturnValue:
    """An operations report with its chart, and the analysis of the range against the one before it."""
    from speakerd.reports.analysis import analyse

    rows = operations.report(device.store, kind, since, until)
    columns = [c for c in (rows[0] if rows else {}) if c != "top_words"]
    whole, part = operations.LEGEND[kind]
    chart = charts_svg.bars([(label, round(w), round(p)) for label, w, p in operations.chart_items(kind, rows)], (whole, part))
    return render_template("reports.html", rows=rows, by=kind, keys=REPORT_KEYS, since=since, until=until, chart=chart, outages=[],
                           ops=True, columns=columns, labels=COLUMNS, ratios=RATIOS, legend=(whole, part),
                           top_words=rows[-1].get("top_words") if rows else None, analysis=analyse(device.store, since, until))


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)  # beyond them local days do not convert to UTC


def _day(raw: str | None, default: date) -> date:
    """A day typed in the address (YYYY-MM-DD); anything else, or a day no report can cover, says so and uses ``default``."""
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        flash(_("“%(text)s” is not a date; write it like 2026-11-01.", text=raw[:20]))
        return default
    if not FIRST_DAY <= day <= LAST_DAY:
        flash(_("%(day)s is outside what reports can cover.", day=day.isoformat()))
        return default
    return day


def _minutes(raw, default):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(value):  # 'nan' and 'inf' parse as floats: a snooze of NaN minutes broke the page
        return default
    return min(max(value, 1.0), 1440.0)
