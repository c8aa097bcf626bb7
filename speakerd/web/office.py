"""The dashboard's office controls: who is on duty now (and a day's change), mutes of a category or department, replay."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from speakerd.delivery.mutes import CHOICES, mute_end
from speakerd.device.buttons import ask_replay
from speakerd.rules.duty import Duty

if TYPE_CHECKING:
    from speakerd.web.device import Device

logger = logging.getLogger(__name__)


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def duty_overview(device: Device) -> dict[str, Any]:
    """Who is on duty now per department, today's changes and the running mutes, for the dashboard."""
    cfg, store = device.cfg, device.store
    now = store.clock.now().astimezone()
    changes = store.duty.of_day(now.strftime("%Y-%m-%d"))
    names = {s.id: s.name for _, s in cfg.staff().values()}
    board = Duty(cfg).board(now, changes)
    on_duty = [{"id": dep_id, "name": dep.name, "people": [f"{i} {names[i]}" for i in board[dep_id]],
                "staff": [(s.id, s.name) for s in dep.staff]} for dep_id, (_, dep) in cfg.departments().items()]
    labels = {"category": {k: c.name for k, c in cfg.categories.items()}, "department": {k: d.name for k, (_, d) in cfg.departments().items()}}
    mutes = [{**m, "name": labels[m["scope"]].get(m["target"], m["target"]), "until_text": datetime.fromtimestamp(m["until"]).strftime("%m-%d %H:%M")}
             for m in store.mutes.active(now.timestamp())]
    return {"on_duty": on_duty, "changes": list(changes.by_staff.values()), "mutes": mutes, "mute_choices": CHOICES,
            "categories": labels["category"], "departments": labels["department"]}


def register(app: Flask) -> None:
    @app.post("/mute")
    def mute() -> ResponseReturnValue:
        device = _device()
        scope, _sep, target = request.form.get("target", "").partition(":")
        known: dict[str, Any] = device.cfg.categories if scope == "category" else device.cfg.departments() if scope == "department" else {}
        if target not in known:
            flash(_("Choose a category or a department to mute."))
        elif request.form.get("end"):
            device.store.mutes.unmute(scope, target)
            flash(_("Mute ended."))
        else:
            try:
                until = mute_end(request.form.get("for", ""), device.store.clock.now())
            except ValueError:
                flash(_("Choose how long to mute."))
            else:
                device.store.mutes.mute(scope, target, until, by="web")
                logger.info("web: %s %s muted until %s", scope, target, datetime.fromtimestamp(until).isoformat(timespec="minutes"))
                flash(_("Muted until %(time)s.", time=datetime.fromtimestamp(until).strftime("%m-%d %H:%M")))
        return redirect(url_for("dashboard"))

    @app.post("/messages/handover")
    def handover() -> ResponseReturnValue:
        """From the dashboard: "转给…" a colleague, or "我来处理" on someone's behalf (the page has no personal login)."""
        message_id, staff_id = request.form.get("message_id", ""), request.form.get("staff_id", "")
        kind = "take" if request.form.get("kind") == "take" else "give"
        problem = _device().handover(message_id, staff_id, kind, "web")
        flash(_("%(id)s is now with %(staff)s.", id=message_id, staff=staff_id) if problem is None else
              _("%(id)s was not moved: %(reason)s", id=message_id, reason=_(problem)))
        return redirect(url_for("dashboard"))

    @app.post("/replay")
    def replay() -> ResponseReturnValue:
        ask_replay(_device().store)
        flash(_("The last announcement is said again."))
        return redirect(url_for("dashboard"))

    @app.post("/duty")
    def duty_change() -> ResponseReturnValue:
        device = _device()
        staff_id, change, covers = (request.form.get(k, "") for k in ("staff_id", "change", "covers"))
        day = device.store.clock.now().astimezone().strftime("%Y-%m-%d")
        if change == "clear":
            device.store.duty.clear(day, staff_id)
            flash(_("%(id)s follows the rota again today.", id=staff_id))
        elif Duty(device.cfg).check_change(staff_id, change, covers or None):
            flash(_("That change is not possible: a colleague can be covered only within their department."))
        else:
            device.store.duty.set(day, staff_id, change, covers or None, by="web")
            flash(_("Today's duty changed for %(id)s.", id=staff_id))
        return redirect(url_for("dashboard"))
