"""The pages that show the device at work: dashboard, board, reports, the live panel, and their actions."""

from __future__ import annotations

import io
import logging
import time
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from speakerd import stats
from speakerd.web import charts_svg
from speakerd.web.device import Device

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

REPORT_KEYS = {"day": "按天", "department": "按部门", "staff": "按员工", "category": "按分类", "app": "按应用", "hour": "按小时", "month": "按月"}


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def overview() -> dict[str, Any]:
    """What the dashboard and the board show: connection, today's counts, waiting per department, latest messages."""
    device = _device()
    cfg, store, state = device.cfg, device.store, device.device_state
    departments = {dep_id: dep.name for dep_id, (_, dep) in cfg.departments().items()}
    staff = {sid: person.name for sid, (_, person) in cfg.staff().items()}
    down = state.link_down()
    messages = []
    for row in store.reports.messages(limit=15):
        messages.append({**row, "time": datetime.fromisoformat(row["received_at"]).astimezone().strftime("%H:%M:%S"),
                         "department_name": departments.get(row["department"], row["department"] or ""),
                         "staff_name": staff.get(row["staff_id"], ""),
                         "category_name": cfg.categories[row["category"]].name if row["category"] in cfg.categories else row["category"]})
    return {
        "platform_ok": down is None,
        "platform_text": "平台连接正常" if down is None else f"平台断开（{time.strftime('%H:%M', time.localtime(down['since']))}起）：{down['reason']}",
        "troubles": [t for t in state.troubles() if t["outage"]],
        "today": state.today(),
        "waiting": state.waiting(),
        "snoozed_until": _until(store.followup.snoozed_until(), store.clock.time()),
        "messages": messages,
        "devices": [{**d, "since_text": _clock_face(d["since"]),
                     "department_names": "、".join(departments.get(x, x) for x in d["departments"])} for d in state.devices()],
    }


def _clock_face(epoch: float) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(epoch)) if epoch else ""


def _until(epoch: float, now: float) -> str:
    """'10:30' while ``epoch`` is still to come, else ''."""
    return time.strftime("%H:%M", time.localtime(epoch)) if epoch > now else ""


def register(app: Flask) -> None:
    @app.get("/")
    def dashboard() -> ResponseReturnValue:
        return render_template("dashboard.html", o=overview(), panel=_device().panel is not None)

    @app.get("/board")
    def board() -> ResponseReturnValue:
        return render_template("board.html", o=overview(), now=datetime.now().strftime("%H:%M"))

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
        flash({"done": f"{message_id} 已确认。", "already": f"{message_id} 之前已确认。"}.get(outcome, f"没有消息 {message_id}。"))
        logger.info("web: %s acknowledged (%s)", message_id, outcome)
        return redirect(url_for("dashboard"))

    @app.post("/snooze")
    def snooze() -> ResponseReturnValue:
        follow = _device().followup
        if request.form.get("end"):
            follow.unsnooze(wait=False)
            flash("静音已结束。")
        else:
            minutes = _minutes(request.form.get("minutes"), _device().cfg.gpio.mute_minutes)
            follow.snooze(minutes, wait=False)
            flash(f"已静音{minutes:g}分钟。")
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
        rows = stats.report(device.store, by, since, until, device.cfg)
        chart = charts_svg.bars([(str(r["name"] or r[by]), r["messages"], r["acked"]) for r in rows])
        return render_template("reports.html", rows=rows, by=by, keys=REPORT_KEYS, since=since, until=until, chart=chart,
                               outages=stats.outages(device.store, since, until))


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)  # beyond them local days do not convert to UTC


def _day(raw: str | None, default: date) -> date:
    """A day typed in the address (YYYY-MM-DD); anything else, or a day no report can cover, says so and uses ``default``."""
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        flash(f"“{raw[:20]}”不是日期，请写成 2026-11-01 这样。")
        return default
    if not FIRST_DAY <= day <= LAST_DAY:
        flash(f"{day.isoformat()} 超出了报表的范围。")
        return default
    return day


def _minutes(raw, default):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return default
    return min(max(value, 1.0), 1440.0)
