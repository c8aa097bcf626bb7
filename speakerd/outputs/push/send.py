"""Sending one notification through apprise, shaped for the message's priority, with a reason that quotes no secret."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from speakerd.config.push_urls import scheme

# ntfy's priorities and Bark's interruption levels for our four priorities.
NTFY_PRIORITY = {"low": "low", "normal": "default", "high": "high", "critical": "max"}
BARK_LEVEL = {"low": "passive", "normal": "active", "high": "timeSensitive", "critical": "critical"}
NOTIFY_TYPE = {"low": apprise.NotifyType.INFO, "normal": apprise.NotifyType.INFO,
               "high": apprise.NotifyType.WARNING, "critical": apprise.NotifyType.FAILURE}


def shaped(url: str, priority: str, click: str | None = None) -> str:
    """``url`` with the service's own priority setting for ``priority`` (and a click link where it has one)."""
    kind = scheme(url)
    extra = {}
    if kind in ("ntfy", "ntfys"):
        extra["priority"] = NTFY_PRIORITY[priority]
        if click:
            extra["click"] = click
    elif kind in ("bark", "barks"):
        extra["level"] = BARK_LEVEL[priority]
        if click:
            extra["click"] = click
    elif kind in ("json", "jsons"):
        extra[":priority"] = priority
        if click:
            extra[":ack_url"] = click
    if not extra:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: v for k, v in extra.items() if k not in query})  # what the user set wins
    return urlunsplit(parts._replace(query=urlencode(query)))


class Capture(logging.Handler):
    """Collects apprise's warnings during one send, to say why it failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def send(url: str, title: str, body: str, priority: str, click: str | None = None, timeout: float = 10.0) -> tuple[bool, str]:
    """Send one notification; return ``(delivered, reason)``; the reason never quotes the URL."""
    capture = Capture()
    log = logging.getLogger("apprise")
    log.addHandler(capture)
    propagate, log.propagate = log.propagate, False  # apprise's lines quote URLs; we keep only a scrubbed reason
    try:
        target = apprise.Apprise.instantiate(shaped(url, priority, click), suppress_exceptions=True)
        if target is None:
            return False, "not a push target apprise understands"
        target.socket_connect_timeout = min(timeout, 5.0)
        target.socket_read_timeout = timeout
        delivered = target.notify(body=body, title=title, notify_type=NOTIFY_TYPE[priority])
    finally:
        log.removeHandler(capture)
        log.propagate = propagate
    reason = _scrub(" ".join(capture.lines[-2:]), url) or "the service did not accept it"
    return bool(delivered), ("" if delivered else reason)


def _scrub(text, url):
    """Remove every part of ``url`` longer than three characters from ``text``."""
    parts = urlsplit(url)
    secrets = [url, parts.netloc, parts.username, parts.password, parts.hostname, parts.query]
    secrets += [seg for seg in parts.path.split("/")]
    secrets += [v for _, v in parse_qsl(parts.query)]
    for secret in sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


