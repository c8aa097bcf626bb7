"""Chat group robots (a DingTalk custom robot, a WeCom group robot): @ the person, and keep to their 20 a minute.

Sent by a small client of our own rather than through apprise, for three
things apprise 2.3 gets wrong for us: both services answer an over-limit or
refused message with HTTP 200 and ``{"errcode": 130101, ...}``, which apprise
counts as delivered, so a message past the limit was lost without a word;
DingTalk's @ list is fixed in the URL, while we @ whoever the message is for,
and the text must carry ``@138…`` for DingTalk to ring them; WeCom's
``mentioned_mobile_list`` is not supported at all. The same ``dingtalk://``
and ``wecombot://`` URLs work: apprise's own plugins read them.

Each robot takes at most :data:`LIMIT` messages in :data:`WINDOW` seconds
(both services' published limit). :class:`Pace` counts per robot; what is
over the limit is held and goes, all together, in the next message to that
robot (:mod:`speakerd.outputs.push`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import requests
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot

from speakerd.config.push_urls import scheme

LIMIT, WINDOW = 20, 60.0
MAX_BYTES = {"dingtalk": 18000, "wecombot": 2000}  # under each service's text limit (20000, 2048 bytes)


def is_robot(url: str) -> bool:
    return scheme(url) in MAX_BYTES


def robot_id(url: str) -> str:
    """A stable name for one robot that reveals nothing of its token (kept in the store)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Robot:
    kind: str
    endpoint: str
    secret: str | None = None

    @classmethod
    def parse(cls, url: str) -> Robot:
        kind = scheme(url)
        if kind == "dingtalk":
            parsed = NotifyDingTalk.parse_url(url) or {}
            return cls(kind, NotifyDingTalk.notify_url.format(token=parsed.get("token", "")), parsed.get("secret"))
        parsed = NotifyWeComBot.parse_url(url) or {}
        return cls(kind, NotifyWeComBot.notify_url.format(key=parsed.get("key", "")))

    def payload(self, text: str, mobiles: list[str]) -> dict:
        if self.kind == "dingtalk":  # the @ must be in the text too, or DingTalk does not ring the person
            said = text + ("\n" + " ".join(f"@{m}" for m in mobiles) if mobiles else "")
            return {"msgtype": "text", "text": {"content": said}, "at": {"atMobiles": mobiles, "isAtAll": False}}
        return {"msgtype": "text", "text": {"content": text, "mentioned_mobile_list": mobiles}}

    def signed(self, now_ms: int) -> dict[str, str]:
        """DingTalk's 加签: a robot with a secret refuses unsigned messages."""
        if not self.secret:
            return {}
        digest = hmac.new(self.secret.encode(), f"{now_ms}\n{self.secret}".encode(), hashlib.sha256).digest()
        return {"timestamp": str(now_ms), "sign": quote(base64.b64encode(digest), safe="")}


def send_robot(url: str, text: str, mobiles: list[str], timeout: float, now: float) -> tuple[bool, str]:
    """Post one text; ``(delivered, reason)``: delivered only when the service answers errcode 0."""
    robot = Robot.parse(url)
    text = fit(text, MAX_BYTES[robot.kind])
    try:
        answer = requests.post(robot.endpoint, json=robot.payload(text, mobiles), params=robot.signed(int(now * 1000)) or None,
                               timeout=timeout)
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
    except (requests.RequestException, ValueError) as exc:
        return False, f"the robot could not be reached ({type(exc).__name__})"
    if answer.status_code != 200:
        return False, f"the robot answered HTTP {answer.status_code}"
    if body.get("errcode", 0) != 0:
        return False, f"the robot refused it: errcode {body.get('errcode')} {str(body.get('errmsg', ''))[:80]}"
    return True, ""


def fit(text: str, most: int) -> str:
    """``text`` cut to ``most`` UTF-8 bytes at a line, saying so."""
    if len(text.encode()) <= most:
        return text
    kept = text.encode()[: most - 40].decode(errors="ignore").rsplit("\n", 1)[0]
    return kept + "\n……（其余请看设备）"


class Pace:
    """Messages sent per robot in the last :data:`WINDOW` seconds; shared by every message, thread-safe."""

    def __init__(self, clock: Callable[[], float], limit: int = LIMIT, window: float = WINDOW) -> None:
        self._clock, self._limit, self._window = clock, limit, window
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, robot: str) -> float | None:
        """Count one message to ``robot`` and return None when it has room; else when it will (epoch seconds)."""
        now = self._clock()
        with self._lock:
            sent = self._sent.setdefault(robot, deque())
            while sent and sent[0] <= now - self._window:
                sent.popleft()
            if len(sent) >= self._limit:
                return sent[0] + self._window + 0.05
            sent.append(now)
            return None

    def give_back(self, robot: str) -> None:
        """A message counted by :meth:`take` was not sent after all."""
        with self._lock:
            if self._sent.get(robot):
                self._sent[robot].pop()
