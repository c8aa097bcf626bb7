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


def invalid_targets(urls: Sequence[str]) -> list[tuple[int, str]]:
    """``[(index, scheme)]`` of the URLs apprise cannot use."""
    with quiet_apprise():
        return [(i, scheme(u)) for i, u in enumerate(urls) if apprise.Apprise.instantiate(u) is None]


def mask(url: str) -> str:
    """A target as people may see it: the service and its host, every secret part cut to one letter."""
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
