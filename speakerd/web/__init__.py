"""The device's web page: dashboard, settings, reports, board, and the acknowledge links pushes carry.

Served by the daemon on ``web.listen``; see docs/web.md. Every page but the
login and the acknowledge links needs a login (:mod:`speakerd.web.auth`);
every form carries a CSRF token (Flask-WTF); every answer carries security
headers and a content policy that allows nothing from outside the device,
which may have no internet anyway: the CSS and JS are served from here.

An acknowledge link opens a page naming the message with one button; only
the button (a POST) acknowledges, because chat apps fetch links to preview
them. The link's signed token is its authority, so it needs no login.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect

from speakerd.device.password import fingerprint, stored_hash
from speakerd.httpserver import BackgroundServer
from speakerd.logs import Sparse
from speakerd.message.privacy import mask_text
from speakerd.outputs.push import ack_links
from speakerd.web import auth, hosts, i18n, kiosk

if TYPE_CHECKING:
    from speakerd.store import Store
    from speakerd.web.device import Device

logger = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
                               " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SPARSE = Sparse(logger)  # what strangers send: a line a minute
OPEN_ENDPOINTS = {"login", "static", "ack_form", "ack_done", "ack_handover", "switch_language", "kiosk", "metrics", "inbound", "woocommerce_webhook"}  # each checks its own token


def create_app(store: Store, device: Device | None = None) -> Flask:
    """The Flask app; ``device`` (the running daemon) gives the settings, outputs and health."""
    app = Flask("speakerd.web")
    app.secret_key = store.meta.secret("web_session_key", lambda: secrets.token_hex(32))
    # A sound upload (speakerd.device.sounds.MAX_BYTES) is the largest thing the page takes; anything bigger is refused unread.
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", WTF_CSRF_TIME_LIMIT=None,
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=device.cfg.web.session_hours if device else 12))
    app.extensions["speakerd"] = {"store": store, "device": device, "throttle": auth.Throttle(), "sessions": auth.Sessions()}
    app.jinja_env.filters["masked"] = mask_text  # a message's text on any page: phone and ID numbers masked
    csrf = CSRFProtect(app)
    i18n.init(app)
    _auth_routes(app)
    _ack_routes(app, store, csrf, device)
    kiosk.register(app, store)
    if device is not None:
        from speakerd.web import backup_page, inbound_api, metrics_page, office, pages, push_page, settings, wizard, woo_webhook

        metrics_page.register(app, device)
        inbound_api.register(app, device, csrf)
        woo_webhook.register(app, device, csrf)
        pages.register(app)
        office.register(app)
        settings.register(app)
        push_page.register(app)
        wizard.register(app)
        backup_page.register(app)

    @app.context_processor
    def language() -> dict[str, Any]:
        return {"lang": i18n.language(), "languages": i18n.LANGUAGES}

    @app.post("/language")
    def switch_language() -> ResponseReturnValue:
        """One person's language, kept in their session; the device's default is web.language."""
        if request.form.get("lang") in i18n.LANGUAGES:
            session["lang"] = request.form["lang"]
        return redirect(auth.same_site(request.form.get("next", "")) or url_for("login"))

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(413)
    def too_large(exc: Exception) -> ResponseReturnValue:
        logger.warning("web: a request larger than %d bytes from %s was refused", app.config["MAX_CONTENT_LENGTH"], request.remote_addr)
        return render_template("message.html", title=_("Too large"),
                               text=_("What was sent is larger than the device takes (a sound may have at most 5 MB).")), 413

    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> ResponseReturnValue:
        logger.warning("web: form refused from %s: %s", request.remote_addr, exc.description)
        return render_template("message.html", title=_("This form has expired"),
                               text=_("The page is too old or came from elsewhere. Go back, open the page again and resubmit.")), 400

    return app


def _config_path(app):
    device = app.extensions["speakerd"]["device"]
    return device.config_path if device else None


def _auth_routes(app) -> None:
    @app.before_request
    def own_names_only() -> ResponseReturnValue | None:
        device = app.extensions["speakerd"]["device"]
        if hosts.allowed(request.headers.get("Host", ""), device.cfg.web.public_url if device is not None else ""):
            return None
        SPARSE.warning("host", "web: a request for the name %r from %s refused (not one of this device's names)",
                       hosts.host_of(request.headers.get("Host", ""))[:80], request.remote_addr)
        return render_template("message.html", title=_("Wrong address"),
                               text=_("Open this device by its own address or name. If you reach it by another name, "
                                      "set that address as web.public_url.")), 421

    @app.before_request
    def require_login() -> ResponseReturnValue | None:
        device = app.extensions["speakerd"]["device"]
        if device is not None:
            app.permanent_session_lifetime = timedelta(hours=device.cfg.web.session_hours)
        g.user = None
        hashed = stored_hash(_config_path(app)) if _config_path(app) else None
        sessions = app.extensions["speakerd"]["sessions"]
        if session.get("pw") and hashed and session["pw"] == fingerprint(hashed) and sessions.valid(session.get("sid")):
            g.user = "staff"
        if request.endpoint in OPEN_ENDPOINTS or g.user:
            return None
        if kiosk.allowed():
            return None
        if device is not None and hashed is None:  # what device.claim.open() asks, read once per request
            # An unclaimed device: only the wizard's first step, which asks for the code on the panel.
            if request.endpoint in ("setup_claim", "setup_restore"):
                return None
            if request.method == "GET" and request.accept_mimetypes.accept_html:
                return redirect(url_for("setup_claim"))
            abort(401)
        if request.method == "GET" and request.accept_mimetypes.accept_html:
            return redirect(url_for("login", next=request.full_path if request.query_string else request.path))
        abort(401)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        config_path = _config_path(app)
        unset = not (config_path and stored_hash(config_path))
        if unset and app.extensions["speakerd"]["device"] is not None:
            return redirect(url_for("setup_claim"))
        if request.method == "GET":
            return render_template("login.html")
        throttle, address = app.extensions["speakerd"]["throttle"], request.remote_addr or "?"
        wait = throttle.admit(address)
        if wait:
            return render_template("login.html", error=_("Too many wrong passwords; try again in %(seconds)d seconds.", seconds=round(wait))), 429
        try:
            right = not unset and auth.check(config_path, request.form.get("password", ""))
        except auth.Busy:
            return render_template("login.html", error=_("The device is busy; try again in a moment.")), 503
        if not right:
            throttle.failed(address)
            return render_template("login.html", error=_("Wrong password.")), 401
        throttle.succeeded(address)
        auth.log_in(app)
        logger.info("web: login from %s", address)
        return redirect(auth.same_site(request.args.get("next", "")) or url_for("dashboard"))

    @app.post("/logout")
    def logout() -> ResponseReturnValue:
        app.extensions["speakerd"]["sessions"].end(session.get("sid"))  # a copy of the cookie is worth nothing now
        session.clear()
        flash(_("Logged out."))
        return redirect(url_for("login"))


def _ack_routes(app, store, csrf, device) -> None:
    def message_for(token: str) -> tuple[dict[str, Any] | None, Any]:
        """The message row the token names, or the page saying why it cannot be used."""
        try:
            message_id = ack_links.verify(store.meta.secret("ack_secret", ack_links.new_secret), token, now=store.clock.time())
        except ack_links.AckError as exc:
            return None, (render_template("message.html", title=_("Cannot acknowledge"), text=_(str(exc))), 403)
        row = store.acks.message(message_id)
        if row is None:
            return None, (render_template("message.html", title=_("Cannot acknowledge"), text=_("This message is no longer on the device.")), 404)
        return row, None

    @app.get("/ack/<token>")
    def ack_form(token: str) -> ResponseReturnValue:
        row, refusal = message_for(token)
        if row is None:
            return refusal
        colleagues = device.handover.colleagues(row["id"]) if device is not None else []
        return render_template("ack.html", row=row, token=token, more=len(store.outbox.summarised_in(row["id"], "push")),
                               colleagues=colleagues)

    @app.post("/ack/<token>/handover")
    @csrf.exempt  # as above: the token is the authority, for this one message
    def ack_handover(token: str) -> ResponseReturnValue:
        """"我来处理" or "转给…" from a push: whoever holds the link picks the person, as in the group chat."""
        row, refusal = message_for(token)
        if row is None or device is None:
            return refusal or ("", 404)
        kind = "take" if request.form.get("kind") == "take" else "give"
        problem = device.handover(row["id"], request.form.get("staff_id", ""), kind, "push link")
        text = _("Done: the message is now theirs, and they are told.") if problem is None else _(problem)
        return render_template("message.html", title=_("Take over or hand on"), text=text), (200 if problem is None else 409)

    @app.post("/ack/<token>")
    @csrf.exempt  # the signed token in the address is the authority; it names one message
    def ack_done(token: str) -> ResponseReturnValue:
        row, refusal = message_for(token)
        if row is None:
            return refusal
        outcome = store.acks.acknowledge(row["id"], "push link")
        summarised = store.outbox.summarised_in(row["id"], "push")  # a burst summary's link answers for all it told
        for other in summarised:
            store.acks.acknowledge(other, "push link")
        logger.info("message %s acknowledged from a push link (%s)%s", row["id"], outcome,
                    f", with the {len(summarised)} its summary told" if summarised else "")
        text = _("Acknowledged, thank you.") if outcome == "done" else _("This message was already acknowledged.")
        return render_template("message.html", title=_("Acknowledge"), text=text)


def serve(store: Store, listen: str, device: Device | None = None) -> BackgroundServer:
    """Start the web server on ``HOST:PORT``; raises OSError when it cannot listen there."""
    host, _, port = listen.rpartition(":")
    return BackgroundServer(create_app(store, device), host.strip("[]"), int(port), name="web").start()
