"""``speakerd demo``: the stub, a config pointing at it, and the daemon, in one folder, for a first look."""

from __future__ import annotations

import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

EXAMPLE_CONFIG = Path(__file__).with_name("example_config.yaml")
STUB_PORT, WEB_PORT = 8808, 8080


@dataclass(frozen=True)
class DemoSetup:
    config_path: Path
    web_url: str
    password: str
    sound: str  # where announcements go, in words


def prepare(workdir: Path, stub_url: str) -> DemoSetup:
    """Write the demo's config.yaml (the shipped example pointed at the stub) and a web password into ``workdir``."""
    from speakerd.web import auth

    text = re.sub(r"(?m)^(\s+url:\s*)http://127\.0\.0\.1:8808\s*$", lambda m: m.group(1) + stub_url,
                  EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    sound = "the sound card"
    if not has_sound_card():
        sound = f"WAV files in {workdir / 'audio'} (no sound card found)"
        text = re.sub(r"(?m)^(\s+device:\s*)default\b", lambda m: m.group(1) + f"wav:{workdir / 'audio'}", text)
    web_port = free_or_zero(WEB_PORT) or free_port()
    text = re.sub(r"(?m)^(\s+listen:\s*)127\.0\.0\.1:8080\b", lambda m: m.group(1) + f"127.0.0.1:{web_port}", text)
    config_path = workdir / "config.yaml"
    config_path.write_text(text, encoding="utf-8")
    password = secrets.token_urlsafe(8)
    auth.set_password(config_path, password)
    return DemoSetup(config_path, f"http://127.0.0.1:{web_port}/", password, sound)


def has_sound_card() -> bool:
    try:
        from speakerd.outputs.speech.audio import list_devices

        return any(name != "null" for _, name, _ in list_devices())
    except Exception:  # noqa: BLE001 - no PortAudio, no ALSA: no sound card
        return False


def free_or_zero(port: int) -> int:
    """``port`` when nothing listens on it on loopback, else 0."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def free_port() -> int:
    """A port nothing listens on, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
