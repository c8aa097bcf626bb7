"""Push targets as apprise URLs: checking and masking them, with no store and no network.

Checking a config needs these and nothing of the push output, and every place
that shows a target (pages, errors, the log) shows it masked through :func:`mask`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import apprise

# urllib3's debug lines quote request paths, which for push services hold tokens.
logging.getLogger("urllib3").setLevel(logging.WARNING)


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise's own messages may quote a token: keep them out of our log while it works."""
    log = logging.getLogger("apprise")
    before = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = before


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"


FALLBACK = "||"


def fallback_chain(target: str) -> list[str]:
    """``"URL_A || URL_B"`` → ``[URL_A, URL_B]``: one target, B used once A keeps failing; a plain URL is a chain of one."""
    return [part.strip() for part in target.split(FALLBACK) if part.strip()] or [target]


def invalid_targets(targets: Sequence[str]) -> list[tuple[int, str]]:
    """``[(index, scheme)]`` of the targets with a URL apprise cannot use (in a fallback chain, any of its URLs)."""
    with quiet_apprise():
        return [(i, scheme(u)) for i, t in enumerate(targets) for u in fallback_chain(t) if apprise.Apprise.instantiate(u) is None]


def mask(url: str) -> str:
    """A target as people may see it: the service and its host, every secret part cut to one letter."""
    if FALLBACK in url:
        return f" {FALLBACK} ".join(mask(part) for part in fallback_chain(url))
    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(url)
    shown = plugin.url(privacy=True) if plugin else url
    parts = urlsplit(shown)
    host = parts.hostname or ""
    if plugin is None or "." not in host and ":" not in parts.netloc and len(host) > 3:
        host = host[:1] + "…"  # a token standing where a host would (dingtalk://TOKEN)
    if parts.port:
        host += f":{parts.port}"
    path = "/".join(seg[:1] + "…" if len(seg) > 1 else seg for seg in parts.path.split("/"))
    return f"{parts.scheme}://{host}{path}"
