"""Adding a push target by service: pick one, fill its boxes, send a test, keep it.

For a person, a department or a business unit (``who`` = ``staff:ID``,
``department:ID``, ``subsystem:ID``), from the settings page and the wizard's
staff step alike. The URL is built from the boxes (:mod:`push_services`); the
test goes through the client a real message takes; a target whose test was
delivered is kept at once, so what was tested is what is saved. Secrets typed
here are never shown back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from speakerd.config.editor import node_at
from speakerd.config.people import dialable
from speakerd.config.push_urls import invalid_targets, mask
from speakerd.outputs.push.recipients import test_target
from speakerd.web import auth, config_write
from speakerd.web.push_services import SERVICES, Unusable, build
from speakerd.web.staff_form import edit_push

if TYPE_CHECKING:
    from flask import Flask

    from speakerd.config import Config

logger = logging.getLogger(__name__)


def whom(cfg: Config, who: str) -> tuple[list[Any], str, list[str]] | None:
    """``(path in config.yaml, name, mobiles to @)`` of ``staff:ID``, ``department:ID`` or ``subsystem:ID``; None if unknown."""
    kind, _sep, ident = who.partition(":")
    if kind == "staff" and ident in cfg.staff():
        dep_id, person = cfg.staff()[ident]
        sub_id, dep = cfg.departments()[dep_id]
        index = [s.id for s in dep.staff].index(ident)
        return (["subsystems", sub_id, "departments", dep_id, "staff", index], person.name,
                [dialable(person.mobile)] if person.mobile else [])
    if kind == "department" and ident in cfg.departments():
        sub_id, dep = cfg.departments()[ident]
        return ["subsystems", sub_id, "departments", ident], dep.name, []
    if kind == "subsystem" and ident in cfg.subsystems:
        return ["subsystems", ident], cfg.subsystems[ident].name, []
    return None


def register(app: Flask) -> None:
    @app.route("/push/add", methods=["GET", "POST"])
    def push_add() -> ResponseReturnValue:
        device = current_app.extensions["speakerd"]["device"]
        who, back = request.values.get("who", ""), auth.same_site(request.values.get("back", "")) or url_for("settings_page")
        found = whom(device.cfg, who)
        if found is None:
            return render_template("message.html", title=_("Add a push target"), text=_("There is no %(id)s.", id=who)), 404
        path, name, mobiles = found
        service = SERVICES.get(request.values.get("service", ""))
        context: dict[str, Any] = {"who": who, "back": back, "name": name, "services": SERVICES, "service": service, "typed": {}, "errors": {}}
        if request.method == "GET" or service is None:
            return render_template("push_add.html", **context)
        typed = {f.name: request.form.get(f.name, "") for f in service.fields}
        context["typed"] = {f.name: typed[f.name] for f in service.fields if not f.secret}  # a secret is never shown back
        try:
            url = build(service.key, typed)
        except Unusable as exc:
            return render_template("push_add.html", **context, errors={exc.field: str(exc)}), 400
        if invalid_targets([url]):
            return render_template("push_add.html", **context, errors={"": _("This does not make a push target the device can use.")}), 400
        if request.form.get("action") == "test":
            delivered, reason = test_target(url, _("Test"), _("This test notification for %(name)s arrived: pushing works.", name=name),
                                            mobiles, device.cfg.push.timeout)
            logger.info("web: test push to %s: %s", mask(url), "delivered" if delivered else reason)
            if not delivered:
                return render_template("push_add.html", **context, tested={"ok": False, "reason": reason}), 200
        return _keep(device, path, url, name, back, context)


def _keep(device: Any, path: list[Any], url: str, name: str, back: str, context: dict[str, Any]) -> ResponseReturnValue:
    failed = config_write.write(device, edit=lambda doc: edit_push(node_at(doc, path), {"push_add": url}))
    if failed:
        status, errors = failed
        return render_template("push_add.html", **context, errors={"": "; ".join(str(v) for v in errors.values())}), status
    flash(_("%(name)s: push target %(target)s kept.", name=name, target=mask(url)))
    return redirect(back)
