"""Which names the page answers to: its own, so that a web page elsewhere cannot reach it by DNS rebinding.

A page on the internet can make a browser in the office send requests to a
name that first points to the attacker and then to the device (DNS
rebinding): the browser then treats the device's answers as that page's own.
The request still carries the attacker's name in its ``Host`` header, so the
device answers only to its own names (``localhost``, its host name, its
``.local`` name, the host of ``web.public_url``) and to any IP address
typed as such, which rebinding cannot use.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from speakerd.device.netinfo import host_name, lan_name


def host_of(header: str) -> str:
    """The host of a ``Host`` header, without its port, lower case ('' when there is none)."""
    try:
        return (urlsplit(f"//{header.strip()}").hostname or "").rstrip(".")
    except ValueError:
        return ""


def allowed(header: str, public_url: str = "") -> bool:
    host = host_of(header)
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    own = {"localhost", host_name().lower(), lan_name().lower(), (urlsplit(public_url).hostname or "").lower()}
    return host in own
