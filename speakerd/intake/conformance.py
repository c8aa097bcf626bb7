"""``speakerd platform-check``: does a platform implement the API as docs/platform-api.md says?

Run by the people who build a platform, against their own implementation,
before a device depends on it. It only reads (it cannot make events happen):
the token is required and checked, answers have the documented shape, each
message is one the device can use, ``limit`` is kept, the cursor moves only
forward and the same cursor gives the same messages, an id never comes back
with other content, a long-poll holds an empty answer, the ``epoch`` stays
put, and how long answers take. Each finding is said in Chinese and English.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from speakerd import message as message_mod

PAGES = 20  # pages of the log walked at most
PAGE = 50
WAIT = 2.0  # seconds of long-poll asked at the end of the log


@dataclass(frozen=True)
class Finding:
    ok: bool
    zh: str
    en: str
    warning: bool = False  # not a failure: the device copes, but something is worth knowing


@dataclass
class Check:
    url: str
    token: str
    timeout: float = 10.0
    findings: list[Finding] = field(default_factory=list)
    timings: list[float] = field(default_factory=list)

    def say(self, ok: bool, zh: str, en: str, warning: bool = False) -> None:
        self.findings.append(Finding(ok, zh, en, warning))

    def get(self, token: str | None, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        started = time.monotonic()
        answer = requests.get(self.url.rstrip("/") + "/v1/messages", params=params, headers=headers,
                              timeout=self.timeout + float(params.get("wait", 0)), allow_redirects=False)
        self.timings.append(time.monotonic() - started)
        return answer

    @property
    def passed(self) -> bool:
        return all(f.ok or f.warning for f in self.findings)


def check(url: str, token: str, timeout: float = 10.0) -> Check:
    """Every finding about the platform at ``url``; ``passed`` is False when one of them is a failure."""
    c = Check(url, token, timeout)
    try:
        if _auth(c):
            pages = _walk(c)
            _limit(c)
            _same_cursor(c, pages)
            _long_poll(c, pages[-1][1] if pages else None)
    except (requests.RequestException, ValueError) as exc:
        c.say(False, f"无法访问平台或回答无法读取：{type(exc).__name__}", f"the platform cannot be reached or its answer read: {exc}")
    if c.timings:
        c.say(True, f"响应时间：中位数 {statistics.median(c.timings):.2f} 秒，最长 {max(c.timings):.2f} 秒",
              f"answer times: median {statistics.median(c.timings):.2f} s, longest {max(c.timings):.2f} s")
    return c


def _auth(c: Check) -> bool:
    for token, zh, en in ((None, "没有令牌", "no token"), (c.token + "-wrong", "错误的令牌", "a wrong token")):
        status = c.get(token, limit=1).status_code
        c.say(status == 401, f"{zh}的请求被拒绝（HTTP {status}，应为 401）", f"a request with {en} is refused (HTTP {status}; 401 expected)")
    status = c.get(c.token, limit=1).status_code
    c.say(status == 200, f"正确的令牌得到回答（HTTP {status}）", f"the right token is answered (HTTP {status})")
    return status == 200


def _page(c: Check, after: str | None, limit: int, wait: float = 0.0) -> tuple[list[Any], str, Any]:
    """One answer as (messages, next, epoch); ShapeError when it is not ``{messages, next}``."""
    asked: dict[str, Any] = {"limit": limit, **({"after": after} if after is not None else {}), **({"wait": wait} if wait else {})}
    answer = c.get(c.token, **asked)
    data = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else None
    if answer.status_code != 200 or not isinstance(data, dict) or not isinstance(data.get("messages"), list) \
            or not isinstance(data.get("next"), str):
        raise ShapeError(answer.status_code)
    return data["messages"], data["next"], data.get("epoch")


class ShapeError(requests.RequestException):
    """The answer is not ``{"messages": [...], "next": "..."}``."""


def _walk(c: Check) -> list[tuple[str | None, str, list[Any]]]:
    """Follow ``next`` through the log; each page as (after, next, messages)."""
    pages: list[tuple[str | None, str, list[Any]]] = []
    seen: dict[str, str] = {}
    after, epochs, bad, changed, backwards = None, set(), [], [], False
    for _ in range(PAGES):
        try:
            messages, nxt, epoch = _page(c, after, PAGE)
        except ShapeError as exc:
            c.say(False, f"回答不是 {{messages, next}} 格式（HTTP {exc}）", f"the answer is not {{messages, next}} (HTTP {exc})")
            return pages
        epochs.add(epoch)
        pages.append((after, nxt, messages))
        for raw in messages:
            parsed = message_mod.parse(raw, 4000)
            if isinstance(parsed, message_mod.Rejected):
                bad.append(f"{parsed.platform_id or '?'}: {parsed.reason}")
            elif seen.setdefault(parsed.id, parsed.content) != parsed.content:
                changed.append(parsed.id)
        backwards |= after is not None and nxt.isdigit() and after.isdigit() and int(nxt) < int(after)
        if not messages or nxt == after:
            break
        after = nxt
    count = sum(len(p[2]) for p in pages)
    c.say(not bad, f"{count} 条消息都能使用" if not bad else f"{len(bad)} 条消息不能使用：{'; '.join(bad[:3])}",
          f"all {count} messages are usable" if not bad else f"{len(bad)} messages cannot be used: {'; '.join(bad[:3])}")
    c.say(not changed, "同一编号的消息内容一致" if not changed else f"编号重复但内容不同：{', '.join(changed[:3])}",
          "an id always comes with the same content" if not changed else f"ids sent again with other content: {', '.join(changed[:3])}")
    c.say(not backwards, "游标只向前移动" if not backwards else "游标向后移动了", "the cursor only moves forward" if not backwards else
          "the cursor moved backwards")
    c.say(len(epochs) == 1, f"epoch 保持不变（{next(iter(epochs))!r}）" if len(epochs) == 1 else "epoch 在请求之间变化",
          f"the epoch stays the same ({next(iter(epochs))!r})" if len(epochs) == 1 else "the epoch changed between requests")
    return pages


def _limit(c: Check) -> None:
    messages, _, _ = _page(c, None, 1)
    c.say(len(messages) <= 1, f"limit=1 时回答 {len(messages)} 条", f"limit=1 gives {len(messages)} message(s)")


def _same_cursor(c: Check, pages: list[tuple[str | None, str, list[Any]]]) -> None:
    if not pages or not pages[0][2]:
        c.say(True, "平台上还没有消息：无法检查游标的重复读取", "no messages yet: reading a cursor twice is not checked", warning=True)
        return
    after, _, first = pages[0]
    again, _, _ = _page(c, after, PAGE)
    same = [m.get("id") for m in again[: len(first)]] == [m.get("id") for m in first]
    c.say(same, "同一游标两次读取得到相同的消息" if same else "同一游标两次读取的消息不同",
          "the same cursor gives the same messages" if same else "the same cursor gave other messages")


def _long_poll(c: Check, end: str | None) -> None:
    started = time.monotonic()
    messages, _, _ = _page(c, end, PAGE, wait=WAIT)
    held = time.monotonic() - started
    if messages:
        c.say(True, "长轮询期间有新消息到达", "a message arrived during the long-poll", warning=True)
    elif held >= WAIT * 0.75:
        c.say(True, f"长轮询：空回答保持了 {held:.1f} 秒", f"long-poll: an empty answer was held {held:.1f} s")
    else:
        c.say(True, f"不支持长轮询（{held:.1f} 秒就回答了）：设备会定时查询", f"no long-poll (answered after {held:.1f} s): the device polls",
              warning=True)

