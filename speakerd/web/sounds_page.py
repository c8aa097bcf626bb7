"""The settings page's alert sounds: upload one, hear it on the device, give it to a category.

The checking and converting is :mod:`speakerd.device.sounds`; this is the form
around it. A category's ``chime`` then names the converted file's path, as
a hand-written config names any WAV, so check-config and the speech output
need nothing new.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from speakerd import config as config_mod
from speakerd.device import sounds
from speakerd.outputs.speech import chimes
from speakerd.web import playback
from speakerd.web.device import Device

if TYPE_CHECKING:
    from flask import Flask

    from speakerd.config import Config

logger = logging.getLogger(__name__)


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def where() -> Path:
    device = _device()
    return sounds.folder(config_mod.database_path(device.cfg, device.config_path))


def choices() -> dict[str, str]:
    """``{value for chime: label}``: the built-in chimes, then the uploaded sounds."""
    out = {name: name for name in chimes.CHIMES}
    out.update({str(path): name for name, path in sounds.uploaded(where()).items()})
    return out


def register(app: Flask, save: Callable[..., ResponseReturnValue], render: Callable[..., ResponseReturnValue],
             current: Callable[[], Config]) -> None:
    """``save``, ``render`` and ``current`` as for :func:`speakerd.web.company.register`."""

    @app.post("/settings/sounds/upload")
    def upload_sound() -> ResponseReturnValue:
        name, upload = request.form.get("name", "").strip(), request.files.get("file")
        data = upload.stream.read(sounds.MAX_BYTES + 1) if upload else b""
        try:
            path = sounds.save(where(), name, data)
        except sounds.SoundError as exc:
            logger.info("web: an uploaded sound was refused: %s", exc)
            return render(400, errors={"": _(exc.reason, **exc.detail)}, focus="sounds")
        logger.info("web: sound %s uploaded (%d bytes in)", name, len(data))
        flash(_("Sound %(name)s saved; pick it for a category below.", name=name))
        category = request.form.get("category", "")
        if category in current().categories:
            return save("sounds", {f"categories.{category}.chime": str(path)})
        return redirect(url_for("settings_page", _anchor="sounds"))

    @app.post("/settings/sounds/play")
    def play_sound() -> ResponseReturnValue:
        choice, known = request.form.get("sound", ""), choices()
        if choice not in known:
            flash(_("There is no sound %(name)s.", name=choice[:40]))
        else:
            category = dataclasses.replace(next(iter(current().categories.values())), chime=choice)
            if playback.play("sound test", lambda speech: speech.play("", category, "normal", "sound-test", mode="chime")):
                flash(_("Playing %(name)s on the device.", name=known[choice]))
        return redirect(url_for("settings_page", _anchor="sounds"))

    @app.post("/settings/sounds/assign")
    def assign_sound() -> ResponseReturnValue:
        category, choice = request.form.get("category", ""), request.form.get("sound", "")
        if category not in current().categories or (choice and choice not in choices()):
            flash(_("Pick a category and one of the sounds."))
            return redirect(url_for("settings_page", _anchor="sounds"))
        return save("sounds", {f"categories.{category}.chime": choice})
