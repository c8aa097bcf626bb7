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

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app, request, session
from flask_babel import Babel

if TYPE_CHECKING:
    from flask import Flask

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"


def init(app: Flask) -> None:
    Babel(app, locale_selector=language)


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
