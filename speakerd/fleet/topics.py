"""Topic names and payloads: versioned JSON, one base topic per installation, one level per site (docs/fleet.md)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

VERSION = 1


class BadPayload(ValueError):
    """A payload that is not ours: not JSON, not an object, or of another version."""


@dataclass(frozen=True)
class Topics:
    """Every topic of one site. ``site="+"`` gives the wildcard over every site (head office, ``fleet --sites``)."""

    base: str
    site: str

    def _t(self, *levels: str) -> str:
        return "/".join((self.base, self.site, *levels))

    def status(self, device: str) -> str:
        """Retained: the device's presence and description; its last will writes ``offline`` here."""
        return self._t("device", device, "status")

    def announce(self, department: str) -> str:
        """QoS 1: each routed message of ``department``, for that department's speakers."""
        return self._t("announce", department)

    def ack_request(self, device: str) -> str:
        """A speaker asks the hub to acknowledge a message (its button)."""
        return self._t("request", "ack", device)

    def ack_response(self, device: str) -> str:
        return self._t("response", "ack", device)

    def acked(self) -> str:
        """QoS 1: a message was acknowledged, from wherever: every panel showing it clears."""
        return self._t("acked")

    def counts(self) -> str:
        """Retained: the site's counts of today, from its hub."""
        return self._t("hub", "counts")

    def parse_device(self, topic: str) -> tuple[str, str]:
        """``(site, device)`` of a status or request topic."""
        levels = topic.split("/")
        if levels[2] == "device":
            return levels[1], levels[3]
        return levels[1], levels[-1]


def encode(kind: str, **fields: Any) -> bytes:
    return json.dumps({"v": VERSION, "kind": kind, **fields}, ensure_ascii=False).encode("utf-8")


def decode(payload: bytes, kind: str | None = None) -> dict[str, Any]:
    """The payload as a dict; raises BadPayload for anything else, or for another ``kind``."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadPayload(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadPayload("not a JSON object")
    if data.get("v") != VERSION:
        raise BadPayload(f"version {data.get('v')!r}, this device speaks version {VERSION}")
    if kind is not None and data.get("kind") != kind:
        raise BadPayload(f"a {data.get('kind')!r} where a {kind!r} belongs")
    return data


STATES = ("online", "offline")
HEARING = ("ok", "deaf")
MOST_DEPARTMENTS = 200


def text_field(data: dict[str, Any], key: str, most: int, default: str = "") -> str:
    """A string field of a payload, at most ``most`` characters, storable (no lone surrogate); else BadPayload."""
    value = data.get(key, default)
    if not isinstance(value, str) or len(value) > most:
        raise BadPayload(f"{key} must be text of at most {most} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadPayload(f"{key} is not valid text") from None
    return value


def status_of(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a status payload that the hub keeps, checked: state, role, version, departments, hearing."""
    state = text_field(data, "state", 10)
    if state not in STATES:
        raise BadPayload(f"state must be one of {', '.join(STATES)}")
    departments = data.get("departments", [])
    if not isinstance(departments, list) or len(departments) > MOST_DEPARTMENTS:
        raise BadPayload(f"departments must be a list of at most {MOST_DEPARTMENTS} ids")
    if not all(isinstance(d, str) and 0 < len(d) <= 63 for d in departments):
        raise BadPayload("each department must be an id of at most 63 characters")
    hearing = text_field(data, "hearing", 10, "ok")  # absent from versions before the echo: taken as hearing
    if hearing not in HEARING:
        raise BadPayload(f"hearing must be one of {', '.join(HEARING)}")
    deaf_since = data.get("deaf_since") if hearing == "deaf" else None
    if deaf_since is not None and (not isinstance(deaf_since, (int, float)) or not math.isfinite(deaf_since)):
        raise BadPayload("deaf_since must be a time")
    return {"state": state, "role": text_field(data, "role", 20), "version": text_field(data, "version", 40),
            "departments": tuple(departments), "hearing": hearing, "deaf_since": deaf_since}
