"""Realistic event streams for the stub: a working day's mix, each family alone, a flash sale, bad input.

The families themselves (orders, members, campaigns, flash sales, the
platform's monitor) are in :mod:`speakerd.stub.families`.

Every scenario is deterministic for a given seed, so tests can count on it.
Ids are stable (``m-000001`` …). Real platforms resend events and send broken
ones, so the ``office`` scenario does both on purpose.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from speakerd.stub import families

CST = timezone(timedelta(hours=8))


class _Office:
    """A working day across the shop's systems: each pick advances one family."""

    def __init__(self, m: families.Maker, consolation_after: int = families.CONSOLATION_AFTER) -> None:
        self.m, self.members, self.campaigns = m, families.Members(), families.Campaigns()
        self.sales = families.FlashSales(consolation_after)
        self.sale: tuple[str, int] | None = None  # the flash sale running: product, stock

    def flash(self) -> list[Any]:
        """Start a sale; while it runs, a failed attempt (no message) or, now and then, its end."""
        m = self.m
        if self.sale is None:
            self.sale = (m.pick(families.PRODUCTS), m.rng.randint(50, 500))
            return self.sales.started(m, *self.sale)
        if m.rng.random() < 0.7:
            self.sales.attempt_failed(m, self.sale[0], m.customer())
            return []
        (product, stock), self.sale = self.sale, None
        return self.sales.ended(m, product, stock, m.rng.randint(1, 30))

    def mix(self) -> list[tuple[Callable[[], list[Any]], int]]:
        m = self.m
        return [
            (lambda: families.created(m), 18), (lambda: families.paid(m), 18), (lambda: families.abandoned(m), 6),
            (lambda: families.browsed(m), 5), (lambda: families.refund(m), 4), (lambda: families.appeal(m), 3),
            (lambda: families.withdrawal(m), 6), (lambda: self.members.join(m), 10), (lambda: self.campaigns.next(m), 6),
            (self.flash, 6), (lambda: _untyped(m), 2), (lambda: _notice(m), 1), (lambda: families.service_alert(m), 1),
        ]


def _untyped(m: families.Maker) -> list[Any]:
    """A message without a type: classified by its words."""
    (event,) = families.withdrawal(m)
    del event["type"]
    return [event]


def _notice(m: families.Maker) -> list[Any]:
    return [m.event("platform.notice", "platform", lambda n: "平台将于今晚23:00至次日01:00进行系统维护")]


def malformed_events() -> list[Any]:
    """One of each kind of broken message a platform can send, each with the reason it must get."""
    good = {"type": "order.paid", "app": "wechat-mall", "user": {"id": "u-1", "name": "张三"}}
    return [
        ({**good, "content": "缺少编号的消息"}, "missing id"),
        ({**good, "id": "m-bad-01"}, "missing content"),
        ({**good, "id": "m-bad-02", "content": 12345}, "content must be text"),
        ({**good, "id": "m-bad-03", "content": "超长" * 3000}, "content too long"),
        ({**good, "id": "m-bad-04", "content": "客户\x07张三\x00下单"}, "control character"),
        ({**good, "id": "m-bad-05", "content": "客户<script>alert(1)</script>下单"}, "HTML"),
        ({**good, "id": "m-bad-06", "content": "用户是文本", "user": "张三"}, "user must be an object"),
        ({**good, "id": "m-bad-07", "content": "时间不对", "created_at": "昨天"}, "created_at"),
        ({**good, "id": ["m-bad-08"], "content": "编号是列表"}, "id must be text"),
        ("这不是一个对象", "must be a JSON object"),
    ]


def _start(start: datetime | None) -> datetime:
    return start or datetime.now(CST).replace(microsecond=0)


def office(count: int = 120, seed: int = 1, start: datetime | None = None, vip_threshold: float = families.VIP_THRESHOLD,
           consolation_after: int = families.CONSOLATION_AFTER) -> list[Any]:
    """A working day's mix of every family, with resends and broken messages mixed in."""
    day = _Office(families.Maker(seed, _start(start), vip_threshold=vip_threshold), consolation_after)
    makers, weights = zip(*day.mix())
    events, bad = [], [e for e, _ in malformed_events()]
    for i in range(count):
        while not (made := day.m.rng.choices(makers, weights)[0]()):
            pass
        events += made
        if i % 15 == 14:  # the platform resends an earlier event
            events.append(copy.deepcopy(events[day.m.rng.randrange(len(events))]))
        if i % 12 == 6 and bad:
            events.append(bad.pop(0))
    return events


def flash_sale(count: int = 10000, seed: int = 2, start: datetime | None = None, vip_threshold: float = families.VIP_THRESHOLD,
               **_: Any) -> list[Any]:
    """A burst of paid orders from one flash sale, as fast as the platform can send them (the benchmarks' load).

    Customers come from a crowd of ``count // 2``; one is VIP once their spending reaches the threshold.
    """
    m = families.Maker(seed, _start(start), population=max(15, count // 2), vip_threshold=vip_threshold)
    return [event for _ in range(count) for event in families.paid(m, vip_event=False)]


def orders(count: int = 60, seed: int = 4, start: datetime | None = None, vip_threshold: float = families.VIP_THRESHOLD,
           **_: Any) -> list[Any]:
    """Order monitoring alone: paid (with the time to order), A alerts (why), B alerts, VIP reached."""
    m = families.Maker(seed, _start(start), vip_threshold=vip_threshold)
    makers = [lambda: families.paid(m), lambda: families.abandoned(m), lambda: families.browsed(m), lambda: families.created(m)]
    events: list[Any] = []
    while len(events) < count:
        events += m.rng.choices(makers, [5, 2, 2, 1])[0]()
    return events


def members(count: int = 30, seed: int = 5, start: datetime | None = None, **_: Any) -> list[Any]:
    """Members from every channel; the first joins from three channels (two merges)."""
    m, book = families.Maker(seed, _start(start)), families.Members()
    first = m.customer(0)
    events = [*book.join(m, first, "pos"), *book.join(m, first, "taobao"), *book.join(m, first, "wechat-mall")]
    while len(events) < count:
        events += book.join(m)
    return events


def campaigns(count: int = 30, seed: int = 6, start: datetime | None = None, **_: Any) -> list[Any]:
    """Campaigns through review; the first fails review twice before it passes; the platform's monitor now and then."""
    m, book = families.Maker(seed, _start(start)), families.Campaigns()
    first = families.CAMPAIGNS[0]
    events: list[Any] = []
    for fail in (None, None, True, None, True, None, False, None, None):  # draft, submit, fail, submit, fail, submit, pass, share, use
        events += book.next(m, first, fail)
    while len(events) < count:
        events += families.service_alert(m) if m.rng.random() < 0.1 else book.next(m, m.pick(families.CAMPAIGNS[1:]))
    return events


def flash_sale_day(count: int = 200, seed: int = 7, start: datetime | None = None, vip_threshold: float = families.VIP_THRESHOLD,
                   consolation_after: int = families.CONSOLATION_AFTER) -> list[Any]:
    """One flash sale as its family tells it: started, orders and failed attempts, sold out, results, consolations.

    One buyer fails five times; a consolation goes to each who failed CONSOLATION_AFTER times or more.
    """
    m = families.Maker(seed, _start(start), population=max(15, 2 * count), vip_threshold=vip_threshold)
    sales = families.FlashSales(consolation_after)
    product, stock, unlucky = families.PRODUCTS[1], max(1, count // 2), m.customer(3)
    events = sales.started(m, product, stock)
    for i in range(stock):
        events += families.paid(m, vip_event=False)
        sales.attempt_failed(m, product, unlucky if i < 5 else m.customer())
    return events + sales.ended(m, product, stock, m.rng.randint(1, 30))


SCENARIOS: dict[str, Callable[..., list[Any]]] = {
    "office": office, "orders": orders, "members": members, "campaigns": campaigns, "flash-sale": flash_sale_day,
    "flash-orders": flash_sale, "empty": lambda **_: [],
}
