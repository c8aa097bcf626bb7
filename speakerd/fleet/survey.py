"""``speakerd fleet``: what the broker knows now, read from its retained messages with a short-lived connection."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from speakerd.fleet.link import default_port, explain, safe_broker
from speakerd.fleet.presence import Presence
from speakerd.fleet.topics import BadPayload, Topics, decode

if TYPE_CHECKING:
    from speakerd.config import Config

SETTLE_SECONDS = 1.0  # retained messages arrive right after subscribing; this long without one more means all are in


class SurveyError(RuntimeError):
    """The broker could not be asked; the text says why."""


def survey(cfg: Config, every_site: bool = False, timeout: float = 8.0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(devices, site counts)`` as retained on the broker, for this site or (``every_site``) all of them."""
    fleet = cfg.fleet
    if not fleet.broker:
        raise SurveyError("fleet.broker is not set: this device is standalone (see docs/fleet.md)")
    topics = Topics(fleet.base_topic, "+" if every_site else fleet.site)
    presence, counts, last = Presence("", time.time), [], [time.monotonic()]
    ready, failure = threading.Event(), []
    parts = urlsplit(fleet.broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{fleet.device_name()}-survey-{os.getpid()}", protocol=mqtt.MQTTv5)
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set(ca_certs=fleet.ca_file or None)

    def connected(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            failure.append(explain(reason))
            ready.set()
            return
        c.subscribe([(topics.status("+"), 1), (topics.counts(), 1)])

    def message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        last[0] = time.monotonic()
        if msg.topic.endswith("/status"):
            site, device = topics.parse_device(msg.topic)
            presence.update(site, device, bytes(msg.payload))
        elif msg.payload:
            try:
                counts.append(decode(bytes(msg.payload), "counts"))
            except BadPayload:
                pass

    client.on_connect, client.on_message = connected, message
    try:
        client.connect(parts.hostname or "localhost", parts.port or default_port(parts.scheme), keepalive=10)
    except OSError as exc:
        raise SurveyError(f"cannot reach the broker {safe_broker(fleet.broker)}: {exc}") from None
    client.loop_start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ready.is_set() and time.monotonic() - last[0] < SETTLE_SECONDS:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    if failure:
        raise SurveyError(failure[0])
    return presence.snapshot(), sorted(counts, key=lambda c: str(c.get("site")))
