"""One platform event, checked field by field before anything else trusts it.

Real platforms send missing fields, numbers where text belongs, megabytes of
content and markup. :func:`parse` never raises on such input: it returns a
:class:`Message` or a :class:`Rejected` carrying the reason, so the caller can
keep the bad one aside and go on with the next.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

from speakerd.plaintext import escaped

OWN_APP = "speakerd"  # the app of every message the device makes itself; refused from the platform
MAX_ID = 128
MAX_SHORT = 200  # type, app, user id/name/tier
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9:-]*(\s[^<>]*)?/?\s*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_ALLOWED_CONTROLS = {"\n", "\t"}
# Direction controls turn 'gnp.exe' into what reads as 'exe.png' on a screen or in a push: removed from all text.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class User:
    id: str = ""
    name: str = ""
    tier: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    content: str
    type: str = ""
    app: str = ""
    created_at: str = ""
    user: User = field(default_factory=User)
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    reason: str
    platform_id: str | None = None


class _Bad(Exception):
    pass


def made_here(app: str | None) -> bool:
    """Whether a message was made by the device itself (an alert, an escalation, a digest), not the platform."""
    return app == OWN_APP


def parse(raw: object, max_content: int = 4000, own: bool = False) -> Message | Rejected:
    """Check one raw message (from the platform, or the device's ``own``); never raises."""
    if not isinstance(raw, dict):
        return Rejected(f"a message must be a JSON object, not {_json_kind(raw)}")
    platform_id = _id_or_none(raw.get("id")) or _shown_id(raw.get("id"))
    try:
        if made_here(raw.get("app")) and not own:
            raise _Bad(f"app {OWN_APP!r} is reserved for the device's own messages")
        return Message(
            id=_message_id(raw),
            content=_content(raw, max_content),
            type=_short(raw, "type"),
            app=_short(raw, "app"),
            created_at=_timestamp(raw),
            user=_user(raw.get("user")),
            data=_data(raw.get("data")),
        )
    except _Bad as exc:
        return Rejected(str(exc), platform_id)


def _json_kind(value):
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(type(value), "a number")


def _id_or_none(value):
    """The id as text when it is one a person can read and a log line cannot be forged with; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # as bounded as any other id: 10**200 is no id
    if isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isprintable():
        return value
    return None


def _shown_id(value):
    """An unusable text id as it may be shown and kept with the quarantined message: escaped, bounded."""
    if isinstance(value, str) and value:
        return escaped(value)[:MAX_ID]
    return None


def _message_id(raw):
    if "id" not in raw or raw["id"] in (None, ""):
        raise _Bad("missing id")
    value = _id_or_none(raw["id"])
    if value is None:
        if isinstance(raw["id"], str) and 0 < len(raw["id"]) <= MAX_ID:
            bad = next(c for c in raw["id"] if not c.isprintable())
            raise _Bad(f"id contains the unprintable character U+{ord(bad):04X}")
        raise _Bad(f"id must be text or a whole number of at most {MAX_ID} characters, not {_json_kind(raw['id'])}")
    return value


def _content(raw, limit):
    value = raw.get("content")
    if value is None or value == "":
        raise _Bad("missing content")
    if not isinstance(value, str):
        raise _Bad(f"content must be text, not {_json_kind(value)}")
    if len(value) > limit:
        raise _Bad(f"content too long: {len(value)} characters, limit {limit} (platform.max_content)")
    _check_text(value, "content")
    if _MARKUP.search(value):
        raise _Bad("content contains HTML/markup, which would be read out or shown verbatim")
    value = _BIDI.sub("", value)
    if not value.strip():
        raise _Bad("content is only white space")
    return value.strip()


def _check_text(value, name):
    for position, char in enumerate(value):
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029\ufffe\uffff":
            raise _Bad(f"{name} contains control character U+{ord(char):04X} at position {position}")


def _short(raw, name, container="message"):
    value = raw.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Bad(f"{name} must be text, not {_json_kind(value)}")
    if len(value) > MAX_SHORT:
        raise _Bad(f"{name} too long: {len(value)} characters, limit {MAX_SHORT}")
    _check_text(value, name)
    return _BIDI.sub("", value).strip()


def _timestamp(raw):
    value = raw.get("created_at")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(f"created_at must be an ISO 8601 time as text, not {_json_kind(value)}")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"created_at is not an ISO 8601 time: {value[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.isoformat()


def _user(value):
    if value is None:
        return User()
    if not isinstance(value, dict):
        raise _Bad(f"user must be an object, not {_json_kind(value)}")
    return User(id=_short(value, "id"), name=_short(value, "name"), tier=_short(value, "tier"))


MAX_DEPTH = 32


def _depth_exceeds(value, limit) -> bool:
    """Whether ``value`` nests deeper than ``limit``, found without recursion (deep values are the hostile ones)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _non_finite(node: object, path: str = "") -> str:
    """The path of the first NaN or infinite number in ``node`` (``amount``, ``items.2.price``), or ''."""
    if isinstance(node, float) and not math.isfinite(node):
        return path or "(the value)"
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found = _non_finite(child, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return ""


def _data(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"data must be an object, not {_json_kind(value)}")
    if _depth_exceeds(value, MAX_DEPTH):
        # Stored and read back as JSON at some other call depth, deeper data fails there instead.
        raise _Bad(f"data is nested too deeply (more than {MAX_DEPTH} levels)")
    where = _non_finite(value)
    if where:
        # Valid to Python's json (NaN, 1e999), but not JSON: SQLite's JSON functions would refuse every row after it.
        raise _Bad(f"data.{where} is not a finite number (NaN or infinity): JSON has no such number")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (ValueError, RecursionError):
        raise _Bad("data cannot be stored as JSON") from None
    if len(text) > 64_000:
        raise _Bad(f"data too large: {len(text)} characters of JSON, limit 64000")
    return json.loads(_BIDI.sub("", text)) if _BIDI.search(text) else value
