"""The ``fleet`` section: one device alone, or a hub and its department speakers over an MQTT broker."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from speakerd.config.schema import Secret, setting

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")  # one MQTT topic level, and a mosquitto user name


def _broker_url(value: str) -> None:
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("must be mqtt://[user:password@]host[:port] or mqtts://… for TLS")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None


def _name(value: str) -> None:
    if value and not NAME.match(value):
        raise ValueError(f"{value!r}: use letters, digits, '-' and '_' only (it names MQTT topics and the broker user)")


def _names(values: tuple[str, ...]) -> None:
    for value in values:
        _name(value)


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    role: Literal["standalone", "hub", "speaker"] = setting(
        "standalone", "standalone: one device does everything. hub: polls the platform and sends each message to its "
        "department's speakers. speaker: announces what the hub sends for its departments (see docs/fleet.md).")
    broker: Secret = setting(Secret(""), "The MQTT broker, mqtt://user:password@host:1883 (mqtts:// for TLS); needed by a hub and a speaker.",
                             check=_broker_url)
    ca_file: str = setting("", "With mqtts://: the CA certificate that signed the broker's, when it is not a public one.")
    site: str = setting("office", "This office or branch; devices of one site share its topics.", check=_name)
    device: str = setting("", "This device's name on the broker (and its broker user); empty: the host name.", check=_name)
    base_topic: str = setting("speakerd", "First level of every topic, shared by the devices of one installation.", check=_name)
    departments: tuple[str, ...] = setting((), "Speaker: the department ids it announces.", check=_names)
    subsystems: tuple[str, ...] = setting((), "Speaker: the subsystem ids whose departments it announces.", check=_names)
    roster: str = setting("", "Hub: the roster of enrolled speakers that 'speakerd fleet-add' keeps (speakerd-roster.json); a speaker's claimed departments and acknowledgements are checked against it. Empty: /etc/mosquitto/speakerd-roster.json when it exists.")
    hub_announces_unheard: bool = setting(True, "Hub: announce a message itself when no speaker of its department is online.")

    def device_name(self) -> str:
        """``device``, or the host name cut to what a topic level allows."""
        return self.device or re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:63] or "speakerd"


def fleet_problems(cfg: Any, departments: set[str], subsystems: set[str]) -> list[tuple[str, str]]:
    """``[(path, reason)]`` for fleet settings that do not fit together or name unknown ids (``Config`` cross-check)."""
    fleet: FleetConfig = cfg.fleet
    problems = []
    if fleet.role != "standalone" and not fleet.broker:
        problems.append(("fleet.broker", f"a {fleet.role} needs the broker's address, e.g. mqtt://{fleet.role}:PASSWORD@hub.local:1883"))
    if fleet.role == "speaker" and not (fleet.departments or fleet.subsystems):
        problems.append(("fleet.departments", "a speaker needs the departments (or subsystems) it announces"))
    for i, dep in enumerate(fleet.departments):
        if dep not in departments:
            problems.append((f"fleet.departments[{i}]", f"unknown department {dep!r}; known: {', '.join(sorted(departments)) or 'none'}"))
    for i, sub in enumerate(fleet.subsystems):
        if sub not in subsystems:
            problems.append((f"fleet.subsystems[{i}]", f"unknown subsystem {sub!r}; known: {', '.join(sorted(subsystems)) or 'none'}"))
    return problems
