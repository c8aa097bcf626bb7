"""One connection to the MQTT broker: persistent session, last will, reconnecting by itself.

Wraps paho-mqtt so the hub and the speakers see three things: ``publish``
(which can wait for the broker's acknowledgement), ``subscribe`` (renewed at
every connection) and two callbacks, for messages and for the link going up
or down with the reason in words. A refused password or a topic the ACL
denies is said once, clearly; the link keeps retrying meanwhile.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from speakerd.logs import Sparse

logger = logging.getLogger(__name__)

KEEPALIVE = 15  # seconds: the broker writes the last will within about 1.5 × this after a device vanishes
RETRY_MIN, RETRY_MAX = 1, 15
SESSION_SECONDS = 30 * 24 * 3600  # a speaker off for up to a month still gets its backlog
MAX_PAYLOAD = 1024 * 1024  # bytes, as the broker's max_packet_size: an announcement is a few kB; a 24 MB status took a hub to 600 MB


def safe_broker(url: str) -> str:
    """The broker's address without its password, for logs and pages."""
    parts = urlsplit(url)
    user = f"{unquote(parts.username)}@" if parts.username else ""
    return f"{parts.scheme}://{user}{parts.hostname}:{parts.port or default_port(parts.scheme)}"


def default_port(scheme: str) -> int:
    return 8883 if scheme == "mqtts" else 1883


def explain(reason: object) -> str:
    """A connect or subscribe failure in words a shop's staff can act on."""
    text = str(reason)
    if "Not authorized" in text or "Bad user name or password" in text:
        return f"the broker refused this device's user name or password ({text}): check fleet.broker, and the broker's password file"
    if "Connection refused" in text or "unreachable" in text.lower() or "timed out" in text:
        return f"cannot reach the broker ({text}): is mosquitto running on the hub, and is the network up?"
    return text


class Link:
    """``on_message(topic, payload, ack)``: call ``ack()`` once the message is safely kept (manual acknowledgement)."""

    def __init__(self, url: str, client_id: str, will: tuple[str, bytes], *, ca_file: str = "",
                 on_message: Callable[[str, bytes, Callable[[], None]], None] | None = None,
                 on_state: Callable[[bool, str], None] | None = None) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "localhost", parts.port or default_port(parts.scheme)
        self.address = safe_broker(url)
        self._on_message = on_message
        self._on_state = on_state
        self._subscriptions: dict[str, int] = {}
        self._online_payload: tuple[str, bytes] | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self._closing = False
        self._refusals: set[str] = set()  # each refusal is logged once
        self._refused_mids: set[int] = set()
        self._said: str | None = None  # the last trouble logged, so each is said once
        self._sparse = Sparse(logger)  # what strangers can send: one line a kind and minute
        # MQTT 5: the broker names refusals (a password, an ACL) instead of silently granting and dropping.
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        if parts.scheme == "mqtts":
            self.client.tls_set(ca_certs=ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.reconnect_delay_set(RETRY_MIN, RETRY_MAX)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.client.on_subscribe = self._subscribed
        self.client.on_connect_fail = self._connect_failed
        self.client.on_publish = self._published
        self._topics_in_flight: dict[int, str] = {}

    def start(self) -> None:
        """Connect in the background; the link retries until ``close()``."""
        session = Properties(PacketTypes.CONNECT)
        session.SessionExpiryInterval = SESSION_SECONDS  # the broker keeps subscriptions and queued messages this long
        self.client.connect_async(self._host, self._port, keepalive=KEEPALIVE, clean_start=False, properties=session)
        self.client.loop_start()

    def close(self, online: tuple[str, bytes] | None = None) -> None:
        """Leave cleanly: ``online`` (the status topic and an ``offline`` payload) is written first, as the will would."""
        self._closing = True
        if online and self.connected.is_set():
            self.publish(online[0], online[1], retain=True, wait=2.0)
        self.client.disconnect()
        self.client.loop_stop()

    def reconnect(self) -> None:
        """Leave cleanly and come back on the same session: the broker then sends again what this device holds unacknowledged."""
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
        self._closing = False
        self.start()

    def announce_online(self, topic: str, payload: bytes) -> None:
        """Retained presence, written at every (re)connection."""
        self._online_payload = (topic, payload)
        if self.connected.is_set():
            self.publish(topic, payload, retain=True)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        with self._lock:
            self._subscriptions[topic] = qos
        if self.connected.is_set():
            self.client.subscribe(topic, qos)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False, wait: float | None = None) -> bool:
        """Send; with ``wait``, return whether the broker acknowledged it within that many seconds."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        with self._lock:
            self._topics_in_flight[info.mid] = topic
        if wait is None:
            return info.rc == mqtt.MQTT_ERR_SUCCESS or info.rc == mqtt.MQTT_ERR_NO_CONN
        try:
            info.wait_for_publish(wait)
        except (ValueError, RuntimeError):
            return False
        with self._lock:
            refused = info.mid in self._refused_mids
            self._refused_mids.discard(info.mid)
        return info.is_published() and not refused

    # --- paho's callbacks, on its network thread ------------------------------------

    def _connected(self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object) -> None:
        if getattr(reason, "is_failure", False):
            self._trouble(explain(reason))
            return
        self.connected.set()
        with self._lock:
            subscriptions = list(self._subscriptions.items())
        if subscriptions:
            client.subscribe(subscriptions)
        if self._online_payload:
            self.publish(*self._online_payload, retain=True)
        if self._said is not None:
            logger.info("fleet: connected to the broker %s again", self.address)
        else:
            logger.info("fleet: connected to the broker %s", self.address)
        self._said = None
        if self._on_state:
            self._on_state(True, "")

    def _disconnected(self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._closing:
            self._trouble(f"lost the broker {self.address} ({reason}); retrying")

    def _connect_failed(self, client: mqtt.Client, userdata: object) -> None:
        self._trouble(f"cannot reach the broker {self.address}: is mosquitto running on the hub, and is the network up?")

    def _trouble(self, reason: str) -> None:
        if reason != self._said:
            logger.error("fleet: %s", reason)
            self._said = reason
        if self._on_state:
            self._on_state(False, reason)

    def _subscribed(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        refused = [r for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            self._refused(f"the broker refused a subscription ({refused[0]}): check the ACL for this device's user")

    def _published(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            topic = self._topics_in_flight.pop(mid, "?")
        if getattr(reason, "is_failure", False):
            with self._lock:
                self._refused_mids.add(mid)
            self._refused(f"the broker refused to take {topic} from this device ({reason}): check the ACL, and that "
                          "fleet.device is this device's user on the broker")

    def _refused(self, text: str) -> None:
        with self._lock:
            new = text not in self._refusals
            self._refusals.add(text)
        if new:
            logger.error("fleet: %s", text)

    def _message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        """Every message is acknowledged once handled or refused; only the handler may hold one back (its store is failing).

        An unacknowledged message holds one of the broker's in-flight places (20 in mosquitto) until the session
        ends, and a persistent session gives it back after every restart: twenty bad payloads made a hub deaf.
        """
        def ack() -> None:
            client.ack(message.mid, message.qos)

        if self._on_message is None:
            ack()
            return
        if len(message.payload) > MAX_PAYLOAD:
            self._sparse.warning(f"size:{message.topic}", "fleet: a message of %d bytes on %s refused (at most %d)",
                                 len(message.payload), message.topic, MAX_PAYLOAD)
            ack()
            return
        try:
            self._on_message(message.topic, bytes(message.payload), ack)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the link, nor come back
            self._sparse.warning(f"error:{message.topic.rsplit('/', 1)[0]}", "fleet: a message on %s refused: %s: %s",
                                 message.topic, type(exc).__name__, str(exc)[:200])
            ack()
