"""A platform or a source as typed on the page, tried with one poll as the daemon would make it.

For the wizard's platform step and the settings page's further sources.

The answer names the failure's kind in the page's words (no network, refused, wrong address…), so shop staff
know which box to fix; the detail is kept for whoever helps them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from speakerd.config.schema import Secret
from speakerd.errors import PlatformError
from speakerd.intake.client import client_for
from speakerd.intake.platform import FAILURE_KINDS, safe_url

if TYPE_CHECKING:
    from speakerd.config import PlatformConfig

logger = logging.getLogger(__name__)


def try_platform(platform: PlatformConfig) -> dict[str, Any]:
    """``{"ok": True, "waiting": n}``, or ``{"ok": False, "kind": words, "detail": why}``."""
    client = client_for(dataclasses.replace(platform, timeout=min(platform.timeout, 10.0)))
    try:
        batch = client.fetch(None, 1)
    except PlatformError as exc:
        logger.info("web: platform test of %s failed: %s", safe_url(platform.url), exc.kind)
        return {"ok": False, "kind": _(FAILURE_KINDS.get(exc.kind, exc.kind)), "detail": exc.reason}
    except ValueError as exc:  # an address requests cannot even parse
        wrong_address = FAILURE_KINDS["not_found"]
        return {"ok": False, "kind": _(wrong_address), "detail": str(exc)[:200]}
    finally:
        client.close()
    return {"ok": True, "waiting": len(batch.messages)}


def as_typed(platform: PlatformConfig, kind: str, url: str, typed: Mapping[str, str]) -> PlatformConfig:
    """``platform`` with what was typed on the page (kind, address, the secrets typed): its timeouts are kept."""
    changes: dict[str, Any] = {"kind": kind, "url": url, **{name: Secret(value) for name, value in typed.items()}}
    return dataclasses.replace(platform, **changes)


def with_scheme(url: str) -> str:
    """An address typed without http:// or https:// gets the one people mean: plain HTTP for an address in the office
    (an IP, localhost, NAME.local or .lan), HTTPS for a name on the internet. It was refused as a wrong address."""
    if not url or "://" in url:
        return url
    host = urlsplit(f"//{url}").hostname or ""
    local = host == "localhost" or host.endswith((".local", ".lan")) or "." not in host or _is_ip(host)
    return ("http://" if local else "https://") + url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
