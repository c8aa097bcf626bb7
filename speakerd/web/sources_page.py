"""The settings page's further sources (``sources:``): another shop polled as the platform is, or a system that pushes.

A source is added with a name and what its kind needs (an address and a token, a WooCommerce shop's REST API
key, or the token an inbound source's pushes carry), after one poll as the daemon would make it answered (or
anyway, when asked: a shop down for the moment), and is removed by name.
Its other settings (poll interval, timeouts) are the platform's unless set in config.yaml. Secrets are never
shown back: the list says whether each is set. What is stored from a removed source stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ruamel.yaml.comments import CommentedMap

from speakerd.config.editor import DELETE, set_path
from speakerd.intake.platform import safe_url
from speakerd.intake.source import PLATFORM
from speakerd.web.platform_test import as_typed, try_platform, with_scheme

if TYPE_CHECKING:
    from flask import Flask

    from speakerd.config import Config

KINDS = {"speakerd": _l("A platform or feed with speakerd's API"), "woocommerce": _l("A WooCommerce shop"),
         "inbound": _l("A system that pushes to this device (POST /v1/inbound)")}
NEEDS = {"speakerd": ("url", "token"), "woocommerce": ("url", "consumer_key", "consumer_secret", "webhook_secret"), "inbound": ("token", "secret")}
SECRETS = {"token": _l("Access token"), "consumer_key": _l("WooCommerce consumer key"), "consumer_secret": _l("WooCommerce consumer secret"),
           "webhook_secret": _l("WooCommerce webhook secret (orders pushed at once)"), "secret": _l("Signing secret")}


def listed(cfg: Config) -> list[dict[str, Any]]:
    """Each source as the page shows it: name, kind, address without credentials, which secrets are set."""
    return [{"name": name, "kind": KINDS.get(source.kind, source.kind), "url": safe_url(source.url) if source.kind != "inbound" else "",
             "set": [label for key, label in SECRETS.items() if key in NEEDS.get(source.kind, ()) and str(getattr(source, key))]}
            for name, source in cfg.sources.items()]


def register(app: Flask, save: Callable[..., ResponseReturnValue], render: Callable[..., ResponseReturnValue],
             current: Callable[[], Config]) -> None:
    """``save``, ``render`` and ``current`` as for :func:`speakerd.web.company.register`."""

    def refuse(text: str) -> ResponseReturnValue:
        return render(400, errors={"": text}, submitted=_kept(request.form), focus="sources")

    @app.post("/settings/sources/add")
    def add_source() -> ResponseReturnValue:
        cfg, name, kind = current(), request.form.get("name", "").strip(), request.form.get("kind", "")
        if kind not in KINDS:
            return refuse(_("Choose what kind of source it is."))
        if name in cfg.sources or name == PLATFORM:
            return refuse(_("There is already a source %(name)s.", name=name))
        values = {key: value for key in NEEDS[kind] if (value := request.form.get(key, "").strip())}
        if "url" in values:
            values["url"] = with_scheme(values["url"])
        if kind != "inbound" and not request.form.get("anyway"):  # one poll first, as the daemon would make it
            secrets = {key: value for key, value in values.items() if key in SECRETS}
            tested = try_platform(as_typed(cfg.platform, kind, values.get("url", ""), secrets))  # its timeouts as the platform's
            if not tested["ok"]:
                return render(400, tested=tested, submitted=_kept(request.form), focus="sources")
        return save("sources", edit=lambda doc: set_path(doc, ["sources", name], CommentedMap({"kind": kind, **values})))

    @app.post("/settings/sources/remove")
    def remove_source() -> ResponseReturnValue:
        name = request.form.get("name", "")
        if name not in current().sources:
            return refuse(_("There is no source %(name)s.", name=name))
        return save("sources", edit=lambda doc: set_path(doc, ["sources", name], DELETE))


def _kept(form: Any) -> dict[str, str]:
    """What the page may show back of a submitted form: never a secret typed into it."""
    return {key: value for key, value in form.to_dict().items() if key not in SECRETS}
