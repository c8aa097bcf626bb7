"""Push targets as apprise URLs: checking, masking, and shaping one per message priority.

Kept apart from the push output so that checking a config needs no store
and no network, and so that every place that shows a target shows it masked.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.outputs import Notice

# urllib3's debug lines quote request paths, which for push services hold tokens.
logging.getLogger("urllib3").setLevel(logging.WARNING)

# ntfy's priorities and Bark's interruption levels for our four priorities.
NTFY_PRIORITY = {"low": "low", "normal": "default", "high": "high", "critical": "max"}
BARK_LEVEL = {"low": "passive", "normal": "active", "high": "timeSensitive", "critical": "critical"}
NOTIFY_TYPE = {"low": apprise.NotifyType.INFO, "normal": apprise.NotifyType.INFO,
               "high": apprise.NotifyType.WARNING, "critical": apprise.NotifyType.FAILURE}


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


def send_test(cfg: Config, staff_id: str) -> list[tuple[str, bool, str]]:
    """Send a test notification to each push target of one staff member: ``[(masked target, delivered, reason)]``."""
    department, person = cfg.staff()[staff_id]
    title = f"测试｜{cfg.departments()[department][1].name}"
    body = f"这是发给{person.name}的测试通知，收到说明推送正常。"
    results = []
    for url in person.push:
        delivered, reason = send(url, title, body, "normal", timeout=cfg.push.timeout)
        results.append((mask(url), delivered, reason))
    return results


def _scrub(text, url):
    """Remove every part of ``url`` longer than three characters from ``text``."""
    parts = urlsplit(url)
    secrets = [url, parts.netloc, parts.username, parts.password, parts.hostname, parts.query]
    secrets += [seg for seg in parts.path.split("/")]
    secrets += [v for _, v in parse_qsl(parts.query)]
    for secret in sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


def recipients(notice: Notice, cfg: Config) -> list[tuple[str, str, list[str]]]:
    """``[(key, label, [urls])]`` for a notice: the person, their department, their unit."""
    out: list[tuple[str, str, list[str]]] = []
    staff = cfg.staff().get(notice.staff_id or "")
    if staff:
        out.append((f"staff:{notice.staff_id}", f"{notice.staff_id} {staff[1].name}", list(staff[1].push)))
    department = cfg.departments().get(notice.department)
    if department:
        out.append((f"department:{notice.department}", department[1].name, list(department[1].push)))
    subsystem = cfg.subsystems.get(notice.subsystem)
    if subsystem:
        out.append((f"subsystem:{notice.subsystem}", subsystem.name, list(subsystem.push)))
    return [r for r in out if r[2]]
