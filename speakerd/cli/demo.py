"""``speakerd demo``: the stub, a config pointing at it, and the daemon, in one folder, for a first look.

``speakerd demo --fleet`` adds a real mosquitto and makes three devices of it
in one process: a hub and two department speakers (finance; orders), each in
a folder of its own, as they would be on three Raspberry Pis.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speakerd.ports import free_or_zero, free_port

EXAMPLE_CONFIG = Path(__file__).parents[1] / "config" / "example_config.yaml"
STUB_PORT, WEB_PORT = 8808, 8080


@dataclass(frozen=True)
class DemoSetup:
    config_path: Path
    web_url: str
    password: str
    sound: str  # where announcements go, in words


def prepare(workdir: Path, stub_url: str, fleet: str = "", web: bool = True, device: str = "") -> DemoSetup:
    """Write the demo's config.yaml (the shipped example pointed at the stub) and a web password into ``workdir``.

    ``fleet``: the lines of the fleet section to use instead of ``role: standalone``; ``device``: fleet.device;
    ``web=False`` turns the page off.
    """
    from speakerd.device.password import set_password

    workdir.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"(?m)^(\s+url:\s*)http://127\.0\.0\.1:8808\s*$", lambda m: m.group(1) + stub_url,
                  EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    sound = "the sound card"
    if not has_sound_card():
        # Played in real time to nowhere, as a speaker would play it: the demo's queue is the one an office would hear.
        sound = f"no sound card found: played in real time, each kept as a WAV file in {workdir / 'audio'}"
        text = re.sub(r"(?m)^(\s+device:\s*)default\b", lambda m: m.group(1) + "null", text)
        text = re.sub(r'(?m)^(\s+keep_wav:\s*)""', lambda m: m.group(1) + str(workdir / "audio"), text)
    web_port = free_or_zero(WEB_PORT) or free_port()
    # The demo keeps its page to this machine: it runs with a known password on a developer's computer.
    text = re.sub(r"(?m)^(\s+listen:\s*)0\.0\.0\.0:8080\b", lambda m: m.group(1) + f"127.0.0.1:{web_port}", text)
    if fleet:
        text = text.replace("  role: standalone\n", fleet, 1)
    if device:
        text = re.sub(r'(?m)^  device: ""', f"  device: {device}", text)
    if not web:
        text = re.sub(r"(?m)^(web:\n(?:  #.*\n)*  enabled:) true$", r"\1 false", text)
    config_path = workdir / "config.yaml"
    config_path.write_text(text, encoding="utf-8")
    password = secrets.token_urlsafe(8)
    set_password(config_path, password)
    return DemoSetup(config_path, f"http://127.0.0.1:{web_port}/", password, sound)


def has_sound_card() -> bool:
    try:
        from speakerd.outputs.speech.audio import list_devices

        return any(name != "null" for _, name, _ in list_devices())
    except Exception:  # noqa: BLE001 - no PortAudio, no ALSA: no sound card
        return False


@dataclass
class FleetDemo:
    broker: Any  # a LocalBroker
    hub: DemoSetup
    speakers: dict[str, DemoSetup]


def prepare_fleet(workdir: Path, stub_url: str) -> FleetDemo:
    """A broker with a user per device, and the configs of a hub and two speakers (finance; orders), in ``workdir``."""
    from speakerd.fleet.broker import LocalBroker, Roster, new_password

    speakers = {"finance-speaker": ["finance"], "orders-speaker": ["orders"]}
    roster = Roster(hubs={"hub": "office"}, speakers={name: ("office", deps) for name, deps in speakers.items()})
    broker = LocalBroker(workdir / "broker", roster, {name: new_password() for name in ("hub", *speakers)}).start()

    def fleet_lines(name: str, role: str, departments: list[str]) -> str:
        lines = f"  role: {role}\n  broker: {broker.url(name)}\n"
        return lines + (f"  departments: [{', '.join(departments)}]\n" if departments else "")

    hub = prepare(workdir / "hub", stub_url, fleet_lines("hub", "hub", []), device="hub")
    return FleetDemo(broker, hub, {name: prepare(workdir / name, stub_url, fleet_lines(name, "speaker", deps), web=False, device=name)
                                   for name, deps in speakers.items()})