"""One change to config.yaml from a page that does not hold the file's version (the wizard, the push page).

The settings page checks the version the form was made from (a conflict is
asked about); these pages change one thing the person just chose, so they
write over the file as it is, through check-config's code, and reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from speakerd.config.editor import ConfigFile, Invalid

if TYPE_CHECKING:
    from speakerd.web.device import Device


def write(device: Device, changes: dict[str, Any] | None = None, edit: Callable[[Any], None] | None = None) -> tuple[int, dict[str, Any]] | None:
    """Apply ``changes`` (and ``edit``) and reload: None when done, else ``(HTTP status, what is wrong by setting)``."""
    try:
        ConfigFile(device.config_path).apply(changes or {}, "", force=True, edit=edit)
    except Invalid as exc:
        return 400, exc.errors
    except OSError as exc:
        return 500, {"": _("Cannot write config.yaml: %(reason)s", reason=exc.strerror or exc)}
    device.reload()
    return None
