"""How a person finds the device on the network: its LAN name, its address, or the Wi-Fi hotspot to join.

The panel shows these because a new device has no other way to say where its
page is. The name is the host name avahi publishes (``NAME.local``); the
address is the one ``ip`` reports; and while comitup (scripts/install.sh)
has no Wi-Fi to join, it runs a hotspot whose name comes from
``/etc/comitup.conf`` and whose state its callback writes to
:data:`WIFI_STATE` (``HOTSPOT``, ``CONNECTING`` or ``CONNECTED``).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

ADDRESS_MAX_AGE = 60.0
WIFI_STATE = Path("/run/speakerd-wifi")
COMITUP_CONF = Path("/etc/comitup.conf")


def host_name() -> str:
    """The host's own short name, as avahi and comitup's ``<hostname>`` use it."""
    return socket.gethostname().split(".")[0]


def lan_name() -> str:
    """``speakerd.local``: the name avahi publishes for this host."""
    return host_name() + ".local"


def hotspot(state_file: Path = WIFI_STATE, conf: Path = COMITUP_CONF) -> str:
    """The hotspot's name while comitup offers one (state HOTSPOT), else ''."""
    try:
        if state_file.read_text(encoding="utf-8").strip() != "HOTSPOT":
            return ""
        text = conf.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    found = re.search(r"(?m)^\s*ap_name\s*:\s*(\S+)", text)
    name = found.group(1) if found else "comitup-<nnn>"
    return name.replace("<hostname>", host_name())


class Address:
    """The device's IPv4 address on the office network, from ``ip`` (asked at most once a minute), or ''."""

    def __init__(self, max_age: float = ADDRESS_MAX_AGE) -> None:
        self._max_age = max_age
        self._at = -1e9
        self._value = ""

    def get(self) -> str:
        now = time.monotonic()
        if now - self._at > self._max_age:
            self._value, self._at = self._ask(), now
        return self._value

    @staticmethod
    def _ask() -> str:
        try:
            out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                                 capture_output=True, text=True, timeout=2).stdout.split()
        except (OSError, subprocess.SubprocessError):
            return ""
        return out[3].split("/")[0] if len(out) > 3 else ""
