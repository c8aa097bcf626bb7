"""Checks of single setting values: each raises ValueError with text a shop's staff can act on, never echoing a secret."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = value if "@" not in value else "…@" + value.rsplit("@", 1)[1]  # never echo a user:password
        raise ValueError(f"must be an http:// or https:// address (got {shown!r})")


def platform_url(value: str) -> None:
    """The platform's base address: speakerd adds /v1/messages itself."""
    http_url(value)
    if urlsplit(value).path.rstrip("/").endswith("/v1/messages"):
        raise ValueError("give the part before /v1/messages: speakerd adds that itself")


def regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


def regexes(values: tuple[str, ...]) -> None:
    for value in values:
        regex(value)


def listen(value: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")


def push_urls(values: tuple[str, ...]) -> None:
    """Each target must be a URL apprise can use; the message shows the scheme only, never the secret."""
    from speakerd.config.push_urls import invalid_targets

    bad = invalid_targets(values)
    if bad:
        raise ValueError("; ".join(f"item {i + 1} ({scheme}://…) is not a push target apprise understands (see docs/push.md)" for i, scheme in bad))


def data_conditions(conditions: dict[str, str]) -> None:
    """Each route condition must parse: an order operator needs a number (see :mod:`speakerd.message.conditions`)."""
    from speakerd.message.conditions import parse

    problems = []
    for name, text in conditions.items():
        try:
            parse(text)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ValueError("; ".join(problems))


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValueError("must not be empty")


CLOCK = r"([01]\d|2[0-3]):[0-5]\d"


def clock_time(value: str) -> None:
    if value and not re.fullmatch(CLOCK, value):
        raise ValueError(f"must be a time of day as HH:MM, e.g. 09:00, or empty (got {value!r})")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_time(value: str) -> None:
    """'mon 09:00': a weekday (mon … sun) and a time of day."""
    day, _, time = value.strip().partition(" ")
    if value and not (day.lower() in WEEKDAYS and re.fullmatch(CLOCK, time.strip())):
        raise ValueError(f"must be a weekday and a time, e.g. mon 09:00 (mon, tue, wed, thu, fri, sat, sun), or empty (got {value!r})")


def hours(value: str) -> None:
    if value and not re.fullmatch(f"{CLOCK}-{CLOCK}", value.replace(" ", "")):
        raise ValueError(f"must be a span of the day as HH:MM-HH:MM, e.g. 20:00-08:30, or empty (got {value!r})")


def volume(value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"must be between 0 (silent) and 1 (full) (got {value})")


def optional_http_url(value: str) -> None:
    """Empty, or an http:// or https:// address."""
    if value:
        http_url(value)


def optional_secret_url(value: str) -> None:
    """Empty, or an http(s) address; the message never shows the address, which carries a token."""
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
        raise ValueError("must be an http:// or https:// address (not shown: it carries a token)")


def brands(table: dict[str, str]) -> None:
    """A brand is Latin letters (with spaces, - ' & .), its reading a few words: each is matched and spoken as written."""
    for name, said in table.items():
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 .'&-]{0,39}", str(name)):
            raise ValueError(f"{name!r}: a brand is written in Latin letters (at most 40 characters)")
        if not str(said).strip() or len(str(said)) > 20:
            raise ValueError(f"{name!r}: its reading must be 1 to 20 characters")
