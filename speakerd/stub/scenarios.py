"""Realistic event streams for the stub: a working day's mix, a flash sale, bad input.

Every scenario is deterministic for a given seed, so tests can count on it.
Ids are stable (``m-000001`` …). Real platforms resend events and send broken
ones, so the ``office`` scenario does both on purpose.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

CST = timezone(timedelta(hours=8))
NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "陈晓明", "林静", "黄磊", "何芳", "高强", "罗敏", "马丽"]
APPS = {"wechat-mall": "微信商城", "own-shop": "自营商城", "pos": "门店POS", "taobao": "淘宝", "jd": "京东", "tmall": "天猫"}
PRODUCTS = ["羊绒围巾", "保温杯", "蓝牙耳机", "有机大米5kg", "儿童绘本套装", "真丝睡衣", "空气炸锅", "跑步鞋"]
CAMPAIGNS = ["双十二满减", "会员日抽奖", "新品试用", "年货节预热"]
REFUND_REASONS = ["商品破损", "尺码不合适", "发货太慢", "与描述不符"]
SENSITIVE = ["最低价", "国家级", "第一品牌"]


class _Maker:
    """Makes one event at a time with a growing id and clock."""

    def __init__(self, seed, start) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.clock = start

    def _user(self):
        i = self.rng.randrange(len(NAMES))
        return {"id": f"u-{100 + i}", "name": NAMES[i], "tier": "vip" if self.rng.random() < 0.2 else "normal"}

    def event(self, type_: str, app: str, content_fn: Callable[[str], str], data: dict[str, Any] | None = None,
              user: dict[str, Any] | None = None) -> dict[str, Any]:
        self.count += 1
        self.clock += timedelta(seconds=self.rng.randint(5, 120))
        user = user or self._user()
        return {
            "id": f"m-{self.count:06d}",
            "type": type_,
            "app": app,
            "created_at": self.clock.isoformat(),
            "user": user,
            "content": content_fn(user["name"]),
            "data": data or {},
        }

    def amount(self, low: float = 20, high: float = 3000) -> float:
        return round(self.rng.uniform(low, high), 2)

    def order_id(self) -> str:
        return str(self.rng.randint(100000, 999999))

    def pick(self, seq: Iterable[Any]) -> Any:
        return self.rng.choice(list(seq))


def _order(m, kind):
    app = m.pick(APPS)
    oid, amount = m.order_id(), m.amount()
    data = {"order_id": oid, "amount": amount}
    texts = {
        "order.created": lambda n: f"客户{n}在{APPS[app]}提交了订单{oid}，金额{amount:.2f}元",
        "order.paid": lambda n: f"客户{n}已支付订单{oid}，实付{amount:.2f}元",
        "order.abandoned": lambda n: f"A预警：客户{n}提交订单{oid}后放弃支付，金额{amount:.2f}元",
        "order.refund": lambda n: f"客户{n}申请退款，订单{oid}，金额{amount:.2f}元，原因：{m.pick(REFUND_REASONS)}",
        "order.appeal": lambda n: f"客户{n}对订单{oid}发起申诉：{m.pick(REFUND_REASONS)}",
    }
    return m.event(kind, app, texts[kind], data)


def _browsed(m):
    product, minutes = m.pick(PRODUCTS), m.rng.randint(3, 25)
    return m.event("order.browsed", m.pick(APPS), lambda n: f"B预警：客户{n}浏览{product}{minutes}分钟未下单", {"product": product})


def _withdrawal(m):
    amount = m.rng.choice([500, 1200, 3000, 5000, 8800]) + 0.0
    return m.event("finance.withdrawal", "own-shop", lambda n: f"{n}申请提现{amount:.2f}元，请审核", {"amount": amount})


def _member(m):
    app = m.pick(APPS)
    return m.event("member.joined", app, lambda n: f"新会员{n}通过{APPS[app]}注册", {"channel": app})


def _campaign(m):
    name, kind = m.pick(CAMPAIGNS), m.pick(["campaign.submitted", "campaign.approved", "campaign.rejected", "coupon.verified"])
    texts = {
        "campaign.submitted": lambda n: f"活动“{name}”已由{n}提交审核",
        "campaign.approved": lambda n: f"活动“{name}”审核通过",
        "campaign.rejected": lambda n: f"活动“{name}”审核未通过：含敏感词“{m.pick(SENSITIVE)}”",
        "coupon.verified": lambda n: f"客户{n}核销优惠券（满200减30）",
    }
    return m.event(kind, "wechat-mall", texts[kind], {"campaign": name})


def _flash(m):
    product, kind = m.pick(PRODUCTS), m.pick(["flashsale.started", "flashsale.sold_out", "flashsale.result", "flashsale.failed_attempts"])
    texts = {
        "flashsale.started": lambda n: f"秒杀“{product}”已开始，库存{m.rng.randint(50, 500)}件",
        "flashsale.sold_out": lambda n: f"秒杀商品“{product}”已售罄，用时{m.rng.randint(1, 30)}分钟",
        "flashsale.result": lambda n: f"秒杀“{product}”结束：成交{m.rng.randint(50, 500)}单",
        "flashsale.failed_attempts": lambda n: f"用户{n}秒杀“{product}”失败{m.rng.randint(3, 9)}次",
    }
    return m.event(kind, "wechat-mall", texts[kind], {"product": product})


def _untyped(m):
    """A message without a type: classified by its words."""
    event = _withdrawal(m)
    del event["type"]
    return event


def _notice(m):
    return m.event("platform.notice", "platform", lambda n: "平台将于今晚23:00至次日01:00进行系统维护")


OFFICE_MIX = [
    (lambda m: _order(m, "order.created"), 18), (lambda m: _order(m, "order.paid"), 18),
    (lambda m: _order(m, "order.abandoned"), 6), (_browsed, 5), (lambda m: _order(m, "order.refund"), 4),
    (lambda m: _order(m, "order.appeal"), 3), (_withdrawal, 6), (_member, 10), (_campaign, 6),
    (_flash, 3), (_untyped, 2), (_notice, 1),
]


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


def office(count: int = 120, seed: int = 1, start: datetime | None = None) -> list[Any]:
    """A working day's mix, with resends and broken messages mixed in."""
    m = _Maker(seed, start or datetime.now(CST).replace(microsecond=0))
    makers, weights = zip(*OFFICE_MIX)
    events, bad = [], [e for e, _ in malformed_events()]
    for i in range(count):
        events.append(m.rng.choices(makers, weights)[0](m))
        if i % 15 == 14:  # the platform resends an earlier event
            events.append(copy.deepcopy(events[m.rng.randrange(len(events))]))
        if i % 12 == 6 and bad:
            events.append(bad.pop(0))
    return events


def flash_sale(count: int = 10000, seed: int = 2, start: datetime | None = None) -> list[Any]:
    """A burst of paid orders from one flash sale, as fast as the platform can send them."""
    m = _Maker(seed, start or datetime.now(CST).replace(microsecond=0))
    return [_order(m, "order.paid") for _ in range(count)]


SCENARIOS: dict[str, Callable[..., list[Any]]] = {"office": office, "flash-sale": flash_sale, "empty": lambda **_: []}
