"""The page's languages: gettext catalogs through Flask-Babel, Chinese by default, English selectable.

Every text the page shows is an English message id marked with ``_()``
(templates) or :func:`flask_babel.lazy_gettext` (labels declared at import);
``translations/zh`` holds the Chinese, and the English needs no catalog.
The device's language is ``web.language``; a person may switch for their own
browser (the choice rides in their session cookie), because the owner reading
Chinese and a technician reading English share one device.

The help texts shown beside settings come from the config schema, so they
are not in any ``_()`` call: :func:`extract_help` is a Babel extraction
method (named in ``babel.cfg``) that hands them to ``pybabel extract``.
The catalogs are refreshed with ``scripts/translations``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app, request, session
from flask_babel import Babel, gettext

from speakerd.errors import N_

if TYPE_CHECKING:
    from flask import Flask

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"


# check-config's reasons are English sentences made where the fault is found; these are the ones a
# form can produce, matched here so the page can say them in its own language. Others stay English.
REASONS = [
    (re.compile(r"must be at least (?P<low>\S+)"), N_("must be at least %(low)s")),
    (re.compile(r"must be at most (?P<high>\S+)"), N_("must be at most %(high)s")),
    (re.compile(r"must be one of (?P<choices>.+?) \(got .*\)$"), N_("must be one of %(choices)s")),
    (re.compile(r"must be a whole number"), N_("must be a whole number")),
    (re.compile(r"must be a number"), N_("must be a number")),
    (re.compile(r"must be true or false"), N_("must be true or false")),
    (re.compile(r"^required setting is missing$"), N_("required setting is missing")),
    (re.compile(r"^must not be empty$"), N_("must not be empty")),
    (re.compile(r"^must be an http:// or https:// address"), N_("must be an address starting with http:// or https://")),
    (re.compile(r"^give the part before /v1/messages"), N_("give the address without /v1/messages: speakerd adds that itself")),
    (re.compile(r"^must be a time of day as HH:MM"), N_("must be a time of day as HH:MM, e.g. 09:00, or empty")),
    (re.compile(r"^must be a span of the day as HH:MM-HH:MM"), N_("must be a span of the day as HH:MM-HH:MM, e.g. 20:00-08:30, or empty")),
    (re.compile(r"^must be between 0 \(silent\) and 1 \(full\)"), N_("must be between 0 (silent) and 1 (full)")),
    (re.compile(r"^not a valid regular expression"), N_("not a valid regular expression")),
    (re.compile(r"is not a push target apprise understands"), N_("is not a push target address speakerd understands (see docs/push.md)")),
    (re.compile(r"^unknown department (?P<id>'[^']*')"), N_("unknown department %(id)s")),
    (re.compile(r"^unknown category (?P<id>'[^']*')"), N_("unknown category %(id)s")),
    (re.compile(r"^staff id (?P<id>'[^']*') is already used in department (?P<department>'[^']*')"),
     N_("staff id %(id)s is already used in department %(department)s")),
    (re.compile(r"^(?P<to>'[^']*') is neither lead, a department id nor a staff id"), N_("%(to)s is neither lead, a department id nor a staff id")),
]


def init(app: Flask) -> None:
    Babel(app, locale_selector=language)
    app.jinja_env.filters["reason"] = reason


def reason(text: str) -> str:
    """check-config's reason for a fault, in the page's language when it is one the forms can produce."""
    for pattern, message in REASONS:
        found = pattern.search(text)
        if found:
            return gettext(message, **found.groupdict())
    return text


def language() -> str:
    """The language of this request: the person's choice, else the device's ``web.language``."""
    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    device = current_app.extensions["speakerd"]["device"]
    return device.cfg.web.language if device is not None else DEFAULT


def extract_help(fileobj: Any, keywords: Any, comment_tags: Any, options: dict[str, Any]) -> Iterator[Any]:
    """Babel extraction method for settings.py: its own ``_()`` texts, and the schema's help of every setting it shows."""
    from babel.messages.extract import extract_python

    from speakerd import config as config_mod
    from speakerd.web import fields, settings

    example = Path(config_mod.__file__).with_name("example_config.yaml")
    cfg = config_mod.parse_text(example.read_text(encoding="utf-8"), example.name)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    for path in settings.shown_paths(cfg):
        text = fields.field(cfg, path, "").help
        if text:
            yield 0, "gettext", text, [path]


def trouble_text(kind: str, reason: str, subject: str = "") -> str:
    """A trouble as staff should read it: in Chinese, what is wrong (with which source) and what to do (the alerts' words);
    in English the technical reason itself. The reason stays available on the page behind 详细信息."""
    from speakerd.health.alerts import SOURCE, kind_text, source_of

    what, todo = kind_text(kind, subject=subject)
    if language() == "zh" and what:
        return f"{what}。{todo}。"
    return f"{subject.removeprefix(SOURCE)}: {reason}" if source_of(subject) else reason
