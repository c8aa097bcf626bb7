"""Which earlier message a new one repeats, by what it is about: the same order resent under a new id is one message.

A platform that resends after a timeout gives the same event a new id; told
again, an order reaches two people. So besides its id, each message has a
content key made of the fields that identify what it is about, per event type
(``dedupe.keys``): the type and the order id for orders, the withdrawal id for
withdrawals, and so on. The type is part of every key, so an order's created,
paid and refund events stay three messages. A message whose key was seen
within ``dedupe.window_days`` is kept as a duplicate of the first and told to
nobody. A message missing one of its key's fields has no key: only its id
can make it a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from speakerd.rules.classify import type_matches

if TYPE_CHECKING:
    from speakerd.message import Message

T = TypeVar("T")

def content_key(message: Message, keys: Mapping[str, Sequence[str]], scope: str = "") -> str | None:
    """The message's content key (a hash of its key fields), or None when its key has a field it lacks.

    ``scope``: the source's name under ``sources:``, so that two shops' order 1234 are two orders.
    """
    fields = _first_for(message.type, keys)
    if not fields:
        return None
    values = [_field(message, name) for name in fields]
    if any(v in (None, "") for v in values):
        return None
    text = "\x1f".join([f"source={scope}"] * bool(scope) + [f"{name}={value}" for name, value in zip(fields, values, strict=True)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _field(message: Message, name: str) -> Any:
    """``type``, ``app``, ``content``, ``user.id``, or ``data.a.b``; None when it is not there."""
    head, _, rest = name.partition(".")
    if head == "data":
        value: Any = message.data
        for part in rest.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if isinstance(value, (dict, list)) else value
    if head == "user":
        return getattr(message.user, rest, None)
    return getattr(message, head, None) if head in ("type", "app", "content") else None


def window_for(type_: str, windows: Mapping[str, float], days: float) -> float:
    """Seconds within which a message of ``type_`` about the same thing as an earlier one repeats it: the first
    pattern of ``windows`` matching the type, else ``days``; 0 when content never makes a repeat."""
    found = _first_for(type_, windows)
    return float(found) if found is not None else days * 86400


def _first_for(type_: str, by_pattern: Mapping[str, T]) -> T | None:
    """The value of the first pattern matching ``type_`` ('order.*' a family, '*' any other), as the config says."""
    return next((value for pattern, value in by_pattern.items() if pattern == "*" or type_matches(pattern, type_)), None)
